"""Manifests, verified downloads from a local HTTP server, resume, mismatch, offline, remove."""

import functools
import hashlib
import http.server
import json
import threading

import pytest
from cli_helpers import error_line as _error_line
from cli_helpers import run
from conftest import write_manifest

from brainalign.neural.manifests import list_manifests, load_manifest, manifest_dir

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes




class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with HTTP Range support and records the Range headers it saw."""

    ranges: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.translate_path(self.path)
        try:
            data = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return
        start = 0
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        if header:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    (root / "good.bin").write_bytes(PAYLOAD)
    (root / "other.bin").write_bytes(b"not what the manifest promised")
    handler = functools.partial(_RangeHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()




def test_shipped_manifests_are_complete():
    names = set(list_manifests())
    assert {"freemanziemba2013", "allen-visual-coding-2p", "allen-visual-coding-neuropixels", "model-vs-human",
            "majajhong2015", "cadena2019", "stringer2019"} <= names
    fz = load_manifest("freemanziemba2013")
    hashes = {f.role: f.hash for f in fz.files}
    assert hashes == {"assembly": "sha1:761c08f796db4e342555cdb60eef23a4f19ead43",
                      "stimulus_csv": "sha1:194c9b301a4e3e9cff02481d4c19b39331d52660",
                      "stimulus_zip": "sha1:3a6fec1fc28c212882d6833e267ea8654d289611"}
    for name in names:
        manifest = load_manifest(name)
        assert manifest.citation.startswith("@") and manifest.licence and manifest.files, name
        assert all(f.url.startswith("https://") for f in manifest.files), name
    assert manifest_dir().name == "data_manifests"


def test_fetch_verify_remove(server, env):
    manifests, home = env
    write_manifest(manifests, "toy", [{"name": "good.bin", "url": f"{server}/good.bin",
                                  "hash": "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()}])
    result = run("data", "fetch", "toy", "-q")
    assert result.exit_code == 0, result.output
    stored = home / "downloads" / "toy" / "good.bin"
    assert stored.read_bytes() == PAYLOAD
    assert json.loads((home / "downloads" / "toy" / "fetched.json").read_text())["good.bin"]["sha256"] == \
        hashlib.sha256(PAYLOAD).hexdigest()
    assert "ok" in run("data", "verify", "toy").output
    assert "fetched" in run("data", "list").output
    stored.write_bytes(PAYLOAD[:-1] + b"x")  # corrupt it on disk
    bad = run("data", "verify", "toy")
    assert bad.exit_code == 2 and "mismatch" in bad.output
    assert run("data", "remove", "toy").exit_code == 0
    assert not (home / "downloads" / "toy").exists()


def test_checksum_mismatch_keeps_nothing_and_names_both_hashes(server, env):
    manifests, home = env
    want = hashlib.sha1(PAYLOAD).hexdigest()
    write_manifest(manifests, "bad", [{"name": "other.bin", "url": f"{server}/other.bin", "hash": f"sha1:{want}"}])
    result = run("data", "fetch", "bad", "-q")
    assert result.exit_code == 2
    line = _error_line(result)
    got = hashlib.sha1(b"not what the manifest promised").hexdigest()
    assert "other.bin" in line and want in line and got in line
    assert not any(p.is_file() for p in home.rglob("*")) if home.exists() else True


def test_resume_sends_range_and_completes(server, env):
    manifests, home = env
    write_manifest(manifests, "toy", [{"name": "good.bin", "url": f"{server}/good.bin",
                                  "hash": "sha1:" + hashlib.sha1(PAYLOAD).hexdigest()}])
    partial = home / ".partial" / "toy"
    partial.mkdir(parents=True)
    (partial / "good.bin.part").write_bytes(PAYLOAD[:40_000])  # an interrupted earlier download
    _RangeHandler.ranges.clear()
    result = run("data", "fetch", "toy", "-q")
    assert result.exit_code == 0, result.output
    assert _RangeHandler.ranges == ["bytes=40000-"]
    assert (home / "downloads" / "toy" / "good.bin").read_bytes() == PAYLOAD
    assert not (home / ".partial" / "toy").exists()


def test_offline_says_how_to_import_by_hand(env):
    manifests, home = env
    write_manifest(manifests, "far", [{"name": "x.nc", "url": "http://127.0.0.1:9/x.nc", "hash": None}])
    result = run("data", "fetch", "far", "-q")
    assert result.exit_code == 2
    line = _error_line(result)
    assert "offline or host unreachable" in line and "brainalign data import generic" in line
    assert not (home / "downloads").exists()


def test_unknown_dataset_and_bad_manifest(env):
    manifests, _ = env
    assert "unknown dataset 'nope'" in _error_line(run("data", "info", "nope"))
    (manifests / "broken.yaml").write_text("name: broken\nfiles: [\n")
    assert "not valid YAML" in _error_line(run("data", "info", "broken"))
