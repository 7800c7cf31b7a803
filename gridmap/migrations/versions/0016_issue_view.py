"""Who last opened which issue (issue_view): the unread count of a user's tasks; the audit
log's guard lets its owner prune rows past the retention (`gridmap audit prune`), nobody else

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_view",
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("seen_event_id", sa.BigInteger(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_issue_view_user_id_app_user")),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"],
                                name=op.f("fk_issue_view_issue_id_issue")),
        sa.PrimaryKeyConstraint("user_id", "issue_id", name=op.f("pk_issue_view")),
    )
    op.create_index("ix_issue_view_county_code", "issue_view", ["county_code"])
    op.create_index("ix_issue_view_issue_id", "issue_view", ["issue_id"])
    # The audit log stays append-only, except that a DELETE of rows older than the cut-off the
    # prune command sets (transaction-local) passes, and only when that cut-off is at least 180
    # days back (网络安全法 第二十一条). Only the owner role has DELETE on the table at all.
    op.execute("""
        CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            cutoff timestamptz := nullif(current_setting('gridmap.audit_prune_before', true), '');
        BEGIN
            IF TG_OP = 'DELETE' AND cutoff IS NOT NULL AND cutoff <= now() - interval '180 days'
               AND OLD.at < cutoff THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END $$
    """)
    op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
    op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event"
               " FOR EACH ROW EXECUTE FUNCTION audit_event_guard()")


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
    op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event"
               " FOR EACH ROW EXECUTE FUNCTION refuse_change()")
    op.execute("DROP FUNCTION audit_event_guard()")
    op.drop_table("issue_view")
