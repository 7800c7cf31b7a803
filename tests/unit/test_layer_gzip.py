"""A layer's gzip is kept by the hash of its content: compressed once, dropped oldest first."""

import gzip

from gridmap.web.compress import Compressed


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
