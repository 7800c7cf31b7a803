"""why a visit is due: which care flags were added; whose 回访 a callback is; which event
a photo of an issue came with

`household.care_flags_added` names the care flags turned on since the household's last visit
(the trigger that stamps `care_flags_changed_at` now also records which flags; a second flag
turned on before anyone visits joins the first), so the due list says "新增关怀标记：空巢/独居".

`callback.reporter_issue_id` is the issue whose reporter a 回访 reached: the survivor of a
合并 owes the feedback to the reporters of the duplicates merged into it too; NULL is the
issue's own reporter. The metrics count one valid callback per reporter; such a 回访 is the
event `merged_callback` on the survivor's timeline.

`issue_photo.event_id` is the event a photo came with (the report, the 办结, the 结案): the
timeline shows it there. Photos stored before this migration have none (shown with the report).

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-01 13:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None

FLAGS = ("minimum_living", "extreme_poverty", "relapse_monitoring", "left_behind_children",
         "left_behind_women", "left_behind_elderly", "elderly_alone")
TURNED_ON = [(flag, f"NEW.{flag} AND NOT OLD.{flag}") for flag in FLAGS] + [
    ("disability", "NEW.disability_grade <= 2 AND (OLD.disability_grade IS NULL"
                   " OR OLD.disability_grade > 2)")]
OLD_ACTIONS = (
    "report", "triage", "acknowledge", "handle", "feed_back", "close", "reopen", "return",
    "reject", "void", "defer", "resume", "escalate", "dispatch", "rework", "resolve_on_spot",
    "merge", "ask_extension", "grant_extension", "deny_extension", "supervise", "remind",
    "answer", "review",
)
NEW_ACTIONS = OLD_ACTIONS + ("merged_callback",)
OLD_CONDITION = " OR ".join(f"({condition})" for _flag, condition in TURNED_ON)


def _actions(values) -> None:
    op.drop_constraint(op.f("ck_issue_event_action"), "issue_event", type_="check")
    op.create_check_constraint(op.f("ck_issue_event_action"), "issue_event",
                               "action IS NULL OR action IN (" + ", ".join(repr(v) for v in values) + ")")


def _function(body: str) -> None:
    op.execute(f"""
        CREATE OR REPLACE FUNCTION household_care_added() RETURNS trigger LANGUAGE plpgsql AS $$
        {body}
        $$""")


def upgrade() -> None:
    op.add_column("household", sa.Column("care_flags_added", postgresql.ARRAY(sa.Text()),
                                         nullable=True))
    checks = "\n".join(f"  IF {condition} THEN added := added || '{flag}'::text; END IF;"
                       for flag, condition in TURNED_ON)
    _function(f"""
        DECLARE added text[] := ARRAY[]::text[];
        BEGIN
        {checks}
          IF cardinality(added) > 0 THEN
            -- flags added earlier and not yet visited stay named beside the new ones
            IF OLD.care_flags_changed_at IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM visit WHERE visit.county_code = NEW.county_code
                  AND visit.household_id = NEW.id
                  AND visit.visited_at >= OLD.care_flags_changed_at) THEN
              added := ARRAY(SELECT DISTINCT f FROM unnest(
                coalesce(OLD.care_flags_added, ARRAY[]::text[]) || added) AS f ORDER BY f);
            END IF;
            NEW.care_flags_added := added;
            NEW.care_flags_changed_at := now();
          END IF;
          RETURN NEW;
        END""")
    _actions(NEW_ACTIONS)
    op.add_column("callback", sa.Column("reporter_issue_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_callback_reporter_issue_id_issue"), "callback", "issue",
                          ["reporter_issue_id"], ["id"])
    op.add_column("issue_photo", sa.Column("event_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_issue_photo_event_id_issue_event"), "issue_photo",
                          "issue_event", ["event_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("fk_issue_photo_event_id_issue_event"), "issue_photo",
                       type_="foreignkey")
    op.drop_column("issue_photo", "event_id")
    op.drop_constraint(op.f("fk_callback_reporter_issue_id_issue"), "callback", type_="foreignkey")
    op.drop_column("callback", "reporter_issue_id")
    _actions(OLD_ACTIONS)  # fails while merged_callback events exist, as it should
    _function(f"""
        BEGIN
          IF {OLD_CONDITION} THEN
            NEW.care_flags_changed_at := now();
          END IF;
          RETURN NEW;
        END""")
    op.drop_column("household", "care_flags_added")
