"""Bad files are refused with a message naming the file, the row and the field; nothing is written."""

import json

import pytest
from sqlalchemy import text

from gridmap.importers.core import Limits, Source, import_files

COUNTY = "532329"
REGIONS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"code": "532329", "name": "武定县", "level": "county"},
     "geometry": {"type": "Polygon", "coordinates": [[[102.3, 25.4], [102.5, 25.4], [102.5, 25.6], [102.3, 25.6], [102.3, 25.4]]]}},
    {"type": "Feature", "properties": {"code": "532329104", "name": "插甸镇", "level": "township", "parent_code": "532329"},
     "geometry": {"type": "Polygon", "coordinates": [[[102.3, 25.4], [102.5, 25.4], [102.5, 25.6], [102.3, 25.6], [102.3, 25.4]]]}},
    {"type": "Feature", "properties": {"code": "532329104201", "name": "插甸村", "level": "village", "parent_code": "532329104"},
     "geometry": {"type": "Polygon", "coordinates": [[[102.3, 25.4], [102.5, 25.4], [102.5, 25.6], [102.3, 25.6], [102.3, 25.4]]]}},
]}
HOUSEHOLD_HEADER = "code,village_code,head_name,phone,id_number,size,lon,lat\n"
GOOD_HOUSEHOLD = "53232910420100001,532329104201,李国华,13812345678,532329198001010018,3,102.4,25.5\n"


def regions(**change):
    document = json.loads(json.dumps(REGIONS))
    for key, value in change.items():
        index, field = key.split("__")
        document["features"][int(index)]["geometry" if field == "geometry" else "properties"].update(
            {field: value} if field != "geometry" else value)
    return Source("regions.geojson", json.dumps(document, ensure_ascii=False).encode())


def households(body: str, header: str = HOUSEHOLD_HEADER, encoding: str = "utf-8") -> Source:
    return Source("households.csv", (header + body).encode(encoding))


def run(connection, *sources, **kw):
    return import_files(connection, list(sources), COUNTY, **kw)


def messages(report):
    return [str(p) for p in report.problems]


def count(connection, table):
    return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_good_files_commit(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD), commit=True)
    assert report.ok, messages(report)
    assert count(connection, "household") == 1 and report.counts("region").inserted == 3


def test_dry_run_writes_nothing_but_counts(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD))
    assert report.ok and report.counts("household").inserted == 1
    assert count(connection, "region") == 0 and count(connection, "household") == 0


def test_gbk_file_is_refused_with_save_as_utf8(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD, encoding="gb18030"))
    assert any("households.csv 第 2 行" in m and "UTF-8" in m and "GBK" in m for m in messages(report))


def test_bom_is_fine(connection):
    source = Source("households.csv", b"\xef\xbb\xbf" + (HOUSEHOLD_HEADER + GOOD_HOUSEHOLD).encode())
    assert run(connection, regions(), source).ok


def test_oversized_file_is_refused_before_reading(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD * 50), limits=Limits(max_bytes=1000))
    assert any("文件过大" in m and "上限" in m for m in messages(report))


def test_too_many_rows(connection):
    body = "".join(GOOD_HOUSEHOLD.replace("00001", f"{i:05d}") for i in range(1, 6))
    report = run(connection, regions(), households(body), limits=Limits(max_rows=3))
    assert any("households.csv 第 5 行" in m and "行数超过上限 3" in m for m in messages(report))


def test_overlong_cell_names_row_and_field(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD.replace("李国华", "李" * 50)),
                 limits=Limits(max_cell_chars=20))
    assert any("第 2 行, 字段 head_name: 内容过长" in m for m in messages(report))


def test_empty_file(connection):
    report = run(connection, Source("households.csv", b""))
    assert messages(report) == ["households.csv: 文件是空的；请检查是否导出了正确的文件"]


def test_wrong_types_name_row_and_field(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD.replace(",3,", ",三口,")
                                                   .replace("13812345678", "1381234")))
    assert any("第 2 行, 字段 size" in m and "整数" in m for m in messages(report))
    assert any("第 2 行, 字段 phone" in m for m in messages(report))


def test_code_mangled_by_excel_gets_a_hint(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD.replace(",532329104201,", ",5.32329E+11,")))
    assert any("字段 village_code" in m and "Excel" in m for m in messages(report))


def test_code_as_json_number_loses_leading_zeros(connection):
    report = run(connection, regions(**{"2__code": 532329104201}))
    assert any("要素 #3, 字段 code" in m and "文本" in m for m in messages(report))


def test_id_number_with_wrong_check_digit(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD.replace("0018,", "0014,")))
    assert any("字段 id_number" in m and "校验位" in m for m in messages(report))


def test_invalid_polygon_is_refused_with_the_reason(connection):
    bowtie = {"type": "Polygon", "coordinates": [[[102.3, 25.4], [102.5, 25.6], [102.5, 25.4], [102.3, 25.6], [102.3, 25.4]]]}
    report = run(connection, regions(**{"2__geometry": bowtie}))
    assert any("要素 #3 (code=532329104201), 字段 geometry: 几何无效" in m and "Self-intersection" in m
               for m in messages(report))


def test_wrong_geometry_type(connection):
    report = run(connection, regions(**{"2__geometry": {"type": "Point", "coordinates": [102.4, 25.5]}}))
    assert any("要素 #3" in m and "几何类型为 Point" in m for m in messages(report))


def test_swapped_lon_lat_is_named(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD.replace("102.4,25.5", "25.5,102.4")))
    assert any("第 2 行, 字段 lon/lat" in m and "写反" in m for m in messages(report))


def test_projected_coordinates_are_outside_china(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD.replace("102.4,25.5", "540000,2830000")))
    assert any("不在中国境内" in m for m in messages(report))


def test_cgcs2000_is_taken_as_wgs84_and_noted(connection):
    document = dict(REGIONS, crs={"type": "name", "properties": {"name": "EPSG:4490"}})
    report = run(connection, Source("regions.geojson", json.dumps(document).encode()))
    assert report.ok and any("4490" in str(n) for n in report.notes)


def test_a_crs_that_does_not_fit_the_coordinates_is_named(connection):
    # Reprojection is supported (issue 14); lon/lat numbers declared as Web Mercator metres land off China.
    document = dict(REGIONS, crs={"type": "name", "properties": {"name": "EPSG:3857"}})
    assert any("regions.geojson crs: 按坐标系 EPSG:3857 换算后" in m and "--crs" in m
               for m in messages(run(connection, Source("regions.geojson", json.dumps(document).encode()))))


def test_duplicate_key_in_file(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD * 2))
    assert any("第 3 行, 字段 code: 与第 2 行重复" in m for m in messages(report))


def test_reference_to_missing_row(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD.replace(",532329104201,", ",532329104299,")))
    assert any("第 2 行, 字段 village_code: 区划 532329104299 不存在" in m for m in messages(report))


def test_unknown_and_missing_columns(connection):
    report = run(connection, regions(), households("x,y\n", header="code,phon\n"))
    assert any("字段 phon: 未知的列" in m for m in messages(report))
    assert any("字段 head_name: 缺少必需的列" in m for m in messages(report))


def test_errors_are_collected_and_capped(connection):
    body = "".join(f"5323291042010{i:04d},532329104201,,x\n" for i in range(50))
    report = run(connection, regions(), households(body, header="code,village_code,head_name,phone\n"),
                 limits=Limits(max_errors=10))
    assert len(report.problems) == 10 and report.problems_left_off > 0 and not report.ok


def test_commit_that_fails_partway_writes_nothing(connection):
    connection.execute(text(
        "INSERT INTO issue (county_code, code, title, category, reported_at, status_changed_at, client_uuid)"
        " VALUES ('532329', 'OLD1', '旧事项', '其他', now(), now(), '11111111-1111-4111-8111-111111111111')"))
    issues = Source("issues.csv", (
        "code,title,category,reported_at,client_uuid\n"
        "NEW1,新事项,道路破损,-P1D,11111111-1111-4111-8111-111111111111\n").encode())
    report = run(connection, regions(), households(GOOD_HOUSEHOLD), issues, commit=True)
    assert not report.committed and any("数据库拒绝写入" in m for m in messages(report))
    assert count(connection, "region") == 0 and count(connection, "household") == 0


@pytest.mark.parametrize("offset, days", [("-P12DT3H", -12.125), ("P3D", 3)])
def test_times_may_be_offsets_from_now(connection, offset, days):
    from datetime import UTC, datetime, timedelta
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    issues = Source("issues.csv", f"code,title,category,reported_at\nX1,t,c,{offset}\n".encode())
    assert run(connection, regions(), issues, commit=True, now=now).ok
    stored = connection.execute(text("SELECT reported_at FROM issue")).scalar_one()
    assert stored == now + timedelta(days=days)


def test_absolute_times_are_accepted(connection):
    issues = Source("issues.csv", b"code,title,category,reported_at\nX1,t,c,2026-11-01T08:00:00+08:00\n")
    assert run(connection, regions(), issues, commit=True).ok


def test_cells_the_database_cannot_store_are_named_at_the_door(connection):
    document = json.loads(json.dumps(REGIONS))
    document["features"][2]["properties"]["name"] = "插甸\u0000村"
    report = run(connection, Source("regions.geojson", json.dumps(document).encode()))
    assert any("要素 #3 (code=532329104201), 字段 name: 含有 NUL 字符" in m for m in messages(report))
    visits = Source("visits.csv", b'household_code,visited_at,checklist\nH1,-P1D,"{""x"": ""\\ud800""}"\n')
    assert any("第 2 行, 字段 checklist: 含有无效的 Unicode 代理字符" in m for m in messages(run(connection, visits)))


def test_a_refused_copy_is_reported_and_rolled_back(connection, monkeypatch):
    """COPY runs on the driver's own cursor; its errors are reports too, not exceptions."""
    from gridmap.importers import fields
    monkeypatch.setattr(fields, "check_storable", lambda text: None)  # let a NUL reach the database
    document = json.loads(json.dumps(REGIONS))
    document["features"][2]["properties"]["name"] = "插甸\u0000村"
    report = run(connection, Source("regions.geojson", json.dumps(document).encode()), commit=True)
    assert not report.committed and any("数据库拒绝写入" in m for m in messages(report))
    assert count(connection, "region") == 0


def test_two_visits_alike_in_one_file_are_one_visit_twice(connection):
    report = run(connection, regions(), households(GOOD_HOUSEHOLD), Source(
        "visits.csv", b"household_code,visited_at\n53232910420100001,-P1D\n53232910420100001,-P1D\n"))
    assert any("visits.csv 第 3 行" in m and "与第 2 行重复" in m for m in messages(report))


def test_absurd_times_and_numbers_are_named(connection):
    issues = Source("issues.csv", b"code,title,category,reported_at,review_on\n"
                                  b"X1,t,c,P99999999999D,0001-01-01\n")
    grids = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "code": "532329104201001", "village_code": "532329104201", "name": "g", "household_target": 9 ** 40},
        "geometry": REGIONS["features"][2]["geometry"]}]}
    report = run(connection, regions(), issues, Source("grids.geojson", json.dumps(grids).encode()))
    found = messages(report)
    assert any("第 2 行, 字段 reported_at: 相对时间" in m and "太大" in m for m in found), found
    assert any("字段 review_on" in m and "1900–2199" in m for m in found), found
    assert any("字段 household_target" in m and "超出范围" in m for m in found), found


def test_logins_differing_only_in_case_are_one_login(connection):
    users = Source("users.csv", (
        b"login,password,role,scope_code\n"
        b"Zhang,demo-password-1,leader,532329\n"
        b"zhang,demo-password-2,leader,532329\n"))
    report = run(connection, regions(), users)
    assert any("第 3 行, 字段 login: 与第 2 行重复" in m for m in messages(report))


ISSUE_HEADER = "code,title,category,village_code,status,level,reported_at\n"
EVENT_HEADER = "issue_code,seq,action,from_status,to_status,at,level,note\n"


def history(issue_status: str, events: str):
    return (Source("issues.csv", (ISSUE_HEADER + f"MQ1,路灯不亮,street_light,532329104201,"
                                                 f"{issue_status},village,-P3D\n").encode()),
            Source("issue_events.csv", (EVENT_HEADER + events).encode()))


def test_issue_histories_are_replayed_through_the_state_machine(connection):
    legal = ("MQ1,1,report,,reported,-P3D,village,上报\n"
             "MQ1,2,triage,reported,triaged,-P2D,village,\n"
             "MQ1,3,,triaged,in_progress,-P1D,village,\n")  # no action named: some action must fit
    report = run(connection, regions(), *history("in_progress", legal), commit=True)
    assert report.ok, messages(report)
    assert count(connection, "issue_event") == 3


@pytest.mark.parametrize(("status", "events", "words"), [
    ("closed", "MQ1,1,report,,reported,-P3D,village,\nMQ1,2,close,reported,closed,-P2D,village,\n",
     "不能从 reported（village）close 变为 closed"),
    ("closed", "MQ1,1,report,,reported,-P3D,village,\nMQ1,2,,reported,closed,-P2D,village,\n",
     "不能从 reported（village）变为 closed"),
    ("triaged", "MQ1,1,report,,reported,-P3D,village,\nMQ1,2,triage,reported,triaged,-P2D,county,\n",
     "变为 triaged"),
    ("in_progress", "MQ1,1,report,,reported,-P3D,village,\nMQ1,2,triage,reported,triaged,-P2D,village,\n",
     "事项表却是 in_progress"),
])
def test_an_illegal_history_is_a_named_problem_not_a_row(connection, status, events, words):
    report = run(connection, regions(), *history(status, events), commit=True)
    assert not report.ok
    assert any(words in m and "issue_events.csv" in m for m in messages(report)), messages(report)
    assert count(connection, "issue") == 0 and count(connection, "issue_event") == 0


def test_histories_are_replayed_in_order_across_batches_and_named_by_line(connection, monkeypatch):
    """Events come in any order and in batches (a county's are never held whole): each issue's
    are replayed by seq, appended in time order, and a broken one is named by its line."""
    from gridmap.importers import core

    monkeypatch.setattr(core, "BATCH_ROWS", 2)
    issues = Source("issues.csv", (ISSUE_HEADER + "".join(
        f"MQ{n},路灯不亮,street_light,532329104201,triaged,village,-P3D\n" for n in (1, 2, 3))).encode())
    events = "".join(f"MQ{n},{seq},,{before},{after},-P{3 - seq}D,village,\n"
                     for seq, before, after in ((2, "reported", "triaged"), (1, "", "reported"))
                     for n in (3, 1, 2))
    report = run(connection, regions(), issues, Source("issue_events.csv", (EVENT_HEADER + events).encode()),
                 commit=True)
    assert report.ok, messages(report)
    assert report.counts("issue_event").inserted == 6 and report.counts("issue").inserted == 3
    ordered = connection.execute(text(
        "SELECT i.code, e.to_status FROM issue_event e JOIN issue i ON i.id = e.issue_id ORDER BY e.id")).all()
    assert [tuple(row) for row in ordered] == [(f"MQ{n}", status) for n in (1, 2, 3)
                                               for status in ("reported", "triaged")]
    broken = events.replace("MQ2,2,,reported,triaged", "MQ2,2,,reported,closed")  # line 4
    report = run(connection, issues, Source("issue_events.csv", (EVENT_HEADER + broken).encode()))
    assert [m for m in messages(report) if "issue_events.csv 第 4 行" in m and "MQ2" in m], messages(report)
    assert len(report.problems) == 1


VISIT_HEADER = "household_code,visited_at,checklist\n"


def visits_file(checklist: dict) -> Source:
    cell = json.dumps(checklist, ensure_ascii=False).replace('"', '""')
    return Source("visits.csv", (VISIT_HEADER + f'53232910420100001,2026-11-20T10:00:00+08:00,"{cell}"\n').encode())


def test_a_visit_checklist_holds_only_the_countys_items(connection):
    good = run(connection, regions(), households(GOOD_HOUSEHOLD),
               visits_file({"look": ["住房安全"], "leave": ["联系卡"]}), commit=True)
    assert good.ok, messages(good)
    stored = connection.execute(text("SELECT checklist FROM visit")).scalar_one()
    assert stored == {"look": ["住房安全"], "ask": [], "leave": ["联系卡"]}
    report = run(connection, visits_file({"look": ["housing"]}))
    assert not report.ok
    assert any("visits.csv" in m and "checklist" in m and "housing" in m for m in messages(report)), messages(report)
    report = run(connection, visits_file({"see": ["住房安全"]}))
    assert any("checklist" in m and "see" in m for m in messages(report)), messages(report)
