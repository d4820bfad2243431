"""Brain-Score importer on the shared fixture (written by Brain-Score's own packaging code), CLI import + score."""

import json
import shutil

import numpy as np
import pytest
import xarray as xr
from cli_helpers import error_line as _error_line
from cli_helpers import run

from brainalign.neural.fetch import verify_file
from brainalign.neural.importers.brainscore import import_brainscore, read_brainscore_assembly

pytestmark = pytest.mark.shared_data("brainscore-format-fixture")




@pytest.fixture(scope="module")
def fixture_files(shared_data):
    folder = shared_data / "brainscore-format-fixture"
    meta = json.loads((folder / "fixture.json").read_text())
    return {"assembly": folder / meta["assembly"], "csv": folder / meta["stimulus_csv"],
            "zip": folder / meta["stimulus_zip"], "meta": meta}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_fixture_sha1s_verify(fixture_files):
    meta = fixture_files["meta"]
    for key in ("assembly", "stimulus_csv", "stimulus_zip"):
        path = fixture_files["assembly"].parent / meta[key]
        assert verify_file(path, f"sha1:{meta[key + '_sha1']}") == meta[key + "_sha1"]


def test_time_window_average_matches_raw_netcdf(fixture_files):
    raw = xr.open_dataset(fixture_files["assembly"], engine="h5netcdf")["data"]  # neuroid x time_bin x presentation
    assert raw.dims == tuple(fixture_files["meta"]["dims"])
    assembly = read_brainscore_assembly(fixture_files["assembly"], time_window=(50, 200))
    assert assembly.dims == ("presentation", "neuroid")
    assert assembly.sizes == {"presentation": 480, "neuroid": 12}
    expected = raw.values[:, 50:200, :].mean(axis=1).T  # bins start at 0, 1, ... ms
    np.testing.assert_allclose(assembly.values, expected)
    np.testing.assert_array_equal(assembly["stimulus_id"].values, raw["image_id"].values)  # legacy image_id
    assert set(assembly["region"].values) == {"V1", "V2"}


def test_dims_in_any_order_and_multiindex_give_the_same_assembly(fixture_files, tmp_path):
    raw = xr.open_dataset(fixture_files["assembly"], engine="h5netcdf")["data"].load()
    shuffled = raw.transpose("presentation", "time_bin", "neuroid")
    stacked = shuffled.set_index(presentation=["image_id", "repetition"])  # a Brain-Score style MultiIndex
    path = tmp_path / "reordered.nc"
    stacked.reset_index("presentation").to_netcdf(path, engine="h5netcdf")
    a = read_brainscore_assembly(fixture_files["assembly"], time_window=(50, 200))
    b = read_brainscore_assembly(path, time_window=(50, 200))
    np.testing.assert_allclose(a.values, b.values)


def test_no_time_window_is_an_input_error(fixture_files, home):
    result = run("data", "import", "brainscore", fixture_files["assembly"], "--csv", fixture_files["csv"],
                 "--zip", fixture_files["zip"], "--name", "fz")
    assert result.exit_code == 2
    assert "300 time bins" in _error_line(result)
    assert not (home / "imported" / "fz").exists()


def test_import_then_score_from_cli(fixture_files, home, tmp_path):
    out = tmp_path / "fz.nc"
    result = run("data", "import", "brainscore", fixture_files["assembly"], "--csv", fixture_files["csv"],
                 "--zip", fixture_files["zip"], "--time-window", "50,200", "--stratify", "texture_type",
                 "--name", "fz", "--sha1", fixture_files["meta"]["assembly_sha1"], "-o", out)
    assert result.exit_code == 0, result.output
    assert "imported.fz.V1, imported.fz.V2" in result.output
    listed = run("benchmarks", "list")
    assert "imported.fz.V1" in listed.output
    scored = run("score", "pixels", "--benchmark", "imported.fz.V1", "--results", tmp_path / "res", "-q", "--json")
    assert scored.exit_code == 0, scored.output
    record = json.loads(scored.output)[0]
    # 6 V1 units, 24 stimuli; the ceiling is the split-half consistency of the 20 repetitions
    assert record["score"]["n_neuroids"] == 6 and record["score"]["n_stimuli"] == 24
    assert record["benchmark"]["dataset"]["time_window"] == [50, 200]
    assert record["metric"]["stratify"] == "texture_type"
    # -o exports the same assembly (for `brainalign score --activations ... --assembly`)
    from brainalign.neural.assembly_files import read_assembly
    stored = read_assembly(home / "imported" / "fz" / "assembly.nc")
    np.testing.assert_array_equal(read_assembly(out).values, stored.values)
    # ... and scoring the exported file gives the registered benchmark's numbers (24 stimuli: PLS capped below 25)
    acts = tmp_path / "pixels.nc"
    assert run("extract", "pixels", "--stimuli", home / "imported" / "fz" / "stimuli.zip", "-o", acts, "-q").exit_code == 0
    from_files = run("score", "--activations", acts, "--assembly", out, "--stratify", "texture_type",
                     "--results", tmp_path / "res2", "-q", "--json")
    assert from_files.exit_code == 0, from_files.output
    v1 = next(r for r in json.loads(from_files.output) if r["benchmark"]["region"] == "V1")
    assert v1["score"]["raw"] == pytest.approx(record["score"]["raw"], abs=1e-12)
    assert v1["score"]["ceiling"] == pytest.approx(record["score"]["ceiling"], abs=1e-12)
    assert v1["metric"]["parameters"]["n_components"] == record["metric"]["parameters"]["n_components"] < 25


def test_truncated_netcdf_is_one_line_and_home_intact(fixture_files, home, tmp_path):
    broken = tmp_path / "broken.nc"
    broken.write_bytes(fixture_files["assembly"].read_bytes()[:50_000])
    result = run("data", "import", "brainscore", broken, "--csv", fixture_files["csv"], "--zip", fixture_files["zip"],
                 "--time-window", "50,200", "--name", "broken")
    assert result.exit_code == 2
    assert "broken.nc" in _error_line(result)
    assert not (home / "imported").exists() or not any((home / "imported").iterdir())


def test_stimulus_ids_missing_from_stimulus_set(fixture_files, home, tmp_path):
    csv = tmp_path / "short.csv"
    lines = fixture_files["csv"].read_text().splitlines()
    csv.write_text("\n".join(lines[:-2]) + "\n")  # drop two stimuli
    result = run("data", "import", "brainscore", fixture_files["assembly"], "--csv", csv, "--zip", fixture_files["zip"],
                 "--time-window", "50,200", "--name", "short")
    assert result.exit_code == 2
    assert "2 stimulus id(s) of the assembly are missing" in _error_line(result)
    assert not (home / "imported" / "short").exists()


def test_nan_only_neuroid_rejected(fixture_files, home, tmp_path):
    raw = xr.open_dataset(fixture_files["assembly"], engine="h5netcdf").load()
    raw["data"][3] = np.nan  # neuroid 4 never recorded
    path = tmp_path / "nan.nc"
    raw.to_netcdf(path, engine="h5netcdf")
    result = run("data", "import", "brainscore", path, "--csv", fixture_files["csv"], "--zip", fixture_files["zip"],
                 "--time-window", "50,200", "--name", "nan")
    assert result.exit_code == 2
    assert "1 neuroid(s) are NaN everywhere" in _error_line(result)
    assert not (home / "imported" / "nan").exists()


def test_wrong_sha1_refused_before_reading(fixture_files, home):
    result = run("data", "import", "brainscore", fixture_files["assembly"], "--csv", fixture_files["csv"],
                 "--zip", fixture_files["zip"], "--time-window", "50,200", "--name", "fz", "--sha1", "0" * 40)
    assert result.exit_code == 2
    line = _error_line(result)
    assert fixture_files["meta"]["assembly_sha1"] in line and "0" * 40 in line
    assert not (home / "imported").exists()


def test_reimport_needs_overwrite_and_keeps_old(fixture_files, home):
    first = import_brainscore("fz", fixture_files["assembly"], fixture_files["csv"], fixture_files["zip"],
                              time_window=(50, 200))
    from brainalign.neural.importers import finish_import
    finish_import(first)
    before = (home / "imported" / "fz" / "assembly.nc").read_bytes()
    result = run("data", "import", "brainscore", fixture_files["assembly"], "--csv", fixture_files["csv"],
                 "--zip", fixture_files["zip"], "--time-window", "60,100", "--name", "fz")
    assert result.exit_code == 2 and "already imported" in _error_line(result)
    assert (home / "imported" / "fz" / "assembly.nc").read_bytes() == before
    shutil.rmtree(home)
