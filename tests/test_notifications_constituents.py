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
from tests.conftest import PASSWORD

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


# ---- 催办 weights per role (the weight follows the account; issue 16 §3, issue 19's leader role) -------

def test_chase_weights_per_role_and_leaders_chase_what_they_lead(demo):
    from blueprints.core.errors import Forbidden
    from blueprints.core.models import User
    from blueprints.notifications import chases
    from blueprints.notifications.models import Chase
    from blueprints.suggestions.models import Suggestion

    def user(name):
        return db.session.scalar(select(User).where(User.username == name))

    led = db.session.scalars(select(Suggestion).join(Case, Case.id == Suggestion.case_id)
                             .where(Suggestion.is_key.is_(True), Case.status == "assigned")).all()
    item = next(s for s in led if s.key_leader_id is not None and db.session.get(Case, s.case_id).main_assignment
                and db.session.get(Case, s.case_id).main_assignment.state == "pending")
    case = db.session.get(Case, item.case_id)
    leader = db.session.get(User, item.key_leader_id)
    raiser = db.session.scalar(select(User).where(User.deputy_id == case.deputy_id, User.role == "deputy"))
    for by in (raiser, user("staff"), user("admin"), leader):
        chases.chase(case.id, by=by)
    db.session.expire_all()
    rows = db.session.scalars(select(Chase).where(Chase.case_id == case.id).order_by(Chase.id)).all()
    assert [(r.sender, r.weight) for r in rows] == [("deputy", 1), ("staff", 2), ("staff", 2), ("leadership", 4)]
    led_ids = {c.id for c, *_ in db.session.execute(chases.supervision(leader_id=leader.id))}
    assert case.id in led_ids
    other = db.session.scalar(select(Case).join(Case.assignments).where(
        Case.status == "assigned", Case.id.not_in(chases.led_case_ids(leader.id))).limit(1))
    assert other is not None and other.id not in led_ids
    with pytest.raises(Forbidden, match="牵头督办"):
        chases.chase(other.id, by=leader)  # not a key suggestion this leader leads
    assert db.session.scalar(select(func.count()).select_from(Chase).where(Chase.case_id == other.id)) == 0


def test_the_leader_sees_the_chase_page_without_the_old_checkbox(demo):
    from blueprints.suggestions.models import Suggestion

    leader_id = db.session.scalar(select(Suggestion.key_leader_id).where(Suggestion.is_key.is_(True)).limit(1))
    from blueprints.core.models import User

    leader = db.session.get(User, leader_id)
    client = demo.test_client()
    assert client.post("/login", data={"username": leader.username, "password": PASSWORD}).status_code == 302
    page = client.get("/inbox/supervision").get_data(as_text=True)
    assert "督办与催办" in page and "以领导名义" not in page
