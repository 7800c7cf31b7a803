"""household search without trigram indexes: neither was used, and a county's first load
rebuilt both

`ix_household_head_name_trgm` and `ix_household_address_trgm` (0019) were meant for
gridmap.search, but no search of households reads them. The search by name is an OR with a
code prefix and a phone tail, ordered by code and limited: PostgreSQL answers it by the
(county_code, code) key at every scope (a county of 300,000 households: 80 ms with the index
and without it, the plan the same). The search by address is open only to the roles that visit
(grid workers, village staff, cadres: a grid, a village, their paired households), where the
scope's own index leaves a few thousand rows at most (the largest village, 6,453 households:
3.8 ms with the trigram index, 4.9 ms without). Meanwhile every household write kept them up,
and a county's first load rebuilt them (about 2 s of its 10: two thirds of the rebuild).
`ix_issue_title_trgm` stays: issue titles are searched county-wide by their words.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-02 03:00:00
"""
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

INDEXES = (("ix_household_head_name_trgm", "head_name"), ("ix_household_address_trgm", "address"))


def upgrade() -> None:
    for name, _column in INDEXES:
        op.drop_index(name, table_name="household")


def downgrade() -> None:
    for name, column in INDEXES:
        op.create_index(name, "household", [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})
