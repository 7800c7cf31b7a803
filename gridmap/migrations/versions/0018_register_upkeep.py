"""register upkeep: a household's status (active, moved out, deceased) and the append-only
history of every change to it; cadres and units that can be deactivated

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 11:20:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

STATUSES = ("active", "moved_out", "deceased")
ACTIONS = ("create", "edit", "move", "split", "moved_out", "deceased", "reactivate")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.add_column("household", sa.Column("status", sa.String(length=16), server_default="active",
                                         nullable=False))
    op.add_column("household", sa.Column("left_on", sa.Date(), nullable=True))
    op.create_check_constraint(op.f("ck_household_status"), "household", _in("status", STATUSES))
    op.create_check_constraint(op.f("ck_household_left_on"), "household",
                               "(status = 'active') = (left_on IS NULL)")
    op.add_column("cadre", sa.Column("active", sa.Boolean(), server_default="true", nullable=False))
    op.add_column("unit", sa.Column("active", sa.Boolean(), server_default="true", nullable=False))
    op.create_table(
        "household_change",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("action", ACTIONS), name=op.f("ck_household_change_action")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE",
                                name=op.f("fk_household_change_household_id_household")),
        sa.ForeignKeyConstraint(["by_user_id"], ["app_user.id"],
                                name=op.f("fk_household_change_by_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_change")),
    )
    op.create_index(op.f("ix_household_change_county_code"), "household_change", ["county_code"])
    op.create_index("ix_household_change_household_at", "household_change", ["household_id", "at"])
    op.execute("""
        CREATE TRIGGER household_change_append_only BEFORE UPDATE OR DELETE ON household_change
        FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION refuse_change()
    """)
    op.execute("""
        CREATE TRIGGER household_change_no_truncate BEFORE TRUNCATE ON household_change
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS household_change_no_truncate ON household_change")
    op.execute("DROP TRIGGER IF EXISTS household_change_append_only ON household_change")
    op.drop_index("ix_household_change_household_at", table_name="household_change")
    op.drop_index(op.f("ix_household_change_county_code"), table_name="household_change")
    op.drop_table("household_change")
    op.drop_column("unit", "active")
    op.drop_column("cadre", "active")
    op.drop_constraint(op.f("ck_household_left_on"), "household", type_="check")
    op.drop_constraint(op.f("ck_household_status"), "household", type_="check")
    op.drop_column("household", "left_on")
    op.drop_column("household", "status")
