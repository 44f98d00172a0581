"""The security event log (``security_events``): sign-in success and failure, throttled sign-ins,
sign-out, password changes, and refusals (403, CSRF failure, 429). Staff search it at /audit/security.

Never a password. A typed login is stored only when it names no account (a known account is stored
as its id), and any run of 7 or more digits in it is masked (``138******78``): a deputy may sign in
with a phone number. Kept as long as the audit log: nothing prunes it.
"""
from __future__ import annotations

import logging
import re

from flask import has_request_context, request

from .extensions import db
from .models import SecurityEvent
from .transaction import in_transaction, transaction

log = logging.getLogger(__name__)
_DIGITS = re.compile(r"\d{7,}")


def mask(login: str | None) -> str | None:
    if not login:
        return None
    return _DIGITS.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], login.strip())[:64]


def record(kind: str, *, user=None, login: str | None = None, address: str | None = None) -> None:
    """Add an event to the caller's transaction."""
    path = request.path[:200] if has_request_context() else None
    if address is None:
        address = (request.remote_addr if has_request_context() else None) or "-"
    db.session.add(SecurityEvent(kind=kind, user_id=getattr(user, "id", None),
                                 login=None if user is not None else mask(login), address=address[:64], path=path))


def record_refusal(kind: str, user=None) -> None:
    """An event of its own unit of work, for the error pages (403, CSRF, 429): a failure to log is
    logged, never turned into a second error."""
    if in_transaction():
        return
    try:
        with transaction():
            record(kind, user=user)
    except Exception:  # noqa: BLE001 (the answer is already a refusal)
        log.exception("could not record security event %s", kind)
