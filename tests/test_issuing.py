"""Accounts for everyone at once: the set, usernames, one-time passwords, slips, workbook, CLI, refusals;
one sign-in (phone or 代表编号), and the forced change of a one-time password."""
from __future__ import annotations

import io
import logging
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from blueprints.core.accounts import ONE_TIME_ALPHABET
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry, PasswordState, User
from blueprints.registry import issuing
from blueprints.registry.models import GroupMembership
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")


@pytest.fixture
def roster(county, make_deputy):
    town_a, town_b = county["townships"]
    village_a = town_a.children[0]
    group = county["groups"][0]
    deputies = [
        make_deputy(name="王一", phone="13800000001", code="D001", area=town_a),
        make_deputy(name="王二", phone="13800000002", code="D002", area=village_a),
        make_deputy(name="李三", phone=None, code="D003", area=town_b),
        make_deputy(name="赵四", phone="13800000004", code="D004", area=town_b),
        make_deputy(name="钱五", phone="13800000005", code="D005", area=town_a, ended_on=date(2026, 1, 5),
                    end_reason="job"),
    ]
    db.session.add(GroupMembership(group=group, deputy=deputies[0], role="leader"))
    db.session.commit()
    return {"deputies": deputies, **county}


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_all_serving_deputies_get_one_time_accounts_and_one_audit_entry(roster, users):
    audits = _count(AuditEntry)
    result = issuing.issue_accounts("deputy", actor=users["staff"])
    names = sorted(s.name for s in result.slips)
    assert names == ["李三", "王一", "王二", "赵四"]  # 钱五 ended: never
    by_name = {s.name: s for s in result.slips}
    assert by_name["王一"].username == "13800000001"
    assert by_name["李三"].username == "D003"  # no phone: the 代表编号
    for slip in result.slips:
        assert len(slip.password) == 10
        assert set(slip.password) <= set(ONE_TIME_ALPHABET)
        assert not set(slip.password) & set("0O1lI")
    user = db.session.scalar(select(User).where(User.username == "13800000001"))
    assert user.role == "deputy" and user.deputy.name == "王一"
    assert user.password_state == PasswordState.ONE_TIME
    assert by_name["王一"].password not in user.password_hash
    assert _count(AuditEntry) == audits + 1
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "issue" and "新开通 4 个" in entry.summary
    assert not any(s.password in (entry.summary + str(entry.changes)) for s in result.slips)


def test_code_setting_and_township_group_and_since(roster, app):
    app.config["DEPUTY_USERNAME"] = "code"
    result = issuing.issue_accounts("deputy", township="城关镇")
    assert sorted(s.username for s in result.slips) == ["D001", "D002"]  # the village belongs to the town
    result = issuing.issue_accounts("deputy", group="城关镇代表小组", reset=True)
    assert [s.name for s in result.slips] == ["王一"] and result.reset == 1
    result = issuing.issue_accounts("deputy", since=date.today())
    assert sorted(s.username for s in result.slips) == ["D003", "D004"]


def test_running_again_skips_and_reset_gives_new_passwords(roster):
    first = issuing.issue_accounts("deputy")
    with pytest.raises(DomainError, match="都已有账号"):
        issuing.issue_accounts("deputy")
    again = issuing.issue_accounts("deputy", reset=True)
    assert again.created == 0 and again.reset == 4
    old = {s.username: s.password for s in first.slips}
    assert all(old[s.username] != s.password for s in again.slips)


@pytest.mark.parametrize("kwargs, message", [
    ({"township": "不存在镇"}, "没有名为“不存在镇”的乡镇"),
    ({"group": "不存在小组"}, "没有名为“不存在小组”的代表小组"),
    ({"township": "临涣镇", "group": "城关镇代表小组"}, "没有在任代表"),
])
def test_bad_sets_change_nothing(roster, kwargs, message):
    before = _count(User), _count(AuditEntry)
    with pytest.raises(DomainError, match=message):
        issuing.issue_accounts("deputy", **kwargs)
    assert (_count(User), _count(AuditEntry)) == before


def test_units_and_liaisons_by_short_code(roster):
    roster["unit"].code = "zjj"
    db.session.commit()
    units = issuing.issue_accounts("unit")
    assert [(s.name, s.username) for s in units.slips] == [("县住房和城乡建设局", "zjj")]
    liaisons = issuing.issue_accounts("liaison")
    stations = roster["stations"]
    assert sorted(s.username for s in liaisons.slips) == sorted(f"lz{s.id}" for s in stations)
    assert all(s.code == f"lz{s.id}" for s in stations)  # the given code is kept
    user = db.session.scalar(select(User).where(User.username == f"lz{stations[0].id}"))
    assert user.role == "liaison" and user.station_id == stations[0].id
    with pytest.raises(DomainError, match="只适用于代表"):
        issuing.issue_accounts("unit", township="城关镇")


def test_username_taken_by_someone_else_is_left_out_with_reason(roster, make_user):
    make_user("clerk", username="13800000001")
    result = issuing.issue_accounts("deputy")
    assert "王一" not in [s.name for s in result.slips]
    assert any("王一" in p and "已被其他账号使用" in p for p in result.problems)


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_first_sign_in_forces_new_password_and_one_time_password_works_once(roster, client, app):
    slip = next(s for s in issuing.issue_accounts("deputy").slips if s.name == "王一")
    response = _login(client, "D001", slip.password)  # 代表编号 works as a login
    assert response.status_code == 302 and response.location.endswith("/account/password")
    # No other page is reachable until a new password is chosen.
    for path in ("/workspace/", "/me/", "/my/suggestions/", "/registry/deputies/"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.location.endswith("/account/password"), path
    page = client.get("/account/password")
    assert "设置新密码" in page.get_data(as_text=True)
    # A second sign-in with the same one-time password (another phone) is refused.
    other = app.test_client()
    refused = _login(other, "13800000001", slip.password)
    assert "这个初始密码已经用过一次" in refused.get_data(as_text=True)
    assert other.get("/workspace/").status_code == 302  # not signed in
    user = db.session.scalar(select(User).where(User.username == "13800000001"))
    db.session.refresh(user)
    assert user.password_state == PasswordState.ONE_TIME_USED
    # Choosing the new password opens everything; the one-time password is gone.
    done = client.post("/account/password", data={"current": slip.password, "new": "我家门口的老槐树",
                                                   "confirm": "我家门口的老槐树"})
    assert done.status_code == 302
    assert client.get("/workspace/").status_code == 200
    db.session.refresh(user)
    assert user.password_state == PasswordState.CHOSEN
    assert "用户名或密码不正确" in _login(app.test_client(), "13800000001", slip.password).get_data(as_text=True)
    assert _login(app.test_client(), "138 0000 0001", "我家门口的老槐树").status_code == 302


def test_admin_reset_forces_a_new_password(users, client, auth):
    auth.login("admin")
    client.post(f"/admin/users/{users['clerk'].id}", data={"action": "reset", "reset-password": "临时的新密码2026"})
    auth.logout()
    response = _login(client, "clerk", "临时的新密码2026")
    assert response.location.endswith("/account/password")
    assert client.get("/meetings/").status_code == 303


def test_ordinary_login_is_unchanged(users, client):
    response = _login(client, "staff", PASSWORD)
    assert response.status_code == 302 and response.location.endswith("/workspace/")


def test_login_page_is_for_everyone_and_forgot_names_the_office_phone(app, client):
    app.config["OFFICE_PHONE"] = "0561-1234567"
    page = client.get("/login").get_data(as_text=True)
    assert "<h1>登录</h1>" in page and "工作人员登录" not in page and "手机号或代表编号" in page
    assert "0561-1234567" in client.get("/login/forgot").get_data(as_text=True)


def test_issue_page_prints_slips_and_xlsx_and_logs_no_password(roster, users, client, auth, caplog):
    auth.login("staff")
    assert client.get("/registry/accounts/issue").status_code == 200
    with caplog.at_level(logging.DEBUG):
        page = client.post("/registry/accounts/issue", data={"role": "deputy", "township": "临涣镇",
                                                             "output": "slips"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert html.count('class="slip"') == 2 and "赵四" in html and "data:image/svg+xml;base64," in html
    passwords = re.findall(r'class="mono secret">([^<]+)<', html)
    assert len(passwords) == 2
    assert not any(p in caplog.text for p in passwords)
    xlsx = client.post("/registry/accounts/issue", data={"role": "deputy", "output": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "用户名", "初始密码", "角色")
    assert sorted(r[0] for r in rows[1:]) == ["王一", "王二"]  # the other two already have accounts
    refused = client.post("/registry/accounts/issue", data={"role": "deputy", "output": "slips"})
    assert refused.status_code == 422 and "都已有账号" in refused.get_data(as_text=True)


def test_issue_page_is_for_staff_only(roster, users, client, auth):
    auth.login("deputy")
    assert client.post("/registry/accounts/issue", data={"role": "deputy"}).status_code == 403


def test_cli_issue_writes_workbook_skips_and_refuses(roster, app, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "凭条.xlsx"
    result = runner.invoke(args=["accounts", "issue", "--role", "deputy", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "用户名", "初始密码", "角色") and len(rows) == 5
    assert all(r[3] == "人大代表" for r in rows[1:])
    assert not any(r[2] in result.output for r in rows[1:])
    again = runner.invoke(args=["accounts", "issue", "--role", "deputy", "--out", str(tmp_path / "b.xlsx")])
    assert again.exit_code != 0 and "都已有账号" in again.output
    reset = runner.invoke(args=["accounts", "issue", "--role", "deputy", "--reset", "--out",
                                str(tmp_path / "c.xlsx")])
    assert reset.exit_code == 0 and "重置 4 个" in reset.output
    bad = runner.invoke(args=["accounts", "issue", "--role", "deputy", "--township", "不存在镇",
                              "--out", str(tmp_path / "d.xlsx")])
    assert bad.exit_code != 0 and "没有名为“不存在镇”的乡镇" in bad.output
    assert not (tmp_path / "d.xlsx").exists()
