"""Personal meeting passes: issue and print, scan (POST of the fragment's code), one phone per pass,
reissue, revoke, the meeting day only, ended deputies, and a session that opens only that meeting."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.ballots import passes
from blueprints.ballots.models import Attendance
from blueprints.ballots.pass_models import MeetingPass
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.registry.models import Deputy
from tests.ballots_helpers import make_meeting

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")


@pytest.fixture
def hall(app, make_user, users):
    meeting, deputies = make_meeting(6, checked_in=0)
    meeting.held_on = local_today()
    db.session.commit()
    for i, deputy in enumerate(deputies):
        make_user("deputy", f"d{i}", deputy=deputy)
    cards = {c.deputy.id: c.code for c in passes.issue_passes(meeting)}
    return {"meeting": meeting, "deputies": deputies, "codes": cards}


def _phone(app):
    phone = app.test_client()
    assert phone.get("/pass").status_code == 200  # the page a QR opens sets the phone's cookie
    return phone


def _scan(phone, code):
    return phone.post("/pass", data={"code": code})


def _checked_in(meeting_id):
    return db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.meeting_id == meeting_id, Attendance.checked_in_at.is_not(None)))


def test_codes_are_128_bits_and_only_their_hash_is_stored(hall):
    codes = list(hall["codes"].values())
    assert len(codes) == 6 and all(len(c) >= 22 for c in codes)  # token_urlsafe(16): 128 bits
    stored = db.session.scalars(select(MeetingPass.code_hash)).all()
    assert sorted(stored) == sorted(passes.digest(c) for c in codes)
    assert not set(codes) & set(stored)


def test_scan_signs_in_checks_in_and_opens_only_that_meeting(app, hall, users):
    meeting, deputy = hall["meeting"], hall["deputies"][0]
    phone = _phone(app)
    response = _scan(phone, hall["codes"][deputy.id])
    assert response.status_code == 303 and response.location.endswith(f"/meetings/{meeting.id}/vote")
    assert _checked_in(meeting.id) == 1
    assert phone.get(f"/meetings/{meeting.id}/vote").status_code == 200
    assert phone.get(f"/meetings/{meeting.id}/checkin/self").status_code == 200
    for path in ("/me/", "/workspace/", "/my/suggestions/", f"/meetings/{meeting.id + 1}/vote"):
        assert phone.get(path).status_code == 403, path
    # The same phone scanning again: signed in again, not checked in twice.
    again = _scan(phone, hall["codes"][deputy.id])
    assert again.status_code == 303 and _checked_in(meeting.id) == 1


def test_a_second_phone_is_refused_until_reissue(app, hall):
    meeting, deputy = hall["meeting"], hall["deputies"][1]
    code = hall["codes"][deputy.id]
    assert _scan(_phone(app), code).status_code == 303
    other = _phone(app)
    refused = _scan(other, code)
    assert refused.status_code == 409 and "已在另一部手机上使用" in refused.text
    assert other.get(f"/meetings/{meeting.id}/vote").status_code == 302  # not signed in
    [card] = passes.issue_passes(meeting, [deputy.id], reissue=True)
    assert "签到证无效" in _scan(other, code).text  # the old code stops working
    assert _scan(other, card.code).status_code == 303


def test_revoked_expired_and_ended_passes_change_nothing(app, hall):
    meeting, deputies = hall["meeting"], hall["deputies"]
    passes.revoke_pass(meeting, deputies[2].id)
    revoked = _scan(_phone(app), hall["codes"][deputies[2].id])
    assert revoked.status_code == 403 and "已被收回" in revoked.text
    with pytest.raises(DomainError, match="已经收回"):
        passes.revoke_pass(meeting, deputies[2].id)
    ended = db.session.get(Deputy, deputies[3].id)
    ended.ended_on, ended.end_reason = local_today(), "resigned"
    db.session.commit()
    refused = _scan(_phone(app), hall["codes"][deputies[3].id])
    assert refused.status_code == 403 and "代表资格已终止" in refused.text
    meeting.held_on = local_today() - timedelta(days=1)
    db.session.commit()
    expired = _scan(_phone(app), hall["codes"][deputies[4].id])
    assert expired.status_code == 403 and "只在会议当天" in expired.text
    assert _checked_in(meeting.id) == 0
    assert db.session.scalar(select(func.count()).select_from(MeetingPass)
                             .where(MeetingPass.device_hash.is_not(None))) == 0
    assert "签到证无效" in _scan(_phone(app), "x" * 22).text


def test_the_session_ends_the_next_day(app, hall):
    meeting, deputy = hall["meeting"], hall["deputies"][0]
    phone = _phone(app)
    _scan(phone, hall["codes"][deputy.id])
    with phone.session_transaction() as sess:
        sess["scope"] = {"meeting": meeting.id, "day": (local_today() - timedelta(days=1)).isoformat()}
    answer = phone.get(f"/meetings/{meeting.id}/vote")
    assert answer.status_code == 302 and "/login" in answer.location
    assert phone.get(f"/meetings/{meeting.id}/vote").status_code == 302


def test_clerk_prints_reissues_and_revokes(app, hall, client, auth):
    meeting = hall["meeting"]
    auth.login("clerk")
    page = client.get(f"/meetings/{meeting.id}/passes")
    assert page.status_code == 200 and page.text.count("已发放") == 6
    refused = client.post(f"/meetings/{meeting.id}/passes/print", follow_redirects=True)
    assert "都已有签到证" in refused.text
    deputy = hall["deputies"][5]
    sheet = client.post(f"/meetings/{meeting.id}/passes/{deputy.id}/reissue")
    assert sheet.status_code == 200 and sheet.text.count('class="slip pass"') == 1
    assert deputy.name in sheet.text and "data:image/svg+xml;base64," in sheet.text
    code = re.search(r'class="slip-code">([^<]+)<', sheet.text).group(1)
    assert passes.digest(code) == db.session.scalar(select(MeetingPass.code_hash).where(
        MeetingPass.deputy_id == deputy.id))
    assert client.post(f"/meetings/{meeting.id}/passes/{deputy.id}/revoke").status_code == 303
    assert "已收回" in client.get(f"/meetings/{meeting.id}/passes").text
    auth.logout()
    auth.login("d0")
    assert client.get(f"/meetings/{meeting.id}/passes").status_code == 403


def test_the_pass_page_keeps_the_code_out_of_addresses(app, hall):
    page = app.test_client().get("/pass")
    assert page.headers["Referrer-Policy"] == "no-referrer" and "js/pass.js" in page.text
    assert 'method="post"' in page.text


def test_a_phone_on_a_pass_sees_no_inbox_in_the_header_and_may_open_public_results(app, hall):
    phone = _phone(app)
    assert _scan(phone, hall["codes"][hall["deputies"][0].id]).status_code == 303
    page = phone.get(f"/meetings/{hall['meeting'].id}/vote").get_data(as_text=True)
    assert "/inbox/count" not in page  # it would answer 403 into the header
    assert phone.get("/livelihood/results/999999").status_code == 404  # public pages answer as to anyone
    assert phone.get("/workspace/").status_code == 403
