"""Shared builders for the ballots tests (kept out of conftest.py)."""
from __future__ import annotations

import pytest

from blueprints.core.extensions import db
from blueprints.core.timeutil import utcnow


def make_meeting(n_deputies: int = 9, checked_in: int | None = None, term: str = "第十八届"):
    """A county meeting with n serving deputies of the term (plus one ended, who is not on the roll)."""
    from blueprints.ballots import meetings
    from blueprints.ballots.models import Attendance
    from blueprints.registry.models import Deputy

    deputies = [Deputy(name=f"代表{i:03d}", level="county", term=term) for i in range(n_deputies)]
    from datetime import date

    ended = Deputy(name="已终止代表", level="county", term=term, ended_on=date(2026, 1, 1), end_reason="resigned")
    db.session.add_all([*deputies, ended])
    db.session.commit()
    meeting = meetings.create_meeting("青山县第十八届人民代表大会第二次会议", "county", term, date(2026, 1, 10))
    count = n_deputies if checked_in is None else checked_in
    ids = [d.id for d in deputies[:count]]
    if ids:
        db.session.execute(
            Attendance.__table__.update().where(Attendance.meeting_id == meeting.id,
                                                Attendance.deputy_id.in_(ids)).values(checked_in_at=utcnow())
        )
        db.session.commit()
    return meeting, deputies


def make_ballot(meeting, n_items: int = 3, *, method: str = "approve", secret: bool = True, max_yes=None,
                places=None, open_it: bool = True):
    from blueprints.ballots import voting

    ballot = voting.create_ballot(meeting, "2026年度县级民生实事项目票决", method, secret, max_yes, places)
    for i in range(n_items):
        voting.add_item(ballot, f"项目{i + 1}", "县住房和城乡建设局", 100 + i, "2026年底前")
    if open_it:
        voting.open_ballot(ballot.id)
    db.session.refresh(ballot)
    return ballot


def form_for(ballot, choice: str | list[str] = "yes") -> dict:
    choices = choice if isinstance(choice, list) else [choice] * len(ballot.items)
    return {f"item-{item.id}": c for item, c in zip(ballot.items, choices, strict=True)}


@pytest.fixture
def few_secret_votes_close(app):
    """Tests of other rules vote with three deputies: let a secret ballot close with fewer than the
    5 electronic votes production requires (voting.MIN_SECRET_ELECTRONIC_VOTES, tested on its own)."""
    app.config["BALLOT_MIN_SECRET_VOTES"] = 1
    yield
    app.config.pop("BALLOT_MIN_SECRET_VOTES", None)
