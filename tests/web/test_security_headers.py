"""Headers that close the browser's doors; HTTPS, proxy and trusted-host settings; bodies
that a parser chokes on answer 400, never 500."""

from __future__ import annotations

import pytest

from gridmap import create_app


def test_every_page_carries_the_security_headers(client):
    response = client.get("/sign-in")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "geolocation=(self)" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain 127.0.0.1 by default


def test_the_map_script_carries_the_requests_nonce(client, auth):
    auth.as_role("leader", "532329")
    response = client.get("/")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.get_data(as_text=True)
    again = client.get("/").headers["Content-Security-Policy"]
    assert nonce not in again  # a new nonce for every response


def test_a_basemap_host_is_allowed_for_images(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t",
                      "GRIDMAP_BASEMAP": "http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png"})
    csp = app.test_client().get("/sign-in").headers["Content-Security-Policy"]
    assert "img-src 'self' data: http://10.0.0.5:8080" in csp
    app.extensions["gridmap.engine"].dispose()


def test_behind_an_https_proxy_cookies_are_secure_and_the_client_address_is_real(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "GRIDMAP_HTTPS": True,
                      "GRIDMAP_PROXY_HOPS": 1, "WTF_CSRF_ENABLED": False})
    seen = {}

    @app.route("/whoami")
    def whoami():
        from flask import request

        seen.update(address=request.remote_addr, scheme=request.scheme)
        return "ok"

    client = app.test_client()
    response = client.get("/whoami", headers={"X-Forwarded-For": "10.1.2.3",
                                              "X-Forwarded-Proto": "https"})
    assert seen == {"address": "10.1.2.3", "scheme": "https"}
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    app.extensions["gridmap.engine"].dispose()


def test_only_trusted_hosts_are_answered(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t",
                      "GRIDMAP_TRUSTED_HOSTS": ("gridmap.example.cn",)})
    client = app.test_client()
    assert client.get("/sign-in", headers={"Host": "gridmap.example.cn"}).status_code == 200
    assert client.get("/sign-in", headers={"Host": "evil.example"}).status_code == 400
    app.extensions["gridmap.engine"].dispose()


@pytest.mark.parametrize(("body", "content_type"), [
    (b"--x\r\nContent-Disposition: form-data; name=\"login\"; filename=\"a.txt\"\r\n\r\nabc\r\n--x--\r\n",
     "multipart/form-data; boundary=x"),
    (b"--x\r\nContent-Disposition: form-data; name=\"login\"\r\n\r\nabc", "multipart/form-data; boundary=x"),
    (b"garbage", "multipart/form-data"),
    (b"\xff\xfe=\xff", "application/x-www-form-urlencoded"),
])
def test_malformed_form_bodies_get_400_not_500(client, body, content_type):
    response = client.post("/sign-in", data=body, content_type=content_type)
    assert response.status_code in (200, 400), response.status_code


def test_a_broken_chunked_body_gets_400_not_500(client):
    response = client.post("/sign-in", data=b"zz\r\nabc", content_type="application/x-www-form-urlencoded",
                           headers={"Transfer-Encoding": "chunked"})
    assert response.status_code in (200, 400)
