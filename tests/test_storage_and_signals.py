"""Full disks, read-only folders, killed and interrupted processes.

Every writer: one line naming the folder, exit 2, nothing partial (simulated by refusing writes
under one folder, since tests may run as root where chmod does not block; and on a real 1 MiB
tmpfs when this machine lets us mount one). Temporaries of killed writers are swept; workers
die with their parent; Ctrl-C is exit 130 with one line in every long command.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cli_helpers import error_line, run

from brainalign import safe_files
from brainalign.activations.cache import ActivationCache
from brainalign.errors import StorageError
from brainalign.safe_files import atomic_path, is_stale_temporary, storage_errno, sweep_stale, write_text_atomic

CLI = [sys.executable, "-c", "from brainalign.cli import main; main()"]


def _hidden(root: Path) -> list[str]:
    return sorted(str(p) for p in Path(root).rglob(".*"))


# ---- classifying errors ----------------------------------------------------------------------

def test_storage_errno_reads_os_h5py_and_numpy_errors(tmp_path):
    assert storage_errno(OSError(errno.ENOSPC, "No space left on device")) == errno.ENOSPC
    assert storage_errno(PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x"))) == errno.EACCES
    h5py = RuntimeError(f"Can't close file (file write failed: filename = '{tmp_path}/.a.tmp', errno = 28, "
                        "error message = 'No space left on device')")
    assert storage_errno(h5py, tmp_path) == errno.ENOSPC
    assert storage_errno(OSError("1081344 requested and 262112 written")) == errno.ENOSPC
    assert storage_errno(OSError(errno.EROFS, "Read-only file system")) == errno.EROFS
    # a refused *input* file elsewhere is not a problem of the output folder; other errors are not storage errors
    assert storage_errno(PermissionError(errno.EACCES, "Permission denied", "/elsewhere/in.png"), tmp_path) is None
    assert storage_errno(OSError(errno.ENOENT, "No such file")) is None
    assert storage_errno(ValueError("No space left on device")) is None


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"), (errno.EDQUOT, "quota"),
                                         (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")])
def test_atomic_writer_failing_half_way_keeps_the_old_file_and_no_temporary(tmp_path, code, words):
    target = tmp_path / "out" / "table.csv"
    write_text_atomic(target, "old")
    with pytest.raises(StorageError) as caught:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise OSError(code, os.strerror(code))
    assert str(target.parent) in caught.value.message and words in caught.value.message
    assert target.read_text() == "old" and _hidden(tmp_path) == []


# ---- writers refused under one folder (works as root) ------------------------------------------

@pytest.fixture
def refuse(monkeypatch):
    """``refuse(folder, code)``: every file or folder created under ``folder`` fails with ``code``."""
    def install(folder: Path, code: int):
        root = os.path.abspath(folder)

        def guard(original):
            def wrapped(path, *args, **kwargs):
                if isinstance(path, (str, os.PathLike)) and os.path.abspath(os.fspath(path)).startswith(root):
                    raise OSError(code, os.strerror(code), os.fspath(path))
                return original(path, *args, **kwargs)
            return wrapped

        monkeypatch.setattr(os, "open", guard(os.open))
        monkeypatch.setattr(os, "mkdir", guard(os.mkdir))
    return install


def _sim_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("BRAINALIGN_CACHE", str(cache))
    return cache


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_read_only_results_folder_is_one_line(tmp_path, monkeypatch, refuse, code):
    _sim_cache(tmp_path, monkeypatch)
    refuse(tmp_path / "results", code)
    line = error_line(run("score", "pixels", "--benchmark", "sim.V1", "--layers", "pixels", "--protocol", "brainscore",
                          "--results", tmp_path / "results", "-q"))
    assert f"cannot write to {tmp_path / 'results' / 'records'}" in line
    assert not (tmp_path / "results").exists() or _hidden(tmp_path / "results") == []


def test_read_only_output_and_cache_folders_are_one_line(tmp_path, monkeypatch, refuse, image_folder):
    cache = _sim_cache(tmp_path, monkeypatch)
    refuse(cache / "activations", errno.EROFS)
    line = error_line(run("extract", "pixels", "--stimuli", image_folder, "-o", tmp_path / "acts.nc", "-q"))
    assert f"cannot write to {cache / 'activations'}: read-only file system" in line and "BRAINALIGN_CACHE" in line
    monkeypatch.undo()
    _sim_cache(tmp_path, monkeypatch)
    refuse(tmp_path / "out", errno.EACCES)
    line = error_line(run("extract", "pixels", "--stimuli", image_folder, "-o", tmp_path / "out" / "acts.nc", "-q"))
    assert f"cannot write to {tmp_path / 'out'}: permission denied" in line
    assert not (tmp_path / "acts.nc").exists() and not (tmp_path / "out").exists()


def test_full_cache_disk_mid_extraction_leaves_no_temporary(tmp_path, monkeypatch, image_folder):
    from brainalign.activations import npy_stream

    cache = _sim_cache(tmp_path, monkeypatch)

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(npy_stream, "_pwrite", full)
    line = error_line(run("extract", "pixels", "--stimuli", image_folder, "-o", tmp_path / "acts.nc", "-q"))
    assert f"cannot write to {cache / 'activations'}: no space left" in line
    assert _hidden(cache) == [] and not list((cache / "activations").rglob("*.npy"))
    assert not (tmp_path / "acts.nc").exists()


def test_output_on_a_full_disk_is_refused_before_hdf5_writes(tmp_path, monkeypatch, image_folder):
    """HDF5 cannot survive a write failing half way (it crashes when the file is closed), so
    NetCDF writers check the free space first."""
    _sim_cache(tmp_path, monkeypatch)
    real = safe_files.shutil.disk_usage
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(safe_files.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=1000) if Path(p) == out else real(p))
    line = error_line(run("extract", "pixels", "--stimuli", image_folder, "-o", out / "acts.nc", "-q"))
    assert f"cannot write to {out}: it needs" in line and "1000 B free" in line
    assert list(out.iterdir()) == []


# ---- a real tiny file system ----------------------------------------------------------------

@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs (skipped where this process may not mount one)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if sys.platform != "linux" or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                                 capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _cli(*args, env=None, timeout=300):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_real_full_disk_for_the_output_and_the_cache(tmp_path, tiny_fs):
    """The simulated images' pixels (264 x 4096 float32, 4.3 MB) on a 1 MiB disk: as the output,
    then as the activation cache; exit 2 (not a crash) and nothing left there."""
    result = _cli("extract", "pixels", "--stimuli", "sim", "-o", tiny_fs / "acts.nc", "-q")
    assert result.returncode == 2 and result.stderr.startswith(f"error: cannot write to {tiny_fs}"), result.stderr
    assert list(tiny_fs.iterdir()) == []
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "activations").symlink_to(tiny_fs)
    (cache / "simulated").symlink_to(Path(os.environ["BRAINALIGN_CACHE"]) / "simulated")   # generated above
    result = _cli("extract", "pixels", "--stimuli", "sim", "-o", tmp_path / "acts.nc", "-q",
                  env={"BRAINALIGN_CACHE": str(cache)})
    assert result.returncode == 2, result.stderr   # not 139: no crash after the error
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert f"cannot write to {cache / 'activations'}: no space left" in result.stderr
    assert _hidden(tiny_fs) == [] and not (tmp_path / "acts.nc").exists()


# ---- stale temporaries ----------------------------------------------------------------------

def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_temporaries_of_dead_writers_or_very_old_ones_are_swept(tmp_path):
    host, now = safe_files._HOST, time.time()
    names = {
        f".a.npy.{host}-{_dead_pid()}.0123abcd.tmp": True,       # killed writer on this host
        f".b.npy.{host}-{os.getpid()}.0123abcd.tmp": False,      # a live writer (this one)
        f".c.npy.{host}-{os.getppid()}.0123abcd.tmp": False,     # a live writer (another process)
        f".d.npy.otherhost-{_dead_pid()}.0123abcd.tmp": False,   # another host: only by age
        ".e.npy.k2j4h_x9.tmp": False,                            # an earlier version's, recent
        ".notes.tmp": False, "data.tmp": False, ".f.npy": False,  # not ours
    }
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / "ab").mkdir()
    nested = tmp_path / "ab" / f".g.npy.{host}-{_dead_pid()}.0123abcd.tmp"
    nested.write_text("x")
    assert sweep_stale(tmp_path / "ab") == [nested]
    nested.write_text("x")
    removed = sweep_stale(tmp_path, depth=1, legacy=True)
    assert sorted(p.name for p in removed) == sorted([n for n, gone in names.items() if gone] + [nested.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ab", *[n for n, gone in names.items() if not gone]])
    old = now - safe_files.STALE_AFTER_S - 60
    assert is_stale_temporary(".d.npy.otherhost-1.0123abcd.tmp", old, now)
    assert is_stale_temporary(".e.npy.k2j4h_x9.tmp", old, now, legacy=True)
    assert not is_stale_temporary(".e.npy.k2j4h_x9.tmp", old, now)   # outside brainalign's own folders: never
    assert not is_stale_temporary(".notes.tmp", old, now, legacy=True)


def _wait_for(predicate, process, timeout=240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    return None


def _temporaries(cache: Path) -> list[Path]:
    return list((cache / "activations").rglob(".*.tmp")) if (cache / "activations").is_dir() else []


@pytest.fixture
def slow_extract(tmp_path):
    """Arguments of an extraction that writes a wide layer to the cache for a while (48 images)."""
    from PIL import Image

    for i in range(48):
        Image.new("RGB", (32, 32), (i, 3 * i, 5 * i)).save(tmp_path / f"{i:02d}.png")
    return ["extract", "timm:resnet18", "--layers", "act1,layer1", "--stimuli", str(tmp_path), "--batch-size", "4",
            "-o", str(tmp_path / "out" / "a.nc"), "-q"]


def test_sigkill_during_extract_leaves_temporaries_that_the_next_writer_sweeps(tmp_path, slow_extract):
    cache = tmp_path / "cache"
    process = subprocess.Popen([*CLI, *slow_extract], env={**os.environ, "BRAINALIGN_CACHE": str(cache)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    left = _wait_for(lambda: _temporaries(cache), process)
    assert left, "extraction ended before it wrote to the cache"
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = _temporaries(cache)
    assert left and not (tmp_path / "out").exists()
    live = left[0].parent / f".live.npy.{safe_files._HOST}-{os.getppid()}.0123abcd.tmp"   # a concurrent writer's
    live.write_text("x")
    with ActivationCache(cache / "activations").writer() as create:
        create("f" * 64, (1, 1)).append([[1.0]])
    assert _temporaries(cache) == [live]


# ---- workers and their parent -----------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def _cmdline(pid: int) -> str:
    """The command line of ``pid``; empty for a process that has ended meanwhile."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def test_process_workers_die_with_a_killed_parent(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"models": [{"spec": "pixels"}], "benchmarks": ["sim.V1", "sim.V2", "sim.VISp"],
                                    "layers_per_task": 1, "results": "out"}))
    process = subprocess.Popen([*CLI, "run", str(plan), "--scheduler", "processes:2", "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = _wait_for(lambda: [c for c in _children(process.pid) if "spawn_main" in _cmdline(c)], process)
    assert workers, "the run ended before its workers started"
    time.sleep(1.0)   # let them reach their initializer
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)


# ---- Ctrl-C -----------------------------------------------------------------------------------

def test_ctrl_c_during_extract_exits_130_with_one_line_and_no_partial_file(tmp_path, slow_extract):
    cache = tmp_path / "cache"
    # Ctrl-C in a terminal: SIGINT at its default disposition, even when these tests run in the background
    # (where the shell starts them, and so this child, with SIGINT ignored)
    process = subprocess.Popen([*CLI, *slow_extract], env={**os.environ, "BRAINALIGN_CACHE": str(cache)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert _wait_for(lambda: _temporaries(cache), process), "extraction ended before it wrote to the cache"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted:") and "Traceback" not in err
    assert _temporaries(cache) == [] and not (tmp_path / "out").exists()


LONG_COMMANDS = [
    ("brainalign.api.extract", ["extract", "pixels", "--stimuli", "sim", "-o", "x.nc"]),
    ("brainalign.api.score", ["score", "pixels", "--benchmark", "sim.V1"]),
    ("brainalign.api.compare", ["compare", "pixels", "sim_oracle", "--benchmark", "sim.V1"]),
    ("brainalign.api.psychometric", ["psychometric", "pixels", "--task", "grating-contrast", "--layer", "pixels"]),
    ("brainalign.api.consistency", ["consistency", "pixels", "--experiment", "edge"]),
    ("brainalign.api.report", ["report", "--csv", "x.csv"]),
    ("brainalign.api.demo", ["demo"]),
    ("brainalign.neural.fetch.fetch", ["data", "fetch", "freemanziemba2013"]),
    ("brainalign.neural.importers.generic.import_generic",
     ["data", "import", "generic", "r.npy", "--axes", "neuroid,stimulus", "--images", "i", "--name", "x"]),
    ("brainalign.plans.load_plan", ["run", "plan.yaml"]),
]


@pytest.mark.parametrize("target, args", LONG_COMMANDS, ids=[a[0] if a[0] != "data" else " ".join(a[:3])
                                                             for _, a in LONG_COMMANDS])
def test_ctrl_c_is_exit_130_and_one_line_in_every_long_command(monkeypatch, tmp_path, target, args):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(target, interrupted)
    result = run(*args)
    assert result.exit_code == 130, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted:"), result.output
