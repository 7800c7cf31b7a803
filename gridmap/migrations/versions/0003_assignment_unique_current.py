"""one current assignment per duty; status_changed_at defaults to now

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_assignment_current", "assignment",
        ["county_code", "kind", "cadre_id", "unit_id", "region_code", "area_id", "grid_code",
         "party_branch_id", "household_id"],
        unique=True, postgresql_nulls_not_distinct=True,
        postgresql_where=sa.text("valid_to IS NULL"))
    op.alter_column("issue", "status_changed_at", server_default=sa.text("now()"))


def downgrade() -> None:
    op.alter_column("issue", "status_changed_at", server_default=None)
    op.drop_index("uq_assignment_current", table_name="assignment")
