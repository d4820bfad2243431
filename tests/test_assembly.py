"""NeuralAssembly schema, trial arrangement and NetCDF round trips."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from brainalign.errors import DataError, FileFormatError
from brainalign.neural import average_time_window, read_assembly, trial_array, validate_assembly, write_assembly


def make_assembly(n_stim=4, n_rep=3, n_neuroid=2, seed=0):
    rng = np.random.default_rng(seed)
    stim = np.repeat([f"s{i}" for i in range(n_stim)], n_rep)
    rep = np.tile(np.arange(n_rep), n_stim)
    return xr.DataArray(rng.normal(size=(n_stim * n_rep, n_neuroid)), dims=("presentation", "neuroid"),
                        coords={"stimulus_id": ("presentation", stim), "repetition": ("presentation", rep),
                                "neuroid_id": ("neuroid", [f"n{j}" for j in range(n_neuroid)]),
                                "region": ("neuroid", ["V1"] * n_neuroid)})


def test_trial_array_places_each_trial_by_id_not_position():
    assembly = make_assembly()
    shuffled = assembly.isel(presentation=np.random.default_rng(1).permutation(assembly.sizes["presentation"]))
    trials = trial_array(validate_assembly(shuffled))
    assert list(trials.stimulus_ids) == ["s0", "s1", "s2", "s3"]
    for p in range(assembly.sizes["presentation"]):
        stim = int(assembly["stimulus_id"].values[p][1:])
        rep = int(assembly["repetition"].values[p])
        np.testing.assert_array_equal(trials.values[rep, stim], assembly.values[p])
    np.testing.assert_allclose(trials.mean()[2], assembly.values[6:9].mean(axis=0))


def test_missing_repetition_is_nan_and_ignored_in_mean():
    assembly = make_assembly().isel(presentation=slice(0, 11))  # s3 lacks repetition 2
    trials = trial_array(validate_assembly(assembly))
    assert np.isnan(trials.values[2, 3]).all()
    np.testing.assert_allclose(trials.mean()[3], assembly.values[9:11].mean(axis=0))


def test_multiindex_is_reset_to_plain_coords():
    assembly = make_assembly().set_index(presentation=["stimulus_id", "repetition"])
    validated = validate_assembly(assembly)
    assert not validated.indexes
    assert list(validated["stimulus_id"].values[:3]) == ["s0", "s0", "s0"]


@pytest.mark.parametrize("change, message", [
    (lambda a: a.drop_vars("stimulus_id"), "no 'stimulus_id' coordinate"),
    (lambda a: a.drop_vars("neuroid_id"), "no 'neuroid_id' coordinate"),
    (lambda a: a.assign_coords(repetition=("presentation", np.zeros(12, int))), "duplicate presentation"),
    (lambda a: a.assign_coords(neuroid_id=("neuroid", ["n", "n"])), "duplicate neuroid_id"),
    (lambda a: a.rename(neuroid="unit"), "no 'neuroid' dimension"),
    (lambda a: a.where(a > 10), "NaN values"),
    (lambda a: a * np.inf, "infinite"),
])
def test_invalid_assemblies_raise_one_clear_error(change, message):
    with pytest.raises(DataError, match=message):
        validate_assembly(change(make_assembly()))


def test_nan_policy_missing_allows_nan_trials_but_not_all_nan_neuroids():
    assembly = make_assembly()
    values = assembly.values.copy()
    values[0, 0] = np.nan
    validate_assembly(assembly.copy(data=values), nan_policy="missing")
    values[:, 1] = np.nan
    with pytest.raises(DataError, match="NaN everywhere"):
        validate_assembly(assembly.copy(data=values), nan_policy="missing")


def test_netcdf_round_trip_keeps_values_coords_and_attrs(tmp_path):
    assembly = make_assembly()
    assembly.attrs = {"identifier": "toy", "seed": 3, "meta": {"a": 1}}
    path = write_assembly(assembly, tmp_path / "toy.nc")
    back = read_assembly(path)
    np.testing.assert_array_equal(back.values, assembly.values)
    for coord in ("stimulus_id", "repetition", "neuroid_id", "region"):
        np.testing.assert_array_equal(back[coord].values, assembly[coord].values)
    assert back.attrs["identifier"] == "toy" and back.attrs["seed"] == 3


def test_write_is_atomic_when_validation_fails(tmp_path):
    target = tmp_path / "out.nc"
    write_assembly(make_assembly(), target)
    before = target.read_bytes()
    with pytest.raises(DataError):
        write_assembly(make_assembly().drop_vars("stimulus_id"), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.nc"]


def test_truncated_netcdf_is_a_file_format_error(tmp_path):
    path = write_assembly(make_assembly(), tmp_path / "a.nc")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(FileFormatError, match="cannot read"):
        read_assembly(path)


def test_time_window_average():
    values = np.arange(2 * 1 * 4, dtype=float).reshape(2, 1, 4)
    assembly = xr.DataArray(values, dims=("presentation", "neuroid", "time_bin"),
                            coords={"time_bin_start": ("time_bin", [0, 50, 100, 200])})
    averaged = average_time_window(assembly, 50, 200)
    np.testing.assert_allclose(averaged.values[:, 0], values[:, 0, 1:3].mean(axis=1))
    with pytest.raises(DataError, match="no time bin"):
        average_time_window(assembly, 300, 400)


def test_stimulus_metadata_follows_requested_order():
    from brainalign.neural import stimulus_metadata

    assembly = make_assembly().assign_coords(kind=("presentation", np.repeat(["a", "b", "a", "b"], 3)))
    frame = stimulus_metadata(assembly, np.array(["s3", "s0"]))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["kind"]) == ["b", "a"]
