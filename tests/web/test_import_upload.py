"""Importing through the browser: upload → the dry run's report on a page → commit; bad files,
oversize bodies, names that try to leave the upload directory, other townships' rows, CSRF."""

import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from support import ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county

from gridmap import clock
from gridmap.importers import uploads

VILLAGE = OPEN_TOWNSHIP + "201"
OTHER_VILLAGE = ISSUE_COUNTY + "101201"  # 狮山镇: another township
HOUSEHOLDS = ("code,village_code,head_name,phone,lon,lat\n"
              f"N1,{VILLAGE},王新,13812345678,102.41,25.51\n"
              f"N2,{VILLAGE},李新,,102.60,25.52\n")  # N2 lies in no grid


@pytest.fixture
def county(connection):
    seed_open_data_county(connection)


def _post(client, files, table="household", **form):
    data = {"table": table, **form, "files": [(io.BytesIO(body), name) for name, body in files]}
    return client.post("/imports", data=data, content_type="multipart/form-data")


def _root(app) -> Path:
    return Path(app.config["GRIDMAP_UPLOADS_DIR"])


def _households(connection) -> set[str]:
    return set(connection.execute(text("SELECT code FROM household")).scalars())


def _audit(connection) -> list[tuple[str, dict]]:
    return connection.execute(text("SELECT action, detail FROM audit_event"
                                   " WHERE action LIKE 'import%' ORDER BY id")).all()


def _shapes(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="problem-shapes">(.*?)</script>', page, re.S)
    return json.loads(found.group(1)) if found else {"features": []}


def test_a_township_uploads_households_reads_the_dry_run_and_commits(client, auth, county, connection, app):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    before = _households(connection)
    response = _post(client, [("households.csv", HOUSEHOLDS.encode())])
    assert response.status_code == 302
    report_url = response.headers["Location"]
    page = client.get(report_url).get_data(as_text=True)
    assert "试运行报告" in page and "确认写入" in page
    counts = re.search(r'<table class="gm-table" id="import-counts">.*?</table>', page, re.S).group(0)
    assert re.search(r"<td>households.csv</td><td>住户</td><td>2</td><td>2</td><td>0</td><td>0</td><td>0</td>", counts)
    assert "1 户的位置不在任何网格内" in page
    outside = [f for f in _shapes(page)["features"] if f["properties"]["kind"] == "household_outside"]
    assert [f["geometry"]["coordinates"] for f in outside] == [[102.6, 25.52]]
    assert _households(connection) == before  # a dry run writes nothing
    kept = list(_root(app).iterdir())
    assert len(kept) == 1 and (kept[0] / "households.csv").read_text() == HOUSEHOLDS
    upload_id = report_url.rsplit("/", 1)[-1]
    done = client.post(f"/imports/{upload_id}/commit", follow_redirects=True)
    assert done.status_code == 200 and "导入完成" in done.get_data(as_text=True)
    assert _households(connection) == before | {"N1", "N2"}
    assert connection.execute(text("SELECT grid_code FROM household WHERE code = 'N1'")).scalar() == VILLAGE + "001"
    assert [action for action, _ in _audit(connection)] == ["import_check", "import"]
    assert not kept[0].exists()  # the upload is gone once committed: its run keeps the report
    again = client.get(report_url).get_data(as_text=True)
    assert "导入完成" in again and "确认写入" not in again


def test_overlapping_grids_are_problems_drawn_on_the_map_and_cannot_be_committed(client, auth, county, connection):
    auth.as_role("admin", ISSUE_COUNTY)
    square = lambda w, s, e, n: {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}  # noqa: E731
    grids = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": VILLAGE + "001", "village_code": VILLAGE, "name": "一"},
         "geometry": square(102.40, 25.50, 102.45, 25.56)},
        {"type": "Feature", "properties": {"code": VILLAGE + "002", "village_code": VILLAGE, "name": "二"},
         "geometry": square(102.40, 25.55, 102.45, 25.60)}]}
    response = _post(client, [("grids.geojson", json.dumps(grids).encode())], table="grid")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "重叠" in page and "要素 #1" in page and "确认写入" not in page
    kinds = {f["properties"]["kind"] for f in _shapes(page)["features"]}
    assert "overlap" in kinds
    upload_id = response.headers["Location"].rsplit("/", 1)[-1]
    refused = client.post(f"/imports/{upload_id}/commit", follow_redirects=True)
    assert refused.status_code == 422 and "没有写入任何数据" in refused.get_data(as_text=True)
    assert connection.execute(text("SELECT count(*) FROM grid WHERE valid_to IS NOT NULL")).scalar() == 0


def test_a_bad_file_names_the_row_and_field_and_writes_nothing(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    before = _households(connection)
    bad = f"code,village_code,head_name,phone\nB1,{VILLAGE},王坏,12\n".encode()
    page = client.get(_post(client, [("households.csv", bad)]).headers["Location"]).get_data(as_text=True)
    problems = re.search(r'<table class="gm-table" id="import-problems">.*?</table>', page, re.S).group(0)
    assert "第 2 行" in problems and "<td>phone</td>" in problems and "确认写入" not in page
    assert _households(connection) == before
    wrong = client.post("/imports", data={"table": "household", "files": [(io.BytesIO(b"MZ\x90"), "x.exe")]},
                        content_type="multipart/form-data")
    assert wrong.status_code == 422 and "不是可导入的格式" in wrong.get_data(as_text=True)


def test_hostile_names_in_a_file_are_shown_as_text(client, auth, county):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    hostile = f"code,village_code,head_name,phone\n{{{{7*191}}}},{VILLAGE},<script>x</script>,1\n".encode()
    refused = _post(client, [("<b>{{7*191}}.csv", hostile)]).get_data(as_text=True)
    assert "&lt;b&gt;{{7*191}}.csv" in refused and "<b>{{" not in refused and "1337" not in refused
    page = client.get(_post(client, [("households.csv", hostile)]).headers["Location"]).get_data(as_text=True)
    assert "{{7*191}}" in page and "1337" not in page and "<script>x" not in page


def test_an_oversized_upload_is_refused_with_the_limit_named(client, auth, county, app):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = _post(client, [("households.csv", b"x" * 8192)])
    assert response.status_code == 413
    assert "上限 4 KB" in response.get_data(as_text=True)
    assert "不超过 4 KB" in client.get("/imports").get_data(as_text=True)
    # a zip whose contents unpack past the limit
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("households.csv", "code,head_name\n" + "H,x\n" * 5000)
    response = _post(client, [("batch.zip", packed.getvalue())])
    assert response.status_code == 413 and "超过上限 4 KB" in response.get_data(as_text=True)
    assert list(_root(app).iterdir()) == []


@pytest.mark.parametrize("name", ["../households.csv", "..\\households.csv", "/tmp/households.csv",
                                  "sub/households.csv", "..", ".households.csv", "households.csv\x01"])
def test_a_file_name_with_a_path_is_refused_and_nothing_is_written_outside(client, auth, county, app, tmp_path, name):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    response = client.post("/imports", data={"table": "household", "files": [(io.BytesIO(b"code,head_name\nA,b\n"), name)]},
                           content_type="multipart/form-data")
    # werkzeug keeps the name as sent; the store refuses it (a control character may not reach it)
    assert response.status_code in (400, 422)
    stray = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stray == [], stray


@pytest.mark.parametrize("member", ["../../evil.csv", "/evil.csv", "a/b/c/evil.csv", "..\\evil.csv", "C:evil.csv"])
def test_a_zip_member_that_leaves_the_upload_is_refused(client, auth, county, tmp_path, member):
    auth.as_role("admin", ISSUE_COUNTY)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("households.csv", "code,head_name\nA,b\n")
        archive.writestr(member, "code,head_name\nA,b\n")
    response = _post(client, [("batch.zip", packed.getvalue())])
    assert response.status_code == 422 and "路径不安全" in response.get_data(as_text=True)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert not list(tmp_path.parent.glob("evil.csv"))


def test_a_zip_of_table_files_is_unpacked_and_read_by_name(client, auth, county, connection):
    auth.as_role("admin", ISSUE_COUNTY)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("export/households.csv", HOUSEHOLDS)
    response = _post(client, [("batch.zip", packed.getvalue())], table="")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<td>households.csv</td>" in page and "确认写入" in page


def test_a_township_imports_only_within_its_township(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    form = client.get("/imports").get_data(as_text=True)
    assert f"只能导入辖区 插甸镇（{OPEN_TOWNSHIP}） 内的数据" in form  # said by name, then code
    connection.execute(text("UPDATE region SET name = :n WHERE code = :t"),
                       {"n": "{{ 7*191 }}{# </script><img src=x onerror=alert(1)>", "t": OPEN_TOWNSHIP})
    form = client.get("/imports").get_data(as_text=True)  # a hostile name: text, never markup
    assert "{{ 7*191 }}{# &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;（" in form
    assert "1337" not in form and "<img src=x" not in form
    foreign = (f"code,village_code,head_name\nF1,{OTHER_VILLAGE},外乡\nF2,,无村\nH0,{VILLAGE},张三丰\n").encode()
    page = client.get(_post(client, [("households.csv", foreign)]).headers["Location"]).get_data(as_text=True)
    assert f"{OTHER_VILLAGE} 不在您的辖区 {OPEN_TOWNSHIP} 内" in page
    assert "无法确认在辖区" in page and "确认写入" not in page
    # a table a township may not import, and the pages closed to other roles
    assert _post(client, [("units.csv", b"code,name,kind\nU,x,agency\n")], table="unit").status_code == 422
    auth.sign_out()
    auth.as_role("village_staff", VILLAGE)
    assert client.get("/imports").status_code == 403
    auth.sign_out()
    auth.as_role("leader", ISSUE_COUNTY)
    assert client.get("/imports").status_code == 403


def test_an_upload_is_its_owners_alone_and_expires(client, auth, county, connection, app):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    location = _post(client, [("households.csv", HOUSEHOLDS.encode())]).headers["Location"]
    upload_id = location.rsplit("/", 1)[-1]
    auth.sign_out()
    auth.as_role("admin", ISSUE_COUNTY)
    assert client.get(location).status_code == 404
    assert client.post(f"/imports/{upload_id}/commit").status_code == 404
    for bad in ("x" * 32, "../" + upload_id[3:], upload_id.upper()):
        assert client.get(f"/imports/{bad}").status_code == 404
    root = _root(app)
    assert uploads.cleanup(root, clock.now() + uploads.TTL + timedelta(minutes=1)) == 1
    assert list(root.iterdir()) == []


def test_uploads_need_a_csrf_token(client, auth, county, app):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    app.config["WTF_CSRF_ENABLED"] = True
    response = _post(client, [("households.csv", HOUSEHOLDS.encode())])
    assert response.status_code == 400
    assert not _root(app).exists() or list(_root(app).iterdir()) == []


@pytest.mark.parametrize("state, says", [("failed", "检查出错"), ("running", "检查被中断")])
def test_a_failed_or_interrupted_run_says_which_and_offers_one_rerun(client, auth, county, connection, state, says):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    report_url = _post(client, [("households.csv", HOUSEHOLDS.encode())]).headers["Location"]
    upload_id = report_url.rsplit("/", 1)[-1]
    # a run left 'running' by no worker (a restart) is read as interrupted
    connection.execute(text("UPDATE import_run SET state = :state WHERE upload_id = :id"),
                       {"state": state, "id": upload_id})
    page = client.get(report_url).get_data(as_text=True)
    assert says in page and page.count('id="import-rerun"') == 1
    assert f'action="/imports/{upload_id}/check"' in page
