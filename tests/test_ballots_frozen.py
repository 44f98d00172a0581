"""An open ballot's items kept per worker (ballots/frozen.py): the vote's POST reads no item, the page's
form is rendered once and is the same as a fresh rendering, and nothing outlives the ballot's opening."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from blueprints.ballots import frozen, voting
from blueprints.ballots.models import CHOICE_LABELS
from blueprints.core.extensions import db
from tests.ballots_helpers import (
    few_secret_votes_close,  # noqa: F401 (a fixture)
    form_for,
    make_ballot,
    make_meeting,
)

pytestmark = pytest.mark.usefixtures("few_secret_votes_close")


@pytest.fixture
def hall(app, make_user):
    meeting, deputies = make_meeting(6, checked_in=6)
    ballot = make_ballot(meeting, 4)
    accounts = {i: make_user("deputy", f"d{i}", deputy=deputies[i]) for i in range(6)}
    return {"meeting": meeting, "ballot": ballot, "accounts": accounts}


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    yield seen
    event.remove(db.engine, "before_cursor_execute", listener)


def test_a_vote_reads_no_item_once_the_ballot_is_known(client, auth, hall, statements):
    meeting, ballot = hall["meeting"], hall["ballot"]
    data = {"ballot_id": str(ballot.id), **form_for(ballot, "yes")}
    auth.login("d0")
    client.get(f"/meetings/{meeting.id}/vote")  # fills this worker's cache
    statements.clear()
    response = client.post(f"/meetings/{meeting.id}/vote", data=data)
    assert response.status_code == 303
    assert not [s for s in statements if "ballot_items" in s]
    writes = [s for s in statements if s.startswith("INSERT")]
    assert len(writes) == 2  # the receipt and the one sealed box
    # the user, the locked ballot, the roll row with the receipt, two inserts (and BEGINs): nothing else
    assert len([s for s in statements if not s.startswith("BEGIN")]) <= 5, statements


def test_the_cached_form_is_the_fresh_form(app, client, auth, hall, statements):
    meeting, ballot = hall["meeting"], hall["ballot"]
    auth.login("d1")
    first = client.get(f"/meetings/{meeting.id}/vote").text
    statements.clear()
    second = client.get(f"/meetings/{meeting.id}/vote").text
    assert not [s for s in statements if "ballot_items" in s]
    # the user, the meeting with its ballots, the roll row with the receipts: three reads for the page
    assert len([s for s in statements if not s.startswith("BEGIN")]) <= 3, statements
    assert first == second
    with app.test_request_context():
        from flask import render_template

        fresh = render_template("ballots/_ballot_items.html", ballot=ballot, items=ballot.items, chosen={},
                                CHOICE_LABELS=CHOICE_LABELS)
    assert fresh.strip() and fresh in second
    for item in ballot.items:
        assert f'name="item-{item.id}" value="yes"' in second and item.title in second


def test_a_refused_vote_keeps_the_choices_not_the_cached_form(client, auth, hall):
    meeting, ballot = hall["meeting"], hall["ballot"]
    auth.login("d2")
    client.get(f"/meetings/{meeting.id}/vote")
    data = {"ballot_id": str(ballot.id), **form_for(ballot, "no")}
    data.pop(f"item-{ballot.items[-1].id}")
    page = client.post(f"/meetings/{meeting.id}/vote", data=data)
    assert page.status_code == 422 and "请对每个项目作出选择" in page.text
    assert f'name="item-{ballot.items[0].id}" value="no" required\n            checked' in page.text


def test_nothing_is_cached_for_a_draft_and_a_new_opening_is_a_new_key(app, hall):
    meeting = hall["meeting"]
    draft = voting.create_ballot(meeting, "草稿表决", "approve", True, None, None)
    voting.add_item(draft, "项目甲", "县水利局", 10, "2026年底")
    db.session.commit()
    with app.test_request_context():
        assert frozen.items_of(draft).ids == tuple(i.id for i in draft.items)
        assert (draft.id, None) not in app.extensions.get("ballots.frozen", {})
        voting.add_item(draft, "项目乙", "县水利局", 10, "2026年底")  # drafts change: always read afresh
        db.session.commit()
        assert len(frozen.items_of(draft).ids) == 2
        opened = hall["ballot"]
        key = (opened.id, opened.opened_at.isoformat())
        frozen.items_of(opened)
        assert key in app.extensions["ballots.frozen"]
