def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_create_and_list_customer(api, url, create_customer):
    user = create_customer(email="Asha@Example.com", first_name="Asha")
    assert user["emails"][0]["email"] == "asha@example.com"
    listed = api.get(url("customers/list")).json()
    assert listed["page"]["item_total"] == 1
    assert listed["items"][0]["_id"] == user["_id"]
