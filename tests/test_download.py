"""The corpus download against a local HTTP server on loopback (no network)."""

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from paratype.download import download_corpus, download_file
from paratype.errors import InputError

PAYLOAD = bytes(range(256)) * 1000
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(BaseHTTPRequestHandler):
    """Serves PAYLOAD at /good.zip (with Range support) and a corrupted copy at /bad.zip."""

    ranges: ClassVar[list[str]] = []

    def do_GET(self):
        body = PAYLOAD if self.path.endswith("good.zip") else PAYLOAD[:-1] + b"x"
        start = 0
        if header := self.headers.get("Range"):
            Handler.ranges.append(header)
            start = int(header.removeprefix("bytes=").rstrip("-"))
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_skips_what_is_there(server, tmp_path):
    assert download_corpus(tmp_path, {"good.zip": DIGEST}, server) == (1, 0)
    assert (tmp_path / "good.zip").read_bytes() == PAYLOAD
    assert download_corpus(tmp_path, {"good.zip": DIGEST}, server) == (0, 1)


def test_download_resumes_a_partial_file(server, tmp_path):
    Handler.ranges.clear()
    (tmp_path / "good.zip.part").write_bytes(PAYLOAD[:1000])
    assert download_file(f"{server}/good.zip", tmp_path / "good.zip", DIGEST)
    assert Handler.ranges == ["bytes=1000-"]
    assert (tmp_path / "good.zip").read_bytes() == PAYLOAD
    assert not (tmp_path / "good.zip.part").exists()


def test_corrupt_download_leaves_nothing_under_the_final_name(server, tmp_path):
    with pytest.raises(InputError, match="checksum mismatch"):
        download_file(f"{server}/bad.zip", tmp_path / "bad.zip", DIGEST)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="run again"):
        download_file("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", DIGEST, timeout=2)


def test_a_failed_download_leaves_no_empty_corpus_folder(tmp_path):
    from paratype.download import download_corpus

    dest = tmp_path / "saudinewsnet"
    with pytest.raises(InputError):
        download_corpus(dest, {"x.zip": DIGEST}, "http://127.0.0.1:9")
    assert not dest.exists()
