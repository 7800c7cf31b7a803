"""The migrations build exactly the schema the models describe (no drift either way)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gridmap.models import Base


def _ours(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "spatial_ref_sys")


def test_migrated_schema_matches_the_models(connection):
    context = MigrationContext.configure(
        connection, opts={"include_object": _ours, "compare_type": True})
    assert compare_metadata(context, Base.metadata) == []
