"""household_visit_state written at a statement's cost on a first load, not a row's

A county's first load inserts 300,000 households, and 0034's statement trigger writes one row
of `household_visit_state` for each active one. Its foreign key to `household` checked each
of those rows on its own (an index look-up and a row lock of the household just inserted):
the same per-row work 0036 took out of `household_unassigned`. The rows are written by
triggers only, from households of the same statement (or updated ones, which exist), so the
key could never refuse one. What the key still did, ON DELETE CASCADE, is now an AFTER
DELETE statement trigger on `household` over the deleted rows (`household` cannot be
truncated: its ledger `household_change` refuses it).

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-02 00:00:00
"""
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_household_visit_state_household_id_household"

HOUSEHOLDS_GONE = """
    CREATE FUNCTION household_visit_state_gone() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM household_visit_state k USING old_household o WHERE k.household_id = o.id;
      RETURN NULL;
    END $$"""


def upgrade() -> None:
    op.drop_constraint(FOREIGN_KEY, "household_visit_state", type_="foreignkey")
    op.execute(HOUSEHOLDS_GONE)
    op.execute("CREATE TRIGGER household_visit_state_delete AFTER DELETE ON household "
               "REFERENCING OLD TABLE AS old_household FOR EACH STATEMENT "
               "EXECUTE FUNCTION household_visit_state_gone()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS household_visit_state_delete ON household")
    op.execute("DROP FUNCTION IF EXISTS household_visit_state_gone()")
    op.create_foreign_key(FOREIGN_KEY, "household_visit_state", "household", ["household_id"], ["id"],
                          ondelete="CASCADE")
