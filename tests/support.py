"""Helpers shared by the test suites: the demo users, the demo county, a served app.

tests/ is on sys.path (pytest's rootdir conftest), so tests import this as `support`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import threading
from pathlib import Path

from gridmap import create_app
from gridmap.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
DEMO_USERS_FILE = ROOT / "data" / "demo" / "users.csv"


def demo_users() -> dict[str, str]:
    """login -> password of every demo user (data/demo/users.csv, listed in the README)."""
    with DEMO_USERS_FILE.open(encoding="utf-8") as users:
        return {row["login"]: row["password"] for row in csv.DictReader(users)}


DEMO_USERS = demo_users()


def load_demo_county(url: str) -> None:
    from gridmap.demo.load import load_demo

    engine = make_engine(url)
    with engine.connect() as connection:
        report = load_demo(connection, commit=True)
    engine.dispose()
    assert not report.problems, report.problems


@contextlib.contextmanager
def served(url: str, **config):
    """The real app (CSRF on, real sign-in) over database `url` on a free 127.0.0.1 port."""
    from werkzeug.serving import make_server

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", **config})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gridmap-test-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["gridmap.engine"].dispose()


class AuthActions:
    """Sign in as any role and scope through the real sign-in form (as flaskr's AuthActions)."""

    password = "demo-password-1"

    @staticmethod
    @functools.cache
    def password_hash() -> str:
        """`password` hashed once per run. A real hash (scrypt at the app's cost, so signing
        in checks it the one real way); hashing it afresh for every seeded account only
        repeated a deliberately slow computation (tests/db/test_users.py covers hashing)."""
        from gridmap.users import hash_password

        return hash_password(AuthActions.password)

    def __init__(self, client, connection):
        self.client = client
        self.connection = connection

    def sign_in(self, login: str, password: str | None = None, **form):
        """POST the sign-in form; returns the response (302 on success)."""
        return self.client.post("/sign-in", data={"login": login,
                                                  "password": password or self.password, **form})

    def as_role(self, role: str, scope_code: str | None, county_code: str = "532329",
                **columns) -> str:
        """Create an account of `role` scoped to `scope_code` (extra columns such as cadre_id)
        and sign in as it; returns its login."""
        from sqlalchemy import text

        login = f"{role}-{scope_code or 'none'}".lower()
        values = {"county_code": county_code, "login": login, "role": role,
                  "scope_code": scope_code, "password_hash": self.password_hash(),
                  **columns}
        self.connection.execute(text(
            f"INSERT INTO app_user ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"),
            values)
        response = self.sign_in(login)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return login

    def sign_out(self):
        """POST the sign-out form."""
        return self.client.post("/sign-out")


# --- a small county for the issue lifecycle -------------------------------------------------

ISSUE_COUNTY = "532329"
ISSUE_TOWNSHIP, ISSUE_VILLAGE = "532329104", "532329104201"
ISSUE_GRID = ISSUE_VILLAGE + "001"


def seed_issue_county(connection) -> dict[str, int]:
    """One township, village and grid, their offices, a 水务站 and a 水务局, the category
    `drinking_water` (triage 24 h / urgent 2 h, 5 working days, feedback 3 days) owned by the
    站 in the township and the 局 in the county. Returns unit ids by code."""
    from sqlalchemy import text

    run = lambda sql, **p: connection.execute(text(sql), p)  # noqa: E731
    for code, level, parent in ((ISSUE_COUNTY, "county", None),
                                (ISSUE_TOWNSHIP, "township", ISSUE_COUNTY),
                                (ISSUE_VILLAGE, "village", ISSUE_TOWNSHIP)):
        run("INSERT INTO region (county_code, code, level, name, parent_code)"
            " VALUES (:c, :code, :level, :code, :parent)", c=ISSUE_COUNTY, code=code, level=level,
            parent=parent)
    run("INSERT INTO grid (county_code, code, village_code, name) VALUES (:c, :g, :v, '第1网格')",
        c=ISSUE_COUNTY, g=ISSUE_GRID, v=ISSUE_VILLAGE)
    units = {}
    for code, name, kind, region in (
            (ISSUE_VILLAGE + "V", "插甸村民委员会", "village", ISSUE_VILLAGE),
            (ISSUE_TOWNSHIP + "G", "插甸镇人民政府", "township", ISSUE_TOWNSHIP),
            (ISSUE_TOWNSHIP + "S11", "插甸镇水务站", "section", ISSUE_TOWNSHIP),
            ("A014", "武定县水务局", "agency", ISSUE_COUNTY)):
        units[code] = run("INSERT INTO unit (county_code, code, name, kind, region_code)"
                          " VALUES (:c, :code, :name, :kind, :region) RETURNING id",
                          c=ISSUE_COUNTY, code=code, name=name, kind=kind, region=region).scalar()
    run("INSERT INTO issue_category (county_code, code, name, appeal_type, triage_hours,"
        " urgent_triage_hours, handling_days, feedback_days)"
        " VALUES (:c, 'drinking_water', '饮水安全', 'help', 24, 2, 5, 3)", c=ISSUE_COUNTY)
    for region, unit in ((ISSUE_TOWNSHIP, ISSUE_TOWNSHIP + "S11"), (ISSUE_COUNTY, "A014")):
        run("INSERT INTO issue_ownership (county_code, category_code, region_code, unit_id)"
            " VALUES (:c, 'drinking_water', :region, :unit)", c=ISSUE_COUNTY, region=region,
            unit=units[unit])
    return units


def seed_user(connection, role: str, scope_code: str | None, **columns):
    """An app_user row of `role` (password AuthActions.password) and its signed-in snapshot."""
    from sqlalchemy import text

    from gridmap.models import AppUser
    from gridmap.web.auth import Account

    values = {"county_code": ISSUE_COUNTY, "login": f"{role}-{scope_code or 'none'}".lower(),
              "role": role, "scope_code": scope_code,
              "password_hash": AuthActions.password_hash(), **columns}
    user_id = connection.execute(text(
        f"INSERT INTO app_user ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"
        " RETURNING id"), values).scalar()
    return Account.of(AppUser(id=user_id, active=True, locale=None, display_name=None, **values))


def token_headers(connection, db, role: str, scope_code: str | None, login: str) -> dict:
    """A user of `role` in `scope_code` and an API token of theirs, as request headers."""
    from gridmap import tokens

    seed_user(connection, role, scope_code, login=login)
    issued = tokens.issue(db, login, "GIS")
    db.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


ONE_GRID = "532329104201001"


def seed_one_grid(db) -> str:
    """County, township and village of 武定县 with one grid (ORM session); returns its code."""
    from gridmap.models import Grid, Region

    db.add_all([
        Region(county_code="532329", code="532329", level="county", name="武定县"),
        Region(county_code="532329", code="532329104", level="township", name="插甸镇"),
        Region(county_code="532329", code="532329104201", level="village", name="插甸村"),
        Grid(county_code="532329", code=ONE_GRID, village_code="532329104201", name="一网格"),
    ])
    db.flush()
    return ONE_GRID


OPEN_TOWNSHIP = ISSUE_COUNTY + "104"
OPEN_VILLAGES = {OPEN_TOWNSHIP + "201": 102.40, OPEN_TOWNSHIP + "202": 102.45}  # → west edge
HOSTILE_NAME = "<script>alert(1)</script>{{ 7*191 }}"


def _box(west: float, south: float, east: float, north: float) -> str:
    # clockwise on purpose: open data must send exterior rings counter-clockwise (RFC 7946)
    return (f"ST_Multi(ST_ForcePolygonCW(ST_MakeEnvelope({west}, {south}, {east}, {north}, "
            f"4326)))")


def seed_open_data_county(connection) -> str:
    """One township, two villages of two grids each (one village with a hostile name), 9
    households (3 低保 in the first grid, 2 in the next) and issues Q1 (reported), Q2
    (closed), Q3 (voided) and Q4 (a tip-off). Returns the first grid's code."""
    from sqlalchemy import text

    from gridmap.datakey import encrypt_id_number

    run = lambda sql, **p: connection.execute(text(sql), p)  # noqa: E731
    run(f"INSERT INTO region (county_code, code, level, name, geom) VALUES "
        f"(:c, :c, 'county', '武定县', {_box(102.40, 25.50, 102.50, 25.60)})", c=ISSUE_COUNTY)
    run(f"INSERT INTO region (county_code, code, level, name, parent_code, geom) VALUES "
        f"(:c, :t, 'township', '插甸镇', :c, {_box(102.40, 25.50, 102.50, 25.60)})",
        c=ISSUE_COUNTY, t=OPEN_TOWNSHIP)
    for village, west in OPEN_VILLAGES.items():
        run(f"INSERT INTO region (county_code, code, level, name, parent_code, geom) VALUES "
            f"(:c, :v, 'village', :name, :t, {_box(west, 25.50, west + .05, 25.60)})",
            c=ISSUE_COUNTY, v=village, t=OPEN_TOWNSHIP, name=HOSTILE_NAME if west > 102.42 else "插甸村")
        for serial, south in (("001", 25.50), ("002", 25.55)):
            run(f"INSERT INTO grid (county_code, code, village_code, name, geom) VALUES "
                f"(:c, :g, :v, :name, {_box(west, south, west + .05, south + .05)})",
                c=ISSUE_COUNTY, g=village + serial, v=village, name=f"第{serial}网格")
    grid = OPEN_TOWNSHIP + "201001"
    for n in range(7):  # 7 households in the first grid, 3 of them 低保; 2 in the next grid
        run("INSERT INTO household (county_code, code, grid_code, village_code, head_name,"
            " phone, id_number, size, minimum_living) VALUES (:c, :code, :g, :v, '张三丰',"
            " '13812345678', :id_number, 3, :poor)",
            id_number=encrypt_id_number("532329199001011234"), c=ISSUE_COUNTY, code=f"H{n}",
            g=grid, v=OPEN_TOWNSHIP + "201", poor=n < 3)
    for n in range(2):
        run("INSERT INTO household (county_code, code, grid_code, village_code, head_name,"
            " size, minimum_living) VALUES (:c, :code, :g, :v, '李四', 2, true)",
            c=ISSUE_COUNTY, code=f"J{n}", g=OPEN_TOWNSHIP + "201002", v=OPEN_TOWNSHIP + "201")
    for code, name, kind in (("water", "饮水安全", "help"), ("graft", "干部作风", "tip_off")):
        run("INSERT INTO issue_category (county_code, code, name, appeal_type, triage_hours,"
            " urgent_triage_hours, handling_days, feedback_days)"
            " VALUES (:c, :code, :name, :kind, 24, 2, 5, 3)", c=ISSUE_COUNTY, code=code, name=name,
            kind=kind)
    for code, category, status, at in (
            ("Q1", "water", "reported", "2026-03-01T08:00:00Z"),
            ("Q2", "water", "closed", "2026-01-15T08:00:00Z"),
            ("Q3", "water", "voided", "2026-02-01T08:00:00Z"),
            ("Q4", "graft", "reported", "2026-03-02T08:00:00Z")):
        run("INSERT INTO issue (county_code, code, title, description, category, status, grid_code,"
            " village_code, reporter_name, reporter_phone, real_name, reported_at, geom)"
            " VALUES (:c, :code, '王五家的水管爆了', '王五说村长不管', :cat, :status, :g, :v,"
            " '王五', '13900001111', true, :at, ST_SetSRID(ST_MakePoint(102.4123, 25.5234), 4326))",
            c=ISSUE_COUNTY, code=code, cat=category, status=status, g=grid, v=OPEN_TOWNSHIP + "201", at=at)
    return grid




def photo_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48),
                lonlat: tuple[float, float] | None = None, colour: str = "teal") -> bytes:
    """A small picture as a camera would send it: EXIF with a maker, a time and, when
    `lonlat` is given, a GPS position (degrees/minutes/seconds, as phones write it)."""
    import io

    from PIL import Image

    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:11:20 10:15:00"  # DateTime
    if lonlat is not None:
        from fractions import Fraction

        def dms(value: float):
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = Fraction(round(((value - degrees) * 60 - minutes) * 60 * 100), 100)
            return (Fraction(degrees), Fraction(minutes), seconds)

        exif[0x8825] = {1: "N", 2: dms(lonlat[1]), 3: "E", 4: dms(lonlat[0])}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()
