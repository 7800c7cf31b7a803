"""Inspectors download the filtered audit log (CSV/XLSX through the one writer), and the
download is itself in the log; other roles may not."""

import csv
import io

import pytest
from sqlalchemy import text

from gridmap import audit

FORMULA = "=HYPERLINK(\"http://x\")"


@pytest.fixture
def events(db):
    for n in range(30):
        audit.record(db, f"user{n % 3}", "sign_in_failed", f"user:user{n % 3}", {"n": n},
                     county_code="532329", address="10.0.0.9")
    audit.record(db, FORMULA, "unmask", "household:H1", {"reason": FORMULA}, county_code="532329")
    audit.record(db, "elsewhere", "sign_in", "user:elsewhere", county_code="530681")
    db.flush()


def test_the_filtered_log_downloads_as_csv_and_the_download_is_logged(client, auth, connection,
                                                                       events):
    auth.as_role("inspector", "532329")
    response = client.get("/audit.csv?action=sign_in_failed&actor=user1")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["时间", "操作人", "操作", "对象", "详情", "地址"]
    assert len(rows) == 1 + 10 and {row[1] for row in rows[1:]} == {"user1"}
    assert rows[1][2] == "登录失败" and rows[1][5] == "10.0.0.9"
    logged = connection.execute(text(
        "SELECT actor, target, detail FROM audit_event WHERE action = 'export'")).one()
    assert logged[0] == "inspector-532329" and logged[1].endswith(".csv")
    assert logged[2] == {"format": "csv", "rows": 10}
    page = client.get("/audit?action=sign_in_failed").get_data(as_text=True)
    assert 'href="/audit.csv?action=sign_in_failed"' in page


def test_the_download_keeps_to_the_county_and_neutralises_formulas(client, auth, events):
    auth.as_role("admin", "532329")
    body = client.get("/audit.csv").get_data().decode("utf-8-sig")
    assert "elsewhere" not in body
    assert "'" + FORMULA.replace('"', '""') in body
    xlsx = client.get("/audit.xlsx?action=unmask")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


@pytest.mark.parametrize(("role", "scope"), [("leader", "532329"), ("township_staff", "532329104")])
def test_other_roles_may_not_download_the_log(client, auth, role, scope):
    auth.as_role(role, scope)
    assert client.get("/audit.csv").status_code == 403


def test_a_bad_filter_is_refused_before_any_download(client, auth, events):
    auth.as_role("inspector", "532329")
    assert client.get("/audit.csv?since=yesterday").status_code == 422
