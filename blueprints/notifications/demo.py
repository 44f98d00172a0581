"""Demo: every account gets an e-mail address under example.org (deputies' mobiles come from the roster)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..core.cases import Case, CaseAssignment
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import LOCAL_TZ, local_today
from .models import NotificationContact


def load(ctx) -> None:
    have = set(db.session.scalars(select(NotificationContact.user_id)))
    for user_id, username in db.session.execute(select(User.id, User.username).order_by(User.id)):
        if user_id not in have:
            db.session.add(NotificationContact(user_id=user_id, email=f"{username}@example.org"))

    _near_and_past_deadlines()


def _near_and_past_deadlines() -> None:
    """Some items in the hands of units fall due in 7 days, tomorrow, or are overdue, and one was
    assigned two months ago, so that `notify remind` on a fresh demo has something to say."""
    from datetime import datetime

    from ..core.timeutil import add_months

    today = local_today()
    pending = db.session.scalars(
        select(CaseAssignment).join(Case).where(CaseAssignment.state == "pending", CaseAssignment.role == "main",
                                                Case.status == "assigned").order_by(CaseAssignment.id)).all()
    shifts = [timedelta(days=7), timedelta(days=1), timedelta(days=-3), timedelta(days=-10)]
    for item, shift in zip(pending, shifts, strict=False):
        item.deadline = today + shift
        for other in item.case.assignments:
            if other.role == "assist" and other.state == "pending":
                other.deadline = item.deadline
    if len(pending) > len(shifts):
        two_months = add_months(today, -2)
        item = pending[len(shifts)]
        back = item.assigned_at - datetime(two_months.year, two_months.month, two_months.day, 9, tzinfo=LOCAL_TZ)
        _backdate(item.case, back)


def _backdate(case, by: timedelta) -> None:
    """The case's history up to its assignment moved ``by`` earlier; a suggestion's with it."""
    from ..core.cases import backdate_case
    from ..suggestions.demo import backdate
    from ..suggestions.models import Suggestion

    suggestion = db.session.scalar(select(Suggestion).where(Suggestion.case_id == case.id))
    if suggestion is not None:
        backdate(suggestion, by)
    else:
        backdate_case(case, by)
