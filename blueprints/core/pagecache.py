"""A short-lived, per-process cache of public pages for visitors who are not signed in.

Why: the home page, the notices and the directory are read thousands of times for every change, and
rendering one costs 5–10 ms of Python, while checking that a stored copy is still current costs one
indexed read. Nothing here can show a visitor something the database no longer says:

- every committed change to a table listed in PUBLIC_TABLES bumps a counter in ``content_versions``
  in the same transaction; a stored page is served only while the counter is unchanged, so a staff
  edit or a take-down shows at once on every worker and every machine;
- a stored page also expires at the next notice publish or take-down time (publication windows stay
  exact) and after PUBLIC_PAGE_CACHE_SECONDS at most (time-of-day content such as "today's
  reception" and tables not listed here lag by that much at worst);
- only GET requests from visitors with an empty session are served from or stored in the cache, and
  only 200 responses whose rendering did not touch the session (no CSRF token, no flash).

PUBLIC_PAGE_CACHE_SECONDS = 0 turns it off (the tests do, except tests/test_pagecache.py).
"""
from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from flask import current_app, request, session
from flask_login import current_user

from .counters import ChangeCounter
from .timeutil import utcnow

# The counter every committed change to a public table bumps (core/counters.py). Areas add their tables
# with watch_tables() at import time.
PUBLIC = ChangeCounter("public")
PUBLIC_TABLES = PUBLIC.tables
watch_tables = PUBLIC.watch
MAX_ENTRIES = 2000
MAX_BODY_BYTES = 512 * 1024
# Functions now -> the next time public content changes by itself (a notice's window opening or
# closing), or None. Areas register theirs with changes_at().
_BOUNDARIES: list[Callable[[datetime], datetime | None]] = []


def changes_at(fn: Callable[[datetime], datetime | None]):
    """Register fn(now_utc) -> the next time public content changes on a schedule, or None."""
    _BOUNDARIES.append(fn)
    return fn


def current_version() -> int | None:
    """The public content counter, or None when the row is missing (then nothing is cached)."""
    return PUBLIC.current()


# ---- the store ---------------------------------------------------------------------------------

class _Store:
    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple, tuple] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_store = _Store(MAX_ENTRIES)


def clear() -> None:
    _store.clear()


def _eligible() -> bool:
    return (request.method == "GET" and not session and not current_user.is_authenticated
            and current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0) > 0)


def _key() -> tuple:
    return (current_app.name, request.full_path, request.headers.get("HX-Request") == "true",
            request.headers.get("HX-History-Restore-Request") == "true")


def next_change(now: datetime) -> datetime | None:
    """The next time public content changes by itself (the earliest registered boundary), or None."""
    times = [boundary_of(now) for boundary_of in _BOUNDARIES]
    return min((t if t.tzinfo else t.replace(tzinfo=UTC) for t in times if t is not None), default=None)


def _expiry(now_monotonic: float) -> float:
    seconds = float(current_app.config["PUBLIC_PAGE_CACHE_SECONDS"])
    now = utcnow()
    boundary = next_change(now)
    if boundary is not None:
        seconds = min(seconds, max((boundary - now).total_seconds(), 0.0))
    return now_monotonic + seconds


def cached_public_page(view):
    """Serve the view from the per-process cache while its content is current (see module doc)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not _eligible():
            return view(*args, **kwargs)
        version = current_version()
        if version is None:
            return view(*args, **kwargs)
        key = _key()
        now = time.monotonic()
        entry = _store.get(key)
        if entry is not None and entry[0] == version and entry[1] > now:
            body, status, headers = entry[2:]
            response = current_app.response_class(body, status=status, headers=headers)
            response.headers["X-Page-Cache"] = "hit"
            return response
        response = current_app.make_response(view(*args, **kwargs))
        if (response.status_code == 200 and not session.modified and not response.direct_passthrough
                and "Set-Cookie" not in response.headers):
            body = response.get_data()
            if len(body) <= MAX_BODY_BYTES:
                headers = [(k, v) for k, v in response.headers.items() if k.lower() != "x-page-cache"]
                _store.put(key, (version, _expiry(now), body, response.status_code, headers))
        response.headers["X-Page-Cache"] = "miss"
        return response

    return wrapper
