"""Two-step verification (TOTP, pyotp) for staff and admin accounts (admins must set it up), and the
signed-in browsers a user sees and ends at /account/sessions (issue 17)."""
from __future__ import annotations

import re
import time

import pyotp
import pytest

from blueprints.core.extensions import db
from blueprints.core.models import User, UserTotp

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")


def _enrol(client) -> tuple[pyotp.TOTP, list[str], str]:
    assert client.post("/account/totp", data={"action": "begin"}).status_code == 200
    qr = client.get("/account/totp/qr.svg")
    assert qr.status_code == 200 and qr.headers["Cache-Control"] == "no-store" and b"otpauth://" in qr.data
    secret = db.session.scalar(db.select(UserTotp.secret).where(UserTotp.confirmed_at.is_(None)))
    totp = pyotp.TOTP(secret)
    page = client.post("/account/totp", data={"action": "confirm", "code": "000000" if totp.now() != "000000"
                                              else "111111"})
    assert page.status_code == 422 and "验证码不正确" in page.get_data(as_text=True)
    first = totp.now()
    page = client.post("/account/totp", data={"action": "confirm", "code": first}).get_data(as_text=True)
    codes = re.findall(r"<li><code>([A-Za-z0-9]{10})</code></li>", page)
    assert "两步验证已开启" in page and len(codes) == 10
    return totp, codes, first


def test_staff_turn_on_totp_and_then_sign_in_with_a_code_or_a_recovery_code(app, client, auth, users):
    auth.login("staff")
    totp, codes, first = _enrol(client)
    client.post("/logout")

    response = auth.login("staff")
    assert response.headers["Location"].endswith("/login/totp")
    assert client.get("/workspace/").status_code == 302  # not signed in by the password alone
    assert client.post("/login/totp", data={"code": "12345"}).status_code == 422
    # The code that confirmed the set-up is not accepted again.
    assert client.post("/login/totp", data={"code": first}).status_code == 422
    assert client.post("/login/totp", data={"code": totp.at(time.time() + 30)}).status_code == 302
    assert client.get("/workspace/").status_code == 200
    client.post("/logout")

    auth.login("staff")
    assert client.post("/login/totp", data={"code": codes[0]}).status_code == 302  # a recovery code, once
    client.post("/logout")
    auth.login("staff")
    assert client.post("/login/totp", data={"code": codes[0]}).status_code == 422
    assert len(db.session.get(UserTotp, users["staff"].id).recovery_hashes) == 9


def test_admins_must_set_up_totp_and_an_admin_resets_a_lost_one(app, client, auth, users):
    app.config["TOTP_REQUIRED_FOR_ADMINS"] = True
    response = auth.login("admin")
    assert response.headers["Location"].endswith("/account/totp")
    refused = client.get("/workspace/")
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/account/totp")
    _enrol(client)
    assert client.get("/workspace/").status_code == 200
    page = client.post("/account/totp", data={"action": "disable", "code": "123456"})
    assert "管理员账号必须使用两步验证" in page.get_data(as_text=True)

    staff_client = app.test_client()
    staff_client.post("/login", data={"username": "staff", "password": PASSWORD})
    _enrol(staff_client)
    staff_id = users["staff"].id
    assert client.post(f"/admin/users/{staff_id}", data={"action": "totp_reset"}).status_code == 302
    assert db.session.get(UserTotp, staff_id) is None
    assert staff_client.get("/workspace/").status_code == 302  # the reset ended the staff's sessions
    assert db.session.get(User, staff_id) is not None


def test_other_roles_have_no_totp_page(client, auth, users):
    auth.login("deputy")
    assert client.get("/account/totp").status_code == 403
    assert client.get("/account/").status_code == 200


def test_users_see_their_signed_in_browsers_and_end_one(app, client, auth, users):
    from blueprints.core.models import UserSession

    phone = app.test_client()
    phone.post("/login", data={"username": "deputy", "password": PASSWORD}, headers={"User-Agent": "手机浏览器"})
    auth.login("deputy")
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "手机浏览器" in page and "本设备" in page and page.count("结束此登录") == 1
    phone_id = db.session.scalar(db.select(UserSession.id).where(UserSession.agent == "手机浏览器"))
    assert client.post("/account/sessions", data={"session_id": str(phone_id)}).status_code == 303
    ended = phone.get("/workspace/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert client.get("/workspace/").status_code == 200  # this browser carries on
    again = client.post("/account/sessions", data={"session_id": str(phone_id)}, follow_redirects=True)
    assert "这个登录已经结束了" in again.get_data(as_text=True)
    assert client.post("/account/sessions", data={"session_id": "x"}).status_code == 400
    # Someone else's session cannot be ended from here.
    other = app.test_client()
    other.post("/login", data={"username": "staff", "password": PASSWORD})
    staff_session = db.session.scalar(db.select(UserSession.id).where(UserSession.user_id == users["staff"].id))
    client.post("/account/sessions", data={"session_id": str(staff_session)})
    assert other.get("/workspace/").status_code == 200
