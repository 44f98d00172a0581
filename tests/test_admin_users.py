"""User administration by the system administrator: create, change role, reset password, disable."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from blueprints.core import accounts
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")  # conftest: an empty flask.g per request

NEW_PASSWORD = "a long enough passphrase"
TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def new_user_form(**values) -> dict:
    form = {"username": "wangxl", "display_name": "王小林", "role": "liaison", "station_id": 0, "unit_id": 0,
            "password": NEW_PASSWORD}
    form.update(values)
    return form


def user_named(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def count_users(username: str | None = None) -> int:
    stmt = select(func.count()).select_from(User)
    if username:
        stmt = stmt.where(User.username == username)
    return db.session.scalar(stmt)


def audit_rows(user_id: int, action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "user", AuditEntry.object_id == user_id, AuditEntry.action == action)).all()


def second_browser_as(app, username: str):
    other = app.test_client()
    assert other.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    assert other.get("/workspace/").status_code == 200
    return other


def goes_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def page_token(client, user_id: int) -> str:
    return TOKEN_FIELD.search(client.get(f"/admin/users/{user_id}").get_data(as_text=True)).group(1)


@pytest.fixture
def admin(client, auth, users):
    assert auth.login("admin").status_code == 302
    return client


# ---- creating accounts -----------------------------------------------------------------------

def test_admin_creates_a_liaison_linked_to_a_station(app, admin, users, county):
    station = county["stations"][1]
    response = admin.post("/admin/users/new", data=new_user_form(station_id=station.id))
    assert response.status_code == 303
    user = user_named("wangxl")
    assert response.headers["Location"].endswith(f"/admin/users/{user.id}")
    assert (user.role, user.station_id, user.unit_id, user.display_name) == ("liaison", station.id, None, "王小林")
    assert user.password_hash.startswith("scrypt:") and NEW_PASSWORD not in user.password_hash
    [entry] = audit_rows(user.id, "create")
    assert (entry.actor_id, entry.actor_name) == (users["admin"].id, "admin")

    follow = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "账号 wangxl 已创建" in follow

    other = app.test_client()
    assert other.post("/login", data={"username": "wangxl", "password": NEW_PASSWORD}).status_code == 302


def test_unit_account_is_linked_to_its_unit_and_other_roles_to_nothing(admin, county):
    unit, station = county["unit"], county["stations"][0]
    assert admin.post("/admin/users/new", data=new_user_form(
        username="unit2", role="unit", unit_id=unit.id, station_id=station.id)).status_code == 303
    user = user_named("unit2")
    assert (user.unit_id, user.station_id) == (unit.id, None)
    assert admin.post("/admin/users/new", data=new_user_form(
        username="clerk2", role="clerk", unit_id=unit.id, station_id=station.id)).status_code == 303
    user = user_named("clerk2")
    assert (user.unit_id, user.station_id) == (None, None)


def test_duplicate_username_is_refused_in_chinese(admin, users):
    response = admin.post("/admin/users/new", data=new_user_form(username="staff", role="clerk"))
    assert response.status_code == 422
    assert "已被使用" in response.get_data(as_text=True)
    assert count_users("staff") == 1
    assert user_named("staff").role == "staff"


@pytest.mark.parametrize(("password", "message"), [
    ("password", "太常见"),
    ("12345678", "太常见"),
    ("short", "至少需要 8 个字符"),
    ("wangxl2026", "密码不能与用户名相同"),
])
def test_weak_password_is_refused_when_creating(admin, users, password, message):
    before = count_users()
    response = admin.post("/admin/users/new", data=new_user_form(username="wangxl2026", password=password))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_users() == before
    assert user_named("wangxl2026") is None


@pytest.mark.parametrize(("username", "message"), [
    ("王小林", "用户名只能包含"),
    ("has space", "用户名只能包含"),
    ("x" * 65, "用户名不能超过 64 个字符"),
    ("", "请填写用户名"),
])
def test_bad_username_is_refused_in_chinese(admin, users, username, message):
    before = count_users()
    response = admin.post("/admin/users/new", data=new_user_form(username=username))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_users() == before


def test_deputy_accounts_are_not_made_on_the_user_page(admin, users):
    before = count_users()
    response = admin.post("/admin/users/new", data=new_user_form(role="deputy"))
    assert response.status_code == 422
    assert count_users() == before


# ---- roles -----------------------------------------------------------------------------------

def test_changing_a_role_is_audited_and_ends_the_users_sessions(app, admin, users, county):
    liaison = users["liaison"]
    station = county["stations"][0]
    liaison.station = station
    db.session.commit()
    liaison_browser = second_browser_as(app, "liaison")

    response = admin.post(f"/admin/users/{liaison.id}", data={
        "action": "role", "role-role": "clerk", "role-station_id": 0, "role-unit_id": 0})
    assert response.status_code == 302
    user = user_named("liaison")
    assert (user.role, user.station_id) == ("clerk", None)
    [entry] = audit_rows(user.id, "role")
    assert (entry.actor_id, entry.actor_name) == (users["admin"].id, "admin")
    assert entry.changes == {"role": ["liaison", "clerk"], "station_id": [station.id, None]}

    assert goes_to_login(liaison_browser.get("/workspace/"))
    # At the next login the new rights apply.
    assert liaison_browser.post("/login", data={"username": "liaison", "password": PASSWORD}).status_code == 302
    assert "会务/计票人员" in liaison_browser.get("/workspace/").get_data(as_text=True)


def test_promoting_to_staff_opens_the_registry_at_next_login(app, admin, users):
    clerk_browser = second_browser_as(app, "clerk")
    assert clerk_browser.get("/registry/deputies/").status_code == 403
    admin.post(f"/admin/users/{users['clerk'].id}", data={
        "action": "role", "role-role": "staff", "role-station_id": 0, "role-unit_id": 0})
    assert goes_to_login(clerk_browser.get("/registry/deputies/"))
    clerk_browser.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert clerk_browser.get("/registry/deputies/").status_code == 200


def test_saving_the_same_role_changes_nothing(app, users):
    clerk = users["clerk"]
    token = clerk.session_token
    accounts.change_role(clerk, "clerk", users["admin"])
    assert audit_rows(clerk.id, "role") == []
    assert user_named("clerk").session_token == token


def test_role_service_refuses_bad_roles(app, users):
    with pytest.raises(DomainError, match="未知的角色"):
        accounts.change_role(users["clerk"], "root", users["admin"])
    with pytest.raises(DomainError, match="关联了代表"):
        accounts.change_role(users["clerk"], "deputy", users["admin"])
    assert user_named("clerk").role == "clerk"


def test_admin_cannot_change_their_own_role(admin, users):
    response = admin.post(f"/admin/users/{users['admin'].id}", data={
        "action": "role", "role-role": "clerk", "role-station_id": 0, "role-unit_id": 0})
    assert response.status_code == 422
    assert "不能修改自己的角色" in response.get_data(as_text=True)
    assert user_named("admin").role == "admin"
    assert audit_rows(users["admin"].id, "role") == []
    assert admin.get("/admin/users/").status_code == 200


# ---- enabling and disabling ------------------------------------------------------------------

def test_admin_cannot_disable_themself(admin, users):
    admin_id = users["admin"].id
    response = admin.post(f"/admin/users/{admin_id}", data={"action": "disable",
                                                            "csrf_token": page_token(admin, admin_id)})
    assert response.status_code == 422
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    assert user_named("admin").active is True
    assert audit_rows(admin_id, "disable") == []
    assert admin.get("/admin/users/").status_code == 200

    with pytest.raises(DomainError, match="不能停用自己的账号"):
        accounts.set_active(users["admin"], False, users["admin"])


def test_disabling_a_user_is_audited_and_ends_their_sessions(app, admin, users):
    clerk_id = users["clerk"].id
    clerk_browser = second_browser_as(app, "clerk")
    response = admin.post(f"/admin/users/{clerk_id}", data={"action": "disable",
                                                            "csrf_token": page_token(admin, clerk_id)})
    assert response.status_code == 302
    assert user_named("clerk").active is False
    [entry] = audit_rows(clerk_id, "disable")
    assert entry.changes == {"active": [True, False]}
    assert entry.actor_name == "admin"
    assert goes_to_login(clerk_browser.get("/workspace/"))
    assert "已停用" in clerk_browser.post("/login", data={"username": "clerk", "password": PASSWORD}).get_data(
        as_text=True)

    response = admin.post(f"/admin/users/{clerk_id}", data={"action": "enable",
                                                            "csrf_token": page_token(admin, clerk_id)})
    assert response.status_code == 302
    assert user_named("clerk").active is True
    assert len(audit_rows(clerk_id, "enable")) == 1


def test_disabling_works_with_the_htmx_csrf_header(app, admin, users):
    """With CSRF on, a button that posts through htmx sends the token only as X-CSRFToken."""
    app.config["WTF_CSRF_ENABLED"] = True
    clerk_id = users["clerk"].id
    token = page_token(admin, clerk_id)
    response = admin.post(f"/admin/users/{clerk_id}", data={"action": "disable"},
                          headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302
    assert user_named("clerk").active is False


def test_disabling_without_a_csrf_token_is_refused(app, admin, users):
    app.config["WTF_CSRF_ENABLED"] = True
    response = admin.post(f"/admin/users/{users['clerk'].id}", data={"action": "disable"})
    assert response.status_code == 400
    assert user_named("clerk").active is True


# ---- password reset, list, detail ------------------------------------------------------------

def test_admin_resets_a_password(app, admin, users):
    clerk_id = users["clerk"].id
    clerk_browser = second_browser_as(app, "clerk")

    response = admin.post(f"/admin/users/{clerk_id}", data={"action": "reset", "reset-password": "qwerty123"})
    assert response.status_code == 422
    assert "太常见" in response.get_data(as_text=True)
    assert clerk_browser.get("/workspace/").status_code == 200

    response = admin.post(f"/admin/users/{clerk_id}", data={"action": "reset", "reset-password": NEW_PASSWORD})
    assert response.status_code == 302
    assert len(audit_rows(clerk_id, "password")) == 1
    assert goes_to_login(clerk_browser.get("/workspace/"))
    assert clerk_browser.post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 200
    assert clerk_browser.post("/login", data={"username": "clerk", "password": NEW_PASSWORD}).status_code == 302


def user_rows(page: str) -> str:
    return page.split('id="user-rows"', 1)[1]


def test_user_list_searches_and_filters(admin, users):
    rows = user_rows(admin.get("/admin/users/?q=cler").get_data(as_text=True))
    assert ">clerk<" in rows and ">staff<" not in rows
    rows = user_rows(admin.get("/admin/users/?role=staff").get_data(as_text=True))
    assert ">staff<" in rows and ">clerk<" not in rows
    response = admin.get("/admin/users/?q=cler", headers={"HX-Request": "true"})
    assert ">clerk<" in response.get_data(as_text=True) and "<html" not in response.get_data(as_text=True)


def test_unknown_user_page_is_404(admin, users):
    response = admin.get("/admin/users/999999")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
