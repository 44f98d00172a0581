"""Delivering the outbox: claim → send → mark sent, one message at a time.

1. **Claim** (one short transaction): due rows (queued and due, or ``sending`` whose lease has run
   out because their deliverer died) become ``sending`` with ``lease_until`` and ``claimed_by``. On
   PostgreSQL the rows are selected ``FOR UPDATE SKIP LOCKED``, so concurrent deliverers take
   different rows; on SQLite the unit of work's ``BEGIN IMMEDIATE`` lets one claimer in at a time.
2. **Send** outside any transaction (no lock is held while an SMTP server or a gateway answers).
3. **Mark** (one transaction per message): ``sent`` with an attempt row; on failure an attempt row
   and a retry after a backoff (1, 2, 4 … minutes, at most 6 hours), or ``failed`` after the last.

A deliverer killed (kill -9) after step 3 of a message has recorded it: it is never sent again. Its
still-claimed rows are not lost: their lease runs out and the next run sends them. The one message
a process may have been sending when killed (sent, not yet marked) is sent again with the same
Message-ID / X-Message-Id, so that a mail client or gateway can recognise the repeat.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..core.errors import DomainError
from ..core.extensions import db
from ..core.timeutil import LOCAL_TZ, utcnow
from ..core.transaction import transaction
from .channels import CHANNELS, DeliveryError, scrub
from .models import DeliveryAttempt, NotificationContact, OutboxMessage
from .services import SMS_FROM_HOUR, SMS_UNTIL_HOUR, next_sms_time

log = logging.getLogger(__name__)


@dataclass
class Claimed:
    """What a sender needs of a claimed row (plain values: no ORM object crosses a transaction)."""

    id: int
    user_id: int | None
    channel: str
    kind: str
    address: str
    subject: str
    body: str
    link: str | None
    attempts: int


@dataclass
class Result:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    digests: int = 0

    def __add__(self, other: Result) -> Result:
        return Result(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed,
                      self.digests + other.digests)


_clock = time.monotonic  # how long a pass has held its claim (replaced in a test)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _setting(name: str, default):
    return type(default)(current_app.config.get(name, os.environ.get(name, default)))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def sms_allowed(now: datetime) -> bool:
    return SMS_FROM_HOUR <= now.astimezone(LOCAL_TZ).hour < SMS_UNTIL_HOUR


def claim(worker: str, limit: int, now: datetime) -> list[Claimed]:
    lease = timedelta(seconds=_setting("NOTIFY_LEASE_SECONDS", 300))
    with transaction():
        due = or_(and_(OutboxMessage.status == "queued", OutboxMessage.due_at <= now,
                       OutboxMessage.digest_pending.is_(False)),
                  and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now))
        query = select(OutboxMessage).where(due)
        if not sms_allowed(now):
            query = query.where(OutboxMessage.channel != "sms")  # quiet hours: SMS wait for 08:00
        query = query.order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = db.session.scalars(query).all()
        claimed = []
        for row in rows:
            row.status, row.lease_until, row.claimed_by = "sending", now + lease, worker
            row.attempts += 1
            claimed.append(Claimed(row.id, row.user_id, row.channel, row.kind, row.address, row.subject,
                                   row.body, row.link, row.attempts))
    return claimed


def mark_sent(item: Claimed, worker: str) -> None:
    with transaction():
        now = utcnow()
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == item.id)
                           .values(status="sent", sent_at=now, lease_until=None))
        db.session.add(DeliveryAttempt(message_id=item.id, at=now, worker=worker, outcome="sent"))


def mark_error(item: Claimed, worker: str, error: DeliveryError, now: datetime) -> bool:
    """Record a failed attempt; True if it will be retried (after the backoff, counted from ``now``)."""
    max_attempts = _setting("NOTIFY_MAX_ATTEMPTS", 6)
    retry = not error.permanent and item.attempts < max_attempts
    with transaction():
        values = {"lease_until": None, "status": "queued" if retry else "failed"}
        if retry:
            due = now + backoff(item.attempts)
            values["due_at"] = next_sms_time(due) if item.channel == "sms" else due
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == item.id).values(**values))
        db.session.add(DeliveryAttempt(message_id=item.id, at=now, worker=worker, outcome="error",
                                       detail=scrub(error)))
    return retry


def deliver_batch(worker: str, channels: dict, limit: int, now: datetime) -> tuple[Result, int]:
    result = Result()
    claimed_at = _clock()
    batch = claim(worker, limit, now)
    lease = _setting("NOTIFY_LEASE_SECONDS", 300)
    for item in batch:
        if _clock() - claimed_at >= lease - min(5, lease / 2):
            # This pass has run past its lease: another deliverer may have claimed the rest. Leave
            # them (they are sent by whoever holds them now, or by the next run).
            log.warning("lease ran out after %s of %s claimed messages; leaving the rest", result.sent, len(batch))
            break
        try:
            if item.channel not in channels:
                channels[item.channel] = CHANNELS[item.channel](current_app.config)
            channels[item.channel].send(item)
        except DeliveryError as error:
            if mark_error(item, worker, error, now):
                result.retried += 1
                log.warning("message #%s (%s) attempt %s failed, will retry: %s", item.id, item.channel,
                            item.attempts, error)
            else:
                result.failed += 1
                log.error("message #%s (%s) failed for good after attempt %s: %s", item.id, item.channel,
                          item.attempts, error)
            continue
        mark_sent(item, worker)
        result.sent += 1
        log.info("message #%s (%s, %s) sent, attempt %s", item.id, item.channel, item.kind, item.attempts)
    return result, len(batch)


def deliver(*, now: datetime | None = None, limit: int | None = None, batch_size: int | None = None,
            worker: str | None = None) -> Result:
    """Send everything due now (at most ``limit``); the digests that are due are composed first."""
    worker = worker or worker_name()
    batch_size = batch_size or _setting("NOTIFY_BATCH_SIZE", 50)
    result = Result(digests=compose_digests(now or utcnow()))
    channels: dict = {}
    try:
        while limit is None or result.sent + result.failed + result.retried < limit:
            done = result.sent + result.failed + result.retried
            size = batch_size if limit is None else min(batch_size, limit - done)
            step, claimed = deliver_batch(worker, channels, size, now or utcnow())
            result = result + step
            if claimed < size:
                break
    finally:
        for channel in channels.values():
            channel.close()
    return result


def run_worker(*, interval: float, stop=lambda: False) -> None:
    """The long-running form of ``deliver`` (``notify deliver --loop``)."""
    worker = worker_name()
    while not stop():
        try:
            result = deliver(worker=worker)
            if result.sent or result.failed or result.retried:
                log.info("delivery pass: %s sent, %s to retry, %s failed", result.sent, result.retried, result.failed)
        except Exception:  # a database hiccup must not end the worker
            log.exception("delivery pass failed")
            db.session.remove()
        slept = 0.0
        while slept < interval and not stop():
            time.sleep(min(0.5, interval - slept))
            slept += 0.5


# ---- the daily e-mail digest -----------------------------------------------------------------

def compose_digests(now: datetime) -> int:
    """Once a day from NOTIFY_DIGEST_HOUR (local), fold each digest user's waiting e-mails into one."""
    local = now.astimezone(LOCAL_TZ)
    if local.hour < _setting("NOTIFY_DIGEST_HOUR", 8):
        return 0
    today = local.date()
    user_ids = db.session.scalars(select(OutboxMessage.user_id).where(
        OutboxMessage.digest_pending.is_(True), OutboxMessage.status == "queued").distinct()).all()
    made = 0
    for user_id in user_ids:
        try:
            made += _compose_digest(user_id, today, now)
        except DomainError:  # another deliverer composed it first (the UNIQUE on user and day)
            continue
        except IntegrityError:
            continue
    return made


def _compose_digest(user_id: int, today, now: datetime) -> int:
    from flask_babel import gettext as _

    with transaction():
        already = db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.user_id == user_id, OutboxMessage.digest_date == today))
        if already is not None:
            return 0
        query = select(OutboxMessage).where(OutboxMessage.user_id == user_id, OutboxMessage.digest_pending.is_(True),
                                            OutboxMessage.status == "queued").order_by(OutboxMessage.id)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = db.session.scalars(query).all()
        if not rows:
            return 0
        contact = db.session.get(NotificationContact, user_id)
        address = (contact.email if contact and contact.email else rows[-1].address)
        lines = []
        for number, row in enumerate(rows, 1):
            lines.append(f"{number}. {row.subject}")
            if row.body:
                lines.append(f"   {row.body}")
            if row.link:
                lines.append(f"   {row.link}")
        digest = OutboxMessage(
            user_id=user_id, channel="email", kind="digest", address=address,
            subject=_("每日消息汇总（%(date)s，共 %(count)s 条）", date=today.isoformat(), count=len(rows)),
            body="\n".join(lines), status="queued", due_at=now, created_at=now, digest_date=today)
        db.session.add(digest)
        db.session.flush()
        for row in rows:
            row.status, row.digest_id, row.digest_pending = "digested", digest.id, False
    return 1
