"""visits name the account that recorded them; an index for each household's last visit

`visit.user_id` is the signed-in user who recorded the visit (a grid worker has no cadre
row, so `cadre_id` alone could not say who it was). `ix_visit_county_household_at` lets
the due rule read a household's last visit from the index (county first: a county's
rules never read another county's visits).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("visit", sa.Column("user_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_visit_user_id_app_user"), "visit", "app_user",
                          ["user_id"], ["id"])
    op.create_index("ix_visit_user_id", "visit", ["user_id"])
    op.create_index("ix_visit_county_household_at", "visit",
                    ["county_code", "household_id", "visited_at"])


def downgrade() -> None:
    op.drop_index("ix_visit_county_household_at", table_name="visit")
    op.drop_index("ix_visit_user_id", table_name="visit")
    op.drop_constraint(op.f("fk_visit_user_id_app_user"), "visit", type_="foreignkey")
    op.drop_column("visit", "user_id")
