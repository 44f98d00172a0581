"""The inbox: notify() writes in the caller's transaction (nothing for a rolled-back change), the
header's unread count, mark as read, links, preferences and contacts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.transaction import transaction
from blueprints.notifications import services
from blueprints.notifications.models import InboxItem, NotificationContact, OutboxMessage

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_notify_writes_inbox_and_outbox_in_the_callers_transaction(users):
    services.set_contact(users["unit"].id, email="unit@example.org", mobile="13800001111")
    with transaction():
        services.notify([users["unit"].id], "case_assigned", "交办：路灯不亮", "请在三个月内办结。", link="/x")
    assert count(InboxItem) == 1
    assert {m.channel for m in db.session.scalars(select(OutboxMessage))} == {"email", "sms"}


def test_a_rolled_back_change_leaves_no_message(users):
    services.set_contact(users["unit"].id, email="unit@example.org", mobile="13800001111")
    with pytest.raises(RuntimeError), transaction():
        services.notify([users["unit"].id], "case_assigned", "交办：路灯不亮", "")
        raise RuntimeError("the change fails after notify")
    assert count(InboxItem) == 0 and count(OutboxMessage) == 0


def test_notify_by_unit_reaches_its_accounts(app, users, make_user):
    from blueprints.registry.models import HandlingUnit

    with transaction():
        unit = HandlingUnit(name="县交通运输局")
        db.session.add(unit)
    other = make_user("unit", "unit2", unit_id=unit.id)
    recipients = services.notify(unit_id=unit.id, kind="chase", subject="催办：路灯不亮")
    assert recipients == [other.id]


def test_an_empty_subject_or_unknown_kind_is_refused_and_writes_nothing(users):
    with pytest.raises(DomainError, match="标题"):
        services.notify([users["unit"].id], "general", "  ")
    with pytest.raises(DomainError, match="未知的消息类型"):
        services.notify([users["unit"].id], "no-such-kind", "x")
    assert count(InboxItem) == 0


def test_inbox_header_count_mark_read_and_link(client, auth, users):
    services.notify([users["deputy"].id], "deputy_step", "联名邀请：关于修缮村道的建议", "请确认是否联名。",
                    link="/workspace/")
    services.notify([users["deputy"].id], "general", "第二条")
    services.notify([users["staff"].id], "general", "给工作人员的")
    auth.login("deputy")
    page = client.get("/inbox/").get_data(as_text=True)
    assert "联名邀请：关于修缮村道的建议" in page and "给工作人员的" not in page
    assert 'hx-get="/inbox/count"' in page  # the header fetches its count after the page
    assert 'aria-label="2 条未读">2<' in client.get("/inbox/count").get_data(as_text=True)
    assert "未读 2 条" in page
    item = db.session.scalar(select(InboxItem).where(InboxItem.subject.like("联名邀请%")))
    answer = client.post(f"/inbox/{item.id}/read", data={"open": "1"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/workspace/")
    db.session.expire_all()
    assert db.session.get(InboxItem, item.id).read_at is not None
    assert 'aria-label="1 条未读">1<' in client.get("/inbox/count").get_data(as_text=True)
    assert "第二条" in client.get("/inbox/?unread=1").get_data(as_text=True)
    client.post("/inbox/read-all")
    assert "条未读" not in client.get("/inbox/count").get_data(as_text=True)


def test_someone_elses_message_is_not_found(client, auth, users):
    services.notify([users["staff"].id], "general", "给工作人员的")
    item = db.session.scalar(select(InboxItem))
    auth.login("deputy")
    assert client.post(f"/inbox/{item.id}/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(InboxItem, item.id).read_at is None


def test_an_outside_link_is_not_followed(client, auth, users):
    services.notify([users["unit"].id], "general", "外链", link="https://evil.example/")
    item = db.session.scalar(select(InboxItem))
    auth.login("unit")
    answer = client.post(f"/inbox/{item.id}/read", data={"open": "1"})
    assert answer.headers["Location"].endswith("/inbox/")


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit", "clerk", "staff", "admin"])
def test_every_signed_in_role_has_an_inbox(client, auth, users, role):
    auth.login(role)
    assert client.get("/inbox/").status_code == 200
    assert client.get("/inbox/settings").status_code == 200


def test_anonymous_is_sent_to_login(client):
    assert client.get("/inbox/").status_code in (302, 303)


def test_preferences_user_choice_over_staff_default_over_built_in(users):
    uid = users["unit"].id
    services.set_contact(uid, email="unit@example.org", mobile="13800001111")
    assert services.wanted_channels(uid, "case_assigned") == {"inbox", "email", "sms"}
    services.set_preference(None, "case_assigned", "sms", False)  # staff: no SMS by default
    assert services.wanted_channels(uid, "case_assigned") == {"inbox", "email"}
    services.set_preference(uid, "case_assigned", "sms", True)  # this user wants them anyway
    services.set_preference(uid, "case_assigned", "email", False)
    assert services.wanted_channels(uid, "case_assigned") == {"inbox", "sms"}
    assert services.wanted_channels(users["staff"].id, "case_assigned") == {"inbox", "email"}
    services.notify([uid], "case_assigned", "交办")
    assert [m.channel for m in db.session.scalars(select(OutboxMessage))] == ["sms"]


def test_settings_page_saves_contact_and_choices(client, auth, users):
    auth.login("unit")
    answer = client.post("/inbox/settings", data={"email": "u@example.org", "mobile": "13900002222",
                                                 "pref-case_assigned-inbox": "1"})
    assert answer.status_code == 303
    db.session.expire_all()
    contact = db.session.get(NotificationContact, users["unit"].id)
    assert (contact.email, contact.mobile, contact.email_digest) == ("u@example.org", "13900002222", False)
    assert services.wanted_channels(users["unit"].id, "case_assigned") == {"inbox"}


def test_bad_contact_is_refused_with_a_chinese_message_and_changes_nothing(client, auth, users):
    services.set_contact(users["unit"].id, email="u@example.org", mobile=None)
    auth.login("unit")
    answer = client.post("/inbox/settings", data={"email": "not-an-address", "mobile": "12"})
    assert answer.status_code == 422 and "电子邮件地址格式不正确" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(NotificationContact, users["unit"].id).email == "u@example.org"
    assert services.wanted_channels(users["unit"].id, "case_assigned") == {"inbox", "email", "sms"}


def test_deputy_mobile_falls_back_to_the_roster(users):
    deputy_user = users["deputy"]
    deputy_user.deputy.phone = "13712345678"
    db.session.commit()
    assert services.contact_of(deputy_user)[1] == "13712345678"


def test_staff_defaults_page(client, auth, users):
    auth.login("deputy")
    assert client.get("/inbox/defaults").status_code == 403
    auth.logout()
    auth.login("staff")
    assert client.get("/inbox/defaults").status_code == 200
    form = {f"pref-{k}-{c}": "1" for k, kind in services.KINDS.items() for c in kind.channels}
    del form["pref-meeting-sms"]
    assert client.post("/inbox/defaults", data=form).status_code == 303
    assert "sms" not in services.wanted_channels(users["unit"].id, "meeting")
    assert "sms" in services.wanted_channels(users["unit"].id, "chase")
