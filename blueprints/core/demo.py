"""The demo county (青山县): realistic, deterministic data drawn from the seed documents.

Core knows no area: each area registers its demo loader (``core.areas.demo_loader``) and
``load_demo_county`` runs them in their order, each as one unit of work, with one shared random
generator so that the county is the same on every machine.

The services the loaders call stamp their rows with the time of loading, which may be 02:13 or a
Sunday: a demo whose suggestions were answered at midnight is not believed (issue 18). So, last,
``office_hours`` moves every stamp outside office hours (weekdays 08:30–17:30, Asia/Shanghai) into
the office hours before it, keeping the order of all stamps (a step never before its case).
"""
from __future__ import annotations

import random
from bisect import bisect_left
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from .areas import DemoContext, demo_loaders
from .extensions import db
from .timeutil import LOCAL_TZ, UTCDateTime, utcnow
from .transaction import transaction

DEMO_PASSWORD = "demo-2026"  # noqa: S105  (published demo password)
DEMO_DEPUTY_ACCOUNTS = 200
OFFICE_OPENS, OFFICE_CLOSES = time(8, 30), time(17, 30)
# Sign-in machinery and the append-only records of what really happened (the audit log says when the
# demo was loaded): left as the loading left them.
TECHNICAL_TABLES = {"user_sessions", "login_throttles", "login_attempts", "audit_entries", "security_events"}


def load_demo_county(seed: int = 2026) -> None:
    """Run every registered demo loader into an empty, migrated database."""
    ctx = DemoContext(seed=seed, rng=random.Random(seed))
    for loader in demo_loaders():
        with transaction():
            loader(ctx)
    with transaction():
        office_hours(seed)


def in_office_hours(moment: datetime) -> bool:
    """On a weekday between 08:30 and 17:30 local time."""
    local = moment.astimezone(LOCAL_TZ)
    return local.weekday() < 5 and OFFICE_OPENS <= local.time() <= OFFICE_CLOSES


def office_moment(day: date, rng: random.Random, *, not_after: datetime | None = None) -> datetime:
    """A moment (aware UTC) during the office hours of ``day`` or, on a weekend, of the Monday after;
    never after ``not_after`` (default: now) — then the office hours before it."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    opens = datetime.combine(day, OFFICE_OPENS, LOCAL_TZ)
    moment = opens + timedelta(seconds=rng.randint(0, 9 * 3600 - 1))
    limit = not_after or utcnow()
    return moment.astimezone(UTC) if moment <= limit else _office_before(limit, rng)


def _office_before(limit: datetime, rng: random.Random) -> datetime:
    local = limit.astimezone(LOCAL_TZ)
    if in_office_hours(local):
        start = datetime.combine(local.date(), OFFICE_OPENS, LOCAL_TZ)
        return (start + (local - start) * rng.random()).astimezone(UTC)
    day = _window_day(local)
    opens = datetime.combine(day, OFFICE_OPENS, LOCAL_TZ)
    return (opens + timedelta(seconds=rng.randint(0, 9 * 3600 - 1))).astimezone(UTC)


def last_office_day() -> date:
    """The last weekday whose office hours have begun (today from 08:30 on a weekday)."""
    return _window_day(utcnow().astimezone(LOCAL_TZ))


def _window_day(local: datetime) -> date:
    """The last weekday whose office hours opened at or before ``local``."""
    day = local.date()
    if local.time() < OFFICE_OPENS:
        day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _stamp_columns():
    for table in db.metadata.sorted_tables:
        if table.name in TECHNICAL_TABLES:
            continue
        columns = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
        if columns:
            yield table, columns


def office_hours(seed: int = 2026, *, now: datetime | None = None) -> int:
    """Move every past stamp outside office hours into the office hours before it, order kept.

    A stamp outside office hours lies after the close of the last office day that opened before it and
    before the next opening, so it goes between that day's last stamp already in office hours and the
    day's close (or now): every stamp keeps its place among all the others. Future stamps (a notice's
    take-down time) stay. Returns the number of stamps moved."""
    rng = random.Random(f"{seed}-office-hours")
    now = now or utcnow()
    rows = []
    stamps: set[datetime] = set()
    for table, columns in _stamp_columns():
        pk = list(table.primary_key.columns)
        found = db.session.execute(select(*pk, *columns)).all()
        rows.append((table, pk, columns, found))
        for row in found:
            stamps.update(v for v in row[len(pk):] if v is not None)
    good = sorted(v for v in stamps if v <= now and in_office_hours(v))
    by_day: dict[date, list[datetime]] = {}
    for value in sorted(v for v in stamps if v <= now and not in_office_hours(v)):
        by_day.setdefault(_window_day(value.astimezone(LOCAL_TZ)), []).append(value)
    moved: dict[datetime, datetime] = {}
    for day, values in by_day.items():
        close = min(datetime.combine(day, OFFICE_CLOSES, LOCAL_TZ).astimezone(UTC), now)
        before = good[bisect_left(good, values[0]) - 1] if bisect_left(good, values[0]) else None
        low = max(before, datetime.combine(day, OFFICE_OPENS, LOCAL_TZ).astimezone(UTC)) if before \
            else datetime.combine(day, OFFICE_OPENS, LOCAL_TZ).astimezone(UTC)
        span = (close - low).total_seconds()
        offsets = sorted(rng.uniform(0, span) for _ in values)
        last = low
        for value, offset in zip(values, offsets, strict=True):
            target = max(low + timedelta(seconds=offset), last + timedelta(microseconds=1))
            moved[value] = last = target
    for table, pk, columns, found in rows:
        changes = []
        for row in found:
            values = dict(zip((c.name for c in columns), row[len(pk):], strict=True))
            new = {name: moved[v] for name, v in values.items() if v in moved}
            if new:
                changes.append((dict(zip((c.name for c in pk), row[:len(pk)], strict=True)), new))
        for key, new in changes:
            db.session.execute(update(table).where(*(table.c[k] == v for k, v in key.items())).values(**new))
    db.session.flush()
    return len(moved)
