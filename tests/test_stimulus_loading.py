"""Zip stimulus loading keeps one handle per process and thread; real numbered patterns import in order."""

import multiprocessing
import pickle
import threading
import zipfile

import numpy as np
import pytest
from cli_helpers import error_line, run

from brainalign.stimuli import sources


@pytest.fixture
def zipped(image_folder, tmp_path):
    path = tmp_path / "images.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(image_folder.rglob("*.png")):
            archive.write(file, file.relative_to(image_folder).as_posix())
    return path


class _Counting(zipfile.ZipFile):
    opened = 0

    def __init__(self, *args, **kwargs):
        type(self).opened += 1
        super().__init__(*args, **kwargs)


def test_zip_images_equal_the_folder_and_open_once_per_thread(image_folder, zipped, monkeypatch):
    folder = sources.folder_stimulus_set(image_folder)
    monkeypatch.setattr(sources.zipfile, "ZipFile", _Counting)
    _Counting.opened = 0
    stimuli = sources.zip_stimulus_set(zipped)
    assert _Counting.opened == 1   # listing and hashing
    for _ in range(3):
        for i in range(len(stimuli)):
            np.testing.assert_array_equal(stimuli.load(i), folder.load(i))
    assert _Counting.opened == 2   # one handle for all 18 loads
    loaded = {}

    both_running = threading.Barrier(2)   # alive together: two distinct thread idents

    def load_all(name):
        both_running.wait()
        loaded[name] = [stimuli.load(i) for i in range(len(stimuli))]
        both_running.wait()

    threads = [threading.Thread(target=load_all, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _Counting.opened == 4   # one more handle per thread, never a shared file position
    for images in loaded.values():
        for i, image in enumerate(images):
            np.testing.assert_array_equal(image, folder.load(i))


def _read_in_child(reader, member, queue):
    queue.put(reader.read(member))


def test_reader_is_safe_across_processes_and_pickling(zipped):
    reader = sources.ZipMemberReader(zipped)
    member = "b/img1.png"
    with zipfile.ZipFile(zipped) as archive:
        expected = archive.read(member)
    assert reader.read(member) == expected   # the parent holds an open handle now
    copy = pickle.loads(pickle.dumps(reader))
    assert copy._handles == {} and copy.read(member) == expected
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(reader, "a/img2.png", queue))
    child.start()
    child.join(timeout=60)
    with zipfile.ZipFile(zipped) as archive:
        assert queue.get(timeout=5) == archive.read("a/img2.png")
    assert reader.read(member) == expected   # the parent's handle still reads correctly
    reader.close()


@pytest.mark.shared_data
def test_tang_patterns_import_in_natural_order(shared_data, tmp_path, monkeypatch):
    """`pattern/{i+1}.png` answers row i: natural order, and lexicographic order is not guessed."""
    folder = shared_data / "tang-macaque-v1-patterns"
    if not folder.is_dir():
        pytest.skip("Tang V1 patterns not in the shared data")
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home"))
    n = 120
    images = tmp_path / "patterns"
    with zipfile.ZipFile(folder / "pattern_stimuli_9500.zip") as archive:
        for i in range(n):
            archive.extract(f"pattern/{i + 1}.png", images)
    responses = np.concatenate([np.load(folder / "neurons" / f"neu{k}.npy") for k in (75, 255, 381, 504)], axis=1)
    np.save(tmp_path / "resp.npy", responses[:n])
    args = ("data", "import", "generic", tmp_path / "resp.npy", "--axes", "stimulus,neuroid", "--images", images,
            "--region", "V1", "--name", "tang")
    assert "ambiguous" in error_line(run(*args))
    result = run(*args, "--image-order", "natural")
    assert result.exit_code == 0, result.output
    assert "first 'pattern/1', last 'pattern/120'" in result.output
    from brainalign.neural.importers.dataset import load_imported_assembly

    assembly = load_imported_assembly("tang")
    ids = assembly["stimulus_id"].values
    for i in (0, 9, 99, 119):
        np.testing.assert_array_equal(assembly.values[list(ids).index(f"pattern/{i + 1}")], responses[i])
