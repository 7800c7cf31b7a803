"""kept facts of inserted households at a statement's cost, not a row's

A county's first load inserts 300,000 households, and the statement triggers keeping the
facts of migrations 0030 and 0033 did per-row work for each of them:

* `household_unassigned` (every new household is first without a 包户 cadre): its foreign
  key to `household` checked each inserted row on its own (a look-up and a row lock of the
  household just inserted), and ON CONFLICT DO NOTHING made each insert speculative; together
  most of the fact's cost to an import. The rows are written by triggers only, from
  households of the same statement, so the key could never refuse one and a new household's
  id (from the sequence) is never there already. What the key still did, ON DELETE CASCADE,
  is now an AFTER DELETE statement trigger on `household` over the deleted rows (`household`
  cannot be truncated: its ledger `household_change` refuses it). An insert that did meet a
  stored id would fail loudly (the primary key), never be lost.
* `household_outside_grid`: each inserted household's own grid was looked up by an index
  probe; now one hash join of the statement's households to the current grids (a code is
  current in at most one grid), in the statement's order, so a run of households of one
  grid tests its shape prepared once.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-01 23:10:00
"""
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_household_unassigned_household_id_household"

HOUSEHOLDS_GONE = """
    CREATE FUNCTION household_unassigned_gone() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM household_unassigned k USING old_household o WHERE k.household_id = o.id;
      RETURN NULL;
    END $$"""

# 0033's function, the inserted households' rows written plainly.
UNASSIGNED_CHANGED = """
    CREATE OR REPLACE FUNCTION household_unassigned_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO household_unassigned (county_code, household_id)
        SELECT h.county_code, h.id FROM new_household h{conflict};
      ELSE
        WITH touched AS MATERIALIZED (
               SELECT h.id, h.county_code,
                      EXISTS (SELECT 1 FROM assignment a WHERE a.household_id = h.id
                              AND a.kind = 'household' AND a.county_code = h.county_code
                              AND a.valid_to IS NULL) AS assigned
               FROM household h
               WHERE h.id IN (SELECT n.id FROM old_household o JOIN new_household n ON n.id = o.id
                              WHERE o.county_code IS DISTINCT FROM n.county_code)),
        gone AS (DELETE FROM household_unassigned k USING touched t
                 WHERE k.household_id = t.id AND t.assigned)
        INSERT INTO household_unassigned (county_code, household_id)
        SELECT t.county_code, t.id FROM touched t WHERE NOT t.assigned
        ON CONFLICT (household_id) DO UPDATE SET county_code = EXCLUDED.county_code
        WHERE household_unassigned.county_code <> EXCLUDED.county_code;
      END IF;
      RETURN NULL;
    END $$"""

# 0030's rule on an inserted household `h`: no grid code, or a point its own current grid (by
# code: `g`, joined) does not cover; a grid with no shape tests nothing.
OUTSIDE_JOINED = """(h.grid_code IS NULL OR (h.geom IS NOT NULL
      AND (g.id IS NULL OR (g.geom IS NOT NULL AND NOT ST_Covers(g.geom, h.geom)))))"""
OUTSIDE_PROBED = """(h.grid_code IS NULL OR (h.geom IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM grid g WHERE g.county_code = h.county_code AND g.code = h.grid_code
        AND g.valid_to IS NULL AND (g.geom IS NULL OR ST_Covers(g.geom, h.geom)))))"""
OUTSIDE_CHANGED = """
    CREATE OR REPLACE FUNCTION household_outside_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO household_outside_grid (county_code, household_id)
        SELECT h.county_code, h.id FROM new_household h {inserted}
        ON CONFLICT (household_id) DO NOTHING;
      ELSE
        WITH tested AS MATERIALIZED (
               SELECT h.id, h.county_code, {outside} AS outside
               FROM old_household o JOIN new_household h ON h.id = o.id
               WHERE (o.county_code, o.grid_code, ST_AsEWKB(o.geom))
                     IS DISTINCT FROM (h.county_code, h.grid_code, ST_AsEWKB(h.geom))),
        gone AS (DELETE FROM household_outside_grid k USING tested t
                 WHERE k.household_id = t.id AND NOT t.outside)
        INSERT INTO household_outside_grid (county_code, household_id)
        SELECT t.county_code, t.id FROM tested t WHERE t.outside
        ON CONFLICT (household_id) DO NOTHING;
      END IF;
      RETURN NULL;
    END $$"""
JOINED = f"""LEFT JOIN grid g ON g.county_code = h.county_code AND g.code = h.grid_code
                                                   AND g.valid_to IS NULL
        WHERE {OUTSIDE_JOINED}"""


def upgrade() -> None:
    op.drop_constraint(FOREIGN_KEY, "household_unassigned", type_="foreignkey")
    op.execute(HOUSEHOLDS_GONE)
    op.execute("CREATE TRIGGER household_unassigned_delete AFTER DELETE ON household "
               "REFERENCING OLD TABLE AS old_household FOR EACH STATEMENT "
               "EXECUTE FUNCTION household_unassigned_gone()")
    op.execute(UNASSIGNED_CHANGED.format(conflict=""))
    op.execute(OUTSIDE_CHANGED.format(inserted=JOINED, outside=OUTSIDE_PROBED))


def downgrade() -> None:
    op.execute(OUTSIDE_CHANGED.format(inserted=f"WHERE {OUTSIDE_PROBED}", outside=OUTSIDE_PROBED))
    op.execute(UNASSIGNED_CHANGED.format(conflict="\n        ON CONFLICT (household_id) DO NOTHING"))
    op.execute("DROP TRIGGER IF EXISTS household_unassigned_delete ON household")
    op.execute("DROP FUNCTION IF EXISTS household_unassigned_gone()")
    op.create_foreign_key(FOREIGN_KEY, "household_unassigned", "household", ["household_id"], ["id"],
                          ondelete="CASCADE")
