"""Tables. Singular names; every row carries `county_code`, the key a sharded
deployment (Citus) would distribute by.

Regions and grids come in boundary generations (valid_from/valid_to, one current):
other rows point at them by *code*, which stays stable across generations, as MapIt
does. Everything else is joined by surrogate id with real foreign keys.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gridmap.codes import GRID_CODE, REGION_CODE, REGION_LEVELS, URBAN_RURAL_CLASSES, VILLAGE_CODE
from gridmap.db import SRID
from gridmap.geo import DISPLAY_DECIMALS, DISPLAY_TOLERANCE

naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Code formats and levels live in gridmap.codes; re-exported for the table checks below.
GRID_KINDS = ("basic", "dedicated")  # 基础网格 / 专属网格
RESIDENCE_TYPES = ("registered", "resident", "migrant")  # 户籍 / 常住 / 流动
ASSIGNMENT_KINDS = (
    "village", "area", "group", "branch", "household", "first_secretary", "work_team",
)
ISSUE_STATUSES = (
    "reported", "triaged", "in_progress", "handled", "feedback", "closed",
    "rejected", "voided", "long_term",
)
HANDLING_LEVELS = ("village", "township", "county")
URGENCIES = ("urgent", "normal")
ROLES = (
    "grid_worker", "cadre", "unit_handler", "village_staff", "township_staff",
    "leader", "inspector", "admin",
)
# Append-only tables: the application's role may read and add rows, never change or remove
# them (database privileges, gridmap.migrate.grant_app_role; and a trigger for the owner).
LEDGER_TABLES = ("issue_event", "audit_event", "callback", "target_event", "household_change")
VISIT_KINDS = ("visit", "callback")  # 走访 / 回访
APPEAL_TYPES = ("inquiry", "help", "complaint", "tip_off", "suggestion")  # 咨询/求助/投诉/举报/建议
# What an issue_event records as done: `report` opens the ledger, the rest are
# gridmap.lifecycle.ACTIONS (tests/unit/test_lifecycle.py keeps the two in step).
EVENT_ACTIONS = (
    "report", "triage", "acknowledge", "handle", "feed_back", "close", "reopen", "return",
    "reject", "void", "defer", "resume", "escalate", "dispatch", "rework", "resolve_on_spot",
    "merge",
    # controls that leave the state as it is (gridmap.lifecycle.CONTROL_EVENTS)
    "ask_extension", "grant_extension", "deny_extension", "supervise", "remind", "answer",
    "review", "merged_callback",
)
EXTENSION_DECISIONS = ("granted", "denied")  # 延期: 批准 / 不批准
PUBLIC_FORMS = ("report", "lookup")  # residents' public pages, throttled per address (throttle)
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")
# household.id_number holds ciphertext with this prefix (gridmap.datakey), never the number.
ID_NUMBER_PREFIX = "v1:"
# 挂牌销号: what may be tagged, the states of a target and what its ledger records.
TARGET_KINDS = ("party_branch", "region", "grid")  # 党支部 / 村（社区）或乡镇 / 网格
TARGET_STATUSES = ("listed", "close_requested", "closed")  # 挂牌整改中 / 申请销号 / 已销号
TARGET_ACTIONS = ("tag", "note", "milestone", "request_close", "approve_close", "refuse_close",
                  "review", "reopen")
MEETING_KINDS = ("consultation", "courtyard", "council", "other")  # 民情恳谈会/院坝会/议事会/其他
CHECK_METHODS = ("phone", "on_site", "list")  # 电话抽查 / 实地核查 / 列表督查
CHECK_RESULTS = ("confirmed", "not_confirmed", "unreachable")  # 属实 / 不属实 / 联系不上
HOUSEHOLD_STATUSES = ("active", "moved_out", "deceased")  # 在册 / 迁出 / 户主去世销户
HOUSEHOLD_CHANGES = ("create", "edit", "move", "split", "moved_out", "deceased", "reactivate")
CALLBACK_CHANNELS = ("phone", "visit", "sms", "in_person", "online")  # 电话/上门/短信/当面/网上


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """The declarative base: one MetaData with the naming convention above."""
    metadata = MetaData(naming_convention=naming)


def county_column() -> Mapped[str]:
    """The `county_code` column every table has (indexed; the sharding key)."""
    return mapped_column(String(6), nullable=False, index=True)


def geom_column(kind: str, nullable: bool = True) -> Mapped[object]:
    """A geometry column of `kind` in the one SRID, GiST-indexed."""
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=True), nullable=nullable)


def display_geom_column() -> Mapped[object]:
    """`geom_display`: `geom` simplified as one coverage with its neighbours, for maps
    (gridmap.geo.refresh_display_shapes); GiST-indexed and checked like every geometry."""
    return geom_column("MULTIPOLYGON")


def label_geom_column() -> Mapped[object]:
    """`geom_label`: a point inside `geom_display`, where maps put the shape's label, written
    beside it (gridmap.geo.refresh_display_shapes)."""
    return geom_column("POINT")


def display_text_columns(tolerance: str) -> tuple[Mapped[str | None], ...]:
    """(`display_geojson`, `display_polyline`, `label_lonlat`): what maps send of the row,
    written by PostgreSQL with the shapes they are made of (stored generated columns), so
    every path that writes a shape writes them and none can leave them stale (migration 0035).

    `display_geojson` is the display shape, else `geom` simplified at `tolerance` (SQL: a row
    stored before it had one), as GeoJSON text at DISPLAY_DECIMALS; `display_polyline` that
    shape's one ring as an encoded polyline (gridmap.maps.compact), NULL for several parts or
    holes; `label_lonlat` the label point's `[lon, lat]`, else a point on `geom`."""
    shape = f"coalesce(geom_display, ST_Multi(ST_SimplifyPreserveTopology(geom, {tolerance})))"
    ring = f"ST_ExteriorRing(ST_GeometryN({shape}, 1))"
    return (
        mapped_column(Text, Computed(f"ST_AsGeoJSON({shape}, {DISPLAY_DECIMALS})", persisted=True)),
        mapped_column(Text, Computed(
            f"CASE WHEN ST_NumGeometries({shape}) = 1 AND ST_NumInteriorRings(ST_GeometryN({shape}, 1)) = 0"
            f" THEN ST_AsEncodedPolyline({ring}, {DISPLAY_DECIMALS}) END", persisted=True)),
        mapped_column(Text, Computed(
            f"(ST_AsGeoJSON(coalesce(geom_label, ST_PointOnSurface(geom)), {DISPLAY_DECIMALS})"
            f"::json -> 'coordinates')::text", persisted=True)),
    )


def valid_geom(name: str = "geom") -> CheckConstraint:
    """The database refuses invalid shapes, whatever path they came in by."""
    return CheckConstraint(f"{name} IS NULL OR ST_IsValid({name})", name=f"{name}_valid")


class Generational:
    """Rows that come in generations (valid_from/valid_to): one is current, older ones stay.

    As MapIt's `Generation`: a redrawn boundary or a handed-over duty ends the old row
    instead of overwriting it, so history and what points at it survive. Every query of
    current rows says `Model.current()`, never `valid_to IS NULL` by hand.
    """

    valid_from: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), sort_order=100)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), sort_order=101)

    @classmethod
    def current(cls):
        """The SQL condition "this row is of the current generation"."""
        return cls.valid_to.is_(None)


class Region(Generational, Base):
    """A county, township or village/community, one row per boundary generation."""

    __tablename__ = "region"
    __table_args__ = (
        CheckConstraint(f"code ~ '{REGION_CODE}'", name="code_format"),
        CheckConstraint(_in("level", REGION_LEVELS), name="level"),
        CheckConstraint(
            "(level = 'county' AND length(code) = 6) OR (level = 'township' AND length(code) = 9)"
            " OR (level = 'village' AND length(code) = 12)",
            name="level_matches_code",
        ),
        CheckConstraint("left(code, 6) = county_code", name="in_county"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_period"),
        CheckConstraint(f"urban_rural_code IS NULL OR (level = 'village' AND "
                        f"{_in('urban_rural_code', tuple(URBAN_RURAL_CLASSES))})", name="urban_rural_code"),
        valid_geom(),
        valid_geom("geom_display"),
        Index("uq_region_current_code", "code", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        # one county's current regions of a level, codes included: an index-only list of
        # the villages a scope covers (a region row is wide with its shapes)
        Index("ix_region_current_county_level", "county_code", "level",
              postgresql_include=["code"], postgresql_where=text("valid_to IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(12), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)  # the short display name: 插甸村
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    geom = geom_column("MULTIPOLYGON")
    geom_display = display_geom_column()
    geom_label = label_geom_column()
    # A county is drawn at a township's detail.
    display_geojson, display_polyline, label_lonlat = display_text_columns(
        f"CASE level WHEN 'village' THEN {DISPLAY_TOLERANCE['village']}"
        f" ELSE {DISPLAY_TOLERANCE['township']} END")
    full_name: Mapped[str | None] = mapped_column(Text)  # the official name: 插甸村民委员会
    urban_rural_code: Mapped[str | None] = mapped_column(String(3))  # NBS 城乡分类代码 of a village


class RegionCodeChange(Base):
    """A region's code changed (撤乡设镇, a merger): rows pointing at `old_code` are moved to
    `new_code` by the next import (gridmap.recode). A code changes once; no cycles."""

    __tablename__ = "region_code_change"
    __table_args__ = (
        UniqueConstraint("county_code", "old_code"),
        CheckConstraint(f"old_code ~ '{REGION_CODE}' AND new_code ~ '{REGION_CODE}'", name="code_format"),
        CheckConstraint("length(old_code) = length(new_code) AND old_code <> new_code", name="same_level"),
        CheckConstraint("left(old_code, 6) = county_code AND left(new_code, 6) = county_code",
                        name="in_county"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    old_code: Mapped[str] = mapped_column(String(12), nullable=False)
    new_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    changed_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class Grid(Generational, Base):
    """网格: the unit of responsibility, inside exactly one village or community."""

    __tablename__ = "grid"
    __table_args__ = (
        CheckConstraint(f"code ~ '{GRID_CODE}'", name="code_format"),
        CheckConstraint(f"village_code ~ '{VILLAGE_CODE}'", name="village_code_format"),
        CheckConstraint(_in("kind", GRID_KINDS), name="kind"),
        CheckConstraint("left(village_code, 6) = county_code", name="in_county"),
        CheckConstraint("household_target IS NULL OR household_target >= 0", name="target"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_period"),
        valid_geom(),
        valid_geom("geom_display"),
        Index("uq_grid_current_code", "code", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        # one county's current grids in code order (OGC pages), not every county's filtered
        Index("ix_grid_current_county_code", "county_code", "code",
              postgresql_where=text("valid_to IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(24), nullable=False)
    village_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="basic")
    geom = geom_column("MULTIPOLYGON")
    geom_display = display_geom_column()
    geom_label = label_geom_column()
    display_geojson, display_polyline, label_lonlat = display_text_columns(
        repr(DISPLAY_TOLERANCE["grid"]))
    household_target: Mapped[int | None] = mapped_column(Integer)


class Area(Base):
    """片: a named set of grids, the target of 包片."""

    __tablename__ = "area"
    __table_args__ = (UniqueConstraint("county_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    township_code: Mapped[str] = mapped_column(String(9), nullable=False, index=True)


class AreaGrid(Base):
    """Which grids make up a 片 (area)."""
    __tablename__ = "area_grid"

    area_id: Mapped[int] = mapped_column(
        ForeignKey("area.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(24), primary_key=True)
    county_code: Mapped[str] = county_column()


class PartyBranch(Base):
    """支部: a Party branch of a village, the target of 包支部."""

    __tablename__ = "party_branch"
    __table_args__ = (UniqueConstraint("county_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    village_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    weak: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


class Household(Base):
    """户. Names, phones, ID numbers and care flags are personal data: mask on display."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("county_code", "code"),
        CheckConstraint(_in("residence_type", RESIDENCE_TYPES), name="residence_type"),
        CheckConstraint("size IS NULL OR size BETWEEN 1 AND 99", name="size"),
        CheckConstraint("disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4",
                        name="disability_grade"),
        # Encrypted at rest (gridmap.datakey): a plain number written by any path is refused.
        CheckConstraint(f"id_number IS NULL OR id_number LIKE '{ID_NUMBER_PREFIX}%'",
                        name="id_number_encrypted"),
        CheckConstraint(_in("status", HOUSEHOLD_STATUSES), name="status"),
        CheckConstraint("(status = 'active') = (left_on IS NULL)", name="left_on"),
        valid_geom(),
        # No trigram index for gridmap.search's part of a name or address: the searches are
        # answered by the scope's and the code's indexes (migration 0039 says why).
        # Scope.households(): the households still on the register of a county, or of a
        # township or village by code prefix (pattern ops: LIKE 'prefix%' under any collation)
        Index("ix_household_active_village", "county_code", "village_code",
              postgresql_ops={"village_code": "varchar_pattern_ops"},
              postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    grid_code: Mapped[str | None] = mapped_column(String(24), index=True)  # NULL = uncovered
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    geom = geom_column("POINT")  # NULL = location unknown
    address: Mapped[str | None] = mapped_column(Text)
    head_name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(Text)  # ciphertext: gridmap.datakey
    size: Mapped[int | None] = mapped_column(Integer)
    residence_type: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="registered")
    minimum_living: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # 低保
    extreme_poverty: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # 特困
    lifted_from_poverty: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # 脱贫户
    relapse_monitoring: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # 监测户
    disability_category: Mapped[str | None] = mapped_column(String(16))  # 残疾类别
    disability_grade: Mapped[int | None] = mapped_column(Integer)  # 1–4 级
    left_behind_children: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    left_behind_women: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    left_behind_elderly: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    elderly_alone: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # 空巢/独居
    # moved out or deceased: kept with its history, out of every active list and count
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active")
    left_on: Mapped[date | None] = mapped_column(Date)
    # when a care flag was last turned on (a trigger sets it): a visit is due at once after it
    care_flags_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # which flags were turned on since the last visit (the same trigger): why a visit is due
    care_flags_added: Mapped[list[str] | None] = mapped_column(ARRAY(Text))


class Unit(Base):
    """An agency, enterprise, section-level unit or township/village office."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("county_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # agency/enterprise/section/township/village
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")


class Cadre(Base):
    """A person in the 五包 chain: a leader, an organisation cadre or a paired cadre."""
    __tablename__ = "cadre"
    __table_args__ = (UniqueConstraint("county_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")


class Assignment(Generational, Base):
    """One link of the 五包 chain (or a stationed first secretary / work team)."""

    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint(_in("kind", ASSIGNMENT_KINDS), name="kind"),
        CheckConstraint("(cadre_id IS NULL) <> (unit_id IS NULL)", name="one_assignee"),
        CheckConstraint(
            "CASE kind"
            " WHEN 'village' THEN region_code IS NOT NULL"
            " WHEN 'first_secretary' THEN region_code IS NOT NULL"
            " WHEN 'work_team' THEN region_code IS NOT NULL"
            " WHEN 'area' THEN area_id IS NOT NULL"
            " WHEN 'group' THEN grid_code IS NOT NULL"
            " WHEN 'branch' THEN party_branch_id IS NOT NULL"
            " WHEN 'household' THEN household_id IS NOT NULL END",
            name="target_matches_kind",
        ),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_period"),
        # the same person or unit holds the same current duty once (re-imports stay idempotent)
        Index("uq_assignment_current", "county_code", "kind", "cadre_id", "unit_id",
              "region_code", "area_id", "grid_code", "party_branch_id", "household_id",
              unique=True, postgresql_nulls_not_distinct=True,
              postgresql_where=text("valid_to IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    kind: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(24), index=True)
    party_branch_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True)


class AppUser(Base):
    """An account: role, scope (a region or grid code, a unit, a cadre) and password hash."""
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(f"scope_code IS NULL OR scope_code ~ '{REGION_CODE}' OR scope_code ~ '{GRID_CODE}'",
                        name="scope_code_format"),
        CheckConstraint("login ~ '^[A-Za-z0-9_.@-]{2,64}$'", name="login_format"),
        # sign-in is case-insensitive (tablet keyboards capitalise), so logins are too
        Index("uq_app_user_login_lower", text("lower(login)"), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    login: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    display_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    scope_code: Mapped[str | None] = mapped_column(String(24))  # region or grid code
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # Bumped on sign-out, password change, disable and role change: every session and
    # remember cookie carries it, so older ones stop working at once.
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # A one-time password (the first administrator's): nothing but changing it until changed.
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                       server_default="false")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class Visit(Base):
    """走访 (or 回访 after an issue is handled)."""

    __tablename__ = "visit"
    __table_args__ = (
        CheckConstraint(_in("kind", VISIT_KINDS), name="kind"),
        CheckConstraint("satisfaction IS NULL OR " + _in("satisfaction", SATISFACTION),
                        name="satisfaction"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy"),
        valid_geom(),
        Index("ix_visit_household_at", "household_id", "visited_at"),
        Index("ix_visit_county_household_at", "county_code", "household_id", "visited_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), nullable=False)
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="visit")
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    geom = geom_column("POINT")
    accuracy_m: Mapped[float | None] = mapped_column()
    checklist: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    notes: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"), index=True)
    client_uuid: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), nullable=False, unique=True, server_default=text("gen_random_uuid()"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)  # who recorded it


class HouseholdLastVisit(Base):
    """A household's last visit (any kind) and last 走访, kept by triggers on `visit`
    (migration 0026) whatever path writes visits: the visit rule reads one row per household
    instead of looking through its visits. No row: never visited."""

    __tablename__ = "household_last_visit"
    __table_args__ = (
        Index("ix_household_last_visit_county", "county_code", "household_id", "visited_at",
              "walked_at"),
    )

    county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    walked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # kind 'visit'


class VillageUncovered(Base):
    """A gridded village's area less its current grids' (`gap_m2`) and, when that is at least
    10,000 m², the part of it none of them covers (`geom`) and that part's area (`m2`); kept
    by triggers on `grid` and `region` (migration 0026) when shapes change: the
    `uncovered_area` rule reads it."""

    __tablename__ = "village_uncovered"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    gap_m2: Mapped[float] = mapped_column(nullable=False)
    geom = geom_column("GEOMETRY")
    m2: Mapped[float | None] = mapped_column()


class HouseholdVisitState(Base):
    """What the `visit` rule reads of an active household, in one row: its place, its care
    flags as bits (`care_mask`, bit i the i-th of gridmap.coverage.CARE_FLAGS), when a flag
    was last turned on and its last visit. Kept by triggers on `household` and
    `household_last_visit` (migration 0034) whatever path writes them, so the rule's count
    is a few index range scans over the due households, not a pass over every household.
    No foreign key: the rows follow deleted households by a statement trigger (migration
    0037), as a per-row check of each inserted household cost a first load."""

    __tablename__ = "household_visit_state"
    __table_args__ = (
        # the `interval` branch: per mask, the households last visited before a moment
        Index("ix_household_visit_state_due", "county_code", "care_mask", "last_visited_at",
              postgresql_include=["care_flags_changed_at", "household_id", "village_code",
                                  "grid_code"]),
        # the `care` branch: a flag turned on since the last visit (a few households)
        Index("ix_household_visit_state_care", "county_code",
              postgresql_include=["care_flags_changed_at", "household_id", "village_code",
                                  "grid_code"],
              postgresql_where=text("care_flags_changed_at > last_visited_at")),
    )

    household_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    village_code: Mapped[str | None] = mapped_column(String(12))
    grid_code: Mapped[str | None] = mapped_column(String(24))
    care_mask: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    care_flags_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # NULL: never


class HouseholdUnassigned(Base):
    """A household with no current 包户 assignment: kept by triggers on `household` and
    `assignment` (migration 0033) whatever path writes them, so the `household` rule reads
    these rows instead of anti-joining every household to its assignments. No foreign key:
    the rows follow deleted households by a statement trigger (migration 0036), as a
    per-row check of each inserted household cost most of what this fact cost an import."""

    __tablename__ = "household_unassigned"
    __table_args__ = (
        Index("ix_household_unassigned_county", "county_code", "household_id"),
    )

    county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    household_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class HouseholdOutsideGrid(Base):
    """A household with no grid, or whose point its own current grid does not cover: kept
    by triggers on `household` and `grid` (migration 0030) whatever path writes them, so
    the `uncovered` rule reads these few rows instead of testing every household's point."""

    __tablename__ = "household_outside_grid"
    __table_args__ = (
        Index("ix_household_outside_grid_county", "county_code", "household_id"),
    )

    county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True)


class HouseholdCount(Base):
    """Active households per county, village code and grid code ('' where a household has
    none): kept by triggers on `household` (migration 0032), so the maps' counts per grid,
    village, township and county are sums of a few thousand rows, not a count of every
    household per request."""

    __tablename__ = "household_count"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(24), primary_key=True)
    households: Mapped[int] = mapped_column(Integer, nullable=False)


class GridLastVisit(Base):
    """A grid's median last visit (epoch seconds) over its active households ever visited:
    kept by triggers on `household_last_visit` and `household` (migration 0031), so the
    grids longest unvisited are read, not sorted out of every household per request."""

    __tablename__ = "grid_last_visit"
    __table_args__ = (
        Index("ix_grid_last_visit_median", "county_code", "median_epoch"),
    )

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(24), primary_key=True)
    median_epoch: Mapped[float] = mapped_column(nullable=False)


PHOTO_MIMES = ("image/jpeg", "image/png", "image/webp")


class StoredFile(Base):
    """A stored photo (gridmap.files): named by the hash of its stored bytes, EXIF stripped;
    where and when it was taken as EXIF said before stripping."""

    __tablename__ = "stored_file"
    __table_args__ = (
        UniqueConstraint("county_code", "sha256"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint(_in("mime", PHOTO_MIMES), name="mime"),
        CheckConstraint("size_bytes > 0 AND width > 0 AND height > 0", name="sizes"),
        valid_geom(),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    mime: Mapped[str] = mapped_column(String(16), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = geom_column("POINT")  # the EXIF GPS position, when the photo had one
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class VisitPhoto(Base):
    """A photo taken on a visit."""

    __tablename__ = "visit_photo"

    visit_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True)
    file_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("stored_file.id"), primary_key=True, index=True)
    county_code: Mapped[str] = county_column()
    added_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                               server_default=func.now())


class IssuePhoto(Base):
    """A photo of an issue (from its report, later from its handling)."""

    __tablename__ = "issue_photo"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True)
    file_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("stored_file.id"), primary_key=True, index=True)
    county_code: Mapped[str] = county_column()
    added_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                               server_default=func.now())
    # the event it came with (report, 办结, 结案): where the timeline shows it
    event_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("issue_event.id"))


class Issue(Base):
    """A resident's appeal, request or dispute, moving report → triage → handling → feedback."""

    __tablename__ = "issue"
    __table_args__ = (
        UniqueConstraint("county_code", "code"),
        CheckConstraint(_in("status", ISSUE_STATUSES), name="status"),
        CheckConstraint(_in("level", HANDLING_LEVELS), name="level"),
        CheckConstraint(_in("urgency", URGENCIES), name="urgency"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("merged_into IS NULL OR merged_into <> id", name="not_merged_into_self"),
        valid_geom(),
        Index("ix_issue_open", "county_code", "status", "grid_code"),
        Index("ix_issue_title_trgm", "title", postgresql_using="gin",
              postgresql_ops={"title": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    urgency: Mapped[str] = mapped_column(String(8), nullable=False, server_default="normal")
    source: Mapped[str] = mapped_column(String(16), nullable=False, server_default="grid_worker")
    geom = geom_column("POINT")
    grid_code: Mapped[str | None] = mapped_column(String(24), index=True)
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    real_name: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="reported")
    level: Mapped[str] = mapped_column(String(16), nullable=False, server_default="village")
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    triage_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handling_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_on: Mapped[date | None] = mapped_column(Date)  # 挂账 review date
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 签收
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    no_callback_reason: Mapped[str | None] = mapped_column(Text)  # 无法回访: why no 回访 result
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    client_uuid: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), nullable=False, unique=True, server_default=text("gen_random_uuid()"))
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __mapper_args__ = {"version_id_col": version}


class IssueEvent(Base):
    """One transition of an issue. Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "issue_event"
    __table_args__ = (
        CheckConstraint("to_status IN (" + ", ".join(repr(s) for s in ISSUE_STATUSES) + ")",
                        name="to_status"),
        CheckConstraint("action IS NULL OR " + _in("action", EVENT_ACTIONS), name="action"),
        Index("ix_issue_event_issue_at", "issue_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str | None] = mapped_column(String(16))  # NULL: imported before actions were kept
    actor_cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # the unit handling it after
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the new stage's deadline


class IssueView(Base):
    """When a user last opened an issue, and the newest event they saw then: an issue of their
    tasks with a later event (by someone else) is unread (gridmap.issue_queries.task_counts)."""

    __tablename__ = "issue_view"

    county_code: Mapped[str] = county_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), primary_key=True, index=True)
    seen_event_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Callback(Base):
    """回访: one attempt to reach the reporter after an issue is handled, with the answers.

    Append-only (a ledger): a second attempt is a second row. A reached callback has all three
    answers (contacted in time? solved? satisfaction) and is a valid callback (有效回访) for
    the metrics (gridmap.metrics); an unreached one says why (无法回访). When the reporter is
    a registered household the callback is also a `visit` of kind callback (`visit_id`).
    """

    __tablename__ = "callback"
    __table_args__ = (
        CheckConstraint(_in("channel", CALLBACK_CHANNELS), name="channel"),
        CheckConstraint("satisfaction IS NULL OR " + _in("satisfaction", SATISFACTION),
                        name="satisfaction"),
        CheckConstraint("CASE WHEN reached THEN contacted_in_time IS NOT NULL AND solved IS NOT NULL"
                        " AND satisfaction IS NOT NULL ELSE satisfaction IS NULL"
                        " AND unreached_reason IS NOT NULL END", name="answers_match_reached"),
        Index("ix_callback_issue_at", "issue_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    reached: Mapped[bool] = mapped_column(Boolean, nullable=False)
    contacted_in_time: Mapped[bool | None] = mapped_column(Boolean)  # 是否及时联系
    solved: Mapped[bool | None] = mapped_column(Boolean)  # 是否解决
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    unreached_reason: Mapped[str | None] = mapped_column(Text)  # 无法回访: why not reached
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    # whose 回访: a duplicate merged into the issue names its reporter (NULL: the issue's own)
    reporter_issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))


class IssueExtension(Base):
    """延期: a handler asks for a later handling deadline with a reason; the level above grants
    or denies it (never the asker). One open request per issue; each step is also an event."""

    __tablename__ = "issue_extension"
    __table_args__ = (
        CheckConstraint("decision IS NULL OR " + _in("decision", EXTENSION_DECISIONS),
                        name="decision"),
        CheckConstraint("new_due > old_due", name="later"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decided"),
        Index("uq_issue_extension_open", "issue_id", unique=True,
              postgresql_where=text("decision IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), nullable=False, index=True)
    asked_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    old_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    new_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    decision: Mapped[str | None] = mapped_column(String(8))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)


class IssueSupervision(Base):
    """督办: a leader's or inspector's written instruction the handler must answer by
    `answer_due`; the answer is written once. (催办 reminders are events alone.)"""

    __tablename__ = "issue_supervision"
    __table_args__ = (
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), nullable=False, index=True)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    instruction: Mapped[str] = mapped_column(Text, nullable=False)
    answer_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IssueCategory(Base):
    """A county's kind of issue: its appeal type and the limits of each stage."""

    __tablename__ = "issue_category"
    __table_args__ = (
        UniqueConstraint("county_code", "code"),
        CheckConstraint(_in("appeal_type", APPEAL_TYPES), name="appeal_type"),
        CheckConstraint("triage_hours > 0 AND urgent_triage_hours > 0 AND handling_days > 0"
                        " AND feedback_days > 0", name="limits_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    appeal_type: Mapped[str] = mapped_column(String(16), nullable=False)
    triage_hours: Mapped[int] = mapped_column(Integer, nullable=False)  # clock hours
    urgent_triage_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    handling_days: Mapped[int] = mapped_column(Integer, nullable=False)  # working days
    feedback_days: Mapped[int] = mapped_column(Integer, nullable=False)  # calendar days


class IssueOwnership(Base):
    """Dispatch rule: issues of a category inside a region (code prefix) go to this unit."""

    __tablename__ = "issue_ownership"
    __table_args__ = (
        UniqueConstraint("county_code", "category_code", "region_code"),
        # the region's level is the handling level the rule is for: county, township or village
        CheckConstraint(f"region_code ~ '{REGION_CODE}' AND left(region_code, 6) = county_code",
                        name="region_in_county"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    category_code: Mapped[str] = mapped_column(String(32), nullable=False)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), nullable=False, index=True)


class Setting(Base):
    """A per-county override of a default in gridmap/defaults.toml."""

    __tablename__ = "setting"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class SignInFailure(Base):
    """A failed sign-in (login and address), kept a short while to slow down guessing.

    In PostgreSQL because it is the one store every worker process shares.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_login_at", "login", "at"),
        Index("ix_sign_in_failure_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    login: Mapped[str] = mapped_column(String(64), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                         server_default=func.now())


class PublicAttempt(Base):
    """One use of a residents' public form (a report, a progress lookup that failed), by
    address and key, kept a short while so floods and guessing are slowed (gridmap.throttle)."""

    __tablename__ = "public_attempt"
    __table_args__ = (
        CheckConstraint(_in("form", PUBLIC_FORMS), name="form"),
        Index("ix_public_attempt_form_key_at", "form", "key", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    form: Mapped[str] = mapped_column(String(16), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)  # "addr:…" or "code:…"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ApiToken(Base):
    """A credential for another system (an API key): it acts as its user, with that user's
    role and scope. Only a hash of the secret is kept; the secret is shown once."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("expires_at IS NULL OR expires_at > created_at", name="valid_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), nullable=False, index=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # the user's session generation when issued: sign-out, password or role change end it
    generation: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the token's current throttling window (gridmap.throttle.count_token_request)
    window_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_requests: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class AuditEvent(Base):
    """Who did what, when: sign-ins and failures, unmasking, exports, imports, issue
    transitions, account changes. Append-only (a ledger): see gridmap.audit."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("action ~ '^[a-z_]{2,32}$'", name="action_format"),
        Index("ix_audit_event_county_at", "county_code", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                         server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)  # login, or who ran a command
    action: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    target: Mapped[str | None] = mapped_column(Text)  # e.g. "household:H001", "user:wang01"
    detail: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    address: Mapped[str | None] = mapped_column(String(64))  # the client's IP, for web requests


class Target(Base):
    """挂牌: a weak Party branch, a village, township or grid tagged for rectification, with
    one plan (一支部一对策), a deadline (限期整改) and a close-out (销号) approved a level up.

    `region_code` is where the target lies (the branch's or grid's village, or the region
    itself): the key of every scope filter. Its history is `target_event`, append-only.
    """

    __tablename__ = "target"
    __table_args__ = (
        CheckConstraint(_in("kind", TARGET_KINDS), name="kind"),
        CheckConstraint(_in("status", TARGET_STATUSES), name="status"),
        CheckConstraint("CASE kind WHEN 'party_branch' THEN party_branch_id IS NOT NULL"
                        " WHEN 'grid' THEN grid_code IS NOT NULL ELSE true END",
                        name="target_matches_kind"),
        CheckConstraint("left(region_code, 6) = county_code", name="in_county"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_target_open", "county_code", "status", "due_on"),
        UniqueConstraint("county_code", "code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)  # GP2026120100012 (gridmap.codes.ledger_code)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    party_branch_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"))
    grid_code: Mapped[str | None] = mapped_column(String(24))
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    plan: Mapped[str | None] = mapped_column(Text)  # 一支部一对策
    liaison_cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))  # 联系领导
    helping_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # 帮扶部门
    due_on: Mapped[date] = mapped_column(Date, nullable=False)  # 限期整改
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="listed")
    tagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    tagged_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    close_requested_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


class TargetMilestone(Base):
    """A step of a target's plan, with its own date; done when `done_on` is set."""

    __tablename__ = "target_milestone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    target_id: Mapped[int] = mapped_column(
        ForeignKey("target.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    due_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)


class TargetEvent(Base):
    """One step in a target's history (tagged, a note, a milestone done, close asked/approved/
    refused, a 回头看 review, reopened). Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "target_event"
    __table_args__ = (
        CheckConstraint(_in("action", TARGET_ACTIONS), name="action"),
        Index("ix_target_event_target_at", "target_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)  # what proves the close-out (销号依据)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Meeting(Base):
    """民情恳谈会 (or a 院坝会, 议事会 …): when, where, who organised, how many came, what was
    raised; the issues raised at it are linked through `meeting_issue`."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(_in("kind", MEETING_KINDS), name="kind"),
        CheckConstraint("attendance BETWEEN 0 AND 100000", name="attendance"),
        CheckConstraint("left(region_code, 6) = county_code", name="in_county"),
        valid_geom(),
        Index("ix_meeting_county_held", "county_code", "held_at"),
        UniqueConstraint("county_code", "code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)  # HY2026120100034
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="consultation")
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    place: Mapped[str | None] = mapped_column(Text)
    geom = geom_column("POINT")
    organiser_cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    attendance: Mapped[int] = mapped_column(Integer, nullable=False)
    topics: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class MeetingIssue(Base):
    """An issue raised at a meeting (the issue itself lives in the lifecycle)."""

    __tablename__ = "meeting_issue"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), primary_key=True, index=True)
    county_code: Mapped[str] = county_column()


class Deed(Base):
    """办实事: a practical thing done for a household or a village, by a cadre or unit, what it
    cost, and the issue or visit that prompted it."""

    __tablename__ = "deed"
    __table_args__ = (
        CheckConstraint("cost_yuan IS NULL OR cost_yuan >= 0", name="cost"),
        CheckConstraint("left(region_code, 6) = county_code", name="in_county"),
        Index("ix_deed_county_done", "county_code", "done_on"),
        UniqueConstraint("county_code", "code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    code: Mapped[str] = mapped_column(String(32), nullable=False)  # SS2026120100056
    title: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    cost_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class DiaryEntry(Base):
    """A 民情日记 entry not tied to a visit (a visit's notes are its diary entry already)."""

    __tablename__ = "diary_entry"
    __table_args__ = (CheckConstraint("left(region_code, 6) = county_code", name="in_county"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)


class Campaign(Base):
    """A visit campaign (e.g. every paired household visited before 春节): the households it
    covers, fixed when it is set up, and its dates; progress is read from the visits logged."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("due_on >= starts_on", name="period"),
        CheckConstraint("left(region_code, 6) = county_code", name="in_county"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    rule: Mapped[str] = mapped_column(String(24), nullable=False)  # which households (campaigns.RULES)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class CampaignHousehold(Base):
    """A household a campaign covers."""

    __tablename__ = "campaign_household"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True, index=True)
    county_code: Mapped[str] = county_column()


class VisitCheck(Base):
    """A logged visit drawn for checking (列表督查、电话抽查) and, once checked, whether it
    really happened. One check per visit."""

    __tablename__ = "visit_check"
    __table_args__ = (
        CheckConstraint("method IS NULL OR " + _in("method", CHECK_METHODS), name="method"),
        CheckConstraint("result IS NULL OR " + _in("result", CHECK_RESULTS), name="result"),
        CheckConstraint("(result IS NULL) = (checked_at IS NULL)", name="checked"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = county_column()
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), nullable=False, unique=True)
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    drawn_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    method: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HouseholdChange(Base):
    """One change to a household (created, edited, moved to another grid, split, moved out,
    deceased, back): who, when and what (`changes`: field → [before, after]; an ID number
    only as "changed", never its value). Append-only: the household page's 历史记录."""

    __tablename__ = "household_change"
    __table_args__ = (
        CheckConstraint(_in("action", HOUSEHOLD_CHANGES), name="action"),
        Index("ix_household_change_household_at", "household_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    changes: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


IMPORT_RUN_STATES = ("queued", "running", "done", "failed", "interrupted")


class ImportRun(Base):
    """The dry run (or commit) of an upload made in a browser, worked in the background
    (gridmap.importers.runs): its state, how far it has come, and its report. One per upload:
    running it again starts it over."""

    __tablename__ = "import_run"
    __table_args__ = (CheckConstraint(_in("state", IMPORT_RUN_STATES), name="state"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    county_code: Mapped[str] = county_column()
    upload_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False)
    commit: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    stage: Mapped[str | None] = mapped_column(String(16))  # read / write, as the import core says
    source: Mapped[str | None] = mapped_column(Text)  # the file it is at
    rows: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    locale: Mapped[str] = mapped_column(String(8), nullable=False)  # the report's language
    address: Mapped[str | None] = mapped_column(String(64))  # who asked, for the audit log
    report: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
