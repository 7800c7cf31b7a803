"""per-token request windows (throttling the APIs per API token) and partial indexes of the
households still on the register, which every scoped household query reads

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 13:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_token", sa.Column("window_started_at", sa.DateTime(timezone=True),
                                         nullable=True))
    op.add_column("api_token", sa.Column("window_requests", sa.Integer(), server_default="0",
                                         nullable=False))
    # A village's or township's households (code prefix) were a sequential scan of every
    # county's households: LIKE 'prefix%' uses a btree only with pattern ops (or the C collation).
    op.create_index("ix_household_active_village", "household", ["county_code", "village_code"],
                    postgresql_ops={"village_code": "varchar_pattern_ops"},
                    postgresql_where=sa.text("status = 'active'"))


def downgrade() -> None:
    op.drop_index("ix_household_active_village", table_name="household")
    op.drop_column("api_token", "window_requests")
    op.drop_column("api_token", "window_started_at")
