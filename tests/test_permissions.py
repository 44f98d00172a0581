"""Every staff and admin page checks the role on the server: anonymous → login, other roles → 403."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blueprints.core.extensions import db
from blueprints.core.models import ROLES, User
from blueprints.registry.models import Deputy

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")  # conftest: an empty flask.g per request

STAFF_URLS = ["/registry/deputies/", "/registry/groups/", "/registry/stations/", "/registry/units/",
              "/registry/areas/", "/audit/"]
ADMIN_URLS = ["/admin/users/", "/admin/users/new"]
OTHER_ROLES = ["deputy", "liaison", "unit", "clerk", "leader"]


def expected_status(url: str, role: str) -> int:
    if role in OTHER_ROLES:
        return 403
    if role == "staff":
        return 200 if url in STAFF_URLS else 403
    return 200  # admin


def test_every_role_is_covered():
    assert set(OTHER_ROLES) | {"staff", "admin"} == set(ROLES)


@pytest.mark.parametrize("url", STAFF_URLS + ADMIN_URLS)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login")
    assert "next=" in location
    follow = client.get(location)
    assert "请先登录" in follow.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", STAFF_URLS + ADMIN_URLS)
def test_role_may_or_may_not_open_the_page(client, auth, make_user, url, role):
    make_user(role)
    assert auth.login(role).status_code == 302
    response = client.get(url)
    expected = expected_status(url, role)
    assert response.status_code == expected, f"{role} {url}"
    if expected == 403:
        assert "没有权限" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", OTHER_ROLES + ["staff"])
@pytest.mark.parametrize(("url", "data"), [
    ("/admin/users/new", {"username": "intruder", "display_name": "x", "role": "admin", "station_id": 0,
                          "unit_id": 0, "password": "a long enough passphrase"}),
])
def test_posting_to_admin_pages_is_refused_and_changes_nothing(client, auth, make_user, url, data, role):
    make_user(role)
    auth.login(role)
    assert client.post(url, data=data).status_code == 403
    assert db.session.scalar(select(User).where(User.username == "intruder")) is None


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_posting_to_staff_pages_is_refused_and_changes_nothing(client, auth, make_user, role):
    make_user(role)
    auth.login(role)
    before = db.session.scalar(select(func.count()).select_from(Deputy))
    response = client.post("/registry/deputies/new", data={"name": "越权", "level": "county", "gender": "",
                                                           "area_id": 0, "station_id": 0, "group_id": 0})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Deputy)) == before


def test_anonymous_post_to_a_staff_page_is_sent_to_login(client):
    response = client.post("/registry/deputies/new", data={"name": "匿名", "level": "county"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", ["/", "/login", "/healthz"])
def test_public_pages_are_open_to_anonymous(client, url):
    assert client.get(url).status_code == 200
