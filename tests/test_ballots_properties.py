"""Property tests of the count: random ballots tallied equal a plain recount; the selection rule
never selects a failing item, never exceeds the places and marks ties only at the cut."""
from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter

# Hypothesis keeps its cache outside the worktree (a .hypothesis directory there makes pytest warn).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "hypothesis-ballots"))

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blueprints.ballots import tally, voting
from blueprints.ballots.models import Ballot
from blueprints.core.extensions import db
from tests.ballots_helpers import (
    few_secret_votes_close,  # noqa: F401 (a fixture)
    form_for,
    make_ballot,
    make_meeting,
)


@settings(database=None)  # no .hypothesis directory in the worktree
@given(yes=st.lists(st.integers(0, 40), min_size=1, max_size=12), eligible=st.integers(1, 40),
       places=st.one_of(st.none(), st.integers(1, 12)))
def test_selection_rule(yes, eligible, places):
    results = [tally.ItemResult(item=None, electronic={}, paper={}, total={"yes": y}) for y in yes]
    tally.rank_and_select(results, eligible, places)
    selected = [r for r in results if r.outcome == "selected"]
    ties = [r for r in results if r.outcome == "tie"]
    for r in results:
        assert (r.outcome == "failed") == (r.yes * 2 <= eligible)
    if places is not None:
        assert len(selected) <= places
        if ties:
            assert len(selected) < places < len(selected) + len(ties)
            assert len({r.yes for r in ties}) == 1
    losers = [r for r in results if r.outcome in ("passed", "tie")]
    if selected and losers:
        assert min(r.yes for r in selected) >= max(r.yes for r in losers)
    if places is None or sum(1 for r in results if r.yes * 2 > eligible) <= places:
        assert not ties and all(r.outcome in ("selected", "failed") for r in results)


CHOICES = st.sampled_from(["yes", "no", "abstain"])
TERMS = itertools.count(100)


@pytest.mark.usefixtures("few_secret_votes_close")
@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_tally_equals_a_recount(app, data):
    n_items = data.draw(st.integers(1, 4), label="items")
    votes = data.draw(st.lists(st.lists(CHOICES, min_size=n_items, max_size=n_items), min_size=1, max_size=8),
                      label="votes")
    meeting, deputies = make_meeting(len(votes), term=f"第{next(TERMS)}届")  # a fresh roll per example
    ballot = make_ballot(meeting, n_items)
    for deputy, plan in zip(deputies, votes, strict=True):
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, plan), meeting.id)
    voting.close_ballot(ballot.id)
    ballot = db.session.get(Ballot, ballot.id)
    results = tally.tally(ballot)
    for index, result in enumerate(results):
        expected = Counter(plan[index] for plan in votes)
        assert result.total == {c: expected.get(c, 0) for c in ("yes", "no", "abstain")}
    assert tally.verify(ballot, results)["electronic"] == len(votes)
