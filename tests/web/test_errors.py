"""Hostile or mistaken requests get a clear answer, never a 500 from deep inside."""

import pytest


@pytest.mark.parametrize(("login", "password"), [
    ("a\x00b", "secret"),
    ("leader", "pass\x00word"),
])
def test_nul_characters_in_a_form_are_refused_at_the_door(client, login, password):
    response = client.post("/sign-in", data={"login": login, "password": password})
    assert response.status_code == 400
    assert "空字符" in response.get_data(as_text=True)


def test_nul_in_a_query_string_is_refused_as_json_by_a_json_blueprint(client):
    response = client.get("/map/grids.geojson?q=a%00b")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "bad_request", "field": "q",
        "message": "字段 q 含有不可见的空字符（NUL），请删除后重新输入。"}


def test_a_core_refusal_keeps_its_status_and_message(app, client):
    from gridmap.errors import Conflict, _

    @app.route("/conflict")
    def conflict():
        raise Conflict(_("该事项已被他人更新，请刷新后重试。"), field="version")

    response = client.get("/conflict")
    assert response.status_code == 409
    assert "已被他人更新" in response.get_data(as_text=True)


@pytest.mark.parametrize(("login", "password"), [
    ("x" * 10_000, "secret"),
    ("leader", "p" * 100_000),
    ("' OR 1=1 --", "x"),
    ("<script>alert(1)</script>", "x"),
])
def test_oversized_or_hostile_credentials_get_the_sign_in_page_back(client, login, password):
    response = client.post("/sign-in", data={"login": login, "password": password})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body


def test_unknown_page_says_what_to_do(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "请从首页重新进入" in response.get_data(as_text=True)


def test_too_large_a_body_is_refused_with_a_message(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/sign-in", data={"login": "x" * 4096, "password": "y"})
    assert response.status_code == 413
    assert "太大" in response.get_data(as_text=True)


def test_an_unexpected_error_is_a_calm_page_not_a_traceback(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("internal detail")

    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "internal detail" not in body and "系统出错了" in body
