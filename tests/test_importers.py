"""The importer registry: each format's importer recognises its own files, one error lists them all."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from brainalign.errors import ChecksumError, FileFormatError, InputError
from brainalign.neural.importers import Importer, get_importer, guess_importer, list_importers, register_importer
from brainalign.neural.importers.model_vs_human import COLUMNS, read_trials
from brainalign.neural.manifests import load_manifest

BUILTIN = ("allen-2p", "allen-neuropixels", "allen2p-rdms", "brainscore", "cowley2023", "generic", "image-stack",
           "kriegeskorte2008", "model-vs-human", "rdm")


def test_every_builtin_importer_is_registered_with_a_description():
    importers = list_importers()
    assert set(BUILTIN) <= set(importers)
    assert all(importers[name] for name in BUILTIN)
    assert all(get_importer(name).name == name for name in BUILTIN)


@pytest.fixture
def fixtures(tmp_path):
    """One small file per format, written here in that format's layout; {importer name: path}."""
    paths = {}
    responses = tmp_path / "responses.npy"
    np.save(responses, np.arange(24, dtype=np.float64).reshape(2, 3, 4))
    paths["generic"] = responses
    stack = tmp_path / "scenes.npy"
    np.save(stack, np.zeros((5, 4, 4), dtype=np.uint8))
    paths["image-stack"] = stack
    rdms = tmp_path / "rdms.npz"
    eye = np.eye(3)
    np.savez(rdms, VISp__layer23=eye, VISl__layer4=eye)
    paths["allen2p-rdms"] = rdms
    trials = tmp_path / "contrast_subject-01_session_1.csv"
    pd.DataFrame([["subject-01", 1, 1, 700, "knife", "knife", "c30", "0001_cop_s01_c30_knife_10_n03041632_7380.png"]],
                 columns=[c.capitalize() if c == "session" else c for c in COLUMNS]).to_csv(trials, index=False)
    paths["model-vs-human"] = trials
    cowley = tmp_path / "cowley"
    (cowley / "responses_raw").mkdir(parents=True)
    (cowley / "images").mkdir()
    np.save(cowley / "responses_raw" / "responses_210325.npy", np.zeros((2, 3, 4)))
    (cowley / "images" / "images_210325.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    paths["cowley2023"] = cowley
    netcdf = tmp_path / "assy_test.nc"
    xr.DataArray(np.zeros((2, 3)), dims=("neuroid", "presentation"), name="data").to_netcdf(netcdf, engine="h5netcdf")
    paths["brainscore"] = netcdf
    return paths


def test_guess_picks_the_importer_of_each_fixture(fixtures):
    assert {name: guess_importer(path).name for name, path in fixtures.items()} == {n: n for n in fixtures}


def test_a_csv_that_is_not_a_trial_table_falls_back_to_generic(tmp_path):
    table = tmp_path / "responses.csv"
    table.write_text("1,2,3\n4,5,6\n")
    assert guess_importer(table).name == "generic"


def test_no_match_is_one_error_listing_every_importer(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not data")
    with pytest.raises(InputError, match="no installed importer recognises .*notes.txt") as caught:
        guess_importer(notes)
    assert all(name in caught.value.hint for name in BUILTIN)
    with pytest.raises(InputError, match="unknown importer 'nwb3'") as caught:
        get_importer("nwb3")
    assert all(name in caught.value.hint for name in BUILTIN)


def test_registration_checks_its_class():
    with pytest.raises(TypeError, match="not a subclass"):
        register_importer(dict)

    class Nameless(Importer):
        description = "no name"

    with pytest.raises(ValueError, match="needs a name"):
        register_importer(Nameless)

    class Impostor(Importer):
        name = "generic"
        description = "a second generic"

    with pytest.raises(ValueError, match="registered twice"):
        register_importer(Impostor)
    assert get_importer("generic").description != "a second generic"


def test_opened_fixtures_hold_what_was_written(fixtures):
    stack = get_importer("image-stack").open(fixtures["image-stack"])
    assert stack.shape == (5, 4, 4) and stack.dtype == np.uint8
    with pytest.raises(FileFormatError, match="not a stack of images"):
        get_importer("image-stack").open(fixtures["generic"])
    matrices = get_importer("allen2p-rdms").open(fixtures["allen2p-rdms"])
    assert sorted(matrices) == [("VISl", "layer4"), ("VISp", "layer23")]
    trials = get_importer("model-vs-human").open(fixtures["model-vs-human"].parent)
    assert trials["image_id"].tolist() == ["n03041632_7380.png"] and trials["correct"].tolist() == [True]
    assert get_importer("model-vs-human").guess_can_open(fixtures["model-vs-human"].parent)


# --- real files ------------------------------------------------------------------------------------------

REAL = {
    "kriegeskorte2008-92-images": "kriegeskorte2008",
    "kriegeskorte2008-92-images/92_brainRDMs.mat": "kriegeskorte2008",
    "kriegeskorte2008-92-images/Kriegeskorte_Neuron2008_supplementalData.mat": "kriegeskorte2008",
    "kriegeskorte2008-92-images/92_behavRDMs.mat": "generic",  # another release file, not read by the importer
    "allen-2p-area-rdms": "allen2p-rdms",
    "allen-2p-area-rdms/similarity_119x119_by_area_layer.npz": "allen2p-rdms",
    "allen-natural-scenes-31px/images_118x31x31_uint8.npy": "image-stack",
    "cowley2023-macaque-v4": "cowley2023",
    "cowley2023-macaque-v4/responses_raw/responses_210325.npy": "generic",
    "brainscore-format-fixture/assy_movshon_FreemanZiemba2013_public.nc": "brainscore",
    "model-vs-human/raw-data/contrast": "model-vs-human",
    "model-vs-human/raw-data/edge/edge_subject-01_session_1.csv": "model-vs-human",
    "tang-macaque-v1-patterns/neurons/neu255.npy": "generic",
}


@pytest.mark.shared_data
@pytest.mark.parametrize("relative", sorted(REAL))
def test_guess_picks_the_importer_of_each_real_file(shared_data, relative):
    path = shared_data / relative
    if not path.exists():
        pytest.skip(f"{relative} not in the shared data")
    assert guess_importer(path).name == REAL[relative]


@pytest.mark.shared_data
def test_the_model_vs_human_importer_reads_an_experiment_like_its_files(shared_data):
    folder = shared_data / "model-vs-human" / "raw-data" / "edge"
    if not folder.is_dir():
        pytest.skip("model-vs-human not in the shared data")
    trials = get_importer("model-vs-human").open(folder)
    files = sorted(folder.glob("*.csv"))
    assert len(trials) == sum(len(read_trials(f)) for f in files) == sum(len(pd.read_csv(f)) for f in files)
    assert trials["correct"].mean() == pytest.approx(np.mean(np.concatenate(
        [(pd.read_csv(f)["object_response"] == pd.read_csv(f)["category"]).to_numpy() for f in files])))


# --- manifests of the shared copies ----------------------------------------------------------------------

SHARED_COPIES = {"kriegeskorte2008": "kriegeskorte2008-92-images", "allen2p-conwell2021": "allen-2p-area-rdms",
                 "allen-natural-scenes-31px": "allen-natural-scenes-31px", "cowley2023": "cowley2023-macaque-v4"}
# where the release layout keeps a file (else at the top of the folder)
SUBFOLDER = {"responses_210325.npy": "responses_raw", "images_210325.zip": "images"}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(SHARED_COPIES))
def test_manifest_checksums_match_the_shared_copy(shared_data, name):
    """Every file of the manifest is in the shared folder, with the manifest's size and sha256."""
    folder = shared_data / SHARED_COPIES[name]
    if not folder.is_dir():
        pytest.skip(f"{folder.name} not in the shared data")
    manifest = load_manifest(name)
    assert get_importer(manifest.importer).name == manifest.importer
    for entry in manifest.files:
        path = folder / SUBFOLDER.get(entry.name, "") / entry.name
        assert entry.hash.startswith("sha256:") and manifest.verify(path) == entry.hash
        assert path.stat().st_size == entry.size


@pytest.mark.shared_data
def test_a_changed_file_fails_its_manifest_checksum_with_both_digests(shared_data, tmp_path):
    source = shared_data / "allen-natural-scenes-31px" / "images_118x31x31_uint8.npy"
    if not source.is_file():
        pytest.skip("Allen scenes not in the shared data")
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    with open(copy, "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 1]))
    manifest = load_manifest("allen-natural-scenes-31px")
    with pytest.raises(ChecksumError, match=f"expected {manifest.file(source.name).hash.partition(':')[2]}"):
        manifest.open(tmp_path, source.name)
    with pytest.raises(FileFormatError, match="missing"):
        manifest.open(tmp_path / "elsewhere", source.name)


def test_every_shipped_manifest_names_an_installed_importer():
    from brainalign.neural.manifests import list_manifests

    named = {load_manifest(name).importer for name in list_manifests()}
    assert named <= set(list_importers()) and {"kriegeskorte2008", "allen2p-rdms", "image-stack"} <= named
