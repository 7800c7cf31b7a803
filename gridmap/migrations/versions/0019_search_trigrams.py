"""search: trigram indexes for a part of a household head's name or address and of an issue's
title (gridmap.search matches substrings: Chinese names have no word boundaries)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 13:45:00
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = (("ix_household_head_name_trgm", "household", "head_name"),
           ("ix_household_address_trgm", "household", "address"),
           ("ix_issue_title_trgm", "issue", "title"))


def upgrade() -> None:
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
