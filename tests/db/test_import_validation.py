"""What the importer checks beyond single cells: shapes against each other and their parents,
households against grids, assignees against the kind of duty, repairs and their notes."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import text
from test_import_errors import REGIONS

from gridmap.importers.core import Source, import_files

COUNTY = "532329"
VILLAGE = "532329104201"


@pytest.fixture
def village(connection):
    assert import_files(connection, [Source("regions.geojson", json.dumps(REGIONS).encode())], COUNTY,
                        commit=True).ok
    return connection


def grid_file(*shapes, name="grids.geojson", codes=None) -> Source:
    features = [{"type": "Feature", "geometry": shape if isinstance(shape, dict) else mapping(shape),
                 "properties": {"code": (codes or [f"{VILLAGE}{i:03d}" for i in range(1, 10)])[i - 1],
                                "village_code": VILLAGE, "name": f"第{i}网格"}}
                for i, shape in enumerate(shapes, 1)]
    return Source(name, json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode())


def run(connection, *sources, **kw):
    return import_files(connection, list(sources), COUNTY, **kw)


def texts(items) -> list[str]:
    return [str(x) for x in items]


def test_overlapping_grids_are_refused_with_area_and_place(village):
    report = run(village, grid_file(box(102.30, 25.40, 102.41, 25.50), box(102.40, 25.40, 102.50, 25.50)),
                 commit=True)
    [problem] = texts(report.problems)
    assert problem.startswith("grids.geojson 要素 #1 (code=532329104201001), 字段 geometry: "
                              "网格 532329104201001 与 532329104201002 重叠 ")
    area = float(problem.split("重叠 ")[1].split(" m²")[0])
    assert 10.0e6 < area < 11.2e6  # 0.01° × 0.1° at 25.45°N ≈ 1.005 km × 11.08 km
    assert "约在 102.405" in problem and "重新描画" in problem
    assert village.execute(text("SELECT count(*) FROM grid")).scalar_one() == 0


def test_gaps_are_noted_and_slivers_counted(village):
    # three grids leave the north strip uncovered and a hair's breadth between the first two
    report = run(village, grid_file(box(102.30, 25.40, 102.4, 25.50), box(102.4000001, 25.40, 102.50, 25.50),
                                    box(102.30, 25.50, 102.50, 25.55)), commit=True)
    assert report.ok, report.to_text()
    notes = " ".join(texts(report.notes))
    assert "村 532329104201 有" in notes and "不在任何网格内（约在 102.40000, 25.57500）" in notes and "网格空白" in notes
    assert "1 处细碎重叠/缝隙" in notes


def test_grid_outside_its_village_is_refused(village):
    report = run(village, grid_file(box(102.45, 25.40, 102.55, 25.50)))
    [problem] = texts(report.problems)
    assert "532329104201001 有" in problem and "在上级 532329104201 的边界之外（约在 102.5" in problem


def test_households_get_their_grid_and_those_outside_every_grid_are_kept_and_listed(village):
    assert run(village, grid_file(box(102.30, 25.40, 102.40, 25.50)), commit=True).ok
    households = Source("households.csv", (
        "code,head_name,lon,lat\n"
        "H1,李国华,102.35,25.45\n"
        "H2,张秀英,102.45,25.55\n").encode())
    report = run(village, households, commit=True)
    assert report.ok, report.to_text()
    assert "households.csv: 1 户的位置不在任何网格内，已导入但未划入网格（覆盖空白）：H2" in texts(report.notes)
    assert village.execute(text("SELECT code, grid_code, village_code FROM household ORDER BY code")).all() == [
        ("H1", f"{VILLAGE}001", VILLAGE), ("H2", None, None)]
    again = run(village, households, commit=True)
    assert again.counts("household").unchanged == 2


def test_a_unit_cannot_pair_with_households_nor_a_cadre_take_an_area(village):
    files = [Source("units.csv", "code,name,kind\nU1,县水务局,agency\n".encode()),
             Source("cadres.csv", "code,name\nC1,王强\n".encode()),
             Source("areas.csv", f"code,name,township_code\nA1,第一片,{VILLAGE[:9]}\n".encode()),
             Source("households.csv", "code,head_name\nH1,李国华\n".encode()),
             Source("assignments.csv", (b"kind,cadre_code,unit_code,household_code,area_code\n"
                                        b"household,,U1,H1,\narea,C1,,,A1\n"))]
    problems = texts(run(village, *files).problems)
    assert problems == [
        "assignments.csv 第 2 行, 字段 unit_code: household 类包保应由干部个人承担，不能填 unit_code；"
        "包村、包支部、包户、第一书记填 cadre_code；包片、包组、工作队填 unit_code",
        "assignments.csv 第 3 行, 字段 cadre_code: area 类包保应由单位承担，不能填 cadre_code；"
        "包村、包支部、包户、第一书记填 cadre_code；包片、包组、工作队填 unit_code"]


BOWTIE = {"type": "Polygon", "coordinates": [[[102.30, 25.40], [102.35, 25.45], [102.35, 25.40],
                                              [102.30, 25.45], [102.30, 25.40]]]}


def test_self_intersection_is_repaired_and_noted_unless_strict(village):
    strict = run(village, grid_file(BOWTIE))
    assert any("几何无效" in p and "Self-intersection" in p for p in texts(strict.problems))
    repaired = run(village, grid_file(BOWTIE), repair=True, commit=True)
    assert repaired.ok, repaired.to_text()
    assert any("要素 #1 (code=532329104201001) 几何无效（Self-intersection" in n and "make_valid" in n
               and "--strict" in n for n in texts(repaired.notes))
    assert village.execute(text("SELECT ST_IsValid(geom) FROM grid")).scalar_one()


def test_3d_coordinates_are_flattened_with_a_note(village):
    cube = {"type": "Polygon", "coordinates": [[[102.30, 25.40, 1800], [102.35, 25.40, 1810],
                                                [102.35, 25.45, 1820], [102.30, 25.40, 1800]]]}
    report = run(village, grid_file(cube), commit=True)
    assert report.ok, report.to_text()
    assert "grids.geojson: 1 个要素带有高程 Z/测量值 M，已去掉，只保留平面坐标" in texts(report.notes)
    assert village.execute(text("SELECT ST_NDims(geom) FROM grid")).scalar_one() == 2


def test_a_changed_file_updates_by_code_with_a_diff_summary(village):
    units = Source("units.csv", "code,name,kind\nU1,县水务局,agency\n".encode())
    first = Source("cadres.csv", "code,name,phone,unit_code\nC1,王强,13812345678,U1\nC2,李明,,U1\n".encode())
    assert run(village, units, first, commit=True).ok
    changed = Source("cadres.csv", "code,name,phone,unit_code\nC1,王强,13900000000,U1\nC2,李明明,,U1\n".encode())
    report = run(village, changed, commit=True)
    assert (report.counts("cadre").updated, report.counts("cadre").unchanged) == (2, 0)
    assert "cadres.csv: 更新 2 行：C1 (phone); C2 (name)" in texts(report.notes)
    again = run(village, changed, commit=True)
    assert again.counts("cadre").unchanged == 2 and not any("更新" in n for n in texts(again.notes))


def test_households_are_read_checked_and_written_a_batch_at_a_time(village, monkeypatch):
    from gridmap.importers import core

    monkeypatch.setattr(core, "BATCH_ROWS", 2)
    assert run(village, grid_file(box(102.30, 25.40, 102.40, 25.50)), commit=True).ok
    body = "".join(f"H{i},户主{i},102.35,25.45\n" for i in range(1, 6))
    households = Source("households.csv", ("code,head_name,lon,lat\n" + body).encode())
    written = []
    report = run(village, households, commit=True, progress=lambda stage, name, rows: written.append((stage, rows)))
    assert report.ok and report.counts("household").rows == 5 and report.counts("household").inserted == 5
    assert [rows for stage, rows in written if stage == "write"][-3:] == [2, 4, 5]
    duplicate = Source("households.csv", ("code,head_name,lon,lat\n" + body + "H1,又一户,102.35,25.45\n").encode())
    before = village.execute(text("SELECT count(*) FROM household")).scalar_one()
    report = run(village, duplicate, commit=True)
    assert [str(p) for p in report.problems] == [
        "households.csv 第 7 行, 字段 code: 与第 2 行重复（H1）；同一对象只能出现一次：删除或合并重复行"]
    assert village.execute(text("SELECT count(*) FROM household")).scalar_one() == before


TARGETS_HEADER = ("code,kind,party_branch_code,region_code,grid_code,reason,due_on,status,tagged_at,"
                  "close_requested_at,closed_at\n")


def test_ledgers_come_in_by_code_and_a_new_target_brings_its_history(village):
    """挂牌 targets, meetings and deeds from a county's own files: the kind names its place,
    the status agrees with the close-out, a branch's target lies in its village, and a new
    target's status is the last step of the history the import writes for it."""
    branches = Source("party_branches.csv", f"code,name,village_code,weak\nB1,插甸村支部,{VILLAGE},true\n".encode())
    bad = Source("targets.csv", (TARGETS_HEADER
                                 + f"T1,region,B1,{VILLAGE},,矛盾纠纷多发,2027-03-31,listed,-P30D,,\n"
                                 + f"T2,region,,{VILLAGE},,信访突出,2027-03-31,closed,-P30D,,\n").encode())
    problems = texts(run(village, branches, bad).problems)
    assert problems == [
        "targets.csv 第 2 行, 字段 party_branch_code: region 类挂牌对象不应填写 party_branch_code；"
        "只填 region_code",
        "targets.csv 第 3 行, 字段 closed_at: 已销号（closed）的对象须填写销号时间，其他状态不应填写；"
        "status 为 closed 时填 closed_at"]
    good = Source("targets.csv", (TARGETS_HEADER
                                  + "T1,党支部,B1,,,软弱涣散,2027-03-31,挂牌整改中,-P30D,,\n"
                                  + f"T2,region,,{VILLAGE},,信访突出,-P1D,closed,-P90D,-P20D,-P10D\n").encode())
    meetings = Source("meetings.csv", (f"code,kind,region_code,held_at,attendance,topics,lon,lat\n"
                                       f"M1,院坝会,{VILLAGE},-P3D@19:30,35,饮水；道路,102.4,25.5\n").encode())
    deeds = Source("deeds.csv", (f"code,title,region_code,cost_yuan,done_on\nD1,安装路灯,{VILLAGE},1200,-P2D\n"
                                 "D2,疏通排水沟,,0,-P1D\n").encode())
    problems = texts(run(village, branches, good, meetings, deeds).problems)
    assert problems == ["deeds.csv 第 3 行, 字段 region_code: 需要填写 region_code 或 household_code；"
                        "为哪个村（社区）或哪一户办的实事"]
    deeds = Source("deeds.csv", f"code,title,region_code,cost_yuan,done_on\nD1,安装路灯,{VILLAGE},1200,-P2D\n".encode())
    report = run(village, branches, good, meetings, deeds, commit=True)
    assert report.ok, report.to_text()
    assert village.execute(text(
        "SELECT t.code, t.region_code, t.status, array_agg(e.action ORDER BY e.at, e.id)"
        " FROM target t JOIN target_event e ON e.target_id = t.id GROUP BY t.id ORDER BY t.code")).all() == [
        ("T1", VILLAGE, "listed", ["tag"]),
        ("T2", VILLAGE, "closed", ["tag", "request_close", "approve_close"])]
    assert village.execute(text("SELECT kind, attendance, ST_AsText(geom) FROM meeting")).one() == (
        "courtyard", 35, "POINT(102.4 25.5)")
    again = run(village, branches, good, meetings, deeds, commit=True)
    assert [(t.table, t.inserted, t.updated) for t in again.tables if t.inserted or t.updated] == []
    assert village.execute(text("SELECT count(*) FROM target_event")).scalar_one() == 4
