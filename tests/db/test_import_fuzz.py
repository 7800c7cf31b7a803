"""Hostile files against the import core: it answers with a report, never an exception.

Properties, for CSV and GeoJSON files of several tables built from mostly-good rows
with hostile cells, rows and bytes mixed in:
* `import_files` returns a report (any exception is a bug);
* every problem names the file and what to do, and a field only together with a row/feature;
* the database never has to refuse a row (that would mean a check at the door was missing,
  and its message could not name the row and field);
* when the report is not ok, or it is a dry run, nothing was written.

Each example runs in a savepoint of the test's rolled-back transaction. Examples are capped
and the Hypothesis database is off, so the file runs in seconds and writes nothing to the repo.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from gridmap.importers.core import Limits, Source, import_files

COUNTY = "532329"
SQUARE = [[[102.3, 25.4], [102.5, 25.4], [102.5, 25.6], [102.3, 25.6], [102.3, 25.4]]]
# `GRIDMAP_FUZZ_EXAMPLES=2000 pytest tests/db/test_import_fuzz.py` hunts deeper than `make test` does.
FUZZ = settings(max_examples=int(os.environ.get("GRIDMAP_FUZZ_EXAMPLES", 40)), deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
LIMITS = Limits(max_bytes=200_000, max_rows=50, max_cell_chars=2_000, max_errors=50)
TABLES = ("region", "grid", "unit", "cadre", "household", "issue", "visit")
WHERE = re.compile(r"^(第 \d+ 行|要素 #\d+( \(code=.*\))?|crs)$", re.S)


def _feature(properties: dict, geometry=None) -> dict:
    return {"type": "Feature", "properties": properties,
            "geometry": geometry or {"type": "Polygon", "coordinates": SQUARE}}


def _collection(features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


BASE = [
    Source("regions.geojson", _collection([
        _feature({"code": "532329", "name": "武定县", "level": "county"}),
        _feature({"code": "532329104", "name": "插甸镇", "level": "township", "parent_code": "532329"}),
        _feature({"code": "532329104201", "name": "插甸村", "level": "village", "parent_code": "532329104"}),
    ])),
    Source("grids.geojson", _collection([
        _feature({"code": "532329104201001", "village_code": "532329104201", "name": "一组"})])),
    Source("units.csv", "code,name,kind\nU1,县民政局,机关\n".encode()),
    Source("households.csv", "code,village_code,head_name\nH0,532329104201,王一\n".encode()),
]


@pytest.fixture
def county(connection):
    """A county with a village, a grid, a unit and a household for the fuzzed rows to point at."""
    report = import_files(connection, BASE, COUNTY, commit=True)
    assert report.ok, report.to_text()
    return connection


# --- cells ---------------------------------------------------------------------------------

# Code points that have broken importers elsewhere: NUL, controls, RTL and zero-width marks,
# BOMs, line ends, quotes, separators, fullwidth and Arabic-Indic digits, lone surrogates.
NASTY_CHARS = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\u202e", "\u200f", "\u200b", "\ufeff",
                               "\r", "\n", "\r\n", '"', "'", ",", ";", "\t", "\\", "１", "٣", "\ud800",
                               "\udfff", "\U0001f600", "=", "\u2028", " "])
NASTY_TEXT = st.lists(st.one_of(NASTY_CHARS, st.text(max_size=4)), max_size=12).map("".join)
NUMBERISH = st.sampled_from(["5.32329E+11", "532329104201.0", "0532", "1e5", "-0", "NaN", "Infinity",
                             "-inf", "1_000", "０３", "٣", "99999999999", "-1", "2147483648",
                             "9" * 40, "0x1F", "３", "1" * 1999, "P99999999999D", "-P999999999W",
                             "9999-12-31T23:59:59-23:59", "0001-01-01", "{}", "[]", "[" * 1500])


def cells(*good: str) -> tuple[str, ...]:
    return good


def hostile(good: tuple[str, ...]) -> st.SearchStrategy[str]:
    """A bad cell for a column: empty, number-like, hostile characters, very long."""
    return st.one_of(st.just(""), NUMBERISH, NASTY_TEXT, st.sampled_from(good).map(lambda v: v + "\u202e"),
                     st.sampled_from(good).map(lambda v: "\ufeff" + v),
                     st.integers(1990, 2100).map(lambda n: "长" * n))


COLUMNS = {
    "households": {
        "code": cells("H1", "H2", "53232910420100001", "H0", "H3", "H4"),
        "grid_code": cells("532329104201001", ""),
        "village_code": cells("532329104201"), "head_name": cells("李国华", "欧阳娜娜"),
        "address": cells("插甸村一组 3 号"), "phone": cells("13812345678", "0878-8712345", ""),
        "id_number": cells("532329198001010018", "53232919900101123X", ""), "size": cells("3", "1", "99"),
        "residence_type": cells("户籍", "migrant"), "minimum_living": cells("是", "0", "true"),
        "disability_grade": cells("2", ""), "disability_category": cells("视力", ""),
        "lon": cells("102.4", "102.35"), "lat": cells("25.5", "25.45"),
    },
    "cadres": {
        "code": cells("C1", "C2", "C000123", "C3", "C4", "C5"), "name": cells("张三"),
        "phone": cells("13812345678", ""), "title": cells("科员"), "unit_code": cells("U1", ""),
    },
    "issues": {
        "code": cells("I1", "I2", "I3", "I4", "I5", "I6"), "title": cells("路灯坏了"), "category": cells("道路破损"),
        "reported_at": cells("-P3DT2H", "2026-11-01T08:00:00+08:00", "2026-11-01 08:00"),
        "grid_code": cells("532329104201001", ""), "village_code": cells("532329104201", ""),
        "household_code": cells("H0", ""), "status": cells("reported", "closed"), "level": cells("乡镇"),
        "responsible_unit_code": cells("U1", ""), "review_on": cells("P30D", "2026-12-01"),
        "real_name": cells("否"), "urgency": cells("紧急"), "satisfaction": cells("满意", ""),
        "description": cells("晚上很黑"),
        "client_uuid": cells("1b4e28ba-2fa1-4d2e-883f-0016d3cca427", "", "", "", ""),
    },
    "visits": {
        "household_code": cells("H0"), "visited_at": cells("-P1D", "2026-10-01T10:00:00+08:00", "-P2D", "-P1D"),
        "checklist": cells('{"look": ["housing"]}', '{"note": "\\u0000"}', '{"x": "\\ud800"}', "{}"),
        "accuracy_m": cells("12.5", "0", "1e308"), "notes": cells("家中无人"), "kind": cells("回访"),
        "lon": cells("102.4"), "lat": cells("25.5"),
    },
}
REQUIRED = {"households": ["code", "head_name"], "grids": ["code", "village_code", "name"], "cadres": ["code", "name"],
            "issues": ["code", "title", "category", "reported_at"], "visits": ["household_code", "visited_at"]}
KEYS = {"households": "code", "cadres": "code", "issues": "code", "visits": "visited_at", "grids": "code"}


def _rows(draw, table: str, columns: dict[str, tuple[str, ...]], header: list[str]) -> list[dict[str, str]]:
    """Rows of good values (distinct keys), then a few cells (often none) made hostile."""
    keys = draw(st.permutations(columns[KEYS[table]]))
    count = draw(st.integers(1, min(4, len(keys))))
    rows = [{name: keys[i] if name == KEYS[table] else draw(st.sampled_from(columns[name]))
             for name in header} for i in range(count)]
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        row, name = draw(st.sampled_from(rows)), draw(st.sampled_from(header))
        row[name] = draw(hostile(columns[name]))
    return rows


@st.composite
def csv_bytes(draw, table: str) -> bytes:
    """A CSV file of `table`: a header of known (sometimes unknown) columns, rows that mostly fit it."""
    columns = COLUMNS[table]
    optional = [c for c in columns if c not in REQUIRED[table]]
    header = REQUIRED[table] + draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
    header = list(draw(st.permutations(header)))
    if "lon" in header or "lat" in header:
        header = [h for h in header if h not in ("lon", "lat")] + ["lon", "lat"]
    rows = [list(row.values()) for row in _rows(draw, table, columns, header)]
    if draw(st.integers(0, 14)) == 0:
        header = [*header, draw(st.sampled_from(["phon", "Code", header[0], " ", "\ufeffcode"]))]
    if draw(st.integers(0, 9)) == 0:  # a row with too few or too many cells
        row = draw(st.sampled_from(rows))
        row[:] = row[:-1] if draw(st.booleans()) else [*row, "extra"]
    ending = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
                        lineterminator="\n" if ending == "mixed" else ending)
    writer.writerow(header)
    writer.writerows(rows)
    body = buffer.getvalue()
    if ending == "mixed":
        body = "".join(line + draw(st.sampled_from(["\n", "\r\n", "\r"]))
                       for line in body.split("\n")[:-1])
    return _mangle_bytes(draw, body.encode("utf-8", "surrogatepass"))


def _mangle_bytes(draw, data: bytes) -> bytes:
    """Now and then: a BOM in front or in an odd place, a stray byte, a cut-off end."""
    if draw(st.integers(0, 4)):
        return data
    kind = draw(st.sampled_from(["bom", "bom_inside", "byte", "cut"]))
    at = draw(st.integers(0, len(data)))
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "bom_inside":
        return data[:at] + b"\xef\xbb\xbf" + data[at:]
    if kind == "byte":
        return data[:at] + bytes([draw(st.sampled_from([0x00, 0x80, 0xff, 0xfe, 0x0d, 0x22]))]) + data[at:]
    return data[:at]


# --- GeoJSON -------------------------------------------------------------------------------

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                         st.sampled_from([10 ** 30, -(10 ** 30), 532329104201, 0.1]))


def _json_values(leaf):
    return st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                        max_leaves=6)


LONLAT = st.one_of(
    st.tuples(st.floats(102.3, 102.5), st.floats(25.4, 25.6)),
    st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True)),
    st.sampled_from([(25.5, 102.4), (540000.0, 2830000.0), (0.0, 0.0), (181.0, 91.0)]),
).map(list)
GEOMETRIES = st.one_of(
    st.builds(lambda p: {"type": "Point", "coordinates": p}, LONLAT),
    st.builds(lambda p: {"type": "Point", "coordinates": [*p, 1900.0]}, LONLAT),
    st.builds(lambda a, b: {"type": "Polygon", "coordinates": [[a, b, [102.45, 25.55], a]]}, LONLAT, LONLAT),
    st.just({"type": "Polygon", "coordinates": SQUARE}),
    st.just({"type": "MultiPolygon", "coordinates": [SQUARE, SQUARE]}),  # overlapping parts
    st.just({"type": "Polygon", "coordinates": [[[102.3, 25.4], [102.5, 25.6], [102.5, 25.4],
                                                 [102.3, 25.6], [102.3, 25.4]]]}),  # bow-tie
    st.sampled_from([{"type": "Point", "coordinates": []}, {"type": "Polygon", "coordinates": []},
                     {"type": "Polygon", "coordinates": [[]]}, {"type": "MultiPolygon", "coordinates": [[]]},
                     {"type": "GeometryCollection", "geometries": []}, {"type": "Point"},
                     {"type": "Point", "coordinates": "102.4,25.5"}, {"type": "Nowhere", "coordinates": [1, 2]},
                     {"type": "Point", "coordinates": [[[[[[[102.4]]]]]]]}, {"coordinates": [102.4, 25.5]},
                     {"type": "Polygon", "coordinates": [[[102.3, 25.4], [102.5, 25.4], [102.3, 25.4]]]},
                     "POINT (102.4 25.5)", [102.4, 25.5], 7, None]),
    _json_values(JSON_SCALARS),
)


@st.composite
def geojson_bytes(draw, table: str, good_geometry: dict) -> bytes:
    """A FeatureCollection of `table`: good features with hostile properties, geometries or document."""
    columns = GEO_COLUMNS[table]
    required = [c for c in REQUIRED[table] if c in columns]
    header = required + draw(st.lists(st.sampled_from(sorted(columns)), unique=True, max_size=6))
    features = []
    for properties in _rows(draw, table, columns, list(dict.fromkeys(header))):
        if draw(st.integers(0, 3)) == 0:  # a JSON value where text was expected
            properties[draw(st.sampled_from(sorted(properties)))] = draw(
                st.one_of(JSON_SCALARS, _json_values(JSON_SCALARS)))
        if draw(st.integers(0, 9)) == 0:
            properties[draw(NASTY_TEXT)] = draw(NASTY_TEXT)
        geometry = draw(GEOMETRIES) if draw(st.integers(0, 2)) == 0 else good_geometry
        feature = {"type": "Feature", "properties": properties, "geometry": geometry}
        if draw(st.integers(0, 14)) == 0:
            feature = draw(st.sampled_from([{"type": "Feature"}, {"type": "Feature", "properties": []},
                                            [], "feature", None, {"properties": {}}]))
        features.append(feature)
    document: object = {"type": "FeatureCollection", "features": features}
    kind = draw(st.integers(0, 19))
    if kind == 0:
        document["crs"] = draw(st.sampled_from([
            {"type": "name", "properties": {"name": "EPSG:4490"}}, {"type": "name", "properties": {"name": "EPSG:3857"}},
            {"type": "name", "properties": []}, {"type": "name", "properties": {"name": ["EPSG:4326"]}},
            {"type": "name", "properties": {"name": {"a": 1}}}, {"properties": "EPSG:4326"}, "EPSG:4326", []]))
    elif kind == 1:
        document = draw(st.sampled_from([[], {}, "FeatureCollection", {"type": "FeatureCollection"},
                                         {"type": "FeatureCollection", "features": {}}, {"type": "Feature"}]))
    body = json.dumps(document, ensure_ascii=draw(st.booleans()), allow_nan=True)
    if kind == 2:  # deeply nested JSON
        depth = draw(st.integers(500, 100_000))
        body = body[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    elif kind == 3 and body.startswith('{"type": "FeatureCollection"'):  # a duplicate key: the last wins
        body = '{"features": "none", ' + body[1:]
    elif kind == 4:  # an integer too long for Python to read by default
        body = body[:-1] + ', "x": ' + "7" * 5000 + "}"
    return _mangle_bytes(draw, body.encode("utf-8", "surrogatepass"))


GEO_COLUMNS = {
    "households": {k: v for k, v in COLUMNS["households"].items() if k not in ("lon", "lat")},
    "grids": {"code": cells("532329104201002", "532329104201001", "532329104201003"),
              "village_code": cells("532329104201"), "name": cells("二组"), "kind": cells("专属网格", "basic"),
              "household_target": cells("40", "0", "")},
}


# --- the properties ------------------------------------------------------------------------

def counts(connection) -> dict[str, int]:
    return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def check_import(connection, name: str, data: bytes, commit: bool) -> None:
    savepoint = connection.begin_nested()
    try:
        before = counts(connection)
        report = import_files(connection, [Source(name, data)], COUNTY, commit=commit, limits=LIMITS)
        after = counts(connection)
    finally:
        savepoint.rollback()
    event("ok" if report.ok else f"refused: {report.problems[0].field or str(report.problems[0].problem)[:12]}")
    for problem in report.problems:
        assert problem.source == name and problem.problem and problem.hint, problem
        assert not problem.field or problem.where, f"a field without its row: {problem}"
        assert not problem.where or WHERE.match(str(problem.where)), problem
        assert "数据库拒绝写入" not in str(problem.problem), f"the door let this through: {problem}"
    # The report reaches a terminal or a browser as UTF-8: nothing in it may fail to encode.
    report.to_text().encode("utf-8"), json.dumps(report.as_dict(), ensure_ascii=False).encode("utf-8")
    if not report.ok or not commit:
        assert after == before, report.to_text()
    else:
        assert sum(after.values()) >= sum(before.values())


@FUZZ
@given(data=csv_bytes("households"), commit=st.booleans())
def test_hostile_households_csv(county, data, commit):
    check_import(county, "households.csv", data, commit)


@FUZZ
@given(data=csv_bytes("cadres"), commit=st.booleans())
def test_hostile_cadres_csv(county, data, commit):
    check_import(county, "cadres.csv", data, commit)


@FUZZ
@given(data=csv_bytes("issues"), commit=st.booleans())
def test_hostile_issues_csv(county, data, commit):
    check_import(county, "issues.csv", data, commit)


@FUZZ
@given(data=csv_bytes("visits"), commit=st.booleans())
def test_hostile_visits_csv(county, data, commit):
    check_import(county, "visits.csv", data, commit)


@FUZZ
@given(data=geojson_bytes("households", {"type": "Point", "coordinates": [102.4, 25.5]}), commit=st.booleans())
def test_hostile_households_geojson(county, data, commit):
    check_import(county, "households.geojson", data, commit)


@FUZZ
@given(data=geojson_bytes("grids", {"type": "Polygon", "coordinates": SQUARE}), commit=st.booleans())
def test_hostile_grids_geojson(county, data, commit):
    check_import(county, "grids.geojson", data, commit)


def test_good_rows_do_get_through(county):
    """The strategies' good values are good: the properties above are not all about refusals."""
    data = ("code,grid_code,village_code,head_name,phone,id_number,size,lon,lat\n"
            "H1,532329104201001,532329104201,李国华,13812345678,532329198001010018,3,102.4,25.5\n").encode()
    report = import_files(county, [Source("households.csv", data)], COUNTY, commit=True)
    assert report.ok and report.counts("household").inserted == 1, report.to_text()
