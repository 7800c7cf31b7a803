"""Large layers are read a piece at a time: a GeoJSON feature by feature (never the whole
document in memory), an OGR layer in batches of `ogr.BATCH`; messages keep the feature's
number in the whole file."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pyogrio
import pytest

from gridmap.importers.core import PARSE_CHUNK, parse_batches
from gridmap.importers.readers import ogr
from gridmap.importers.report import ImportReport, Limits
from gridmap.importers.sources import Source
from gridmap.importers.specs import SPEC_BY_TABLE

COLUMNS = {"code": True, "head_name": True, "phone": False, "village_code": False}
FEATURES = 25_000
BAD = 23_456  # the feature whose phone is wrong


def _household(n: int) -> dict:
    return {"type": "Feature", "properties": {
        "code": f"H{n:06d}", "village_code": "532329104201", "head_name": "张三",
        "phone": "12" if n == BAD else "13812345678", "address": "插甸村" + "一" * 190},
        "geometry": {"type": "Point", "coordinates": [102.4 + n * 1e-6, 25.5]}}


@pytest.fixture(scope="module")
def large_geojson(tmp_path_factory):
    path = tmp_path_factory.mktemp("streaming") / "households.geojson"
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        out.write(",\n".join(json.dumps(_household(n), ensure_ascii=False) for n in range(1, FEATURES + 1)))
        out.write("\n]}\n")
    return path


CHILD = """
import sys
from pathlib import Path
from gridmap.importers.readers import geojson
from gridmap.importers.report import ImportReport, Limits
from gridmap.importers.sources import Source

def status(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key))
    return int(line.split()[1]) * 1024

report = ImportReport("532329", commit=False)
before = status("VmRSS:")
columns = {"code": True, "head_name": True, "phone": False, "village_code": False, "address": False}
count = sum(1 for _ in geojson.geojson_records(Source.from_path(sys.argv[1]), None, columns, Limits(), report))
print(count, report.ok, status("VmHWM:") - before)
"""


def test_a_large_geojson_is_read_feature_by_feature(large_geojson):
    # In a process of its own: its peak (VmHWM) is the reading's, not the test run's.
    run = subprocess.run([sys.executable, "-c", CHILD, str(large_geojson)], capture_output=True,
                         text=True, timeout=300, check=True)
    count, ok, grown = run.stdout.split()
    size = large_geojson.stat().st_size
    assert int(count) == FEATURES and ok == "True", run.stderr
    # json.loads would hold every feature at once: several times the file's size
    assert size > 15_000_000 and int(grown) < size / 2, (size, grown)


def test_a_problem_deep_in_a_large_geojson_names_its_feature(large_geojson):
    report = ImportReport("532329", commit=False)
    batches = parse_batches(Source.from_path(large_geojson), SPEC_BY_TABLE["household"], "532329",
                            datetime(2026, 11, 23, tzinfo=UTC), Limits(), report, size=20_000)
    sizes = [len(rows) for rows in batches]
    # the first batch is one parse chunk, so the database starts while the rest is read
    assert sizes == [PARSE_CHUNK, 20_000, FEATURES - PARSE_CHUNK - 20_000 - 1]
    [problem] = report.problems
    assert str(problem.where) == f"要素 #{BAD} (code=H{BAD:06d})" and problem.field == "phone"


def test_an_ogr_layer_is_read_in_batches(tmp_path, monkeypatch):
    import geopandas as gpd
    from shapely.geometry import Point

    n = 12_345
    frame = gpd.GeoDataFrame({"code": [f"H{i:06d}" for i in range(1, n + 1)], "head_name": ["李四"] * n},
                             geometry=[Point(102.4 + i * 1e-6, 25.5) for i in range(1, n + 1)], crs="EPSG:4326")
    path = tmp_path / "households.gpkg"
    pyogrio.write_dataframe(frame, path)
    calls = []
    read = pyogrio.read_dataframe

    def counted(*args, **kwargs):
        result = read(*args, **kwargs)
        calls.append((kwargs.get("skip_features"), kwargs.get("max_features"), len(result)))
        return result

    monkeypatch.setattr(pyogrio, "read_dataframe", counted)
    monkeypatch.setattr(ogr, "BATCH", 5_000)
    report = ImportReport("532329", commit=False)
    records = list(ogr.ogr_records(Source.from_path(path), None, COLUMNS, Limits(), report))
    assert report.ok, report.to_text()
    assert calls == [(0, 5_000, 5_000), (5_000, 5_000, 5_000), (10_000, 5_000, 2_345)]
    assert len(records) == n and str(records[-1].where) == f"要素 #{n} (code=H{n:06d})"


def test_a_streamed_file_knows_a_key_met_long_before(tmp_path, monkeypatch):
    """Keys met earlier are kept as 8-byte hashes in a sorted array once there are enough of
    them (importers.hashes); a repeat of one is found there and named with its first row."""
    from gridmap.importers import core, hashes

    monkeypatch.setattr(hashes, "SETTLE_AT", 8)
    monkeypatch.setattr(core, "PARSE_CHUNK", 5)
    codes = [f"H{n:03d}" for n in range(1, 61)] + ["H003", "H061", "H059"]
    path = tmp_path / "households.csv"
    path.write_text("code,village_code,head_name\n" + "".join(f"{c},532329104201,张三\n" for c in codes),
                    encoding="utf-8")
    report = ImportReport("532329", commit=False)
    batches = parse_batches(Source.from_path(path), SPEC_BY_TABLE["household"], "532329",
                            datetime(2026, 11, 23, tzinfo=UTC), Limits(), report, size=7)
    assert sum(len(rows) for rows in batches) == 61
    assert [(str(p.where), p.field) for p in report.problems] == [("第 62 行", "code"), ("第 64 行", "code")]
    assert "与第 4 行重复" in str(report.problems[0].problem) and "与第 60 行重复" in str(report.problems[1].problem)


def test_hashes_answer_alike_before_and_after_they_settle():
    from gridmap.importers.hashes import Hashes

    members, kept = list(range(-500, 500, 7)), Hashes(settle_at=10)
    for start in range(0, len(members), 6):
        chunk = members[start:start + 6]
        kept.look_ahead(chunk + members[:start])
        assert not any(m in kept for m in chunk) and all(m in kept for m in members[:start])
        for m in chunk:
            kept.add(m)
    kept.look_ahead([2 ** 63 - 1, -2 ** 63, 3])
    assert len(kept.settled) > 100 and 2 ** 63 - 1 not in kept and -2 ** 63 not in kept
