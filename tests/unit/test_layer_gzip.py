"""A layer's gzip is kept by the hash of its content: compressed once, dropped oldest first;
a layer that changed is gzipped from the pieces it shares with the last one."""

import gzip
import zlib

from gridmap.web.compress import Compressed, DeflatedPieces, pieces


def test_the_same_content_is_compressed_once_and_reads_back():
    kept = Compressed(limit=10_000)
    raw = b'{"type":"FeatureCollection","features":[]}' * 50
    first = kept(raw, "h1")
    assert kept(raw, "h1") is first and gzip.decompress(first) == raw


def test_past_the_limit_the_oldest_answers_are_dropped():
    kept = Compressed(limit=700)  # room for two of these (~300 bytes each, gzipped)
    for n in range(5):
        kept(bytes(range(256)) * (n + 1), f"h{n}")
    assert list(kept.kept) == ["h3", "h4"]
    assert kept.size == sum(len(v) for v in kept.kept.values())


def layer(names: dict[str, str]) -> bytes:
    """A FeatureCollection as collection_json writes it, one feature per (code, name)."""
    features = [f'{{"type" : "Feature", "id" : "{code}", "geometry" : {{"type":"Point",'
                f'"coordinates":[102.{n:05d},25.{n:05d}]}}, "properties" : {{"name" : "{name}"}}}}'
                for n, (code, name) in enumerate(names.items())]
    return ('{"type" : "FeatureCollection", "features" : [' + ", ".join(features) + "]}").encode()


GRIDS = {f"532329104201{n:03d}": f"插甸村第{n}网格" for n in range(1, 600)}


def test_a_layer_gzipped_from_its_pieces_is_one_gzip_member_of_the_same_bytes():
    raw = layer(GRIDS)
    assert len(pieces(raw)) > 5 and b"".join(pieces(raw)) == raw
    packed = DeflatedPieces()(raw)
    reader = zlib.decompressobj(zlib.MAX_WBITS | 16)
    assert reader.decompress(packed) == raw and reader.eof and reader.unused_data == b""


def test_a_renamed_grid_deflates_its_piece_again_and_no_other():
    deflated = DeflatedPieces()
    deflated(layer(GRIDS))
    kept = dict(deflated.kept)
    renamed = layer({**GRIDS, "532329104201007": "插甸村第7网格 新名"})
    assert gzip.decompress(deflated(renamed)) == renamed
    assert len(deflated.kept) == len(kept) + 1
    assert all(piece in deflated.kept for piece in kept)  # the others were used as kept


def test_an_answer_that_is_no_layer_is_gzipped_whole():
    raw = b'{"counts": {"village": 3}}' * 100
    assert pieces(raw) == [raw]
    assert gzip.decompress(DeflatedPieces()(raw)) == raw
