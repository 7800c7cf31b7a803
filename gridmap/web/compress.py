"""gzip for the static assets (Leaflet, map.js, the CSS) when the browser takes it.

The map's layers compress themselves (`maps.geojson_response`, with an ETag of their
content). Pages are left as they are: they carry the CSRF token next to text a request can
put in, and compressing the two together would let an eavesdropper guess the token by the
answer's length (BREACH). Static files hold no secret.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import Flask, request

COMPRESSIBLE = ("text/css", "text/javascript", "application/javascript", "image/svg+xml",
                "application/json", "application/manifest+json")
MIN_BYTES = 1024  # smaller files gain nothing
# A county's grids: level 1 takes a third of level 5's time for ~20% more bytes of GeoJSON
# (and the same bytes of map.js's compact layers, which hold little gzip can still find).
LAYER_LEVEL = 1
KEPT_BYTES = 32 * 1024 * 1024  # compressed layers kept per worker process


def _gzip(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=LAYER_LEVEL)


class Compressed:
    """gzip (or another encoding, `make`) of recent answers, by the hash of their content
    (the ETag): the same layer asked for by several leaders (or again after a grid was
    renamed elsewhere) is compressed once per worker. Compressing a county's grids took
    longer than building them in PostGIS; a content hash cannot go stale, and the oldest are
    dropped past `limit` bytes."""

    def __init__(self, limit: int = KEPT_BYTES, make: Callable[[bytes], bytes] = _gzip):
        self.limit, self.size, self.make = limit, 0, make
        self.kept: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, raw: bytes, content_hash: str,
                 make: Callable[[bytes], bytes] | None = None) -> bytes:
        """`raw` gzipped, or made by `make` (`content_hash` names the answer)."""
        with self.lock:
            if content_hash in self.kept:
                self.kept.move_to_end(content_hash)
                return self.kept[content_hash]
        packed = (make or self.make)(raw)  # outside the lock: threads
        with self.lock:
            if content_hash not in self.kept and len(packed) <= self.limit:
                self.kept[content_hash] = packed
                self.size += len(packed)
                while self.size > self.limit:
                    self.size -= len(self.kept.popitem(last=False)[1])
        return packed


gzipped = Compressed()


def init_app(app: Flask) -> None:
    """Compress the `static` endpoint's text files for clients that accept gzip."""

    @app.after_request
    def _gzip_static(response):
        if (request.endpoint != "static" or response.status_code != 200
                or response.mimetype not in COMPRESSIBLE
                or "Content-Encoding" in response.headers
                or "gzip" not in request.accept_encodings):
            return response
        response.vary.add("Accept-Encoding")
        response.direct_passthrough = False  # a file from send_from_directory: read it here
        raw = response.get_data()
        if len(raw) < MIN_BYTES:
            return response
        response.set_data(gzip.compress(raw, compresslevel=6))
        response.content_encoding = "gzip"
        etag, _weak = response.get_etag()
        if etag:  # the same file, other bytes: a weak validator still answers 304
            response.set_etag(etag, weak=True)
        return response
