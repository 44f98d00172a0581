"""Sessions: a new one at login, logout really ends it, idle timeout, no remember-me, and every way
an account's sessions are ended (logout, disabling, password change or reset)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blueprints.core import accounts
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.models import User
from tests.conftest import PASSWORD

COOKIE = "dp_session"


pytestmark = pytest.mark.usefixtures("fresh_login_per_request")  # conftest: an empty flask.g per request


def copy_of_session(app, client):
    """A second browser holding a copy of the client's session cookie (a stolen or left-behind cookie)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "the client has no session cookie to copy"
    other = app.test_client()
    other.set_cookie(COOKIE, cookie.value, domain=cookie.domain or "localhost")
    return other


def goes_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def token_of(user_id: int) -> str:
    db.session.expire_all()
    return db.session.get(User, user_id).session_token


def test_login_starts_a_fresh_session(client, auth, users):
    with client.session_transaction() as session:
        session["planted"] = "from before the login"
        session["_user_id"] = "999:forged"
    assert auth.login("staff").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{users['staff'].id}:{token_of(users['staff'].id)}"
        assert "last_seen" in session


def test_session_identifier_carries_the_session_token(app, client, auth, users):
    """A cookie naming the right user but an old token is refused."""
    auth.login("staff")
    assert client.get("/workspace/").status_code == 200
    with client.session_transaction() as session:
        session["_user_id"] = f"{users['staff'].id}:not-the-token"
    assert goes_to_login(client.get("/workspace/"))


def test_logout_ends_the_session_everywhere(app, client, auth, users):
    auth.login("staff")
    before = token_of(users["staff"].id)
    copied = copy_of_session(app, client)
    assert copied.get("/workspace/").status_code == 200  # the copy works while logged in

    response = auth.logout()
    assert goes_to_login(response)
    assert token_of(users["staff"].id) != before

    assert goes_to_login(client.get("/workspace/"))
    response = copied.get("/workspace/")
    assert goes_to_login(response)
    assert "/login" in response.headers["Location"]


def test_logout_page_by_get_does_not_log_out(client, auth, users):
    """A link (or an image tag on another site) cannot log a user out: GET only shows a button."""
    auth.login("staff")
    response = client.get("/logout")
    assert response.status_code == 200
    assert 'method="post"' in response.get_data(as_text=True)
    assert client.get("/workspace/").status_code == 200


def test_logout_message_is_chinese(client, auth, users):
    auth.login("staff")
    response = client.post("/logout", follow_redirects=True)
    assert "您已安全退出" in response.get_data(as_text=True)


def test_idle_session_expires(app, client, auth, users):
    auth.login("staff")
    limit = app.config["IDLE_TIMEOUT_MINUTES"] * 60
    with client.session_transaction() as session:
        session["last_seen"] = datetime.now(UTC).timestamp() - limit - 60
    response = client.get("/workspace/")
    assert goes_to_login(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "长时间未操作" in page
    # The session is gone, not only this one request refused.
    assert goes_to_login(client.get("/workspace/"))


def test_activity_within_the_idle_limit_keeps_the_session(app, client, auth, users):
    auth.login("staff")
    limit = app.config["IDLE_TIMEOUT_MINUTES"] * 60
    seen = datetime.now(UTC).timestamp() - limit + 120
    with client.session_transaction() as session:
        session["last_seen"] = seen
    assert client.get("/workspace/").status_code == 200
    with client.session_transaction() as session:
        assert session["last_seen"] > seen  # each request moves the clock on


def test_no_remember_me_cookie_and_a_browser_session_cookie(client, auth, users):
    response = auth.login("staff")
    set_cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith(f"{COOKIE}=") for c in set_cookies)
    assert not any(c.startswith("remember_token=") for c in set_cookies)
    assert client.get_cookie("remember_token") is None
    session_cookie = next(c for c in set_cookies if c.startswith(f"{COOKIE}="))
    # No Expires/Max-Age: the cookie goes when the browser closes.
    assert "Expires=" not in session_cookie and "Max-Age=" not in session_cookie


def test_login_form_offers_no_remember_me(client):
    page = client.get("/login").get_data(as_text=True)
    assert "remember" not in page
    assert 'name="password"' in page


def test_disabling_a_user_ends_their_session(app, client, auth, users):
    auth.login("clerk")
    assert client.get("/workspace/").status_code == 200
    clerk = db.session.get(User, users["clerk"].id)
    accounts.set_active(clerk, False, users["admin"])
    assert goes_to_login(client.get("/workspace/"))

    # Enabling the account again does not bring the old cookie back to life.
    accounts.set_active(clerk, True, users["admin"])
    assert goes_to_login(client.get("/workspace/"))
    assert auth.login("clerk").status_code == 302


def test_changing_password_keeps_this_device_and_ends_the_others(app, client, auth, users):
    auth.login("staff")
    other_device = copy_of_session(app, client)
    assert other_device.get("/workspace/").status_code == 200

    response = client.post("/account/password", data={
        "current": PASSWORD, "new": "a much better passphrase", "confirm": "a much better passphrase"})
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    assert follow.status_code == 200
    assert "密码已修改" in follow.get_data(as_text=True)

    assert client.get("/workspace/").status_code == 200
    assert goes_to_login(other_device.get("/workspace/"))

    auth.logout()
    assert auth.login("staff", PASSWORD).status_code == 200  # old password refused
    assert auth.login("staff", "a much better passphrase").status_code == 302


def test_change_password_page_refuses_bad_input_and_keeps_the_password(client, auth, users):
    auth.login("staff")
    hash_before = db.session.get(User, users["staff"].id).password_hash

    response = client.post("/account/password", data={"current": "wrong-current", "new": "a much better one",
                                                      "confirm": "a much better one"})
    assert response.status_code == 422
    assert "当前密码不正确" in response.get_data(as_text=True)

    response = client.post("/account/password", data={"current": PASSWORD, "new": "password",
                                                      "confirm": "password"})
    assert response.status_code == 422
    assert "常见" in response.get_data(as_text=True)

    response = client.post("/account/password", data={"current": PASSWORD, "new": "a much better one",
                                                      "confirm": "something else"})
    assert response.status_code == 200
    assert "两次输入的新密码不一致" in response.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(User, users["staff"].id).password_hash == hash_before
    assert client.get("/workspace/").status_code == 200


def test_change_password_service_rotates_the_token(app, users):
    staff = users["staff"]
    before = staff.session_token
    with pytest.raises(DomainError) as caught:
        accounts.change_password(staff, "wrong", "a much better passphrase")
    assert caught.value.field == "current"
    assert token_of(staff.id) == before
    accounts.change_password(staff, PASSWORD, "a much better passphrase")
    assert token_of(staff.id) != before


def test_admin_password_reset_ends_the_users_sessions(app, client, auth, users):
    auth.login("clerk")
    clerk = db.session.get(User, users["clerk"].id)
    clerk.failed_logins = 3
    db.session.commit()
    accounts.reset_password(clerk, "reset by the office 2026", users["admin"])
    assert goes_to_login(client.get("/workspace/"))
    db.session.refresh(clerk)
    assert clerk.failed_logins == 0
    with pytest.raises(DomainError, match="8"):
        accounts.reset_password(clerk, "short", users["admin"])


def test_authenticated_pages_are_not_cached(client, auth, users):
    auth.login("staff")
    assert client.get("/workspace/").headers.get("Cache-Control") == "no-store"


def test_visiting_login_while_logged_in_goes_to_the_workspace(client, auth, users):
    auth.login("staff")
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/workspace/")
