"""Shared fixtures: an isolated cache per test session, the real-data folder, small images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def isolated_cache(tmp_path_factory):
    """Point BRAINALIGN_CACHE at a fresh folder for the whole session (shared across tests)."""
    folder = tmp_path_factory.mktemp("brainalign-cache")
    previous = os.environ.get("BRAINALIGN_CACHE")
    os.environ["BRAINALIGN_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("BRAINALIGN_CACHE", None)
    else:
        os.environ["BRAINALIGN_CACHE"] = previous


def pytest_collection_modifyitems(config, items):
    """Skip every test marked ``shared_data`` whose data folders are absent.

    ``@pytest.mark.shared_data("cowley2023-macaque-v4", ...)`` names the folders below
    ``$BRAINALIGN_SHARED_DATA`` that a test reads; a bare marker needs the folder itself. A test
    that reads the data must carry the marker: CI runs the suite again with the data absent.
    """
    from brainalign.config import shared_data_dir

    root = shared_data_dir()
    for item in items:
        markers = list(item.iter_markers("shared_data"))
        if not markers:
            continue
        needed = [root / name for marker in markers for name in marker.args] or [root]
        missing = [folder for folder in needed if not folder.is_dir()]
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"real data {missing[0]} not present"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder ($BRAINALIGN_SHARED_DATA, default ../shared/data); skip when absent."""
    from brainalign.config import shared_data_dir

    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} not present")
    return folder


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """Six small PNG images in two subfolders, with known pixel values."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for sub in ("a", "b"):
        (tmp_path / "images" / sub).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 256, size=(20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / sub / f"img{i}.png")
    return tmp_path / "images"


@pytest.fixture
def scoring_files(tmp_path) -> Path:
    """``tmp_path`` holding acts.nc (60 stimuli x 40 units, a ``brainalign extract`` file) and v4.nc
    (4 repetitions x 60 stimuli x 8 neuroids driven by the same 5 latents: a raw score near 0.9)."""
    import xarray as xr

    from brainalign.activations.activation_files import save_activations
    from brainalign.neural.assembly_files import write_assembly

    rng = np.random.default_rng(0)
    ids = np.array([f"img{i:03d}" for i in range(60)])
    latent = rng.standard_normal((60, 5))
    features = xr.DataArray(latent @ rng.standard_normal((5, 40)), dims=("stimulus", "unit"),
                            coords={"stimulus_id": ("stimulus", ids)})
    save_activations({"layer": features}, tmp_path / "acts.nc",
                     provenance={"model": {"spec": "pixels", "checkpoint": None, "weights_sha256": "0" * 64,
                                           "seed": 0}})
    signal = latent @ rng.standard_normal((5, 8))
    trials = signal[None] + 0.5 * rng.standard_normal((4, 60, 8))
    assembly = xr.DataArray(trials.reshape(240, 8), dims=("presentation", "neuroid"),
                            coords={"stimulus_id": ("presentation", np.tile(ids, 4)),
                                    "repetition": ("presentation", np.repeat(np.arange(4), 60)),
                                    "neuroid_id": ("neuroid", [f"n{i}" for i in range(8)])})
    write_assembly(assembly, tmp_path / "v4.nc")
    return tmp_path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty manifest folder and data home for `brainalign data` tests: (manifests, home)."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    monkeypatch.setenv("BRAINALIGN_MANIFESTS", str(manifests))
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home"))
    return manifests, tmp_path / "home"


def write_manifest(folder: Path, name: str, files: list[dict]) -> None:
    """Write a minimal valid manifest ``folder/NAME.yaml`` listing ``files``."""
    import yaml

    body = {"name": name, "title": "test set", "description": "served locally", "species": "mouse",
            "regions": ["VISp"], "licence": "CC0", "citation": "@misc{x}", "importer": "generic", "files": files}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(body))

