"""Codes over time (issue 14, item 5): a recorded code change (撤乡设镇: 插甸乡 532329200 became
插甸镇 532329104) and an import of the new tables leave no row pointing at the old code, and
the report lists what moved; a dry run changes nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text
from test_coverage_kept import (
    DISPLAY_TEXT_DRIFT,
    OUTSIDE_FROM_POINTS,
    OUTSIDE_KEPT,
    VISIT_STATE_KEPT,
    visit_state_from_households,
)
from test_import_hostile import checksums

from gridmap import recode
from gridmap.errors import BadInput
from gridmap.importers.core import Source, import_files

COUNTY = "532329"
OLD_TOWN, NEW_TOWN = "532329200", "532329104"
OLD_VILLAGE, NEW_VILLAGE = f"{OLD_TOWN}201", f"{NEW_TOWN}201"
OLD_GRID, NEW_GRID = f"{OLD_VILLAGE}001", f"{NEW_VILLAGE}001"
SQUARE = [[[102.3, 25.4], [102.5, 25.4], [102.5, 25.6], [102.3, 25.6], [102.3, 25.4]]]


def feature(properties: dict, rings=SQUARE) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": {"type": "Polygon", "coordinates": rings}}


def regions(township: str, name: str, *, full_name: str = "插甸村民委员会", urban_rural: str = "220") -> Source:
    village = f"{township}201"
    document = {"type": "FeatureCollection", "features": [
        feature({"code": COUNTY, "name": "武定县", "level": "county"}),
        feature({"code": township, "name": name, "level": "township", "parent_code": COUNTY}),
        feature({"code": village, "name": "插甸村", "level": "village", "parent_code": township,
                 "全称": full_name, "城乡分类代码": urban_rural}),
    ]}
    return Source("regions.geojson", json.dumps(document, ensure_ascii=False).encode())


def grids(code: str = OLD_GRID, village: str = OLD_VILLAGE) -> Source:
    document = {"type": "FeatureCollection", "features": [
        feature({"code": code, "village_code": village, "name": "插甸村第1网格"})]}
    return Source("grids.geojson", json.dumps(document, ensure_ascii=False).encode())


def csv(name: str, body: str) -> Source:
    return Source(name, body.encode())


OLD_COUNTY_FILES = [
    regions(OLD_TOWN, "插甸乡"), grids(),
    csv("units.csv", f"code,name,kind,region_code\nU1,插甸乡综治中心,township,{OLD_TOWN}\n"),
    csv("cadres.csv", "code,name,unit_code\nC1,张三,U1\n"),
    csv("areas.csv", f"code,name,township_code\nA1,第一片,{OLD_TOWN}\n"),
    csv("area_grids.csv", f"area_code,grid_code\nA1,{OLD_GRID}\n"),
    csv("party_branches.csv", f"code,name,village_code\nB1,插甸村党总支,{OLD_VILLAGE}\n"),
    csv("households.csv", f"code,village_code,grid_code,head_name,lon,lat\nH1,{OLD_VILLAGE},{OLD_GRID},李四,102.4,25.5\n"),
    csv("users.csv", f"login,password,role,scope_code\nzhen,long-enough-1,township_staff,{OLD_TOWN}\n"
                     f"wang,long-enough-2,grid_worker,{OLD_GRID}\n"),
    csv("assignments.csv", f"kind,cadre_code,unit_code,region_code,grid_code\nvillage,C1,,{OLD_VILLAGE},\n"
                           f"group,,U1,,{OLD_GRID}\n"),
    csv("issues.csv", f"code,title,category,reported_at,status,grid_code,village_code,lon,lat\n"
                      f"Q1,路灯坏了,infrastructure,2026-11-01T10:00:00+08:00,reported,{OLD_GRID},{OLD_VILLAGE},102.4,25.5\n"),
]


@pytest.fixture
def county(connection):
    report = import_files(connection, OLD_COUNTY_FILES, COUNTY, commit=True)
    assert report.ok, report.to_text()
    return connection


def pointers(connection, *codes_) -> list[tuple[str, str, str]]:
    """(table, column, code) of every row (current regions only) still holding one of `codes_`."""
    found = []
    for table, column, current_only in recode.REGION_POINTERS:
        found += [(table, column, code) for (code,) in connection.execute(text(
            f"SELECT {column} FROM {table} WHERE {column} IN :codes"
            + (" AND valid_to IS NULL" if current_only else "")).bindparams(
            codes=tuple(codes_)))]
    for table, column in recode.GRID_POINTERS:
        found += [(table, column, code) for (code,) in connection.execute(text(
            f"SELECT {column} FROM {table} WHERE {column} IN :codes").bindparams(codes=tuple(codes_)))]
    return found


def test_full_name_and_urban_rural_class_come_in_under_their_common_column_names(county):
    row = county.execute(text("SELECT name, full_name, urban_rural_code FROM region WHERE code = :v"),
                         {"v": OLD_VILLAGE}).one()
    assert tuple(row) == ("插甸村", "插甸村民委员会", "220")


def test_after_a_recorded_change_and_the_new_tables_no_row_points_at_the_old_codes(county):
    county.execute(text("INSERT INTO visit (county_code, household_id, visited_at)"
                        " SELECT county_code, id, now() FROM household"))
    assert recode.record_change(county, COUNTY, OLD_TOWN, NEW_TOWN, date(2021, 6, 1), "撤乡设镇")
    report = import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert pointers(county, OLD_TOWN, OLD_VILLAGE, OLD_GRID) == []
    current = county.execute(text("SELECT code FROM region WHERE valid_to IS NULL ORDER BY code")).scalars().all()
    assert current == [COUNTY, NEW_TOWN, NEW_VILLAGE]
    ended = county.execute(text("SELECT code FROM region WHERE valid_to IS NOT NULL ORDER BY code")).scalars().all()
    assert ended == [OLD_TOWN, OLD_VILLAGE]  # the old codes stay as history
    assert county.execute(text("SELECT code, village_code FROM grid")).all() == [(NEW_GRID, NEW_VILLAGE)]
    assert county.execute(text("SELECT grid_code, village_code FROM household")).all() == [(NEW_GRID, NEW_VILLAGE)]
    # the uncovered part kept per village (triggers, migration 0026) follows the new code
    assert county.execute(text("SELECT village_code FROM village_uncovered")).scalars().all() == [NEW_VILLAGE]
    # and so are the households outside their own grid (migration 0030): none, H1 is in its grid
    assert county.execute(text(OUTSIDE_KEPT)).all() == county.execute(text(OUTSIDE_FROM_POINTS)).all() == []
    # and each grid's median last visit (migration 0031) is under the new grid code
    assert county.execute(text("SELECT grid_code FROM grid_last_visit")).scalars().all() == [NEW_GRID]
    # and the active households counted per place (migration 0032) under the new codes
    assert county.execute(text("SELECT village_code, grid_code FROM household_count")).all() == [
        (NEW_VILLAGE, NEW_GRID)]
    # and what the `visit` rule reads of each household (migration 0034)
    assert county.execute(text(VISIT_STATE_KEPT)).all() == visit_state_from_households(county)
    assert county.execute(text("SELECT village_code, grid_code FROM household_visit_state")).all() == [
        (NEW_VILLAGE, NEW_GRID)]
    assert county.execute(text("SELECT scope_code FROM app_user ORDER BY login")).scalars().all() == [NEW_GRID, NEW_TOWN]
    notes = [str(note) for note in report.notes]
    for line in (f"区划代码 {OLD_TOWN} → {NEW_TOWN}", f"区划代码 {OLD_VILLAGE} → {NEW_VILLAGE}",
                 f"网格代码 {OLD_GRID} → {NEW_GRID}（随村代码变更）",
                 f"household.village_code：1 行 {OLD_VILLAGE} → {NEW_VILLAGE}",
                 f"household.grid_code：1 行 {OLD_GRID} → {NEW_GRID}",
                 f"issue.grid_code：1 行 {OLD_GRID} → {NEW_GRID}",
                 f"assignment.region_code：1 行 {OLD_VILLAGE} → {NEW_VILLAGE}",
                 f"assignment.grid_code：1 行 {OLD_GRID} → {NEW_GRID}",
                 f"unit.region_code：1 行 {OLD_TOWN} → {NEW_TOWN}",
                 f"area.township_code：1 行 {OLD_TOWN} → {NEW_TOWN}",
                 f"region.parent_code：1 行 {OLD_TOWN} → {NEW_TOWN}"):
        assert any(line in note for note in notes), (line, notes)


def test_a_village_carried_to_its_township_s_new_code_keeps_its_shape_label_and_display_text(county):
    shown = ("SELECT geom_display, geom_label, display_geojson, display_polyline, label_lonlat"
             " FROM region WHERE code = :v AND valid_to IS NULL")
    before = county.execute(text(shown), {"v": OLD_VILLAGE}).one()
    assert recode.record_change(county, COUNTY, OLD_TOWN, NEW_TOWN, date(2021, 6, 1), "撤乡设镇")
    township_only = {"type": "FeatureCollection", "features": [
        feature({"code": COUNTY, "name": "武定县", "level": "county"}),
        feature({"code": NEW_TOWN, "name": "插甸镇", "level": "township", "parent_code": COUNTY})]}
    report = import_files(county, [Source("regions.geojson", json.dumps(township_only).encode())],
                          COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert county.execute(text(shown), {"v": NEW_VILLAGE}).one() == before  # a new code, the same place
    assert county.execute(text(DISPLAY_TEXT_DRIFT)).all() == []


def test_the_same_import_again_moves_nothing(county):
    recode.record_change(county, COUNTY, OLD_TOWN, NEW_TOWN, date(2021, 6, 1), "撤乡设镇")
    assert import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True).ok
    before = checksums(county)
    again = import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True)
    assert again.ok and not any("→" in str(note) for note in again.notes)
    assert checksums(county) == before


def test_a_dry_run_lists_the_moves_and_changes_nothing(county):
    recode.record_change(county, COUNTY, OLD_TOWN, NEW_TOWN, date(2021, 6, 1), "撤乡设镇")
    before = checksums(county)
    report = import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY)
    assert report.ok, report.to_text()
    assert any(f"household.village_code：1 行 {OLD_VILLAGE} → {NEW_VILLAGE}" in str(n) for n in report.notes)
    assert checksums(county) == before


def test_a_code_change_file_is_imported_with_the_new_tables_in_one_go(county):
    changes = csv("region_code_changes.csv", f"old_code,new_code,changed_on,reason\n{OLD_TOWN},{NEW_TOWN},2021-06-01,撤乡设镇\n")
    report = import_files(county, [changes, regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert report.counts("region_code_change").inserted == 1
    assert pointers(county, OLD_TOWN, OLD_VILLAGE, OLD_GRID) == []


def test_a_change_waits_for_its_new_code_and_says_so(county):
    recode.record_change(county, COUNTY, OLD_TOWN, NEW_TOWN, date(2021, 6, 1))
    report = import_files(county, [csv("cadres.csv", "code,name,unit_code\nC2,李五,U1\n")], COUNTY, commit=True)
    assert report.ok
    assert f"cadres.csv: 已记录 {OLD_TOWN} → {NEW_TOWN}：导入新代码 {NEW_TOWN} 的区划后生效" in [str(n) for n in report.notes]
    assert pointers(county, NEW_TOWN, NEW_VILLAGE) == []


def test_a_change_to_a_code_in_use_is_refused(county):
    assert import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True).ok
    with pytest.raises(BadInput, match="已是现有区划的代码"):
        recode.check_change(county, COUNTY, OLD_TOWN, NEW_TOWN)


def test_a_cycle_of_changes_is_refused_in_a_file_and_by_the_command(county):
    before = checksums(county)
    changes = csv("region_code_changes.csv", f"old_code,new_code,changed_on\n{OLD_TOWN},532329105,2021-06-01\n"
                                             f"532329105,{OLD_TOWN},2022-01-01\n")
    report = import_files(county, [changes], COUNTY, commit=True)
    assert not report.ok
    assert any("构成循环" in str(p) and "第 2 行" in str(p) for p in report.problems), report.to_text()
    assert checksums(county) == before
    recode.record_change(county, COUNTY, OLD_VILLAGE, "532329200202", date(2021, 6, 1))
    with pytest.raises(BadInput, match="已记录改为"):
        recode.check_change(county, COUNTY, OLD_VILLAGE, "532329200203")


def test_changes_of_another_level_county_or_unknown_code_are_refused(county):
    for old, new, message in ((OLD_TOWN, NEW_VILLAGE, "不是同一级别"), (OLD_TOWN, "530681104", "不是本县"),
                              ("532329399", "532329398", "不存在"), (OLD_TOWN, "53232910", "不是区划代码")):
        with pytest.raises(BadInput, match=message):
            recode.check_change(county, COUNTY, old, new)


def test_every_code_column_of_the_schema_is_remapped_or_named_as_no_region_code(connection):
    columns = connection.execute(text(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.column_name LIKE '%\\_code'"
        " ORDER BY 1, 2")).all()
    known = {(table, column) for table, column, _current in recode.REGION_POINTERS}
    known |= set(recode.GRID_POINTERS) | {("region_code_change", "old_code"), ("region_code_change", "new_code")}
    known |= recode.DERIVED_CODES
    unknown = [(table, column) for table, column in columns
               if (table, column) not in known and column not in recode.NOT_REGION_CODES]
    assert unknown == []


def test_changing_back_a_code_already_changed_is_a_cycle(county):
    recode.record_change(county, COUNTY, OLD_TOWN, NEW_TOWN, date(2021, 6, 1), "撤乡设镇")
    assert import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True).ok
    with pytest.raises(BadInput, match="构成循环"):
        recode.check_change(county, COUNTY, NEW_TOWN, OLD_TOWN)


def test_the_command_is_a_dry_run_unless_commit_and_refuses_a_code_in_use(runner, county):
    from gridmap.cli.codes import group

    before = checksums(county)
    result = runner.invoke(group, ["change", OLD_TOWN, NEW_TOWN, "--on", "2021-06-01", "--reason", "撤乡设镇",
                                   "--county", COUNTY])
    assert result.exit_code == 0, result.output
    assert f"{OLD_TOWN} → {NEW_TOWN}（2021-06-01）试运行（未记录）" in result.output
    assert "household.village_code" not in result.output and "unit.region_code：1 行指向 532329200" in result.output
    assert "dry run: add --commit to record" in result.output
    assert checksums(county) == before
    result = runner.invoke(group, ["change", OLD_TOWN, NEW_TOWN, "--on", "2021-06-01", "--county", COUNTY, "--commit"])
    assert result.exit_code == 0 and "已记录" in result.output
    assert recode.recorded(county, COUNTY) == {OLD_TOWN: NEW_TOWN}
    listed = runner.invoke(group, ["list", "--county", COUNTY])
    assert f"{OLD_TOWN} → {NEW_TOWN}  2021-06-01" in listed.output
    village = runner.invoke(group, ["change", OLD_VILLAGE, NEW_VILLAGE, "--on", "2021-06-01",
                                    "--county", COUNTY, "--commit"])
    assert village.exit_code == 0, village.output  # the new village code is not in use yet
    assert import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True).ok
    in_use = runner.invoke(group, ["change", "532329101", NEW_TOWN, "--on", "2021-06-01", "--county", COUNTY])
    assert in_use.exit_code == 1 and "NEW: 532329104 已是现有区划的代码" in in_use.output


def test_a_later_file_still_using_an_old_code_is_told_the_new_one(county):
    recode.record_change(county, COUNTY, OLD_TOWN, NEW_TOWN, date(2021, 6, 1), "撤乡设镇")
    assert import_files(county, [regions(NEW_TOWN, "插甸镇")], COUNTY, commit=True).ok
    late = csv("households.csv", f"code,village_code,head_name,lon,lat\nH9,{OLD_VILLAGE},王六,102.4,25.5\n")
    report = import_files(county, [late], COUNTY, commit=True)
    assert not report.ok
    assert any(f"代码 {OLD_VILLAGE} 已改为 {NEW_VILLAGE}" in str(p) for p in report.problems), report.to_text()
