"""coverage fact kept where it changes: what the `visit` rule reads of each active household

The legend's `visit` count (/map/gaps.json) joined all 300,000 households of a county to
their last visits and to the running campaigns and worked out each one's due time on every
request (0.4–0.9 s at county scale: most of the leaders' map page). The rule reads only a
household's place, its care flags, when a flag was last turned on and its last visit; those
change only where households or last visits are written, so statement-level triggers keep
them in `household_visit_state`, one row per active household, whatever path writes (the
tablet, the importers and the bulk load, a region code change, plain SQL):

* `care_mask`: bit i set when the household has the i-th care flag of
  gridmap.coverage.CARE_FLAGS (a test checks the order). The county's intervals are settings
  a caller passes, so the rule groups the masks by their interval and asks, per interval, for
  the households last visited before now less it: index range scans over the due households.
* triggers on `household`: a household inserted active gets its row, never visited (a visit
  names an existing household); one updated has its row rewritten (or removed when it
  leaves the register) when its county, village, grid, status, care flags or care change
  time changed; a deleted one takes its row with it (ON DELETE CASCADE). A county's first
  load of 300,000 households writes 300,000 rows here: about 1–2 s, mostly the primary key
  and the due index (the bulk load drops only household's own indexes).
* the last visit is written only by the trigger on `household_last_visit` (which triggers on
  `visit` keep, migration 0026), so a household edited while a visit is logged keeps both.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-01 23:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

# gridmap.coverage.CARE_FLAGS in order, as conditions on a household row `{h}`: bit i of the
# mask is the i-th.
CARE_BITS = ("{h}.extreme_poverty", "{h}.minimum_living", "{h}.relapse_monitoring",
             "{h}.elderly_alone", "{h}.left_behind_children", "{h}.left_behind_women",
             "{h}.left_behind_elderly", "coalesce({h}.disability_grade <= 2, false)")


def care_mask(h: str) -> str:
    """SQL: the care mask of household row `h` (<< and | bind alike: each term bracketed)."""
    return "(" + " | ".join(f"(({bit.format(h=h)})::int << {i})"
                            for i, bit in enumerate(CARE_BITS)) + ")::smallint"


COLUMNS = "household_id, county_code, village_code, grid_code, care_mask, care_flags_changed_at"
# The kept columns of household row `h`, in COLUMNS' order.
OWN = "{h}.id, {h}.county_code, {h}.village_code, {h}.grid_code, {mask}, {h}.care_flags_changed_at"


def _own(h: str) -> str:
    return OWN.format(h=h, mask=care_mask(h))


HOUSEHOLDS_CHANGED = f"""
    CREATE FUNCTION household_visit_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        -- no visit can name a household before the statement that inserts it has ended
        INSERT INTO household_visit_state ({COLUMNS})
        SELECT {_own("n")} FROM new_household n WHERE n.status = 'active';
      ELSE
        WITH changed AS MATERIALIZED (
               SELECT n.* FROM old_household o JOIN new_household n ON n.id = o.id
               WHERE ({_own("o")}, o.status) IS DISTINCT FROM ({_own("n")}, n.status)),
        gone AS (DELETE FROM household_visit_state k USING changed c
                 WHERE k.household_id = c.id AND c.status <> 'active')
        INSERT INTO household_visit_state AS k ({COLUMNS}, last_visited_at)
        SELECT {_own("c")}, l.visited_at
        FROM changed c LEFT JOIN household_last_visit l ON l.household_id = c.id
        WHERE c.status = 'active'
        ORDER BY c.id
        ON CONFLICT (household_id) DO UPDATE
          SET county_code = excluded.county_code, village_code = excluded.village_code,
              grid_code = excluded.grid_code, care_mask = excluded.care_mask,
              care_flags_changed_at = excluded.care_flags_changed_at;
      END IF;
      RETURN NULL;
    END $$"""

# household_last_visit written (a visit logged, corrected or deleted): its households' rows.
LAST_VISIT_CHANGED = """
    CREATE FUNCTION last_visit_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        UPDATE household_visit_state k SET last_visited_at = NULL
        FROM old_last o WHERE k.household_id = o.household_id;
      ELSE
        UPDATE household_visit_state k SET last_visited_at = n.visited_at
        FROM new_last n WHERE k.household_id = n.household_id
          AND k.last_visited_at IS DISTINCT FROM n.visited_at;
      END IF;
      RETURN NULL;
    END $$"""

REFERENCING = {"INSERT": "NEW TABLE AS new_{rows}",
               "UPDATE": "OLD TABLE AS old_{rows} NEW TABLE AS new_{rows}",
               "DELETE": "OLD TABLE AS old_{rows}"}
TRIGGERS = (("household", "household_visit_state_changed", "household", ("INSERT", "UPDATE")),
            ("household_last_visit", "last_visit_state_changed", "last",
             ("INSERT", "UPDATE", "DELETE")))
INCLUDED = ["care_flags_changed_at", "household_id", "village_code", "grid_code"]


def upgrade() -> None:
    op.create_table(
        "household_visit_state",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("grid_code", sa.String(length=24), nullable=True),
        sa.Column("care_mask", sa.SmallInteger(), nullable=False),
        sa.Column("care_flags_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE",
                                name=op.f("fk_household_visit_state_household_id_household")),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_visit_state")),
    )
    op.execute(HOUSEHOLDS_CHANGED)
    op.execute(LAST_VISIT_CHANGED)
    for table, function, rows, events in TRIGGERS:
        for event in events:
            op.execute(f"CREATE TRIGGER {table}_visit_state_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {REFERENCING[event].format(rows=rows)} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    # What is already stored (the indexes are built over it afterwards: one sort each).
    op.execute(f"""
        INSERT INTO household_visit_state ({COLUMNS}, last_visited_at)
        SELECT {_own("h")}, l.visited_at
        FROM household h LEFT JOIN household_last_visit l ON l.household_id = h.id
        WHERE h.status = 'active'""")
    op.create_index("ix_household_visit_state_due", "household_visit_state",
                    ["county_code", "care_mask", "last_visited_at"], postgresql_include=INCLUDED)
    op.create_index("ix_household_visit_state_care", "household_visit_state", ["county_code"],
                    postgresql_include=INCLUDED,
                    postgresql_where=sa.text("care_flags_changed_at > last_visited_at"))
    # Statistics now, not when autovacuum comes by: without them the planner guesses a few
    # hundred rows per mask and reads the county's whole range instead of the due ones.
    op.execute("ANALYZE household_visit_state")


def downgrade() -> None:
    for table, function, _rows, events in TRIGGERS:
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_visit_state_{event.lower()} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_household_visit_state_care", table_name="household_visit_state")
    op.drop_index("ix_household_visit_state_due", table_name="household_visit_state")
    op.drop_table("household_visit_state")
