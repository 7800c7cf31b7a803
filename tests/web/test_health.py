def test_healthz_reports_postgis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] is True
    assert body["postgis"].startswith("3.")
