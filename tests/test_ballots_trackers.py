"""Ballot trackers (选票核验码): the done page shows the deputy's code, the published result of a secret
ballot lists every code (as many as electronic voters), and a code names a vote, never its choices."""
from __future__ import annotations

import re

from sqlalchemy import select

from blueprints.ballots import sealing, tally, voting
from blueprints.ballots.models import BallotReceipt, SealedVote
from blueprints.core.extensions import db
from tests.ballots_helpers import form_for, make_ballot, make_meeting

CODE = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}")


def _published(n: int = 6, secret: bool = True, paper: int = 0, users=None):
    meeting, deputies = make_meeting(n + paper)
    ballot = make_ballot(meeting, 2, secret=secret)
    codes = {}
    for deputy in deputies[:n]:
        codes[deputy.id] = voting.cast_vote(ballot.id, deputy.id, form_for(ballot, ["yes", "no"]), meeting.id)
    for deputy in deputies[n:]:
        voting.mark_paper(ballot.id, deputy.id, users["clerk"])
    ballot_id = ballot.id
    voting.close_ballot(ballot_id)
    if paper:
        for item in ballot.items:
            tally.enter_paper_count(ballot_id, item.id, [paper, 0, 0], users["staff"])
    tally.publish(ballot_id)
    return meeting, deputies, ballot_id, codes


def test_a_vote_returns_the_hash_of_its_sealed_box_as_tracker(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)
    code = voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot), meeting.id)
    assert CODE.fullmatch(code)
    assert code == sealing.tracker(db.session.scalar(select(SealedVote.ciphertext)))
    assert voting.tracker_of(ballot.id, deputies[0].id) == code
    # The same choices sealed again give another box, so another code: a code cannot be guessed from choices.
    other = voting.cast_vote(ballot.id, deputies[1].id, form_for(ballot), meeting.id)
    assert other != code


def test_paper_voters_have_no_tracker(app, users):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 1)
    voting.mark_paper(ballot.id, deputies[0].id, users["clerk"])
    assert db.session.scalar(select(BallotReceipt.tracker)) is None


def test_the_done_page_shows_the_tracker(client, auth, make_user):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 1)
    make_user("deputy", "d0", deputy=deputies[0])
    auth.login("d0")
    response = client.post(f"/meetings/{meeting.id}/vote", data={"ballot_id": str(ballot.id), **form_for(ballot)})
    assert response.status_code == 303
    done = client.get(response.headers["Location"])
    code = voting.tracker_of(ballot.id, deputies[0].id)
    assert done.status_code == 200 and f"选票核验码：<strong>{code}</strong>" in done.text


def test_the_published_result_lists_every_tracker_and_only_them(client, users):
    meeting, deputies, ballot_id, codes = _published(6, paper=2, users=users)
    page = client.get(f"/livelihood/results/{ballot_id}")
    assert page.status_code == 200
    listed = CODE.findall(page.text.split('id="trackers"', 1)[1])
    assert sorted(listed) == sorted(codes.values()) and len(listed) == 6  # = electronic voters, not paper
    assert "电子选票 6 张" in page.text
    found = client.get(f"/livelihood/results/{ballot_id}?code={next(iter(codes.values())).lower().replace('-', '')}")
    assert "在本次计票中" in found.text
    missing = client.get(f"/livelihood/results/{ballot_id}?code=AAAA-AAAA")
    assert "没有找到核验码 AAAA-AAAA" in missing.text


def test_a_named_ballots_result_lists_no_trackers(client, users):
    meeting, deputies, ballot_id, codes = _published(3, secret=False, users=users)
    page = client.get(f"/livelihood/results/{ballot_id}")
    assert page.status_code == 200 and 'id="trackers"' not in page.text


def test_normalising_what_a_deputy_types():
    assert voting.normalise_tracker(" abcd-2345 ") == "ABCD-2345"
    assert voting.normalise_tracker("abcd2345") == "ABCD-2345"
    assert voting.normalise_tracker("abc") == "" and voting.normalise_tracker(None) == ""
