"""Downloads cut mid-transfer (short body, connection reset) and file:// URLs: one line each,
and the next `data fetch` resumes where the cut left off."""

from __future__ import annotations

import hashlib
import http.server
import socket
import struct
import threading

import pytest
from cli_helpers import error_line, run
from conftest import write_manifest

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes
SHA256 = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
CUT_AT = 40_000


class _CuttingHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD with Range support; the first request of each kind is cut after CUT_AT bytes:
    ``/short`` by closing the connection, ``/reset`` by a TCP reset."""

    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        header = self.headers.get("Range")
        type(self).seen.append((self.path, header))
        start = int(header.split("=")[1].split("-")[0]) if header else 0
        self.send_response(206 if header else 200)
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(PAYLOAD) - start))
        self.end_headers()
        first = sum(1 for path, _ in type(self).seen if path == self.path) == 1
        if first:
            self.wfile.write(PAYLOAD[start:CUT_AT])
            self.wfile.flush()
            if self.path.startswith("/reset"):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR) if self.path.startswith("/short") else None
            self.connection.close()
            return
        self.wfile.write(PAYLOAD[start:])


@pytest.fixture
def server():
    _CuttingHandler.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CuttingHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()




@pytest.mark.parametrize("how", ["short", "reset"])
def test_a_cut_transfer_is_one_line_and_the_next_fetch_resumes(server, env, how):
    manifests, home = env
    write_manifest(manifests, "toy", [{"name": "x.bin", "url": f"{server}/{how}/x.bin", "hash": SHA256}])
    line = error_line(run("data", "fetch", "toy", "-q"))
    assert f"the download of {server}/{how}/x.bin was cut after" in line and "run `brainalign data fetch toy`" in line
    part = home / ".partial" / "toy" / "x.bin.part"
    assert 0 < part.stat().st_size <= CUT_AT and PAYLOAD.startswith(part.read_bytes())
    assert not (home / "downloads" / "toy" / "x.bin").exists()
    resumed = run("data", "fetch", "toy", "-q")
    assert resumed.exit_code == 0, resumed.output
    assert (home / "downloads" / "toy" / "x.bin").read_bytes() == PAYLOAD
    assert _CuttingHandler.seen[-1] == (f"/{how}/x.bin", f"bytes={part_size(line)}-")
    assert not (home / ".partial").exists()


def part_size(line: str) -> int:
    return int(line.split("was cut after ")[1].split(" bytes")[0])


def test_file_urls_are_copied_checked_and_resumed(env, tmp_path):
    manifests, home = env
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "x.bin").write_bytes(PAYLOAD)
    write_manifest(manifests, "toy", [{"name": "x.bin", "url": (mirror / "x.bin").as_uri(), "hash": SHA256}])
    staging = home / ".partial" / "toy"
    staging.mkdir(parents=True)
    (staging / "x.bin.part").write_bytes(PAYLOAD[:1000])   # an earlier, interrupted copy
    result = run("data", "fetch", "toy", "-q")
    assert result.exit_code == 0, result.output
    assert (home / "downloads" / "toy" / "x.bin").read_bytes() == PAYLOAD
    (mirror / "x.bin").write_bytes(PAYLOAD[::-1])
    write_manifest(manifests, "toy", [{"name": "y.bin", "url": (mirror / "x.bin").as_uri(), "hash": SHA256}])
    assert "checksum mismatch for y.bin" in error_line(run("data", "fetch", "toy", "-q"))
    assert not (home / "downloads" / "toy" / "y.bin").exists()


@pytest.mark.parametrize("url, words", [
    ("file://x.bin", "is not a local absolute path"),
    ("file:relative/x.bin", "is not a local absolute path"),
    ("file://otherhost/x.bin", "is not a local absolute path"),
    ("ftp://example.org/x.bin", "is not https://, http://, file://"),
    ("https:///x.bin", "has no host"),
])
def test_bad_urls_are_refused_when_the_manifest_is_read(env, url, words):
    manifests, home = env
    write_manifest(manifests, "toy", [{"name": "x.bin", "url": url}])
    assert words in error_line(run("data", "fetch", "toy"))
    assert not home.exists()


@pytest.mark.parametrize("target, words", [("missing", "cannot read"), ("folder", "is not a regular file"),
                                           ("/dev/zero", "is not a regular file")])
def test_file_urls_must_name_a_readable_regular_file(env, tmp_path, target, words):
    manifests, home = env
    (tmp_path / "folder").mkdir()
    path = target if target.startswith("/") else str(tmp_path / target)
    write_manifest(manifests, "toy", [{"name": "x.bin", "url": f"file://{path}"}])
    line = error_line(run("data", "fetch", "toy"))
    assert words in line and path in line
    assert not (home / "downloads").exists()


def test_a_full_data_home_is_one_line_naming_it(env, tmp_path, monkeypatch):
    from brainalign.neural import fetch

    manifests, home = env
    (tmp_path / "x.bin").write_bytes(PAYLOAD)
    write_manifest(manifests, "toy", [{"name": "x.bin", "url": (tmp_path / "x.bin").as_uri(), "hash": SHA256}])

    def full(self, chunks, have, total):
        raise OSError(28, "No space left on device", str(self.part))

    monkeypatch.setattr(fetch._ResumingDownloader, "_write", full)
    line = error_line(run("data", "fetch", "toy", "-q"))
    assert line.startswith(f"error: cannot write to {home}: no space left on the device")
    assert not (home / "downloads").exists()
