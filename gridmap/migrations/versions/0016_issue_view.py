"""Who last opened which issue (issue_view): the unread count of a user's tasks

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-01 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_view",
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("seen_event_id", sa.BigInteger(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_issue_view_user_id_app_user")),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"],
                                name=op.f("fk_issue_view_issue_id_issue")),
        sa.PrimaryKeyConstraint("user_id", "issue_id", name=op.f("pk_issue_view")),
    )
    op.create_index("ix_issue_view_county_code", "issue_view", ["county_code"])
    op.create_index("ix_issue_view_issue_id", "issue_view", ["issue_id"])


def downgrade() -> None:
    op.drop_table("issue_view")
