"""sessions that end (app_user.session_generation) and sign-in throttling (sign_in_failure)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 03:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("session_generation", sa.Integer(), nullable=False,
                                        server_default="1"))
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index("ix_sign_in_failure_county_code", "sign_in_failure", ["county_code"])
    op.create_index("ix_sign_in_failure_login_at", "sign_in_failure", ["login", "at"])
    op.create_index("ix_sign_in_failure_address_at", "sign_in_failure", ["address", "at"])


def downgrade() -> None:
    op.drop_table("sign_in_failure")
    op.drop_column("app_user", "session_generation")
