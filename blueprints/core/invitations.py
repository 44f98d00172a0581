"""Inviting deputies to put their names to a deputy's item: co-signers of a suggestion (附议) and of a motion
(联名) obey one rule, worded in each area's terms. Core knows no Deputy model: an invitee needs ``id``,
``name`` and ``serving``.

    check_invitees(deputies, existing_ids, lead_id, limit, words)   # DomainError / Conflict, or nothing
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import Conflict, DomainError


@dataclass(frozen=True)
class InviteWords:
    """The area's messages, each already translated when called (``name``: the deputy's name)."""

    none_chosen: Callable[[], str]
    too_many: Callable[[int], str]
    unknown: Callable[[], str]
    not_serving: Callable[[str], str]
    lead_invited: Callable[[], str]
    already_listed: Callable[[str], str]


def check_invitees(deputies: list, *, existing_ids: Iterable[int], lead_id: int | None, limit: int,
                   words: InviteWords, field: str = "deputies") -> None:
    """Refuse the invitation unless every invitee exists, serves, is not the lead deputy and is not listed
    yet (nor twice in ``deputies``), and the list stays within ``limit``."""
    if not deputies:
        raise DomainError(words.none_chosen(), field=field)
    existing = set(existing_ids)
    if len(existing) + len(deputies) > limit:
        raise DomainError(words.too_many(limit), field=field)
    seen = set()
    for deputy in deputies:
        if deputy is None:
            raise DomainError(words.unknown(), field=field)
        if not deputy.serving:
            raise DomainError(words.not_serving(deputy.name), field=field)
        if deputy.id == lead_id:
            raise DomainError(words.lead_invited(), field=field)
        if deputy.id in existing or deputy.id in seen:
            raise Conflict(words.already_listed(deputy.name), field=field)
        seen.add(deputy.id)
