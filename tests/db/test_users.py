"""Accounts: `create_user` / `reset_password` and `gridmap users ...` on a real database."""

import pytest
from sqlalchemy import func, select

from gridmap.models import AppUser, Cadre, Grid, Region, Unit
from gridmap.users import (
    InvalidOption,
    NoSuchUser,
    check_password,
    create_user,
    reset_password,
    users_cli,
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
    (("x y", "leader", "532329"), {}, "LOGIN: 'x y' must be 2–64 letters"),
    (("boss", "boss", "532329"), {}, "--role: 'boss' is not a role; use one of grid_worker"),
    (("l", "leader", "532329"), {}, "LOGIN: 'l' must be 2–64"),
    (("lead", "leader", "5323"), {}, "--region: '5323' is not a county (6 digits)"),
    (("lead", "leader", "532329104"), {}, "--region: a leader is scoped to a county code, and '532329104' is a township code"),
    (("gw", "grid_worker", "532329104201"), {}, "a grid_worker is scoped to a grid code"),
    (("lead", "leader", "530681"), {}, "--region: no current county with code '530681' in the database"),
    (("gw", "grid_worker", "532329104201009"), {}, "no current grid with code '532329104201009'"),
    (("handler", "unit_handler", "532329"), {}, "--unit: a unit_handler needs the code of the unit"),
    (("handler", "unit_handler", "532329"), {"unit": "U-NONE"}, "--unit: no unit with code 'U-NONE' in county 532329"),
    (("wangwu", "cadre", "532329"), {}, "--cadre: a cadre account needs the cadre's code"),
    (("wangwu", "cadre", "532329"), {"cadre": "C-9"}, "--cadre: no cadre with code 'C-9'"),
])
def test_bad_options_are_named_and_nothing_is_written(db, county, args, kwargs, message):
    with pytest.raises(InvalidOption) as error:
        create_user(db, *args, PASSWORD, **kwargs)
    assert message in str(error.value)
    assert users(db) == 0


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 8 characters"),
    (" padded password ", "starts or ends with a space"),
])
def test_weak_passwords_are_refused(db, county, password, message):
    with pytest.raises(InvalidOption, match=message):
        create_user(db, "lead", "leader", "532329", password)
    assert users(db) == 0


def test_a_login_differing_only_by_case_is_taken(db, county):
    create_user(db, "lead", "leader", "532329", PASSWORD)
    with pytest.raises(InvalidOption, match="an account 'lead' already exists"):
        create_user(db, "LEAD", "inspector", "532329", PASSWORD)
    assert users(db) == 1


def test_reset_password_replaces_the_hash(db, county):
    create_user(db, "lead", "leader", "532329", PASSWORD)
    user = reset_password(db, "Lead", "a new password")
    assert check_password(user.password_hash, "a new password")
    assert not check_password(user.password_hash, PASSWORD)


def test_reset_password_of_nobody_or_too_short_is_refused(db, county):
    with pytest.raises(NoSuchUser, match="no account 'ghost'"):
        reset_password(db, "ghost", PASSWORD)
    create_user(db, "lead", "leader", "532329", PASSWORD)
    with pytest.raises(InvalidOption, match="at least 8"):
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
    (["create", "lead", "--role", "leader", "--region", "532329", "--password-stdin"], "", "at least 8 characters"),
    (["create", "lead", "--role", "chief", "--region", "532329", "--password-stdin"], PASSWORD, "--role: 'chief' is not a role"),
    (["create", "lead", "--region", "532329", "--password-stdin"], PASSWORD, "Missing option '--role'"),
    (["create", "lead", "--role", "leader", "--region", "99", "--password-stdin"], PASSWORD, "--region: '99' is not a county"),
    (["create", "handler", "--role", "unit_handler", "--region", "532329", "--unit", "NOPE", "--password-stdin"], PASSWORD, "--unit: no unit with code 'NOPE'"),
    (["reset-password", "ghost", "--password-stdin"], PASSWORD, "no account 'ghost'"),
])
def test_cli_refuses_bad_input_clearly_and_writes_nothing(runner, db, county, args, stdin, message):
    result = runner.invoke(users_cli, args, input=stdin + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert users(db) == 0
