"""Issue 16 §3: a constituent who left a mobile and ticked 同意接收短信通知 gets one SMS (receipt code and the
tracking address) when the answer is sent; without consent, or for a rolled-back answer, nothing is queued."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core import cases
from blueprints.core.cases import Case
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.timeutil import LOCAL_TZ, local_today
from blueprints.core.transaction import transaction
from blueprints.notifications import delivery
from blueprints.notifications.models import OutboxMessage
from blueprints.stations import services as station_services

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")
MOBILE = "13912345678"


def message(county, *, phone=MOBILE, consent=True) -> Case:
    return station_services.leave_message(station=county["stations"][0], deputy=None, body="路灯不亮，请修理。",
                                          phone=phone, sms_consent=consent)


def answer(case: Case, users, county, make_user) -> None:
    unit_user = make_user("unit", "zjj", unit_id=county["unit"].id)
    cases.assign_case(case, county["unit"], local_today() + timedelta(days=30), by=users["staff"])
    cases.reply_case(case, "已修好。", by=unit_user)
    cases.send_answer(case, by=users["staff"])


def sms_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "constituent_answer")))


def test_with_consent_one_sms_with_the_code_and_the_tracking_address(app, county, users, make_user):
    app.config["PUBLIC_BASE_URL"] = "https://rd.example.gov.cn"
    case = message(county)
    assert case.sms_consent is True
    cases.assign_case(case, county["unit"], local_today() + timedelta(days=30), by=users["staff"])
    cases.reply_case(case, "已修好。", by=make_user("unit", "zjj", unit_id=county["unit"].id))
    assert sms_rows() == []  # assigned, replied by the unit: not yet — only when the answer is sent to them
    cases.send_answer(case, by=users["staff"])
    [row] = sms_rows()
    assert (row.channel, row.user_id, row.address, row.about_id) == ("sms", None, MOBILE, case.id)
    assert case.receipt_code in row.body and "https://rd.example.gov.cn/messages/track" in row.body
    assert MOBILE not in row.body
    local = row.due_at.astimezone(LOCAL_TZ)
    assert 8 <= local.hour < 22  # the quiet-hours rule: never due at night


def test_without_consent_no_sms(county, users, make_user):
    answer(message(county, consent=False), users, county, make_user)
    assert sms_rows() == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.address == MOBILE)) == 0


def test_a_rolled_back_answer_queues_nothing(county, users, make_user):
    case = message(county)
    unit_user = make_user("unit", "zjj", unit_id=county["unit"].id)
    cases.assign_case(case, county["unit"], local_today() + timedelta(days=30), by=users["staff"])
    cases.reply_case(case, "已修好。", by=unit_user)
    with pytest.raises(RuntimeError), transaction():
        cases.send_answer(case, by=users["staff"])
        raise RuntimeError("the step after the answer failed")
    assert sms_rows() == []
    assert db.session.get(Case, case.id).status == "answered"


def test_consent_needs_a_mobile_and_stores_nothing(county):
    for phone in (None, "0551-1234567"):
        with pytest.raises(DomainError, match="11 位手机号码"):
            message(county, phone=phone)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_an_sms_at_night_waits_for_8_and_the_log_never_names_the_number(app, county, users, make_user, caplog):
    night = datetime(2026, 12, 1, 23, 30, tzinfo=LOCAL_TZ).astimezone(UTC)
    from blueprints.notifications import reminders

    case = message(county)
    with transaction():
        row = reminders.constituent_sms(case, now=night)
    assert row.due_at.astimezone(LOCAL_TZ) == datetime(2026, 12, 2, 8, 0, tzinfo=LOCAL_TZ)
    app.config["SMS_PROVIDER"] = "log"
    caplog.set_level(logging.DEBUG)
    assert delivery.deliver(now=night + timedelta(minutes=5)).sent == 0
    assert delivery.deliver(now=row.due_at + timedelta(minutes=1)).sent == 1
    assert case.receipt_code in caplog.text  # the log provider wrote the text …
    assert MOBILE not in caplog.text and "12345678" not in caplog.text  # … without the number


@pytest.mark.parametrize("path", ["/messages/new", "/kiosk/{sid}/message"])
def test_the_forms_carry_the_checkbox(county, client, path):
    sid = county["stations"][0].id
    url = path.format(sid=sid)
    page = client.get(url + (f"?station_id={sid}" if "messages" in url else "")).get_data(as_text=True)
    assert "同意接收短信通知" in page and 'name="sms_consent"' in page
    answer = client.post(url, data={"target": f"s{sid}", "body": "路灯坏了", "phone": MOBILE, "sms_consent": "y"})
    assert answer.status_code == 303
    refused = client.post(url, data={"target": f"s{sid}", "body": "又坏了", "phone": "", "sms_consent": "y"})
    assert refused.status_code in (200, 422) and "11 位手机号码" in refused.get_data(as_text=True)
    stored = db.session.scalars(select(Case)).all()
    assert [(c.contact_phone, c.sms_consent) for c in stored] == [(MOBILE, True)]
