"""gzip for the static assets (Leaflet, map.js, the CSS) when the browser takes it.

The map's layers compress themselves (`maps.geojson_response`, with an ETag of their
content). Pages are left as they are: they carry the CSRF token next to text a request can
put in, and compressing the two together would let an eavesdropper guess the token by the
answer's length (BREACH). Static files hold no secret.
"""

from __future__ import annotations

import gzip
import struct
import threading
import zlib
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
# Pieces of layers and their deflate kept per worker: a county's grids, as GeoJSON, ~4.6 MB.
PIECES_KEPT_BYTES = 64 * 1024 * 1024


# A layer built in SQL is one feature after another (gridmap.maps.layers.collection_json), and
# a grid renamed or redrawn changes one of them. Its gzip is put together from pieces of about
# PIECE_FEATURES features, each deflated once and kept: the cuts go before the features whose
# id (and what follows it, ID_BYTES) hashes to 0, so they stay where they were when another
# feature changes, comes or goes. A county's grids: ~50 KB pieces, more than deflate's 32 KB
# window, so the cuts cost the ratio almost nothing; a changed layer costs one piece's deflate
# instead of 3.7 MB's (~25-40 ms under load).
FEATURE = b'{"type" : "Feature", "id" : '
PIECE_FEATURES = 32
ID_BYTES = 24
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name or time, OS unknown


def _gzip(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=LAYER_LEVEL)


def _raw_deflate():
    return zlib.compressobj(LAYER_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)


_LAST_BLOCK = _raw_deflate().flush()  # an empty final block


def pieces(raw: bytes) -> list[bytes]:
    """`raw` cut before the features whose id hashes to 0 modulo PIECE_FEATURES (one piece
    for an answer that is no such layer)."""
    head, *features = raw.split(FEATURE)  # each but the head begins with a feature's id
    parts, piece = [], [head]
    for feature in features:
        if zlib.crc32(feature[:ID_BYTES]) % PIECE_FEATURES == 0 and (len(piece) > 1 or head):
            parts.append(FEATURE.join(piece))
            piece = [b""]
        piece.append(feature)
    parts.append(FEATURE.join(piece))
    return parts


class DeflatedPieces:
    """gzip of a layer from its pieces (`pieces`), each deflated once and kept by its bytes
    (so a kept piece is exactly the one asked for; the oldest dropped past `limit` bytes):
    one gzip member, as gzip.compress would write, that any gzip reader takes."""

    def __init__(self, limit: int = PIECES_KEPT_BYTES):
        self.limit, self.size = limit, 0
        self.kept: OrderedDict[bytes, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, raw: bytes) -> bytes:
        """`raw` gzipped (its pieces' deflate kept for the next answer)."""
        parts = pieces(raw)
        if len(parts) == 1:
            return _gzip(raw)
        with self.lock:
            deflated = [self.kept.get(part) for part in parts]
            for part, packed in zip(parts, deflated, strict=True):
                if packed is not None:
                    self.kept.move_to_end(part)
        # The pieces not kept, by one compressor (outside the lock: threads). A full flush
        # after each ends it on a byte boundary, in a block that is not the last, and forgets
        # what came before: each piece refers only to its own bytes, so pieces deflated in any
        # answer make one deflate stream when put one after another.
        deflate = None
        for n, part in enumerate(parts):
            if deflated[n] is None:
                deflate = deflate or _raw_deflate()
                deflated[n] = deflate.compress(part) + deflate.flush(zlib.Z_FULL_FLUSH)
        if deflate is not None:
            self._keep(parts, deflated)
        return b"".join((_GZIP_HEADER, *deflated, _LAST_BLOCK,
                         struct.pack("<II", zlib.crc32(raw), len(raw) & 0xFFFFFFFF)))

    def _keep(self, parts: list[bytes], deflated: list[bytes]) -> None:
        with self.lock:
            for part, packed in zip(parts, deflated, strict=True):
                if part not in self.kept:
                    self.kept[part] = packed
                    self.size += len(part) + len(packed)
            while self.size > self.limit:
                old, old_packed = self.kept.popitem(last=False)
                self.size -= len(old) + len(old_packed)


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


gzipped = Compressed(make=DeflatedPieces())


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
