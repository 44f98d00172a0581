"""Change counters: a number in ``content_versions`` that every committed change to a set of tables
bumps in the same transaction, and values remembered per worker while it stays the same.

Why: some answers are costly to compute and change only when a few tables change (the public pages'
facts, core/pagecache.py and core/publicfacts.py; the year's duty ranking, duties/scoring.py). A
counter lets every worker know at the cost of one indexed read that nothing those answers depend on
has changed, on every machine, at once.

- A flush or a bulk statement through the session only notes which counters its tables belong to; the
  counters are bumped just before COMMIT, so their row locks are held for an instant and never while
  waiting for another lock (no deadlock cycles). The outermost rollback forgets the note; a SAVEPOINT's
  release or rollback keeps it.
- ``Memo`` keeps values under (app, name, arguments): one is served only while the counter, read once
  per request before anything is computed, is what it was when the value was computed, and for at
  most ``max_age()`` seconds; nothing is remembered or served while the session holds uncommitted
  changes. A value computed after a concurrent change is stored under the older reading and never served.
- A counter whose row is missing reads as None: nothing is remembered (the row comes with a migration).
"""
from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from .extensions import db
from .timeutil import utcnow

_COUNTERS: list[ChangeCounter] = []
_NOTED = "changed_counters"
_READ = text("SELECT version FROM content_versions WHERE name = :name")
_BUMP = text("UPDATE content_versions SET version = version + 1 WHERE name = :name")


class ChangeCounter:
    def __init__(self, name: str):
        self.name = name
        self.tables: set[str] = set()
        _COUNTERS.append(self)

    def watch(self, *tables: str) -> None:
        """Declare tables whose committed changes bump this counter."""
        self.tables.update(tables)

    def current(self) -> int | None:
        return db.session.scalar(_READ, {"name": self.name})

    def changed_in(self, session) -> bool:
        """The session has flushed a change to a watched table that is not committed yet."""
        return self.name in session.info.get(_NOTED, ())

    def as_this_request_saw_it(self) -> int | None:
        """The counter as this request first read it (kept in the request's environ, not in ``g``: an
        app context, and its g, can outlive one request in tests and the CLI)."""
        key = _environ_key(self.name)
        environ = request.environ
        if key not in environ:
            environ[key] = self.current()
        return environ[key]


def _environ_key(name: str) -> str:
    return f"platform.counter.{name}"


def note(session, table_name) -> None:
    """Tell the counters that ``table_name`` changes in this transaction: for a statement run on the
    session's connection, which the session's events do not see."""
    _note(session, table_name)


def _note(session, table_name) -> None:
    for counter in _COUNTERS:
        if table_name in counter.tables:
            session.info.setdefault(_NOTED, set()).add(counter.name)


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session, flush_context):
    for table_name in {getattr(obj, "__tablename__", None) for obj in (*session.new, *session.dirty,
                                                                         *session.deleted)}:
        _note(session, table_name)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statement(state):
    # insert()/update()/delete() statements run through the session skip the flush events.
    if state.is_insert or state.is_update or state.is_delete:
        _note(state.session, getattr(getattr(state.statement, "table", None), "name", None))


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session):
    session.flush()  # the flush commit() would do next; it may note changes too
    if session.in_nested_transaction():
        return  # a SAVEPOINT's release (SQLAlchemy calls this hook for it too): the changes are not committed
    for name in sorted(session.info.pop(_NOTED, ())):  # one order everywhere: no lock cycles
        session.connection().execute(_BUMP, {"name": name})
        if has_request_context():  # this request reads the counter again: it must see its own change
            request.environ.pop(_environ_key(name), None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session, previous_transaction):
    # Only the outermost rollback: a SAVEPOINT's rollback (a concurrent twin's INSERT) leaves the rest of
    # the transaction's changes, which must still bump their counters. A needless bump costs a miss only.
    if previous_transaction.parent is None:
        session.info.pop(_NOTED, None)


class Memo:
    """Values remembered per worker under ``counter`` (see the module's docstring).

    ``max_age()`` -> seconds (0 or less: never remember); ``valid_until(now)`` -> an earlier end for a
    value computed at ``now``, or None; ``max_entries``: the least recently stored go first (a year's
    ranking at city size is megabytes: keep few). Values must be immutable."""

    def __init__(self, counter: ChangeCounter, max_age: Callable[[], float],
                 valid_until: Callable[[datetime], datetime | None] = lambda now: None, *,
                 max_entries: int = 5000):
        self.counter = counter
        self.max_age = max_age
        self.valid_until = valid_until
        self.max_entries = max_entries
        self.entries: dict[tuple, tuple] = {}
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def __call__(self, fn):
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(*args):
            session = db.session
            if (not has_request_context() or self.max_age() <= 0
                    or session.new or session.dirty or session.deleted or self.counter.changed_in(session)):
                return fn(*args)
            version = self.counter.as_this_request_saw_it()
            if version is None:
                return fn(*args)
            # Per app object, not per database URL: every test's app (and its fresh database) starts empty.
            key = (current_app.extensions.setdefault("counter_memo_key", uuid.uuid4().hex), name, args)
            now = utcnow()
            entry = self.entries.get(key)
            if entry is not None and entry[0] == version and now < entry[1]:
                return entry[2]
            value = fn(*args)
            until = now + timedelta(seconds=self.max_age())
            boundary = self.valid_until(now)
            with self.lock:
                self.entries.pop(key, None)  # stored again: now the most recent
                while len(self.entries) >= self.max_entries:
                    self.entries.pop(next(iter(self.entries)))
                self.entries[key] = (version, until if boundary is None else min(until, boundary), value)
            return value

        return wrapper
