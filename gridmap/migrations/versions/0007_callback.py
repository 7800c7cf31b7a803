"""callback (回访) as its own append-only record: channel, reached, answers, by whom, when

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 05:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHANNELS = ("phone", "visit", "sms", "in_person", "online")
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "callback",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("contacted_in_time", sa.Boolean(), nullable=True),
        sa.Column("solved", sa.Boolean(), nullable=True),
        sa.Column("satisfaction", sa.String(length=24), nullable=True),
        sa.Column("unreached_reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("by_cadre_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(_in("channel", CHANNELS), name=op.f("ck_callback_channel")),
        sa.CheckConstraint("satisfaction IS NULL OR " + _in("satisfaction", SATISFACTION),
                           name=op.f("ck_callback_satisfaction")),
        sa.CheckConstraint("CASE WHEN reached THEN contacted_in_time IS NOT NULL AND solved IS NOT NULL"
                           " AND satisfaction IS NOT NULL ELSE satisfaction IS NULL"
                           " AND unreached_reason IS NOT NULL END",
                           name=op.f("ck_callback_answers_match_reached")),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"], name=op.f("fk_callback_issue_id_issue")),
        sa.ForeignKeyConstraint(["by_user_id"], ["app_user.id"],
                                name=op.f("fk_callback_by_user_id_app_user")),
        sa.ForeignKeyConstraint(["by_cadre_id"], ["cadre.id"],
                                name=op.f("fk_callback_by_cadre_id_cadre")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_callback_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback")),
    )
    op.create_index(op.f("ix_callback_county_code"), "callback", ["county_code"])
    op.create_index("ix_callback_issue_at", "callback", ["issue_id", "at"])
    # A ledger like issue_event: no UPDATE, no DELETE, no TRUNCATE, whoever asks.
    op.execute("""
        CREATE TRIGGER callback_append_only BEFORE UPDATE OR DELETE ON callback
        FOR EACH ROW EXECUTE FUNCTION refuse_change()
    """)
    op.execute("""
        CREATE TRIGGER callback_no_truncate BEFORE TRUNCATE ON callback
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS callback_no_truncate ON callback")
    op.execute("DROP TRIGGER IF EXISTS callback_append_only ON callback")
    op.drop_index("ix_callback_issue_at", table_name="callback")
    op.drop_index(op.f("ix_callback_county_code"), table_name="callback")
    op.drop_table("callback")
