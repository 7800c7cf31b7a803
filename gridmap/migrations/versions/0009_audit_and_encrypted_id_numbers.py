"""audit log (audit_event, append-only), ID numbers encrypted at rest, one-time passwords

`audit_event` is a ledger: the application's role may only read and append it
(gridmap.migrate.grant_app_role, models.LEDGER_TABLES) and the same trigger as issue_event's
refuses UPDATE, DELETE and TRUNCATE to anyone. household.id_number becomes ciphertext
(gridmap.datakey, AES-SIV with the key in var/data.key or GRIDMAP_DATA_KEY); the numbers
already stored are encrypted here, and a CHECK refuses a plain number from any path.
app_user.must_change_password marks a one-time password (the first administrator's).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.CheckConstraint("action ~ '^[a-z_]{2,32}$'", name=op.f("ck_audit_event_action_format")),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"],
                                name=op.f("fk_audit_event_actor_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_county_code"), "audit_event", ["county_code"])
    op.create_index(op.f("ix_audit_event_actor_id"), "audit_event", ["actor_id"])
    op.create_index(op.f("ix_audit_event_action"), "audit_event", ["action"])
    op.create_index("ix_audit_event_county_at", "audit_event", ["county_code", "at"])
    op.execute("""
        CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION refuse_change()
    """)
    op.execute("""
        CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
    """)

    op.add_column("app_user", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                        server_default="false"))
    op.alter_column("household", "id_number", type_=sa.Text(), existing_type=sa.String(18))
    _rewrite_id_numbers(encrypt=True)
    op.create_check_constraint(op.f("ck_household_id_number_encrypted"), "household",
                               "id_number IS NULL OR id_number LIKE 'v1:%'")


def _rewrite_id_numbers(encrypt: bool) -> None:
    """Encrypt (or decrypt) every stored ID number, in batches, through the data key."""
    from psycopg2.extras import execute_values

    from gridmap.datakey import decrypt_id_number, encrypt_id_number

    convert = encrypt_id_number if encrypt else decrypt_id_number
    condition = "NOT LIKE 'v1:%'" if encrypt else "LIKE 'v1:%'"
    raw = op.get_bind().connection.dbapi_connection
    with raw.cursor() as read, raw.cursor() as write:
        read.execute(f"SELECT id, id_number FROM household WHERE id_number {condition}")
        while rows := read.fetchmany(BATCH):
            execute_values(write, "UPDATE household SET id_number = v.value"
                           " FROM (VALUES %s) AS v(id, value) WHERE household.id = v.id",
                           [(row_id, convert(value)) for row_id, value in rows])


def downgrade() -> None:
    op.drop_constraint(op.f("ck_household_id_number_encrypted"), "household", type_="check")
    _rewrite_id_numbers(encrypt=False)
    op.alter_column("household", "id_number", type_=sa.String(18), existing_type=sa.Text())
    op.drop_column("app_user", "must_change_password")
    op.drop_table("audit_event")
