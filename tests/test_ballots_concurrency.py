"""Real threads against the file SQLite database or PostgreSQL (TEST_DATABASE_URL): many deputies at
once, one deputy many times at once, and a close racing with votes. Each vote either counts whole or
is refused; nothing is lost or counted twice."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from blueprints.ballots import meetings, tally, voting
from blueprints.ballots.models import Attendance, Ballot, BallotChoice, BallotReceipt, SealedVote
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from tests.ballots_helpers import (
    few_secret_votes_close,  # noqa: F401 (a fixture)
    form_for,
    make_ballot,
    make_meeting,
)

pytestmark = pytest.mark.usefixtures("few_secret_votes_close")


def run_threads(app, jobs):
    """Start every job at the same moment (a barrier); return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def runner(index, job):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[index] = ("ok", job())
            except DomainError as refusal:  # VoteRefused and the other refusals of the family
                outcomes[index] = ("refused", refusal.message)
            except Exception as exc:  # noqa: BLE001 - reported in the assertion
                outcomes[index] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def totals(ballot_id):
    receipts = db.session.scalar(select(func.count()).select_from(BallotReceipt)
                                 .where(BallotReceipt.ballot_id == ballot_id))
    sealed = db.session.scalar(select(func.count()).select_from(SealedVote)
                               .where(SealedVote.ballot_id == ballot_id))
    choices = db.session.scalar(select(func.count()).select_from(BallotChoice)
                                .where(BallotChoice.ballot_id == ballot_id))
    return receipts, sealed, choices


def test_many_deputies_at_once(app):
    meeting, deputies = make_meeting(24)
    ballot = make_ballot(meeting, 5)
    form = form_for(ballot)
    outcomes = run_threads(app, [lambda d=d.id: voting.cast_vote(ballot.id, d, form, meeting.id)
                                 for d in deputies])
    assert [o[0] for o in outcomes] == ["ok"] * 24, outcomes
    db.session.rollback()  # a fresh snapshot: see what the threads committed
    assert totals(ballot.id) == (24, 24, 0)  # one sealed vote each, no plaintext until the close


def test_one_deputy_many_times_at_once_counts_once(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 4)
    form = form_for(ballot)
    deputy_id = deputies[0].id
    outcomes = run_threads(app, [lambda: voting.cast_vote(ballot.id, deputy_id, form, meeting.id)] * 12)
    kinds = sorted(o[0] for o in outcomes)
    assert kinds == ["ok"] + ["refused"] * 11, outcomes
    assert all(o[1] == "您已投票" for o in outcomes if o[0] == "refused")
    db.session.rollback()  # a fresh snapshot: see what the threads committed
    assert totals(ballot.id) == (1, 1, 0)


def test_close_racing_votes_each_vote_counted_or_refused(app):
    meeting, deputies = make_meeting(30)
    ballot = make_ballot(meeting, 3)
    form = form_for(ballot)
    jobs = [lambda d=d.id: voting.cast_vote(ballot.id, d, form, meeting.id) for d in deputies]
    jobs.insert(15, lambda: voting.close_ballot(ballot.id) and None)
    outcomes = run_threads(app, jobs)
    votes = outcomes[:15] + outcomes[16:]
    assert outcomes[15][0] == "ok", outcomes[15]
    assert all(o[0] == "ok" or o == ("refused", "投票已截止。") for o in votes), votes
    accepted = sum(1 for o in votes if o[0] == "ok")
    db.session.rollback()  # a fresh snapshot: see what the threads committed
    assert totals(ballot.id) == (accepted, 0, accepted * 3)  # every accepted vote opened at the close
    closed = db.session.get(Ballot, ballot.id)
    assert closed.status == "closed"
    late = db.session.scalar(select(func.count()).select_from(BallotReceipt)
                             .where(BallotReceipt.ballot_id == ballot.id, BallotReceipt.created_at > closed.closed_at))
    assert late == 0
    assert tally.verify(closed)["electronic"] == accepted


def test_paper_marking_and_voting_for_the_same_deputy_at_once(app, users):
    clerk_id = users["clerk"].id
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)
    form = form_for(ballot)
    deputy_id = deputies[0].id

    def mark():
        from blueprints.core.models import User

        voting.mark_paper(ballot.id, deputy_id, db.session.get(User, clerk_id))

    outcomes = run_threads(app, [mark, lambda: voting.cast_vote(ballot.id, deputy_id, form, meeting.id)] * 4)
    assert sorted(o[0] for o in outcomes) == ["ok"] + ["refused"] * 7, outcomes
    db.session.rollback()  # a fresh snapshot: see what the threads committed
    receipts, sealed, choices = totals(ballot.id)
    assert receipts == 1 and sealed in (0, 1) and choices == 0


def test_two_desks_checking_in_the_same_deputy_at_once(app):
    """The roll row is locked: one check-in succeeds, every twin is told 该代表已签到, one duty activity."""
    from blueprints.duties.models import Activity

    meeting, deputies = make_meeting(3, checked_in=0)
    meeting_id, deputy_id = meeting.id, deputies[0].id

    def desk():
        from blueprints.ballots.models import Meeting

        meetings.check_in(db.session.get(Meeting, meeting_id), deputy_id)

    outcomes = run_threads(app, [desk] * 6)
    assert sorted(outcomes) == [("ok", None)] + [("refused", "该代表已签到。")] * 5, outcomes
    db.session.rollback()  # a fresh snapshot: see what the threads committed
    assert db.session.scalar(select(func.count()).select_from(Attendance)
                             .where(Attendance.checked_in_at.is_not(None))) == 1
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1
