"""region codes over time: official full names, the NBS urban-rural class of villages, and the
record of code changes (撤乡设镇, mergers) that imports apply

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-01 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None

URBAN_RURAL_CLASSES = ("111", "112", "121", "122", "123", "210", "220")
REGION_CODE = r"^[0-9]{6}([0-9]{3}){0,2}$"


def upgrade() -> None:
    op.add_column("region", sa.Column("full_name", sa.Text(), nullable=True))
    op.add_column("region", sa.Column("urban_rural_code", sa.String(length=3), nullable=True))
    classes = ", ".join(repr(c) for c in URBAN_RURAL_CLASSES)
    op.create_check_constraint(op.f("ck_region_urban_rural_code"), "region",
                               f"urban_rural_code IS NULL OR (level = 'village' AND urban_rural_code IN ({classes}))")
    op.create_table(
        "region_code_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("old_code", sa.String(length=12), nullable=False),
        sa.Column("new_code", sa.String(length=12), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"old_code ~ '{REGION_CODE}' AND new_code ~ '{REGION_CODE}'",
                           name=op.f("ck_region_code_change_code_format")),
        sa.CheckConstraint("length(old_code) = length(new_code) AND old_code <> new_code",
                           name=op.f("ck_region_code_change_same_level")),
        sa.CheckConstraint("left(old_code, 6) = county_code AND left(new_code, 6) = county_code",
                           name=op.f("ck_region_code_change_in_county")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_code_change")),
        sa.UniqueConstraint("county_code", "old_code", name=op.f("uq_region_code_change_county_code_old_code")),
    )
    op.create_index(op.f("ix_region_code_change_county_code"), "region_code_change", ["county_code"])
    op.create_index(op.f("ix_region_code_change_new_code"), "region_code_change", ["new_code"])


def downgrade() -> None:
    op.drop_table("region_code_change")
    op.drop_constraint(op.f("ck_region_urban_rural_code"), "region", type_="check")
    op.drop_column("region", "urban_rural_code")
    op.drop_column("region", "full_name")
