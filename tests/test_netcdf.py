"""The fast NetCDF4 reader (brainalign.netcdf.read_plain_netcdf4) gives exactly what xarray.open_dataset
gives, and leaves every file it does not decode itself to xarray."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from brainalign.activations.activation_files import load_activations, save_activations
from brainalign.errors import FileFormatError
from brainalign.netcdf import open_netcdf, read_plain_netcdf4
from brainalign.neural.assembly_files import read_assembly, write_assembly


def xarray_read(path) -> xr.Dataset:
    with xr.open_dataset(path) as opened:
        return opened.load()


def assert_same(fast: xr.Dataset, reference: xr.Dataset) -> None:
    """Identical values, coords, attrs and names, and the same dtypes, indexes and variable order."""
    xr.testing.assert_identical(fast, reference)
    for name, variable in reference.variables.items():
        assert fast[name].dtype == variable.dtype, name
        assert_same_attrs(fast[name].attrs, variable.attrs)
    assert list(fast.data_vars) == list(reference.data_vars)
    assert list(fast.coords) == list(reference.coords)
    assert list(fast.indexes) == list(reference.indexes)
    assert_same_attrs(fast.attrs, reference.attrs)


def assert_same_attrs(got: dict, expected: dict) -> None:
    """The same keys, and values of the same type and dtype, equal element by element."""
    assert list(got) == list(expected)
    for key, value in expected.items():
        assert type(got[key]) is type(value), key
        assert getattr(got[key], "dtype", None) == getattr(value, "dtype", None), key
        assert np.array_equal(np.asarray(got[key]), np.asarray(value)), key


def _activations(path):
    rng = np.random.default_rng(0)
    ids = np.array([f"img{i:02d}" for i in range(7)])
    layers = {name: xr.DataArray(rng.standard_normal((7, n)).astype(np.float32), dims=("stimulus", "unit"),
                                 coords={"stimulus_id": ("stimulus", ids)}, attrs={"layer_shape": [n, 1, 1]})
              for name, n in (("conv1", 5), ("fc", 3))}
    save_activations(layers, path, provenance={"model": {"spec": "pixels", "seed": 0}, "list": [1, 2]})


def _assembly(path):
    rng = np.random.default_rng(1)
    values = rng.poisson(3.0, (12, 4)).astype(float)
    values[[2, 7], 1] = np.nan  # missing trials
    assembly = xr.DataArray(values, dims=("presentation", "neuroid"),
                            coords={"stimulus_id": ("presentation", np.repeat(["a", "bb", "ccc"], 4)),
                                    "repetition": ("presentation", np.tile(np.arange(4), 3)),
                                    "neuroid_id": ("neuroid", ["n0", "n1", "n2", "n3"]),
                                    "region": ("neuroid", ["V4", "V4", "IT", "IT"]),
                                    "animal": ("neuroid", ["m", "m", "p", "p"])},
                            attrs={"species": "macaque", "session": {"id": 3}, "scale": 0.5, "count": 7})
    write_assembly(assembly, path)


def _xarray_plain(path):
    """What other tools write: indexed dims (ints and strings), a scalar, a non-NaN fill value, plain ints,
    and attributes of every simple kind."""
    data = np.arange(12, dtype=np.float64).reshape(3, 4)
    data[1, 2] = -999.0  # the fill value: read back as NaN
    dataset = xr.Dataset(
        {"responses": (("presentation", "neuroid"), data, {"note": "x", "levels": np.array([1, 2, 3]),
                                                          "gain": 2.5, "names": ["a", "b"]}),
         "counts": (("neuroid",), np.array([1, 2, 3, 4], dtype=np.int32)),
         "total": ((), 42.0)},
        coords={"presentation": [10, 20, 30], "neuroid": ["u", "v", "w", "x"],
                "stimulus_id": ("presentation", ["s1", "s2", "s3"])},
        attrs={"title": "plain", "version": 3})
    dataset["responses"].encoding["_FillValue"] = -999.0
    dataset.to_netcdf(path, engine="h5netcdf")


PLAIN = {"activations": _activations, "assembly": _assembly, "xarray": _xarray_plain}


@pytest.mark.parametrize("kind", sorted(PLAIN))
def test_plain_files_read_exactly_as_xarray_reads_them(kind, tmp_path):
    path = tmp_path / f"{kind}.nc"
    PLAIN[kind](path)
    fast = read_plain_netcdf4(path)
    assert fast is not None, "a plain file went to xarray"
    assert_same(fast, xarray_read(path))


def test_a_non_nan_fill_value_becomes_nan(tmp_path):
    _xarray_plain(tmp_path / "a.nc")
    responses = read_plain_netcdf4(tmp_path / "a.nc")["responses"].values
    assert np.isnan(responses[1, 2]) and np.isnan(responses).sum() == 1 and responses[2, 3] == 11.0


def _times(path):
    xr.Dataset({"x": ("t", [1.0, 2.0])}, coords={"t": pd.date_range("2020-01-01", periods=2)}).to_netcdf(
        path, engine="h5netcdf")


def _scaled(path):
    dataset = xr.Dataset({"x": ("i", [1.0, 2.5, 4.0])})
    dataset["x"].encoding.update(dtype="int16", scale_factor=0.5, _FillValue=-1)
    dataset.to_netcdf(path, engine="h5netcdf")


def _booleans(path):
    xr.Dataset({"flag": ("i", [True, False, True])}).to_netcdf(path, engine="h5netcdf")


def _masked_integers(path):
    dataset = xr.Dataset({"x": ("i", np.array([1, 2, 3], dtype=np.int32))})
    dataset["x"].encoding["_FillValue"] = 2
    dataset.to_netcdf(path, engine="h5netcdf")


def _characters(path):
    xr.Dataset({"x": ("i", np.array([b"ab", b"cd"]))}).to_netcdf(path, engine="h5netcdf")


def _global_coordinates(path):
    xr.Dataset({"x": ("i", [1.0, 2.0])}, attrs={"coordinates": "x"}).to_netcdf(path, engine="h5netcdf")


def _netcdf3(path):
    xr.Dataset({"x": ("i", [1.0, 2.0])}).to_netcdf(path, engine="scipy")


OTHER = {"times": _times, "scale_factor": _scaled, "booleans": _booleans, "masked integers": _masked_integers,
         "character arrays": _characters, "global coordinates": _global_coordinates, "netcdf3": _netcdf3}


@pytest.mark.parametrize("kind", sorted(OTHER))
def test_other_files_are_left_to_xarray(kind, tmp_path):
    path = tmp_path / "other.nc"
    OTHER[kind](path)
    assert read_plain_netcdf4(path) is None
    engine = None if kind == "netcdf3" else "h5netcdf"
    got = open_netcdf(path, label="test", missing_hint="", hint="", engine=engine)
    xr.testing.assert_identical(got, xarray_read(path))


def test_brainalign_files_are_read_without_xarray_open_dataset(tmp_path, monkeypatch):
    _activations(tmp_path / "acts.nc")
    _assembly(tmp_path / "v4.nc")
    expected_acts, expected_assembly = load_activations(tmp_path / "acts.nc"), read_assembly(tmp_path / "v4.nc")

    def refuse(*args, **kwargs):
        raise AssertionError("xarray.open_dataset was called")

    monkeypatch.setattr(xr, "open_dataset", refuse)
    acts = load_activations(tmp_path / "acts.nc")
    assert list(acts) == ["conv1", "fc"] and acts["fc"].attrs["layer_shape"] == [3, 1, 1]
    for layer in acts:
        xr.testing.assert_identical(acts[layer], expected_acts[layer])
    xr.testing.assert_identical(read_assembly(tmp_path / "v4.nc"), expected_assembly)


def test_a_damaged_plain_file_is_one_file_format_error(tmp_path):
    _assembly(tmp_path / "v4.nc")
    data = (tmp_path / "v4.nc").read_bytes()
    (tmp_path / "cut.nc").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="cannot read .*cut.nc as a NetCDF assembly file"):
        open_netcdf(tmp_path / "cut.nc", label="assembly", missing_hint="", hint="")


@pytest.mark.shared_data("brainscore-format-fixture")
def test_brainscore_format_file_reads_as_xarray_reads_it(shared_data):
    path = shared_data / "brainscore-format-fixture" / "assy_movshon_FreemanZiemba2013_public.nc"
    assert path.is_file()
    fast = read_plain_netcdf4(path)
    assert fast is not None
    assert_same(fast, xarray_read(path))
