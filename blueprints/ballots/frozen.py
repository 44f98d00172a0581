"""An open ballot's items, kept per worker while it is open (meeting-day speed, issue 14 §5).

Items can only be added or removed while a ballot is a draft (voting._require_draft), so from the
open until the close the item list, and the phone's 20-fieldset form built from it, never change.
Each worker keeps them under (app, ballot id, opened_at): a vote's POST then checks the paper without
reading ``ballot_items`` and the ballot page renders its form once per worker instead of once per
deputy. The ballot row itself is still read (and locked) on every vote, so a closed ballot is never
served from here: only a ballot whose row says ``open`` is looked up, and its opened_at is part of
the key. Nothing secret is kept: items, their titles and the empty form are what every deputy sees.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select

from ..core.extensions import db
from .models import CHOICE_LABELS, Ballot, BallotItem

_MAX_ENTRIES = 32  # a meeting has a handful of open ballots; a bound keeps tests' many apps small


@dataclass
class FrozenItems:
    ids: tuple[int, ...]  # in ballot order (position)
    titles: dict[int, str]
    form_html: Markup | None = field(default=None)  # the empty form's fieldsets, rendered on first use


def _load(ballot: Ballot) -> FrozenItems:
    rows = db.session.execute(select(BallotItem.id, BallotItem.title).where(BallotItem.ballot_id == ballot.id)
                              .order_by(BallotItem.position, BallotItem.id)).all()
    return FrozenItems(ids=tuple(r.id for r in rows), titles={r.id: r.title for r in rows})


def _cache() -> dict:
    return current_app.extensions.setdefault("ballots.frozen", {})


def _key(ballot: Ballot):
    if ballot.status != "open" or ballot.opened_at is None:
        return None
    return (ballot.id, ballot.opened_at.isoformat())


def items_of(ballot: Ballot) -> FrozenItems:
    """The ballot's item ids (in order) and titles; from this worker's cache while the ballot is open."""
    key = _key(ballot)
    if key is None:
        return _load(ballot)
    cache = _cache()
    frozen = cache.get(key)
    if frozen is None:
        if len(cache) >= _MAX_ENTRIES:
            cache.clear()
        frozen = cache[key] = _load(ballot)
    return frozen


def empty_form(ballot: Ballot) -> Markup:
    """The fieldsets of the ballot's form with nothing chosen (the page puts the CSRF token and the
    submit button around them); rendered once per worker while the ballot is open."""
    frozen = items_of(ballot)
    if frozen.form_html is not None:
        return frozen.form_html
    # render_template's output is the autoescaped template: Markup only marks it as such for the page.
    html = Markup(render_template("ballots/_ballot_items.html", ballot=ballot,  # noqa: S704
                                  items=ballot.items, chosen={}, CHOICE_LABELS=CHOICE_LABELS))
    if _key(ballot) is not None:
        frozen.form_html = html
    return html
