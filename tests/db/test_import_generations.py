"""Replacing boundaries keeps the old generation and re-attaches what lies in them (gridmap.generations)."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import text
from test_import_errors import REGIONS

from gridmap.importers.core import Source, import_files

COUNTY = "532329"
VILLAGE = "532329104201"
G1, G2 = f"{VILLAGE}001", f"{VILLAGE}002"


def grid_file(west_east: float) -> Source:
    """Two grids of the village split at longitude `west_east`."""
    shapes = {G1: box(102.30, 25.40, west_east, 25.60), G2: box(west_east, 25.40, 102.50, 25.60)}
    features = [{"type": "Feature", "geometry": mapping(shape),
                 "properties": {"code": code, "village_code": VILLAGE, "name": code[-3:]}}
                for code, shape in shapes.items()]
    return Source("grids.geojson", json.dumps({"type": "FeatureCollection", "features": features}).encode())


@pytest.fixture
def county(connection):
    files = [Source("regions.geojson", json.dumps(REGIONS).encode()), grid_file(102.40),
             Source("households.csv", b"code,head_name,lon,lat\nH1,A,102.35,25.5\nH2,B,102.42,25.5\n"),
             Source("issues.csv", f"code,title,category,reported_at,status,grid_code,lon,lat\n"
                                  f"Q1,road,infrastructure,2026-11-01T10:00:00+08:00,reported,{G2},102.42,25.5\n"
                                  f"Q2,road,infrastructure,2026-11-01T10:00:00+08:00,closed,{G2},102.42,25.51\n"
                                  .encode()),
             Source("visits.csv", b"household_code,visited_at\nH2,2026-11-02T10:00:00+08:00\n")]
    report = import_files(connection, files, COUNTY, commit=True)
    assert report.ok, report.to_text()
    return connection


def rows(connection, sql):
    return connection.execute(text(sql)).all()


def test_redrawn_grids_keep_the_old_generation_and_move_what_lies_in_them(county):
    report = import_files(county, [grid_file(102.45)], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert report.counts("grid").updated == 2 and report.counts("grid").inserted == 0
    generations = rows(county, "SELECT code, valid_to IS NULL, ST_XMax(geom) FROM grid ORDER BY code, valid_from")
    assert generations == [(G1, False, 102.40), (G1, True, 102.45), (G2, False, 102.50), (G2, True, 102.50)]
    ends = rows(county, "SELECT DISTINCT valid_to FROM grid WHERE valid_to IS NOT NULL")
    starts = rows(county, "SELECT DISTINCT valid_from FROM grid WHERE valid_to IS NULL")
    assert ends == starts  # the new generation starts the instant the old one ends
    assert rows(county, "SELECT code, grid_code FROM household ORDER BY code") == [("H1", G1), ("H2", G1)]
    assert rows(county, "SELECT code, grid_code FROM issue ORDER BY code") == [("Q1", G1), ("Q2", G2)]  # closed stays
    notes = [str(n) for n in report.notes]
    assert any("2 个网格的边界已更换：532329104201001, 532329104201002（旧边界保留为历史版本" in n for n in notes)
    assert "grids.geojson: 住户 H2：网格 532329104201002 → 532329104201001" in notes
    assert "grids.geojson: 事项 Q1：网格 532329104201002 → 532329104201001" in notes
    assert "grids.geojson: 1 条走访记录随住户归入新网格" in notes


def test_the_same_boundaries_again_start_no_generation(county):
    report = import_files(county, [grid_file(102.40)], COUNTY, commit=True)
    assert report.ok and report.counts("grid").unchanged == 2
    assert rows(county, "SELECT count(*) FROM grid") == [(2,)]
    assert not any("边界已更换" in str(n) for n in report.notes)


def test_a_dry_run_of_a_redraw_reports_the_moves_and_changes_nothing(county):
    before = rows(county, "SELECT code, valid_from, valid_to, ST_AsText(geom) FROM grid ORDER BY 1, 2")
    report = import_files(county, [grid_file(102.45)], COUNTY)
    assert "grids.geojson: 住户 H2：网格 532329104201002 → 532329104201001" in [str(n) for n in report.notes]
    assert rows(county, "SELECT code, valid_from, valid_to, ST_AsText(geom) FROM grid ORDER BY 1, 2") == before
    assert rows(county, "SELECT code, grid_code FROM household ORDER BY code") == [("H1", G1), ("H2", G2)]


def test_a_grid_imported_over_a_gap_takes_in_the_households_there(county):
    county.execute(text(f"UPDATE grid SET geom = ST_Multi(ST_MakeEnvelope(102.40, 25.40, 102.50, 25.55, 4326))"
                        f" WHERE code = '{G2}'"))  # a gap in the north-east of the village
    county.execute(text("UPDATE household SET grid_code = NULL, geom = ST_SetSRID(ST_MakePoint(102.45, 25.58), 4326)"
                        " WHERE code = 'H1'"))
    g3 = f"{VILLAGE}003"
    feature = {"type": "Feature", "geometry": mapping(box(102.40, 25.55, 102.50, 25.60)),
               "properties": {"code": g3, "village_code": VILLAGE, "name": "003"}}
    report = import_files(county, [Source("grids.geojson", json.dumps(
        {"type": "FeatureCollection", "features": [feature]}).encode())], COUNTY, commit=True)
    assert report.ok and report.counts("grid").inserted == 1, report.to_text()
    assert rows(county, "SELECT grid_code FROM household WHERE code = 'H1'") == [(g3,)]
    assert "grids.geojson: 住户 H1：网格 — → 532329104201003" in [str(n) for n in report.notes]
