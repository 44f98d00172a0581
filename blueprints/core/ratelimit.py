"""Rate limits that hold across gunicorn workers and restarts: a ``database://`` storage for
Flask-Limiter (``RATELIMIT_STORAGE_URI``, the default), keeping its fixed-window counters in the table
``rate_counters`` of the site's own database.

Each hit is one statement, ``INSERT ... ON CONFLICT (key) DO UPDATE SET count = count + 1 ...
RETURNING count`` (PostgreSQL and SQLite ≥ 3.35 alike): the database serialises concurrent hits on the
row, so with a limit of 10 exactly 10 requests pass whichever worker serves them, and a restart
forgets nothing. A window that has expired starts again at 1 in the same statement.

A counter is its own tiny unit of work on a connection of its own (``engine.begin()``), not part of
the request's transaction: a refused or failed request still counts. ``redis://`` or ``memcached://``
URIs still work for a site that runs one. ``prune()`` drops expired counters (the
``prune-login-attempts`` command calls it).
"""
from __future__ import annotations

import hashlib
import time

from flask import current_app
from limits.storage import Storage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

_INCR = text(
    "INSERT INTO rate_counters (key, count, expires_at) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_counters.expires_at <= :now THEN :amount ELSE rate_counters.count + :amount END, "
    "expires_at = CASE WHEN rate_counters.expires_at <= :now THEN :expires ELSE rate_counters.expires_at END "
    "RETURNING count")


def _engine():
    return current_app.extensions["sqlalchemy"].engine


def _key(key: str) -> str:
    # Flask-Limiter's keys name the route and the address; a long one is hashed to fit the column.
    return key if len(key) <= 200 else "h:" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_counters`` table (see the module doc)."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with _engine().begin() as conn:
            return conn.execute(_INCR, {"key": _key(key), "amount": amount, "now": now,
                                        "expires": now + expiry}).scalar_one()

    def get(self, key: str) -> int:
        with _engine().connect() as conn:
            count = conn.execute(text("SELECT count FROM rate_counters WHERE key = :key AND expires_at > :now"),
                                 {"key": _key(key), "now": time.time()}).scalar()
        return count or 0

    def get_expiry(self, key: str) -> float:
        with _engine().connect() as conn:
            expires = conn.execute(text("SELECT expires_at FROM rate_counters WHERE key = :key"),
                                   {"key": _key(key)}).scalar()
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with _engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with _engine().begin() as conn:
            return conn.execute(text("DELETE FROM rate_counters")).rowcount

    def clear(self, key: str) -> None:
        with _engine().begin() as conn:
            conn.execute(text("DELETE FROM rate_counters WHERE key = :key"), {"key": _key(key)})


def prune() -> int:
    """Drop counters whose window has ended."""
    with _engine().begin() as conn:
        return conn.execute(text("DELETE FROM rate_counters WHERE expires_at <= :now"),
                            {"now": time.time()}).rowcount or 0
