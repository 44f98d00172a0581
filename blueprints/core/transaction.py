"""One owner per transaction: the unit of work every write goes through.

    with transaction():
        ...                      # services add and change rows and flush
        after_commit(send_mail)  # runs only once the outermost block has committed

The outermost ``with transaction():`` commits when its block ends and rolls back when it raises;
nested blocks (a service calling another service) only flush, so the caller's work and the callee's
commit together or not at all. On SQLite the outermost block begins ``BEGIN IMMEDIATE``: it takes the
write lock before it reads, so concurrent writers wait for each other (``busy_timeout``) instead of
failing with "database is locked" when a read snapshot turns out to be stale. A request that only
reads never enters a transaction block and never takes the write lock.

An ``IntegrityError`` leaving a block becomes a ``DomainError`` chosen by the violated constraint's
name (``core.errors.constraint_refusal``): the database is the final word on duplicates, and the
user gets a Chinese message saying which rule the change broke. Nothing is written.

Nothing else in the application commits or rolls back (tests check this): services flush, views
and CLI commands wrap the service call in ``transaction()`` (or call a service that does).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .errors import constraint_refusal
from .extensions import db

log = logging.getLogger(__name__)

_DEPTH = "uow_depth"
_CALLBACKS = "uow_after_commit"
_WROTE_OUTSIDE = "uow_wrote_outside"


def in_transaction() -> bool:
    """True inside a ``with transaction():`` block."""
    return db.session().info.get(_DEPTH, 0) > 0


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback()`` after the outermost transaction commits; never if it rolls back."""
    if not in_transaction():
        raise RuntimeError("after_commit() outside a transaction() block")
    db.session().info.setdefault(_CALLBACKS, []).append(callback)


def _begin_outermost(session) -> None:
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE_OUTSIDE):
        # Changes belong inside the block (on SQLite the rollback below would silently drop them,
        # flushed or not).
        raise RuntimeError("unsaved changes made outside a transaction() block")
    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL: carry on in the request's transaction (READ COMMITTED, row locks decide)
    if session.in_transaction():
        # End the read snapshot: a deferred transaction that has read cannot become a writer once
        # another connection has committed (SQLITE_BUSY_SNAPSHOT), whatever the busy timeout.
        session.rollback()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


@contextmanager
def transaction() -> Iterator[None]:
    """The unit of work: the outermost block commits or rolls back, nested blocks only flush."""
    session = db.session()
    info = session.info
    depth = info.get(_DEPTH, 0)
    if depth:
        info[_DEPTH] = depth + 1
        try:
            yield
            session.flush()
        except IntegrityError as exc:
            raise constraint_refusal(exc) from exc
        except StaleDataError as exc:
            raise _stale() from exc
        finally:
            info[_DEPTH] = depth
        return

    _begin_outermost(session)
    info[_DEPTH] = 1
    info[_CALLBACKS] = []
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        _rollback(session)
        raise constraint_refusal(exc) from exc
    except StaleDataError as exc:  # a versioned row changed since it was read (core.versioning)
        _rollback(session)
        raise _stale() from exc
    except BaseException:
        _rollback(session)
        raise
    finally:
        info[_DEPTH] = 0
    callbacks = info.pop(_CALLBACKS, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the change is committed; a failed follow-up must not undo the answer
            log.exception("after-commit callback %r failed", callback)


def _stale():
    from .versioning import stale

    return stale()


def discard() -> None:
    """Drop whatever a failed request left in the session (the error pages call this): a change
    made outside any block, or a session a failed statement left unusable. Never commits. Not for
    refusing a change: raise inside ``transaction()`` instead."""
    if not in_transaction():
        _rollback(db.session())


def _rollback(session) -> None:
    session.info.pop(_CALLBACKS, None)
    session.rollback()


def transactional(function: Callable) -> Callable:
    """Decorator: the function body is one unit of work (nested when called inside another)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with transaction():
            return function(*args, **kwargs)

    return wrapper


@event.listens_for(Session, "after_soft_rollback")
def _forget_callbacks(session, previous_transaction):
    # A rollback from anywhere (an error page, the end of a request) drops pending follow-ups.
    if previous_transaction.parent is None:
        session.info.pop(_CALLBACKS, None)
        session.info.pop(_WROTE_OUTSIDE, None)


@event.listens_for(Session, "after_commit")
def _committed(session):
    session.info.pop(_WROTE_OUTSIDE, None)


@event.listens_for(Session, "after_flush")
def _note_flush_outside(session, flush_context):
    # An autoflush outside a block wrote rows that nobody will commit: remember it, so that the next
    # transaction() refuses loudly instead of rolling them back without a word.
    if not session.info.get(_DEPTH):
        session.info[_WROTE_OUTSIDE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement_outside(state):
    if not state.session.info.get(_DEPTH) and (state.is_insert or state.is_update or state.is_delete):
        state.session.info[_WROTE_OUTSIDE] = True
