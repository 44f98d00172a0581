"""Posted ids and choices that cannot name a row (a 20-digit number, an empty form) get a clear answer
and write nothing, instead of an error page: a number beyond INTEGER overflowed on SQLite and PostgreSQL,
and lazily translated form messages could not be joined into one flash message."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.ballots.models import Attendance, Meeting
from blueprints.core.cases import Case
from blueprints.core.demo import load_demo_county
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from blueprints.duties.models import CongressTerm, Reminder
from blueprints.registry.models import DeputyGroup, GroupMembership

HUGE = "99999999999999999999"


def _counts() -> tuple:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (
        AuditEntry, Case, CongressTerm, Reminder, GroupMembership))


def _login(app, username: str):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "demo-2026"}).status_code == 302
    return client


def test_ids_that_cannot_name_a_row_are_refused_and_nothing_is_written(app):
    load_demo_county()
    group_id = db.session.scalar(select(DeputyGroup.id).limit(1))
    case_id = db.session.scalar(select(Case.id).where(Case.status != "closed").order_by(Case.id).limit(1))
    meeting_id = db.session.scalar(select(Meeting.id).order_by(Meeting.id).limit(1))
    present = db.session.scalar(select(func.count()).select_from(Attendance)
                                .where(Attendance.checked_in_at.is_not(None)))
    before = _counts()
    staff = _login(app, "staff")

    response = staff.post("/duties/evaluation/reminders?year=2026&level=county",
                          data={"deputy_id": HUGE, "held_on": "2026-11-01", "note": "提醒"})
    assert response.status_code == 404

    response = staff.post(f"/registry/groups/{group_id}", data={"action": "set", "deputy_id": HUGE, "role": "member"})
    assert response.status_code == 422

    response = staff.post("/duties/terms", data={"level": "", "name": "", "starts_on": "", "ends_on": ""},
                          follow_redirects=True)
    assert response.status_code == 200 and "请填写届次" in response.get_data(as_text=True)

    response = staff.post(f"/cases/{case_id}/merge", data={"into": HUGE})
    assert response.status_code == 422 and "请填写要并入的件号" in response.get_data(as_text=True)

    clerk = _login(app, "clerk")
    response = clerk.post(f"/meetings/{meeting_id}/checkin", data={"deputy_id": HUGE})
    assert response.status_code == 422 and "请选择代表" in response.get_data(as_text=True)

    db.session.expire_all()
    assert _counts() == before
    assert db.session.scalar(select(func.count()).select_from(Attendance)
                             .where(Attendance.checked_in_at.is_not(None))) == present


def test_an_unknown_case_status_filter_renders_the_htmx_fragment(app):
    load_demo_county()
    staff = _login(app, "staff")
    response = staff.get("/cases/?status=abc", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
