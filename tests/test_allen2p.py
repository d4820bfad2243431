"""allen2p.*: the Allen two-photon area x layer RDMs as RSA benchmarks (real data, shared_data)."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from cli_helpers import error_line, run
from scipy.stats import pearsonr

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def allen(shared_data):
    if not (shared_data / "allen-2p-area-rdms").is_dir() or not (shared_data / "allen-natural-scenes-31px").is_dir():
        pytest.skip("Allen RDMs or scenes not in the shared data")
    return shared_data


def test_registered_per_area_and_layer_and_listed(allen):
    from brainalign.benchmarks.registry import benchmark_info, benchmarks_for_area, list_benchmarks

    ids = list_benchmarks("allen2p.*")
    assert len(ids) == 27   # 6 areas + 21 area x layer RDMs
    assert "allen2p.VISrl.layer5" in ids and "allen2p.VISrl.layer6" not in ids
    assert benchmark_info("allen2p.VISam")["species"] == "mouse"
    assert {"allen2p.VISp", "allen2p.VISp.layer23", "sim.VISp"} <= set(benchmarks_for_area("VISp"))
    listing = run("benchmarks", "list").output
    assert "allen2p.VISp.layer4" in listing and "allen2p.VISpm" in listing


def test_target_drops_the_blank_and_records_the_published_ceiling(allen):
    from brainalign.benchmarks.registry import load_benchmark
    from brainalign.metrics.rsa import stimulus_ids_of

    similarity = np.load(allen / "allen-2p-area-rdms" / "similarity_119x119_by_area_layer.npz")
    table = pd.read_csv(allen / "allen-2p-area-rdms" / "noise_ceiling.csv").set_index(["area", "layer"])
    bench = load_benchmark("allen2p.VISp.layer23")
    target = bench.load_target()
    np.testing.assert_allclose(target.get_matrices()[0], 1 - similarity["VISp__layer23"][:118, :118], atol=1e-12)
    assert list(stimulus_ids_of(target)) == [f"scene{k:03d}" for k in range(118)]
    assert bench.published_ceiling.values == {"layer23": pytest.approx(0.9214628304875211)}
    assert "noise_ceiling.csv" in bench.published_ceiling.source
    area = load_benchmark("allen2p.VISrl")
    assert list(area.load_target().rdm_descriptors["subject"]) == ["layer23", "layer4", "layer5"]
    assert area.published_ceiling.sem["layer5"] == pytest.approx(table.loc[("VISrl", "layer5"), "sem"])
    stimuli = bench.load_stimuli()
    scenes = np.load(allen / "allen-natural-scenes-31px" / "images_118x31x31_uint8.npy")
    np.testing.assert_allclose(stimuli.load(7)[..., 0], scenes[7] / 255, atol=1e-7)


def test_pixels_score_equals_pearson_of_the_upper_triangles(allen, tmp_path):
    """raw = Pearson r of the RDMs' upper triangles, computed here with scipy; ceiled = sign(r) r^2 / c."""
    import brainalign

    similarity = np.load(allen / "allen-2p-area-rdms" / "similarity_119x119_by_area_layer.npz")
    table = pd.read_csv(allen / "allen-2p-area-rdms" / "noise_ceiling.csv").set_index(["area", "layer"])
    result = run("score", "pixels", "--benchmark", "allen2p.VISl*", "--results", tmp_path, "--json", "-q")
    assert result.exit_code == 0, result.output
    records = {r["benchmark"]["identifier"]: r for r in json.loads(result.output)}
    pixels = brainalign.extract("pixels", stimuli=str(_scene_folder(allen, tmp_path)), progress=False)["pixels"]
    model = 1 - np.corrcoef(pixels.values.astype(np.float64))
    upper = np.triu_indices(118, 1)
    rs, cs = [], []
    for layer in ("layer23", "layer4", "layer5", "layer6"):
        r = pearsonr(model[upper], (1 - similarity[f"VISl__{layer}"][:118, :118])[upper])[0]
        c = table.loc[("VISl", layer), "mean"]
        score = records[f"allen2p.VISl.{layer}"]["score"]
        assert score["raw"] == pytest.approx(r, abs=1e-9)
        assert score["ceiling"] == pytest.approx(c)
        assert score["ceiled"] == pytest.approx(np.sign(r) * r**2 / c, abs=1e-9)
        assert score["convention"] == "r2/c"
        rs.append(r)
        cs.append(c)
    area = records["allen2p.VISl"]["score"]
    assert area["raw"] == pytest.approx(np.mean(rs), abs=1e-9)
    assert area["ceiling"] == pytest.approx(np.mean(cs))
    assert area["ceiled"] == pytest.approx(np.mean(np.sign(rs) * np.square(rs)) / np.mean(cs), abs=1e-9)
    assert records["allen2p.VISl"]["benchmark"]["ranked"] and not records["allen2p.VISl.layer4"]["benchmark"]["ranked"]
    selection = records["allen2p.VISl"]["layer_selection"]
    assert (selection["n_selection"], selection["n_heldout"]) == (59, 59)


def _scene_folder(allen, tmp_path):
    """The 118 scenes as PNG files named like the benchmark's stimulus ids (for an independent extraction)."""
    from PIL import Image

    folder = tmp_path / "scenes"
    folder.mkdir()
    for k, image in enumerate(np.load(allen / "allen-natural-scenes-31px" / "images_118x31x31_uint8.npy")):
        Image.fromarray(image).save(folder / f"scene{k:03d}.png")
    return folder


def test_a_changed_file_fails_loudly(allen, tmp_path, monkeypatch):
    from brainalign.benchmarks import allen2p

    copy = tmp_path / "shared"
    shutil.copytree(allen / "allen-2p-area-rdms", copy / "allen-2p-area-rdms")
    shutil.copytree(allen / "allen-natural-scenes-31px", copy / "allen-natural-scenes-31px")
    (copy / "allen-2p-area-rdms" / "noise_ceiling.csv").chmod(0o644)
    with open(copy / "allen-2p-area-rdms" / "noise_ceiling.csv", "a") as handle:
        handle.write("VISp,layer1,0.5,0.01\n")
    monkeypatch.setenv("BRAINALIGN_SHARED_DATA", str(copy))
    allen2p.published_ceilings.cache_clear()
    try:
        line = error_line(run("score", "pixels", "--benchmark", "allen2p.VISp", "--results", tmp_path / "r", "-q"))
    finally:
        allen2p.published_ceilings.cache_clear()
    assert "sha256" in line and "noise_ceiling.csv" in line
