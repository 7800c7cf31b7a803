"""follow-through ledgers: 挂牌 targets (plan, milestones, an append-only event ledger),
民情恳谈会 meetings and the issues raised at them, 办实事 deeds, 民情日记 entries, visit
campaigns (a set of households and a deadline) and visit checks (列表督查/电话抽查)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 11:00:00
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TARGET_KINDS = ("party_branch", "region", "grid")
TARGET_STATUSES = ("listed", "close_requested", "closed")
TARGET_ACTIONS = ("tag", "note", "milestone", "request_close", "approve_close", "refuse_close",
                  "review", "reopen")
MEETING_KINDS = ("consultation", "courtyard", "council", "other")
CHECK_METHODS = ("phone", "on_site", "list")
CHECK_RESULTS = ("confirmed", "not_confirmed", "unreachable")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def _county(table):
    op.create_index(op.f(f"ix_{table}_county_code"), table, ["county_code"])


def upgrade() -> None:
    op.create_table(
        "target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("party_branch_id", sa.Integer(), nullable=True),
        sa.Column("grid_code", sa.String(length=24), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("liaison_cadre_id", sa.Integer(), nullable=True),
        sa.Column("helping_unit_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="listed", nullable=False),
        sa.Column("tagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tagged_by", sa.Integer(), nullable=True),
        sa.Column("close_requested_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(_in("kind", TARGET_KINDS), name=op.f("ck_target_kind")),
        sa.CheckConstraint(_in("status", TARGET_STATUSES), name=op.f("ck_target_status")),
        sa.CheckConstraint("CASE kind WHEN 'party_branch' THEN party_branch_id IS NOT NULL"
                           " WHEN 'grid' THEN grid_code IS NOT NULL ELSE true END",
                           name=op.f("ck_target_target_matches_kind")),
        sa.CheckConstraint("left(region_code, 6) = county_code", name=op.f("ck_target_in_county")),
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)",
                           name=op.f("ck_target_closed_at")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_target_version")),
        _fk("target", "party_branch_id", "party_branch"),
        _fk("target", "liaison_cadre_id", "cadre"),
        _fk("target", "helping_unit_id", "unit"),
        _fk("target", "tagged_by", "app_user"),
        _fk("target", "close_requested_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target")),
        sa.UniqueConstraint("county_code", "code", name=op.f("uq_target_county_code_code")),
    )
    _county("target")
    op.create_index(op.f("ix_target_region_code"), "target", ["region_code"])
    op.create_index("ix_target_open", "target", ["county_code", "status", "due_on"])
    op.create_table(
        "target_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        _fk("target_milestone", "target_id", "target", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_milestone")),
    )
    _county("target_milestone")
    op.create_index(op.f("ix_target_milestone_target_id"), "target_milestone", ["target_id"])
    op.create_table(
        "target_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("action", TARGET_ACTIONS), name=op.f("ck_target_event_action")),
        _fk("target_event", "target_id", "target"),
        _fk("target_event", "by_user_id", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_event")),
    )
    _county("target_event")
    op.create_index("ix_target_event_target_at", "target_event", ["target_id", "at"])
    op.execute("""
        CREATE TRIGGER target_event_append_only BEFORE UPDATE OR DELETE ON target_event
        FOR EACH ROW EXECUTE FUNCTION refuse_change()
    """)
    op.execute("""
        CREATE TRIGGER target_event_no_truncate BEFORE TRUNCATE ON target_event
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
    """)
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="consultation", nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("organiser_cadre_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("attendance", sa.Integer(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint(_in("kind", MEETING_KINDS), name=op.f("ck_meeting_kind")),
        sa.CheckConstraint("attendance BETWEEN 0 AND 100000", name=op.f("ck_meeting_attendance")),
        sa.CheckConstraint("left(region_code, 6) = county_code", name=op.f("ck_meeting_in_county")),
        sa.CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name=op.f("ck_meeting_geom_valid")),
        _fk("meeting", "organiser_cadre_id", "cadre"),
        _fk("meeting", "recorded_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("county_code", "code", name=op.f("uq_meeting_county_code_code")),
    )
    _county("meeting")
    op.create_index(op.f("ix_meeting_region_code"), "meeting", ["region_code"])
    op.create_index("idx_meeting_geom", "meeting", ["geom"], postgresql_using="gist")
    op.create_index("ix_meeting_county_held", "meeting", ["county_code", "held_at"])
    op.create_table(
        "meeting_issue",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        _fk("meeting_issue", "meeting_id", "meeting", ondelete="CASCADE"),
        _fk("meeting_issue", "issue_id", "issue"),
        sa.PrimaryKeyConstraint("meeting_id", "issue_id", name=op.f("pk_meeting_issue")),
    )
    _county("meeting_issue")
    op.create_index(op.f("ix_meeting_issue_issue_id"), "meeting_issue", ["issue_id"])
    op.create_table(
        "deed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("cadre_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("cost_yuan", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("cost_yuan IS NULL OR cost_yuan >= 0", name=op.f("ck_deed_cost")),
        sa.CheckConstraint("left(region_code, 6) = county_code", name=op.f("ck_deed_in_county")),
        _fk("deed", "household_id", "household"),
        _fk("deed", "cadre_id", "cadre"),
        _fk("deed", "unit_id", "unit"),
        _fk("deed", "recorded_by", "app_user"),
        _fk("deed", "issue_id", "issue"),
        _fk("deed", "visit_id", "visit"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deed")),
        sa.UniqueConstraint("county_code", "code", name=op.f("uq_deed_county_code_code")),
    )
    _county("deed")
    op.create_index(op.f("ix_deed_region_code"), "deed", ["region_code"])
    op.create_index("ix_deed_county_done", "deed", ["county_code", "done_on"])
    op.create_table(
        "diary_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("cadre_id", sa.Integer(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint("left(region_code, 6) = county_code", name=op.f("ck_diary_entry_in_county")),
        _fk("diary_entry", "user_id", "app_user"),
        _fk("diary_entry", "cadre_id", "cadre"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entry")),
    )
    _county("diary_entry")
    op.create_index(op.f("ix_diary_entry_region_code"), "diary_entry", ["region_code"])


    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("rule", sa.String(length=24), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("due_on >= starts_on", name=op.f("ck_campaign_period")),
        sa.CheckConstraint("left(region_code, 6) = county_code", name=op.f("ck_campaign_in_county")),
        _fk("campaign", "created_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    _county("campaign")
    op.create_index(op.f("ix_campaign_region_code"), "campaign", ["region_code"])
    op.create_table(
        "campaign_household",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        _fk("campaign_household", "campaign_id", "campaign", ondelete="CASCADE"),
        _fk("campaign_household", "household_id", "household", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "household_id", name=op.f("pk_campaign_household")),
    )
    _county("campaign_household")
    op.create_index(op.f("ix_campaign_household_household_id"), "campaign_household",
                    ["household_id"])
    op.create_table(
        "visit_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("visit_id", sa.BigInteger(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_by", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("method IS NULL OR " + _in("method", CHECK_METHODS),
                           name=op.f("ck_visit_check_method")),
        sa.CheckConstraint("result IS NULL OR " + _in("result", CHECK_RESULTS),
                           name=op.f("ck_visit_check_result")),
        sa.CheckConstraint("(result IS NULL) = (checked_at IS NULL)",
                           name=op.f("ck_visit_check_checked")),
        _fk("visit_check", "visit_id", "visit", ondelete="CASCADE"),
        _fk("visit_check", "drawn_by", "app_user"),
        _fk("visit_check", "checked_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_check")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_visit_check_visit_id")),
    )
    _county("visit_check")


def downgrade() -> None:
    op.drop_table("visit_check")
    op.drop_table("campaign_household")
    op.drop_table("campaign")
    op.drop_table("diary_entry")
    op.drop_table("deed")
    op.drop_table("meeting_issue")
    op.drop_table("meeting")
    op.execute("DROP TRIGGER IF EXISTS target_event_no_truncate ON target_event")
    op.execute("DROP TRIGGER IF EXISTS target_event_append_only ON target_event")
    op.drop_table("target_event")
    op.drop_table("target_milestone")
    op.drop_table("target")
