"""Allen importers on NWB files written here with the real group layout: known dF/F and spike times."""

import json

import h5py
import numpy as np
import pytest
from cli_helpers import run

from brainalign.neural.importers.allen_2p import read_allen_2p
from brainalign.neural.importers.allen_neuropixels import binned_counts, read_allen_neuropixels

N_CELLS, N_FRAMES, N_IMAGES = 3, 400, 4
# (image, first frame, end frame) of each natural-scene trial; -1 is the blank screen
TRIALS = [(2, 10, 17), (0, 17, 24), (-1, 24, 31), (2, 31, 38), (1, 40, 47), (0, 47, 54), (3, 60, 67),
          (1, 70, 77), (3, 80, 87), (-1, 90, 97), (0, 100, 107), (2, 110, 117), (1, 120, 127), (3, 130, 137)]


@pytest.fixture(scope="module")
def nwb1(tmp_path_factory):
    """An NWB 1 two-photon file with the groups the AllenSDK reads, and dF/F[c, t] = 100 c + t."""
    path = tmp_path_factory.mktemp("allen") / "501498760.nwb"
    dff = 100.0 * np.arange(N_CELLS)[:, None] + np.arange(N_FRAMES)[None, :]
    templates = np.random.default_rng(0).integers(0, 256, (N_IMAGES, 6, 8), dtype=np.uint8)
    with h5py.File(path, "w") as f:
        f.attrs["nwb_version"] = "NWB-1.0.5"
        plane = "processing/brain_observatory_pipeline"
        f[f"{plane}/DfOverF/imaging_plane_1/data"] = dff
        f[f"{plane}/DfOverF/imaging_plane_1/timestamps"] = np.arange(N_FRAMES) / 30.0
        f[f"{plane}/ImageSegmentation/cell_specimen_ids"] = np.array([517397343, 517397347, 517397352])
        table = "stimulus/presentation/natural_scenes_stimulus"
        f[f"{table}/data"] = np.array([[t[0]] for t in TRIALS], dtype=float)
        f[f"{table}/frame_duration"] = np.array([[t[1], t[2]] for t in TRIALS], dtype=float)
        f["stimulus/templates/natural_scenes_image_stack/data"] = templates
        f["general/optophysiology/imaging_plane_1/location"] = b"VISl"
        f["general/optophysiology/imaging_plane_1/imaging depth"] = b"275 microns"
        f["general/subject/genotype"] = b"Rorb-IRES2-Cre/wt;Camk2a-tTA/wt;Ai93(TITL-GCaMP6f)/wt"
        f["general/session_id"] = b"501498760"
        f["general/experiment_container_id"] = b"511510736"
    return path, dff, templates


def test_2p_known_dff_gives_known_mean_sweep_responses(nwb1):
    path, dff, _ = nwb1
    assembly, templates = read_allen_2p(path)
    shown = [t for t in TRIALS if t[0] >= 0]
    assert assembly.sizes == {"presentation": len(shown), "neuroid": N_CELLS}
    expected = np.array([[100 * c + (s + e - 1) / 2 for c in range(N_CELLS)] for _, s, e in shown])
    np.testing.assert_allclose(assembly.values, expected)
    np.testing.assert_array_equal(assembly["stimulus_id"].values, [f"scene{t[0]:03d}" for t in shown])
    np.testing.assert_array_equal(assembly["repetition"].values, [0, 0, 1, 0, 1, 0, 1, 1, 2, 2, 2, 2])
    assert list(assembly["neuroid_id"].values) == ["517397343", "517397347", "517397352"]
    assert set(assembly["region"].values) == {"VISl"} and set(assembly["depth_um"].values) == {275}
    assert set(assembly["cre_line"].values) == {"Rorb-IRES2-Cre/wt"}
    assert set(assembly["animal"].values) == {"511510736"}
    assert templates.shape == (N_IMAGES, 6, 8)


def test_2p_import_writes_templates_as_images(nwb1, tmp_path, monkeypatch):
    path, _, templates = nwb1
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home"))
    result = run("data", "import", "allen-2p", path, "--name", "vc2p", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["benchmarks"] == ["imported.vc2p.VISl"]
    from brainalign.neural.importers.dataset import load_imported_stimuli
    stimuli = load_imported_stimuli("vc2p")
    assert list(stimuli.stimulus_ids) == ["scene000", "scene001", "scene002", "scene003"]
    np.testing.assert_allclose(stimuli.load(2)[..., 0], templates[2] / 255.0, atol=1e-6)


def test_2p_session_without_natural_scenes_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home"))
    path = tmp_path / "sessionA.nwb"
    with h5py.File(path, "w") as f:
        f["processing/brain_observatory_pipeline/DfOverF/imaging_plane_1/data"] = np.zeros((2, 10))
        f["processing/brain_observatory_pipeline/ImageSegmentation/cell_specimen_ids"] = np.array([1, 2])
    result = run("data", "import", "allen-2p", path, "--name", "a")
    assert result.exit_code == 2
    assert "natural_scenes_stimulus" in result.output and "hint:" in result.output
    assert not (tmp_path / "home" / "imported" / "a").exists()


def test_binned_counts_are_left_closed():
    spikes = np.array([0.999, 1.0, 1.005, 1.0099, 1.01, 1.25, 2.02])
    counts = binned_counts(spikes, np.array([1.0, 2.0]), np.arange(0, 0.0301, 0.01))
    np.testing.assert_array_equal(counts, [[3, 1, 0], [0, 0, 1]])


ONSETS = 10.0 + np.arange(20) * 0.5  # 20 trials, 500 ms apart
FRAMES = np.array([k % 5 - 1 for k in range(20)])  # -1 (blank), 0, 1, 2, 3 repeated


@pytest.fixture(scope="module")
def nwb2(tmp_path_factory):
    """An NWB 2 session written by pynwb: 3 units in 2 areas, natural_scenes_presentations intervals.

    Unit u fires u + 1 spikes in 10 ms bin (trial % 4) of every trial, plus one spike 100 ms before
    each onset (400 ms after the previous onset, so outside every 0-250 ms window).
    """
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime, timezone

    from pynwb.epoch import TimeIntervals

    nwbfile = pynwb.NWBFile(session_description="test session", identifier="715093703",
                            session_start_time=datetime(2019, 1, 1, tzinfo=timezone.utc))
    device = nwbfile.create_device(name="probeA")
    group = nwbfile.create_electrode_group(name="probeA", description="probe", location="VIS", device=device)
    for channel, area in enumerate(["VISp", "VISp", "VISl"]):
        nwbfile.add_electrode(group=group, location=area, id=850000000 + channel)
    nwbfile.add_unit_column(name="peak_channel_id", description="id of the unit's peak channel")
    nwbfile.add_unit_column(name="snr", description="signal-to-noise ratio")
    expected = np.zeros((20, 3, 25))
    for unit in range(3):
        times = []
        for trial, onset in enumerate(ONSETS):
            b = trial % 4
            times += [onset + (b + 0.5) * 0.01] * (unit + 1) + [onset - 0.1]
            expected[trial, unit, b] = unit + 1
        nwbfile.add_unit(spike_times=np.sort(times), peak_channel_id=850000000 + [2, 0, 1][unit], snr=1.5 + unit,
                         id=950900000 + unit)
    intervals = TimeIntervals(name="natural_scenes_presentations", description="natural scenes")
    intervals.add_column(name="frame", description="image index, -1 blank")
    for onset, frame in zip(ONSETS, FRAMES):
        intervals.add_interval(start_time=onset, stop_time=onset + 0.25, frame=float(frame))
    nwbfile.add_time_intervals(intervals)
    path = tmp_path_factory.mktemp("np") / "session_715093703.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path, expected


def test_neuropixels_known_spike_times_give_known_counts(nwb2):
    path, expected = nwb2
    counts = read_allen_neuropixels(path, bin_ms=10, window_ms=(0, 250))
    shown = FRAMES >= 0
    assert counts.dims == ("presentation", "neuroid", "time_bin") and counts.shape == (16, 3, 25)
    np.testing.assert_array_equal(counts.values, expected[shown])
    assert list(counts["region"].values) == ["VISl", "VISp", "VISp"]  # through peak_channel_id
    np.testing.assert_allclose(counts["snr"].values, [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(counts["stimulus_id"].values, [f"scene{f:03d}" for f in FRAMES[shown]])
    np.testing.assert_array_equal(counts["time_bin_start"].values[:3], [0, 10, 20])


def test_neuropixels_import_from_cli(nwb2, tmp_path, monkeypatch):
    path, expected = nwb2
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home"))
    images = tmp_path / "scenes.npy"
    np.save(images, np.random.default_rng(1).integers(0, 256, (4, 8, 8), dtype=np.uint8))
    result = run("data", "import", "allen-neuropixels", path, "--images", images, "--time-window", "0,40",
                 "--areas", "VISp", "--name", "np", "-o", tmp_path / "np.nc", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["n_neuroids"] == 2 and summary["benchmarks"] == ["imported.np.VISp"]
    from brainalign.neural.assembly_files import read_assembly
    assembly = read_assembly(tmp_path / "np.nc")
    # mean over bins 0-3 of a trial = (unit + 1) / 4 for units 1 and 2 (the VISp ones)
    np.testing.assert_allclose(assembly.values, np.tile([[2 / 4, 3 / 4]], (16, 1)))
    assert json.loads(assembly.attrs["time_window"]) == [0.0, 40.0]


def test_nayebi_unit_rule_keeps_stimulus_locked_units():
    import xarray as xr

    from brainalign.neural.importers.allen_neuropixels import nayebi_units
    rng = np.random.default_rng(0)
    n_images, n_rep = 30, 10
    tuning = rng.poisson(5.0, n_images)
    locked = tuning[:, None] + rng.normal(0, 0.5, (n_images, n_rep))   # reliable in bin 1 only
    noise = rng.normal(5, 2, (n_images, n_rep))
    values = np.zeros((n_images * n_rep, 2, 3))
    values[:, 0, 1] = locked.ravel()
    values[:, 1, :] = rng.normal(5, 2, (n_images * n_rep, 3))
    values[:, 0, [0, 2]] = noise.ravel()[:, None]
    counts = xr.DataArray(values, dims=("presentation", "neuroid", "time_bin"),
                          coords={"stimulus_id": ("presentation", np.repeat([f"s{i}" for i in range(n_images)], n_rep)),
                                  "repetition": ("presentation", np.tile(np.arange(n_rep), n_images)),
                                  "neuroid_id": ("neuroid", ["a", "b"])})
    np.testing.assert_array_equal(nayebi_units(counts), [True, False])


def test_the_importer_registry_tells_nwb1_from_nwb2(nwb1, nwb2):
    """Both are .nwb HDF5 files; the two-photon and Neuropixels importers each recognise only their own."""
    from brainalign.neural.importers import get_importer, guess_importer

    assert guess_importer(nwb1[0]).name == "allen-2p"
    assert guess_importer(nwb2[0]).name == "allen-neuropixels"
    assert not get_importer("allen-2p").guess_can_open(nwb2[0])
    assert not get_importer("allen-neuropixels").guess_can_open(nwb1[0])
