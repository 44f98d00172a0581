def test_home_page_is_public_and_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "代表履职服务平台" in response.get_data(as_text=True)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_staff_logs_in_and_sees_the_roster(client, auth, users, make_deputy):
    make_deputy(name="李四", level="township")
    assert auth.login("staff").status_code == 302
    page = client.get("/registry/deputies/").get_data(as_text=True)
    assert "李四" in page
