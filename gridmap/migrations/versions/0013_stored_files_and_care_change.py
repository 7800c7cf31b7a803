"""stored files (photos) and their links to visits and issues; when a care flag was added

`stored_file` is one stored photo: its content hash (the name under GRIDMAP_FILES_DIR), type,
size, pixel size, when and where it was taken (read from EXIF, which is then stripped), who
uploaded it. `visit_photo` and `issue_photo` link files to what they show; a file is served
only to a user whose scope holds a visit or issue it is linked to (gridmap.files).

`household.care_flags_changed_at` is when a care flag was last turned on (a trigger sets it,
whichever writer changed the row): a visit is due at once after it (gridmap.coverage.due_at).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-01 10:45:00
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

CARE_TURNED_ON = " OR ".join(
    f"(NEW.{flag} AND NOT OLD.{flag})" for flag in (
        "minimum_living", "extreme_poverty", "relapse_monitoring", "left_behind_children",
        "left_behind_women", "left_behind_elderly", "elderly_alone")
) + (" OR (NEW.disability_grade <= 2 AND (OLD.disability_grade IS NULL"
     " OR OLD.disability_grade > 2))")


def _link(table: str, owner: str, owner_type) -> None:
    op.create_table(
        table,
        sa.Column(f"{owner}_id", owner_type, nullable=False),
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint([f"{owner}_id"], [f"{owner}.id"], ondelete="CASCADE",
                                name=op.f(f"fk_{table}_{owner}_id_{owner}")),
        sa.ForeignKeyConstraint(["file_id"], ["stored_file.id"],
                                name=op.f(f"fk_{table}_file_id_stored_file")),
        sa.ForeignKeyConstraint(["added_by"], ["app_user.id"],
                                name=op.f(f"fk_{table}_added_by_app_user")),
        sa.PrimaryKeyConstraint(f"{owner}_id", "file_id", name=op.f(f"pk_{table}")),
    )
    op.create_index(f"ix_{table}_county_code", table, ["county_code"])
    op.create_index(f"ix_{table}_file_id", table, ["file_id"])


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mime", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("geom", geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326,
                                                     spatial_index=False), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_stored_file_sha256_hex")),
        sa.CheckConstraint("mime IN ('image/jpeg', 'image/png', 'image/webp')",
                           name=op.f("ck_stored_file_mime")),
        sa.CheckConstraint("size_bytes > 0 AND width > 0 AND height > 0",
                           name=op.f("ck_stored_file_sizes")),
        sa.CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name=op.f("ck_stored_file_geom_valid")),
        sa.ForeignKeyConstraint(["uploaded_by"], ["app_user.id"],
                                name=op.f("fk_stored_file_uploaded_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
        sa.UniqueConstraint("county_code", "sha256", name=op.f("uq_stored_file_county_code_sha256")),
    )
    op.create_index("ix_stored_file_county_code", "stored_file", ["county_code"])
    op.create_index("idx_stored_file_geom", "stored_file", ["geom"], postgresql_using="gist")
    _link("visit_photo", "visit", sa.BigInteger())
    _link("issue_photo", "issue", sa.Integer())

    op.add_column("household", sa.Column("care_flags_changed_at", sa.DateTime(timezone=True),
                                         nullable=True))
    op.execute(f"""
        CREATE FUNCTION household_care_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF {CARE_TURNED_ON} THEN
            NEW.care_flags_changed_at := now();
          END IF;
          RETURN NEW;
        END $$""")
    op.execute("""
        CREATE TRIGGER household_care_added BEFORE UPDATE ON household
        FOR EACH ROW EXECUTE FUNCTION household_care_added()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS household_care_added ON household")
    op.execute("DROP FUNCTION IF EXISTS household_care_added()")
    op.drop_column("household", "care_flags_changed_at")
    op.drop_table("issue_photo")
    op.drop_table("visit_photo")
    op.drop_table("stored_file")
