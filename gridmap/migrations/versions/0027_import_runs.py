"""import runs: a browser upload's dry run (or commit) worked in the background, with its
state, progress and report, so a large file never runs inside a request

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 17:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("upload_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("commit", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'interrupted')",
                           name=op.f("ck_import_run_state")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_import_run_user_id_app_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
        sa.UniqueConstraint("upload_id", name=op.f("uq_import_run_upload_id")),
    )
    op.create_index(op.f("ix_import_run_county_code"), "import_run", ["county_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_import_run_county_code"), table_name="import_run")
    op.drop_table("import_run")
