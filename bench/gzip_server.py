"""Serve a built site on 127.0.0.1 with gzip, as GitHub Pages does, for the benchmarks and browser tests.

The standard library's http.server cannot compress, and measuring page weight without compression would
overstate it several times; this adds only that (text types, Accept-Encoding: gzip).
"""

from __future__ import annotations

import gzip
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".ipynb", ".map"}


class GzipHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".ipynb": "application/json",
        ".woff2": "font/woff2",
    }

    def log_message(self, format, *args):  # noqa: A002 - quiet: tests and benchmarks print their own summaries
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants_gzip and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().send_head()
        if (
            self.path.split("?")[0].endswith("/") is False
            and Path(self.translate_path(self.path)).is_dir()
        ):
            # let the base class issue its redirect to the trailing slash
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        from io import BytesIO

        return BytesIO(body)


@contextmanager
def serve(site: Path, port: int = 0):
    """Yield the base URL of `site` served with gzip on 127.0.0.1 (a free port unless one is given)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(GzipHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
