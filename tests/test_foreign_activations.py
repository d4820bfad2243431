"""`score --activations FILE --assembly FILE` with activations from other tools, and plain assemblies.

The same activations written in every accepted format must give the same scores, to the digit,
as the `brainalign extract` file they were copied from; malformed files are one error line.
"""

import json

import h5py
import numpy as np
import pytest
import scipy.io
import xarray as xr
from cli_helpers import error_line, run

from brainalign.activations.activation_files import save_activations
from brainalign.activations.foreign import ids_from_file_names, read_foreign_activations

N_STIMULI, N_UNITS, N_NEUROIDS = 40, 30, 5


@pytest.fixture(scope="module")
def data():
    """Features (40, 12) of stimuli s00..s39 (stored in a shuffled order) and responses linear in them."""
    rng = np.random.default_rng(0)
    ids = np.array([f"s{i:02d}" for i in range(N_STIMULI)])
    features = rng.normal(size=(N_STIMULI, N_UNITS)).astype(np.float32)
    weights = rng.normal(size=(N_UNITS, N_NEUROIDS))
    trials = [features @ weights + rng.normal(scale=2.0, size=(N_STIMULI, N_NEUROIDS)) for _ in range(2)]
    order = rng.permutation(N_STIMULI)   # activations rows in another order than the assembly's
    return ids, features, np.concatenate(trials), order


@pytest.fixture
def assembly_file(data, tmp_path):
    """A plain DataArray (presentation, neuroid) with stimulus_id only: no neuroid_id, no repetition."""
    ids, _, responses, _ = data
    array = xr.DataArray(responses, dims=("presentation", "neuroid"),
                         coords={"stimulus_id": ("presentation", np.tile(ids, 2))}, name="rates")
    path = tmp_path / "plain_assembly.nc"
    array.to_netcdf(path, engine="h5netcdf")
    return path


def _score(activations, assembly, tmp_path, *extra):
    result = run("score", "--activations", activations, "--assembly", assembly, "--results", tmp_path / "res",
                 "--protocol", "brainscore", "--bootstrap", "0", "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _write_formats(data, folder):
    """The same (shuffled) features in each foreign format; returns {format: (path, extra CLI args)}."""
    ids, features, _, order = data
    rows, names = features[order], ids[order]
    folder.mkdir()
    (folder / "ids.txt").write_text("\n".join(f"{n}.png" for n in names) + "\n")
    out = {}
    xr.Dataset({"conv": (("image", "channel"), rows)}, coords={"stimulus_id": ("image", names)}).to_netcdf(
        folder / "plain.nc", engine="h5netcdf")
    out["netcdf"] = (folder / "plain.nc", ())
    xr.DataArray(rows.reshape(-1, 5, 6), dims=("img", "c", "x"), coords={"stimulus_id": ("img", names)}).to_netcdf(
        folder / "array.nc", engine="scipy")   # NetCDF3, a single unnamed DataArray, a 3-D layer
    out["dataarray"] = (folder / "array.nc", ())
    np.save(folder / "feats.npy", rows)
    out["npy"] = (folder / "feats.npy", ("--stimulus-ids", folder / "ids.txt"))
    np.savez(folder / "feats.npz", conv=rows, stimulus_id=names)
    out["npz"] = (folder / "feats.npz", ())
    with h5py.File(folder / "feats.h5", "w") as handle:
        handle["model/conv"] = rows
        handle["stimulus_ids"] = names.astype("S")
    out["hdf5"] = (folder / "feats.h5", ())
    # THINGSvision: extractor.save_features(features, OUT, "npy") + ImageDataset's file_names.txt
    # (a class dataset writes ROOT/class/file.jpg; here every image sits in ROOT/all/)
    things = folder / "thingsvision"
    things.mkdir()
    np.save(things / "features.npy", rows)
    (things / "file_names.txt").write_text("\n".join(f"/data/images/{n}.jpg" for n in names) + "\n")
    out["thingsvision"] = (things, ())
    mat = folder / "thingsvision_mat"
    mat.mkdir()
    scipy.io.savemat(mat / "features.mat", {str(n): row for n, row in zip(names, rows)})
    (mat / "file_names.txt").write_text("\n".join(f"{n}.jpg" for n in names) + "\n")
    out["thingsvision-mat"] = (mat, ())
    return out


def test_every_format_scores_like_the_extract_file(data, assembly_file, tmp_path):
    ids, features, _, _ = data
    reference = tmp_path / "extract.nc"
    save_activations({"conv": xr.DataArray(features, dims=("stimulus", "unit"),
                                           coords={"stimulus_id": ("stimulus", ids)})},
                     reference, provenance={"model": {"spec": "pixels", "weights_sha256": "0" * 64, "seed": 0}})
    expected = _score(reference, assembly_file, tmp_path)[0]
    assert expected["model"]["spec"] == "pixels"
    assert 0.2 < expected["score"]["raw"] < 1   # the responses are linear in the features
    for fmt, (path, extra) in _write_formats(data, tmp_path / "formats").items():
        record = _score(path, assembly_file, tmp_path, *extra)[0]
        assert record["score"]["raw"] == pytest.approx(expected["score"]["raw"], abs=1e-6), fmt
        assert record["score"]["per_split"] == pytest.approx(expected["score"]["per_split"], abs=1e-6), fmt
        assert record["score"]["ceiling"] == pytest.approx(expected["score"]["ceiling"], abs=1e-12), fmt
        assert record["model"]["provenance"] == "unknown" and record["model"]["weights_sha256"] == "unknown", fmt
        assert record["model"]["objective"] == "unknown", fmt


def test_thingsvision_class_paths_become_relative_ids():
    assert ids_from_file_names(["/x/root/cats/c1.jpg", "/x/root/dogs/d1.JPEG"]) == ["cats/c1", "dogs/d1"]
    assert ids_from_file_names(["a.png", "b.png"]) == ["a", "b"]
    assert ids_from_file_names(["root/only/a.png"]) == ["a"]


def test_a_layer_keeps_its_shape_and_row_ids(data, tmp_path):
    ids, features, _, order = data
    path = tmp_path / "a.nc"
    xr.DataArray(features[order].reshape(-1, 5, 6), dims=("img", "c", "x"),
                 coords={"stimulus_id": ("img", ids[order])}, name="block1").to_netcdf(path, engine="h5netcdf")
    layer = read_foreign_activations(path)["block1"]
    assert layer.attrs["layer_shape"] == [5, 6]
    np.testing.assert_array_equal(layer["stimulus_id"].values, ids[order])
    np.testing.assert_array_equal(layer.values, features[order])


def test_hand_made_provenance_is_not_a_traceback(data, assembly_file, tmp_path):
    """A plain file with brainalign's attributes added by hand (the issue's KeyError 'model', 'weights_sha256')."""
    ids, features, _, _ = data
    path = tmp_path / "hand.nc"
    xr.Dataset({"conv": (("stimulus", "unit__conv"), features)}, coords={"stimulus_id": ("stimulus", ids)},
               attrs={"layers": json.dumps(["conv"]),
                      "brainalign_provenance": json.dumps({"model": {"spec": "mine"}})}).to_netcdf(path,
                                                                                                   engine="h5netcdf")
    record = _score(path, assembly_file, tmp_path)[0]
    assert record["model"]["spec"] == "mine" and record["model"]["weights_sha256"] == "unknown"
    broken = tmp_path / "broken.nc"
    xr.Dataset({"conv": (("stimulus", "unit__conv"), features)}, coords={"stimulus_id": ("stimulus", ids)},
               attrs={"layers": json.dumps(["other"]), "brainalign_provenance": "{}"}).to_netcdf(broken,
                                                                                                 engine="h5netcdf")
    assert "layer 'other'" in error_line(run("score", "--activations", broken, "--assembly", assembly_file))


def test_malformed_inputs_are_one_line(data, assembly_file, tmp_path):
    ids, features, _, _ = data
    no_ids = tmp_path / "no_ids.nc"
    xr.Dataset({"conv": (("stimulus", "unit"), features)}).to_netcdf(no_ids, engine="h5netcdf")
    other_dims = tmp_path / "other_dims.nc"
    xr.Dataset({"conv": (("a", "b"), features)}, coords={"stimulus_id": ("c", ids)}).to_netcdf(other_dims,
                                                                                                engine="h5netcdf")
    np.save(tmp_path / "bare.npy", features)
    (tmp_path / "short.txt").write_text("s00\ns01\n")
    (tmp_path / "dup.txt").write_text("\n".join(["s00"] * N_STIMULI))
    np.savez(tmp_path / "strings.npz", conv=np.array(["x"] * N_STIMULI), stimulus_id=ids)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    cases = [
        ((no_ids,), "no stimulus_id coordinate"),
        ((other_dims,), "no variable along 'c'"),
        ((tmp_path / "bare.npy",), "holds no stimulus ids"),
        ((tmp_path / "bare.npy", "--stimulus-ids", tmp_path / "short.txt"), "40 rows but there are 2 stimulus ids"),
        ((tmp_path / "bare.npy", "--stimulus-ids", tmp_path / "dup.txt"), "'s00' names two rows"),
        ((tmp_path / "strings.npz",), "not a numeric array"),
        ((tmp_path / "junk.h5",), "cannot read junk.h5"),
        ((tmp_path / "missing.npy",), "not found"),
        ((tmp_path,), "holds no THINGSvision features"),
    ]
    for (path, *extra), message in cases:
        line = error_line(run("score", "--activations", path, *extra, "--assembly", assembly_file))
        assert message in line, (path, line)


def test_plain_assembly_errors_are_one_line(data, tmp_path):
    ids, features, responses, _ = data
    np.savez(tmp_path / "feats.npz", conv=features, stimulus_id=ids)
    no_stimulus = tmp_path / "no_stimulus.nc"
    xr.DataArray(responses, dims=("presentation", "neuroid")).to_netcdf(no_stimulus, engine="h5netcdf")
    wrong_dims = tmp_path / "wrong_dims.nc"
    xr.DataArray(responses, dims=("trial", "cell"), coords={"stimulus_id": ("trial", np.tile(ids, 2))}).to_netcdf(
        wrong_dims, engine="h5netcdf")
    for path, message in [(no_stimulus, "no 'stimulus_id' coordinate"),
                          (wrong_dims, "expected one variable with dims presentation x neuroid")]:
        assert message in error_line(run("score", "--activations", tmp_path / "feats.npz", "--assembly", path))
