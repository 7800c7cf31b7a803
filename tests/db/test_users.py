"""Accounts: `create_user` / `reset_password` and `gridmap users ...` on a real database."""

import pytest
from sqlalchemy import func, select

from gridmap.cli.users import group as users_cli
from gridmap.models import AppUser, Cadre, Grid, Region, Unit
from gridmap.users import (
    InvalidOption,
    NoSuchUser,
    check_password,
    create_user,
    reset_password,
)

PASSWORD = "correct horse"


@pytest.fixture
def county(db):
    db.add_all([
        Region(county_code="532329", code="532329", level="county", name="武定县"),
        Region(county_code="532329", code="532329104", level="township", name="插甸镇",
               parent_code="532329"),
        Region(county_code="532329", code="532329104201", level="village", name="插甸村",
               parent_code="532329104"),
        Grid(county_code="532329", code="532329104201001", village_code="532329104201", name="一网格"),
        Unit(county_code="532329", code="U-WATER", name="县水务局", kind="agency"),
        Cadre(county_code="532329", code="C-0001", name="王五"),
    ])
    db.flush()


def users(db):
    return db.execute(select(func.count()).select_from(AppUser)).scalar_one()


def test_a_grid_worker_is_created_in_the_grid_s_county(db, county):
    user = create_user(db, "Wang.Li", "grid_worker", "532329104201001", PASSWORD, name="王丽")
    assert (user.login, user.county_code, user.scope_code) == ("wang.li", "532329", "532329104201001")
    assert check_password(user.password_hash, PASSWORD)
    assert PASSWORD not in user.password_hash


def test_cadre_and_unit_handler_are_linked_by_code(db, county):
    cadre = create_user(db, "wangwu", "cadre", "532329", PASSWORD, cadre="C-0001")
    handler = create_user(db, "water", "unit_handler", "532329", PASSWORD, unit="U-WATER")
    assert cadre.cadre_id is not None and handler.unit_id is not None


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("x y", "leader", "532329"), {}, ("login", "'x y' 应为 2–64 个字母")),
    (("boss", "boss", "532329"), {}, ("role", "'boss' 不是角色；可用：grid_worker")),
    (("l", "leader", "532329"), {}, ("login", "'l' 应为 2–64")),
    (("lead", "leader", "5323"), {}, ("region", "'5323' 不是县（6 位）")),
    (("lead", "leader", "532329104"), {}, ("region", "leader 的范围应是 county 代码，而 '532329104' 是 township 代码")),
    (("gw", "grid_worker", "532329104201"), {}, ("region", "grid_worker 的范围应是 grid 代码")),
    (("lead", "leader", "530681"), {}, ("region", "数据库中没有代码为 '530681' 的现行county")),
    (("gw", "grid_worker", "532329104201009"), {}, ("region", "没有代码为 '532329104201009' 的现行grid")),
    (("handler", "unit_handler", "532329"), {}, ("unit", "承办单位账号需要其单位的代码")),
    (("handler", "unit_handler", "532329"), {"unit": "U-NONE"}, ("unit", "县 532329 没有代码为 'U-NONE' 的单位")),
    (("wangwu", "cadre", "532329"), {}, ("cadre", "包户干部账号需要干部代码")),
    (("wangwu", "cadre", "532329"), {"cadre": "C-9"}, ("cadre", "没有代码为 'C-9' 的干部")),
])
def test_bad_options_are_named_and_nothing_is_written(db, county, args, kwargs, message):
    field, text = message
    with pytest.raises(InvalidOption) as error:
        create_user(db, *args, PASSWORD, **kwargs)
    assert error.value.field == field and error.value.status == 422
    assert text in str(error.value.message)
    assert users(db) == 0


@pytest.mark.parametrize(("password", "message"), [
    ("short", "密码至少要 8 个字符"),
    (" padded password ", "开头或结尾有空格"),
])
def test_weak_passwords_are_refused(db, county, password, message):
    with pytest.raises(InvalidOption, match=message):
        create_user(db, "lead", "leader", "532329", password)
    assert users(db) == 0


def test_a_login_differing_only_by_case_is_taken(db, county):
    create_user(db, "lead", "leader", "532329", PASSWORD)
    with pytest.raises(InvalidOption, match="账号 'lead' 已存在"):
        create_user(db, "LEAD", "inspector", "532329", PASSWORD)
    assert users(db) == 1


def test_reset_password_replaces_the_hash(db, county):
    create_user(db, "lead", "leader", "532329", PASSWORD)
    user = reset_password(db, "Lead", "a new password")
    assert check_password(user.password_hash, "a new password")
    assert not check_password(user.password_hash, PASSWORD)


def test_reset_password_of_nobody_or_too_short_is_refused(db, county):
    with pytest.raises(NoSuchUser, match="没有账号 'ghost'"):
        reset_password(db, "ghost", PASSWORD)
    create_user(db, "lead", "leader", "532329", PASSWORD)
    with pytest.raises(InvalidOption, match="至少要 8"):
        reset_password(db, "lead", "short")


def test_cli_creates_a_user_from_stdin(runner, db, county):
    result = runner.invoke(users_cli, [
        "create", "wangli", "--role", "grid_worker", "--region", "532329104201001",
        "--name", "王丽", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created wangli (grid_worker, scope 532329104201001)" in result.output
    user = db.scalars(select(AppUser)).one()
    assert user.display_name == "王丽"
    assert check_password(user.password_hash, PASSWORD)


def test_cli_resets_a_password_from_stdin(runner, db, county):
    create_user(db, "lead", "leader", "532329", PASSWORD)
    result = runner.invoke(users_cli, ["reset-password", "lead", "--password-stdin"],
                           input="another password\r\n")
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert check_password(db.scalars(select(AppUser)).one().password_hash, "another password")


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["create", "lead", "--role", "leader", "--region", "532329"], PASSWORD, "give --password-stdin"),
    (["create", "lead", "--role", "leader", "--region", "532329", "--password-stdin"], "", "--password-stdin: 密码至少要 8 个字符"),
    (["create", "lead", "--role", "chief", "--region", "532329", "--password-stdin"], PASSWORD, "--role: 'chief' 不是角色"),
    (["create", "lead", "--region", "532329", "--password-stdin"], PASSWORD, "Missing option '--role'"),
    (["create", "lead", "--role", "leader", "--region", "99", "--password-stdin"], PASSWORD, "--region: '99' 不是县"),
    (["create", "handler", "--role", "unit_handler", "--region", "532329", "--unit", "NOPE", "--password-stdin"], PASSWORD, "--unit: 县 532329 没有代码为 'NOPE' 的单位"),
    (["reset-password", "ghost", "--password-stdin"], PASSWORD, "LOGIN: 没有账号 'ghost'"),
])
def test_cli_refuses_bad_input_clearly_and_writes_nothing(runner, db, county, args, stdin, message):
    result = runner.invoke(users_cli, args, input=stdin + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert users(db) == 0


def test_cli_speaks_english_when_asked(runner, db, county, monkeypatch):
    monkeypatch.setenv("GRIDMAP_LOCALE", "en")
    result = runner.invoke(users_cli, ["create", "lead", "--role", "chief", "--region", "532329",
                                       "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code != 0
    assert "--role: 'chief' is not a role" in result.output


def test_cli_lists_disables_enables_and_changes_roles(runner, db, county):
    create_user(db, "lead", "leader", "532329", PASSWORD)
    assert runner.invoke(users_cli, ["disable", "lead"]).output.strip() == "disabled lead"
    listed = runner.invoke(users_cli, ["list"]).output
    assert "lead\tleader\t532329\tdisabled" in listed
    assert runner.invoke(users_cli, ["enable", "LEAD"]).exit_code == 0
    result = runner.invoke(users_cli, ["set-role", "lead", "--role", "inspector", "--region", "532329"])
    assert result.exit_code == 0, result.output
    user = db.scalars(select(AppUser)).one()
    assert (user.role, user.active, user.session_generation) == ("inspector", True, 4)
    refused = runner.invoke(users_cli, ["set-role", "lead", "--role", "grid_worker", "--region", "532329"])
    assert refused.exit_code != 0 and "--region: grid_worker 的范围应是 grid 代码" in refused.output
    assert runner.invoke(users_cli, ["disable", "ghost"]).exit_code != 0
