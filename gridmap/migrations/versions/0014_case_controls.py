"""Case controls: 延期 requests (issue_extension), 督办 (issue_supervision), residents' public
forms throttled (public_attempt), and the event actions of merge and the stateless controls

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_ACTIONS = (
    "report", "triage", "acknowledge", "handle", "feed_back", "close", "reopen", "return",
    "reject", "void", "defer", "resume", "escalate", "dispatch", "rework", "resolve_on_spot",
)
NEW_ACTIONS = OLD_ACTIONS + (
    "merge", "ask_extension", "grant_extension", "deny_extension", "supervise", "remind",
    "answer", "review",
)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _actions(values) -> None:
    op.drop_constraint(op.f("ck_issue_event_action"), "issue_event", type_="check")
    op.create_check_constraint(op.f("ck_issue_event_action"), "issue_event",
                               "action IS NULL OR " + _in("action", values))


def _user(column: str, table: str):
    return sa.ForeignKeyConstraint([column], ["app_user.id"],
                                   name=op.f(f"fk_{table}_{column}_app_user"))


def upgrade() -> None:
    _actions(NEW_ACTIONS)
    op.create_table(
        "issue_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("asked_by", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("old_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(8), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("decision IS NULL OR decision IN ('granted', 'denied')",
                           name=op.f("ck_issue_extension_decision")),
        sa.CheckConstraint("new_due > old_due", name=op.f("ck_issue_extension_later")),
        sa.CheckConstraint("(decision IS NULL) = (decided_at IS NULL)",
                           name=op.f("ck_issue_extension_decided")),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"],
                                name=op.f("fk_issue_extension_issue_id_issue")),
        _user("asked_by", "issue_extension"), _user("decided_by", "issue_extension"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_extension")),
    )
    op.create_index("ix_issue_extension_county_code", "issue_extension", ["county_code"])
    op.create_index("ix_issue_extension_issue_id", "issue_extension", ["issue_id"])
    op.create_index("uq_issue_extension_open", "issue_extension", ["issue_id"], unique=True,
                    postgresql_where=sa.text("decision IS NULL"))
    op.create_table(
        "issue_supervision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("answer_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(answer IS NULL) = (answered_at IS NULL)",
                           name=op.f("ck_issue_supervision_answered")),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"],
                                name=op.f("fk_issue_supervision_issue_id_issue")),
        _user("by_user_id", "issue_supervision"), _user("answered_by", "issue_supervision"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_supervision")),
    )
    op.create_index("ix_issue_supervision_county_code", "issue_supervision", ["county_code"])
    op.create_index("ix_issue_supervision_issue_id", "issue_supervision", ["issue_id"])
    op.create_table(
        "public_attempt",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("form IN ('report', 'lookup')", name=op.f("ck_public_attempt_form")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_attempt")),
    )
    op.create_index("ix_public_attempt_county_code", "public_attempt", ["county_code"])
    op.create_index("ix_public_attempt_form_key_at", "public_attempt", ["form", "key", "at"])


def downgrade() -> None:
    op.drop_table("public_attempt")
    op.drop_table("issue_supervision")
    op.drop_table("issue_extension")
    _actions(OLD_ACTIONS)  # fails while events of the new actions exist, as it should
