"""issue categories and ownership per county; events record action, actor cadre, unit, due

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EVENT_ACTIONS = (
    "report", "triage", "acknowledge", "handle", "feed_back", "close", "reopen", "return",
    "reject", "void", "defer", "resume", "escalate", "dispatch", "rework", "resolve_on_spot",
)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "issue_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("appeal_type", sa.String(length=16), nullable=False),
        sa.Column("triage_hours", sa.Integer(), nullable=False),
        sa.Column("urgent_triage_hours", sa.Integer(), nullable=False),
        sa.Column("handling_days", sa.Integer(), nullable=False),
        sa.Column("feedback_days", sa.Integer(), nullable=False),
        sa.CheckConstraint(_in("appeal_type", ("inquiry", "help", "complaint", "tip_off", "suggestion")),
                           name=op.f("ck_issue_category_appeal_type")),
        sa.CheckConstraint("triage_hours > 0 AND urgent_triage_hours > 0 AND handling_days > 0"
                           " AND feedback_days > 0", name=op.f("ck_issue_category_limits_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_category")),
        sa.UniqueConstraint("county_code", "code", name=op.f("uq_issue_category_county_code_code")),
    )
    op.create_index(op.f("ix_issue_category_county_code"), "issue_category", ["county_code"])
    op.create_table(
        "issue_ownership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("region_code ~ '^[0-9]{6}([0-9]{3}){0,2}$' AND left(region_code, 6) = county_code",
                           name=op.f("ck_issue_ownership_region_in_county")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_issue_ownership_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_ownership")),
        sa.UniqueConstraint("county_code", "category_code", "region_code",
                            name=op.f("uq_issue_ownership_county_code_category_code_region_code")),
    )
    op.create_index(op.f("ix_issue_ownership_county_code"), "issue_ownership", ["county_code"])
    op.create_index(op.f("ix_issue_ownership_unit_id"), "issue_ownership", ["unit_id"])

    op.add_column("issue", sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("issue", sa.Column("no_callback_reason", sa.Text(), nullable=True))
    op.add_column("issue_event", sa.Column("action", sa.String(length=16), nullable=True))
    op.add_column("issue_event", sa.Column("actor_cadre_id", sa.Integer(), nullable=True))
    op.add_column("issue_event", sa.Column("unit_id", sa.Integer(), nullable=True))
    op.add_column("issue_event", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(op.f("ck_issue_event_action"), "issue_event",
                               "action IS NULL OR " + _in("action", EVENT_ACTIONS))
    op.create_foreign_key(op.f("fk_issue_event_actor_cadre_id_cadre"), "issue_event", "cadre",
                          ["actor_cadre_id"], ["id"])
    op.create_foreign_key(op.f("fk_issue_event_unit_id_unit"), "issue_event", "unit",
                          ["unit_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("fk_issue_event_unit_id_unit"), "issue_event", type_="foreignkey")
    op.drop_constraint(op.f("fk_issue_event_actor_cadre_id_cadre"), "issue_event", type_="foreignkey")
    op.drop_constraint(op.f("ck_issue_event_action"), "issue_event", type_="check")
    for column in ("due_at", "unit_id", "actor_cadre_id", "action"):
        op.drop_column("issue_event", column)
    op.drop_column("issue", "no_callback_reason")
    op.drop_column("issue", "acknowledged_at")
    op.drop_index(op.f("ix_issue_ownership_unit_id"), table_name="issue_ownership")
    op.drop_index(op.f("ix_issue_ownership_county_code"), table_name="issue_ownership")
    op.drop_table("issue_ownership")
    op.drop_index(op.f("ix_issue_category_county_code"), table_name="issue_category")
    op.drop_table("issue_category")
