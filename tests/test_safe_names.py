"""Names that become paths: one check (`brainalign.safe_files.plain_name`) before anything touches the
disk, and `data remove` deleting only what brainalign wrote inside the data home."""

from __future__ import annotations

import json

import pytest
import yaml
from cli_helpers import error_line, run

from brainalign.activations.cache import ActivationCache
from brainalign.errors import InputError
from brainalign.neural.importers.cowley2023 import cowley_files
from brainalign.neural.importers.dataset import list_imported
from brainalign.records import new_record
from brainalign.reports.store import ResultsStore
from brainalign.safe_files import plain_name

BAD_NAMES = ["..", ".", "../x", "../../somewhere", "/etc", "a/b", "a\\b", ".hidden", "", "-rf", "a b", "x\0y",
             "a:b", "é" * 100, "~", "*"]


@pytest.mark.parametrize("name", ["fz2013", "allen-visual-coding-2p", "assy_movshon_FreemanZiemba2013_public.nc",
                                  "model-vs-human-master.zip", "a=1@b+c", "données", "_x"])
def test_plain_names_pass_unchanged(name):
    assert plain_name(name) == name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_anything_else_is_refused(name):
    with pytest.raises(InputError, match="is not a plain name"):
        plain_name(name, "dataset name")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A data home inside tmp_path, a manifests folder, and a 'victim' folder outside both."""
    monkeypatch.setenv("BRAINALIGN_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("BRAINALIGN_MANIFESTS", str(tmp_path / "manifests"))
    (tmp_path / "manifests").mkdir()
    victim = tmp_path / "somewhere"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    return tmp_path


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("command", ["remove", "info", "fetch", "verify"])
@pytest.mark.parametrize("name", ["../../somewhere", ".", "..", "/etc"])
def test_data_commands_refuse_names_that_are_paths(home, command, name):
    (home / "home" / "data" / "downloads" / "kept").mkdir(parents=True)
    before = _tree(home)
    assert "is not a plain name" in error_line(run("data", command, name))
    assert _tree(home) == before


@pytest.mark.parametrize("importer, args", [
    ("generic", ["resp.npy", "--axes", "neuroid,stimulus", "--images", "imgs"]),
    ("brainscore", ["a.nc", "--csv", "s.csv", "--zip", "s.zip"]),
    ("cowley2023", ["folder"]),
    ("allen-2p", ["x.nwb"]),
    ("allen-neuropixels", ["x.nwb", "--images", "scenes.npy"]),
    ("rdm", ["x.npy", "--kind", "similarity"]),
])
def test_import_name_is_checked_before_any_input_is_read(home, importer, args):
    before = _tree(home)
    line = error_line(run("data", "import", importer, *args, "--name", "../../somewhere"))
    assert "--name '../../somewhere' is not a plain name" in line
    assert _tree(home) == before


def _manifest(folder, name, files, **extra):
    body = {"name": name, "title": "t", "description": "d", "species": "mouse", "regions": ["VISp"],
            "licence": "CC0", "citation": "@misc{x}", "importer": "generic", "files": files, **extra}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(body))


@pytest.mark.parametrize("file_name", ["../../x.bin", "/tmp/x.bin", "sub/x.bin", ".x.bin", ".."])
def test_manifest_file_names_must_be_plain(home, file_name):
    _manifest(home / "manifests", "toy", [{"name": file_name, "url": "https://example.org/x.bin"}])
    before = _tree(home)
    line = error_line(run("data", "fetch", "toy"))
    assert "toy.yaml" in line and "is not a plain name" in line
    assert _tree(home) == before


def test_manifest_name_must_be_its_file_name(home):
    _manifest(home / "manifests", "toy", [{"name": "x.bin", "url": "https://example.org/x.bin"}])
    text = (home / "manifests" / "toy.yaml").read_text().replace("name: toy", "name: ../evil")
    (home / "manifests" / "toy.yaml").write_text(text)
    assert "is not a plain name" in error_line(run("data", "info", "toy"))
    _manifest(home / "manifests", "other", [{"name": "x.bin", "url": "https://example.org/x.bin"}])
    (home / "manifests" / "renamed.yaml").write_text((home / "manifests" / "other.yaml").read_text())
    assert "names the dataset 'other'" in error_line(run("data", "info", "renamed"))


def _fetched(home, name="toy", files=("x.bin",)):
    folder = home / "home" / "data" / "downloads" / name
    folder.mkdir(parents=True)
    for f in files:
        (folder / f).write_bytes(b"1234")
    (folder / "fetched.json").write_text(json.dumps({f: {"sha256": "0"} for f in files}))
    return folder


def _imported(home, name="toy"):
    folder = home / "home" / "data" / "imported" / name
    folder.mkdir(parents=True)
    (folder / "dataset.json").write_text(json.dumps({"name": name}))
    (folder / "assembly.nc").write_bytes(b"x" * 10)
    return folder


def test_remove_says_what_it_deletes_and_dry_run_deletes_nothing(home):
    downloads, imported = _fetched(home), _imported(home)
    dry = run("data", "remove", "toy", "--dry-run")
    assert dry.exit_code == 0 and downloads.exists() and imported.exists()
    assert f"would remove {downloads} (downloads: 2 file(s)" in dry.output
    assert f"would remove {imported} (imported: 2 file(s)" in dry.output
    done = run("data", "remove", "toy")
    assert done.exit_code == 0, done.output
    assert f"removed {downloads} (downloads" in done.output and f"removed {imported} (imported" in done.output
    assert not downloads.exists() and not imported.exists()
    assert (home / "somewhere" / "precious.txt").read_text() == "keep me"


def test_remove_refuses_folders_holding_files_it_did_not_write(home):
    downloads, imported = _fetched(home), _imported(home)
    (downloads / "notes.txt").write_text("mine")
    line = error_line(run("data", "remove", "toy"))
    assert "'notes.txt'" in line and "nothing was deleted" in line
    assert (downloads / "notes.txt").exists() and (imported / "assembly.nc").exists()  # none of the folders


def test_remove_refuses_links_and_forged_records(home):
    (home / "home" / "data" / "downloads").mkdir(parents=True)
    (home / "home" / "data" / "downloads" / "toy").symlink_to(home / "somewhere")
    assert "nothing was deleted" in error_line(run("data", "remove", "toy"))
    assert (home / "somewhere" / "precious.txt").exists()
    forged = _imported(home, "other")
    (forged / "dataset.json").write_text(json.dumps({"name": "someone-else"}))
    assert "nothing was deleted" in error_line(run("data", "remove", "other"))
    assert forged.exists()
    assert [r["name"] for r in list_imported(home / "home" / "data")] == []   # never addressed by a forged name


def test_remove_of_an_unknown_name_is_one_line(home):
    assert "nothing stored for 'toy'" in error_line(run("data", "remove", "toy"))


def test_cache_keys_record_names_and_sessions_are_checked(tmp_path):
    with pytest.raises(InputError, match="cache key"):
        ActivationCache(tmp_path / "cache")._path("../../" + "0" * 62)
    record = new_record(model={"spec": "pixels", "weights_sha256": "0"}, benchmark={"identifier": "b"}, layer="l",
                        metric={}, score={})
    record["id"] = "../../../escaped"
    with pytest.raises(InputError, match="record file name"):
        ResultsStore(tmp_path / "results").write(record)
    assert not (tmp_path / "escaped.json").exists() and not (tmp_path / "results").exists()
    with pytest.raises(InputError, match="session"):
        cowley_files(tmp_path, session="../../x")
