"""The ballots' refusals, as kinds of the site's one error family (core.errors).

    VoteRefused  409  the ballot's or the voter's state forbids it (not open yet, closed, already voted)
    BadVote      422  the ballot form is incomplete or names things not on the ballot; nothing recorded

A deputy who may not vote at all (not on the roll, not checked in) is refused with ``Forbidden`` (403),
a ballot or item that does not exist with ``NotFound`` (404).
"""
from __future__ import annotations

from ..core.errors import Conflict, DomainError


class VoteRefused(Conflict):
    """A vote, a paper-voter mark or a ballot transition refused by the state it would change (409)."""


class BadVote(DomainError):
    """The form was incomplete or named things not on the ballot: 422, nothing recorded."""


class CountMismatch(RuntimeError):
    """The counts or the ballot box do not add up. Never shown as a result: closing or publication
    stops and the error is logged."""
