"""The role × action table and the view decorator's bookkeeping (no database)."""

import pytest

from gridmap import policy
from gridmap.models import ROLES
from gridmap.web import guard


def test_every_role_in_the_table_is_a_real_role():
    for action, (description, roles) in policy.ACTIONS.items():
        assert roles <= set(ROLES), action
        assert roles, f"{action} is allowed to nobody"
        assert description


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_sign_in_and_see_the_map(role):
    assert policy.allowed(role, "signed_in")
    assert policy.allowed(role, "view_map")


@pytest.mark.parametrize(("role", "action", "expected"), [
    ("grid_worker", "log_visit", True),
    ("grid_worker", "report_issue", True),
    ("grid_worker", "triage_issue", False),
    # a grid worker reports; the 村委会's staff handle at village level, so 延期 is theirs to ask
    ("grid_worker", "handle_issue", False),
    ("village_staff", "handle_issue", True),
    ("grid_worker", "manage_users", False),
    ("cadre", "unmask_personal_data", True),
    ("unit_handler", "handle_issue", True),
    ("unit_handler", "triage_issue", False),
    ("unit_handler", "callback_issue", False),
    ("cadre", "callback_issue", True),
    ("township_staff", "callback_issue", True),
    ("leader", "callback_issue", False),
    ("unit_handler", "view_households", False),
    ("village_staff", "triage_issue", True),
    ("township_staff", "export_detail", True),
    ("leader", "export_aggregate", True),
    ("leader", "export_detail", False),
    ("leader", "unmask_personal_data", False),
    ("inspector", "export_detail", True),
    ("inspector", "unmask_personal_data", False),
    ("admin", "manage_users", True),
    ("admin", "import_data", True),
    ("township_staff", "import_data", True),
    ("village_staff", "import_data", False),
    ("leader", "import_data", False),
    ("admin", "manage_settings", True),
    ("admin", "manage_categories", True),
    ("township_staff", "manage_categories", False),
    ("leader", "manage_categories", False),
    ("admin", "view_households", False),
    ("inspector", "read_audit", True),
    ("admin", "read_audit", True),
    ("leader", "read_audit", False),
    ("township_staff", "read_audit", False),
    ("grid_worker", "read_audit", False),
    ("leader", "view_metrics", True),
    ("unit_handler", "view_metrics", True),
    ("grid_worker", "view_metrics", False),
    # follow-through ledgers: the office tags and closes out, the field records, leaders read
    ("township_staff", "manage_targets", True),
    ("leader", "manage_targets", True),
    ("village_staff", "manage_targets", False),
    ("village_staff", "work_on_target", True),
    ("grid_worker", "view_ledgers", False),
    ("grid_worker", "keep_ledgers", True),
    ("grid_worker", "record_ledger", True),
    ("leader", "record_ledger", False),
    ("leader", "view_dashboard", True),
    ("unit_handler", "view_dashboard", False),
    ("inspector", "check_visits", True),
    ("leader", "check_visits", False),
    ("township_staff", "run_campaigns", True),
    ("village_staff", "run_campaigns", False),
    # keeping the register true: township and village offices; people and handover: township
    ("village_staff", "edit_households", True),
    ("township_staff", "edit_households", True),
    ("grid_worker", "edit_households", False),
    ("leader", "edit_households", False),
    ("township_staff", "manage_people", True),
    ("village_staff", "manage_people", False),
    ("township_staff", "edit_grids", True),
    ("admin", "edit_grids", True),
    ("village_staff", "edit_grids", False),
    ("leader", "edit_grids", False),
])
def test_role_action_table(role, action, expected):
    assert policy.allowed(role, action) is expected


def test_only_admins_manage_users_and_settings():
    assert {r for r in ROLES if policy.allowed(r, "manage_users")} == {"admin"}
    assert {r for r in ROLES if policy.allowed(r, "manage_settings")} == {"admin"}


def test_unknown_action_is_refused_where_the_view_is_decorated():
    with pytest.raises(policy.PolicyError, match="add it to gridmap.policy.ACTIONS"):
        guard.requires("launch_rockets")


def test_decorator_marks_the_view_with_its_action():
    @guard.requires("view_map")
    def some_view():
        """Docs survive."""

    assert getattr(some_view, guard.GUARD_ATTRIBUTE) == "view_map"
    assert some_view.__name__ == "some_view"
    assert some_view.__doc__ == "Docs survive."


def test_actions_of_a_role():
    assert "manage_users" in policy.actions_of("admin")
    assert "manage_users" not in policy.actions_of("leader")


@pytest.mark.parametrize(("role", "scope_code", "expected"), [
    ("leader", "532329104", policy.Scope("532329", region_code="532329")),
    ("grid_worker", "532329104201001", policy.Scope("532329", region_code="532329104201001")),
    ("township_staff", "532329104", policy.Scope("532329", region_code="532329104")),
])
def test_scope_of_a_user(role, scope_code, expected):
    class User:
        pass

    user = User()
    user.role, user.county_code, user.scope_code, user.cadre_id, user.unit_id = (
        role, "532329", scope_code, None, None)
    assert policy.Scope.of_user(user) == expected
