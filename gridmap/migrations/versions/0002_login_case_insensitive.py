"""logins are unique regardless of case

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:40:00
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX uq_app_user_login_lower ON app_user (lower(login))")


def downgrade() -> None:
    op.execute("DROP INDEX uq_app_user_login_lower")
