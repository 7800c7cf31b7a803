"""coverage fact kept where it changes: the households with no current 包户 cadre

The `household` gap rule (a household with no current 包户 assignment) anti-joined all
300,000 households of a county to their assignments on every legend count and gap layer
(0.3–0.5 s under load). Whether a household has a current 包户 assignment changes only when
an assignment of it is written or the household is inserted or changes county: statement-level
triggers keep the households without one in `household_unassigned`, whatever path writes.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-01 21:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# A current 包户 assignment of household `h` in its own county (the rule's `_assigned`).
ASSIGNED = """EXISTS (SELECT 1 FROM assignment a WHERE a.household_id = h.id
                      AND a.kind = 'household' AND a.county_code = h.county_code
                      AND a.valid_to IS NULL)"""


def _keep(touched_sql: str) -> str:
    """One statement: test the households whose ids `touched_sql` selects (as `household_id`),
    then keep the answers. The deleted and the inserted rows are disjoint (one statement may
    not touch a row twice); a household that changed county has its row's county updated."""
    return f"""
      WITH touched AS MATERIALIZED (
             SELECT h.id, h.county_code, {ASSIGNED} AS assigned
             FROM household h
             WHERE h.id IN (SELECT t.household_id FROM ({touched_sql}) t)),
      gone AS (DELETE FROM household_unassigned k USING touched t
               WHERE k.household_id = t.id AND t.assigned)
      INSERT INTO household_unassigned (county_code, household_id)
      SELECT t.county_code, t.id FROM touched t WHERE NOT t.assigned
      ON CONFLICT (household_id) DO UPDATE SET county_code = EXCLUDED.county_code
      WHERE household_unassigned.county_code <> EXCLUDED.county_code;"""


# Inserted households have no assignment yet (an assignment refers to an existing one); an
# updated household is tested again only when its county changed. Deleted households take
# their row with them (ON DELETE CASCADE).
HOUSEHOLDS_CHANGED = f"""
    CREATE FUNCTION household_unassigned_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO household_unassigned (county_code, household_id)
        SELECT h.county_code, h.id FROM new_household h
        ON CONFLICT (household_id) DO NOTHING;
      ELSE
        {_keep('''SELECT n.id AS household_id FROM old_household o
                  JOIN new_household n ON n.id = o.id
                  WHERE o.county_code IS DISTINCT FROM n.county_code''')}
      END IF;
      RETURN NULL;
    END $$"""

# Assignments inserted, deleted or changed: the households they name, before and after.
ASSIGNMENTS_CHANGED = f"""
    CREATE FUNCTION assignment_unassigned_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        {_keep("SELECT household_id FROM new_assignment WHERE kind = 'household'")}
      ELSIF TG_OP = 'DELETE' THEN
        {_keep("SELECT household_id FROM old_assignment WHERE kind = 'household'")}
      ELSE
        {_keep('''SELECT x.household_id FROM old_assignment o
                  JOIN new_assignment n ON n.id = o.id
                  CROSS JOIN LATERAL (VALUES (o.household_id), (n.household_id)) AS x(household_id)
                  WHERE (o.kind = 'household' OR n.kind = 'household')
                    AND (o.kind, o.county_code, o.household_id, o.valid_to)
                        IS DISTINCT FROM (n.kind, n.county_code, n.household_id, n.valid_to)''')}
      END IF;
      RETURN NULL;
    END $$"""

TRIGGERS = (("household", "household_unassigned_changed", ("INSERT", "UPDATE")),
            ("assignment", "assignment_unassigned_changed", ("INSERT", "UPDATE", "DELETE")))
REFERENCING = {"INSERT": "NEW TABLE AS new_{rows}",
               "UPDATE": "OLD TABLE AS old_{rows} NEW TABLE AS new_{rows}",
               "DELETE": "OLD TABLE AS old_{rows}"}


def upgrade() -> None:
    op.create_table(
        "household_unassigned",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE",
                                name=op.f("fk_household_unassigned_household_id_household")),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_unassigned")),
    )
    op.create_index("ix_household_unassigned_county", "household_unassigned",
                    ["county_code", "household_id"])
    op.execute(HOUSEHOLDS_CHANGED)
    op.execute(ASSIGNMENTS_CHANGED)
    for table, function, events in TRIGGERS:
        for event in events:
            op.execute(f"CREATE TRIGGER {table}_unassigned_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {REFERENCING[event].format(rows=table)} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    # What is already stored.
    op.execute(f"""
        INSERT INTO household_unassigned (county_code, household_id)
        SELECT h.county_code, h.id FROM household h WHERE NOT {ASSIGNED}""")


def downgrade() -> None:
    for table, function, events in TRIGGERS:
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_unassigned_{event.lower()} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_household_unassigned_county", table_name="household_unassigned")
    op.drop_table("household_unassigned")
