"""Small facts that public pages compute from public tables, remembered per worker.

Why: a list page's total (20,000 published notices counted on every page of the noticeboard) and its
filters' choices (a city's townships and groups) cost more than drawing the page's twenty rows, and they
change only when public content changes. They are kept under the same rules as the public page cache
(core/pagecache.py), so nothing here can answer something the database no longer says:

- an entry is used only while the public content counter (bumped in the same transaction as any change
  to a watched table) is what it was when the entry was computed; the counter is read once per request,
  before anything is computed, so a value computed after a concurrent change is stored under the older
  counter and never served;
- an entry also ends at the next publish or take-down time of a notice and after PUBLIC_FACTS_SECONDS,
  both checked against the clock on every read;
- nothing is remembered or served while the session holds uncommitted changes.

Values must be immutable (numbers, tuples of plain rows). PUBLIC_FACTS_SECONDS = 0 turns this off (the
tests do, except tests/test_public_facts_memo.py)."""
from __future__ import annotations

import functools
import threading
import uuid
from datetime import timedelta

from flask import current_app, has_request_context, request

from . import pagecache, timeutil
from .extensions import db

MAX_ENTRIES = 5000
_entries: dict[tuple, tuple] = {}
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        _entries.clear()


def _app_key() -> str:
    # Per app object, not per database URL: every test's app (and its fresh database) starts empty.
    return current_app.extensions.setdefault("public_facts_key", uuid.uuid4().hex)


def _request_version():
    """The counter as this request first saw it (None: don't remember anything)."""
    # Kept with the request, not in ``g``: an app context (and its g) can outlive one request (tests, CLI).
    environ = request.environ
    if "platform.public_facts_version" not in environ:
        environ["platform.public_facts_version"] = pagecache.current_version()
    return environ["platform.public_facts_version"]


def _valid_until(now):
    until = now + timedelta(seconds=float(current_app.config.get("PUBLIC_FACTS_SECONDS", 0)))
    boundary = pagecache.next_change(now)
    return until if boundary is None else min(until, boundary)


def remembered(fn):
    """fn(*args) -> an immutable value computed from public tables only, remembered as the module says."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args):
        session = db.session
        if (not has_request_context() or current_app.config.get("PUBLIC_FACTS_SECONDS", 0) <= 0
                or session.new or session.dirty or session.deleted or session.info.get("public_changed")):
            return fn(*args)
        version = _request_version()
        if version is None:
            return fn(*args)
        key = (_app_key(), name, args)
        now = timeutil.utcnow()
        entry = _entries.get(key)
        if entry is not None and entry[0] == version and now < entry[1]:
            return entry[2]
        value = fn(*args)
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[key] = (version, _valid_until(now), value)
        return value

    return wrapper
