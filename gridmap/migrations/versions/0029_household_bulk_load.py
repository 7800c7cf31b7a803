"""bulk loading households: a large import may drop `household`'s secondary indexes inside its
own transaction and rebuild them before it commits (as pg_restore does)

Maintaining nine indexes row by row (two trigram GINs, a GiST, six btrees) cost an import of a
county's 300,000 households about three times what the inserts did; building them once over
the loaded table costs a fraction of that. Only the owner may drop an index, and the app's
role is not the owner, so two SECURITY DEFINER functions do it for the app, and take no SQL
from it:

* `household_indexes_drop()` drops every index of `household` that backs no constraint (the
  primary key and the unique (county_code, code) key stay: ON CONFLICT needs it) and keeps
  each definition in `bulk_load.dropped_index`, a table in a schema the app cannot reach;
* `household_indexes_rebuild()` creates them again from there and clears the rows.

A deferred constraint trigger refuses a COMMIT while a dropped definition is still kept, so
no transaction can commit `household` without its indexes; a rollback (a dry run, a refused
import) restores them with everything else, as DDL in PostgreSQL is transactional.

DROP INDEX takes an ACCESS EXCLUSIVE lock on `household` until the transaction ends: readers
of households wait for the import to finish. gridmap.importers.bulk says when that is worth it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01 20:10:00
"""
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA bulk_load")
    op.execute("""
        CREATE TABLE bulk_load.dropped_index (
            table_name text NOT NULL,
            index_name text NOT NULL,
            definition text NOT NULL,
            PRIMARY KEY (table_name, index_name))""")
    op.execute("""
        CREATE FUNCTION bulk_load.refuse_commit_without_indexes() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM bulk_load.dropped_index
                     WHERE table_name = NEW.table_name AND index_name = NEW.index_name) THEN
            RAISE EXCEPTION 'index % of % was dropped for a bulk load and not rebuilt',
              NEW.index_name, NEW.table_name;
          END IF;
          RETURN NULL;
        END $$""")
    op.execute("""
        CREATE CONSTRAINT TRIGGER dropped_index_rebuilt_before_commit
        AFTER INSERT ON bulk_load.dropped_index DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION bulk_load.refuse_commit_without_indexes()""")
    op.execute("""
        CREATE FUNCTION household_indexes_drop() RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
          found record;
          dropped integer := 0;
        BEGIN
          FOR found IN
            SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'public.household'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname
          LOOP
            INSERT INTO bulk_load.dropped_index VALUES ('household', found.name, found.definition);
            EXECUTE format('DROP INDEX public.%I', found.name);
            dropped := dropped + 1;
          END LOOP;
          RETURN dropped;
        END $$""")
    op.execute("""
        CREATE FUNCTION household_indexes_rebuild() RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
          found record;
          built integer := 0;
        BEGIN
          FOR found IN
            DELETE FROM bulk_load.dropped_index WHERE table_name = 'household'
            RETURNING index_name, definition
          LOOP
            EXECUTE found.definition;
            built := built + 1;
          END LOOP;
          RETURN built;
        END $$""")


def downgrade() -> None:
    op.execute("DROP FUNCTION household_indexes_rebuild()")
    op.execute("DROP FUNCTION household_indexes_drop()")
    op.execute("DROP SCHEMA bulk_load CASCADE")
