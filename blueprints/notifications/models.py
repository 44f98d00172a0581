"""Notifications: the inbox, the outbox (e-mail and SMS waiting to be sent), each delivery attempt,
users' contacts and their choices per kind of message.

The outbox row is written in the same transaction as the change it reports (services.notify): a
rolled-back change leaves no row, so nothing is sent for it. ``flask notify deliver`` claims due rows
(status queued → sending, with a lease), sends them and marks them sent one by one.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, utcnow

CHANNELS = ("inbox", "email", "sms")
CHANNEL_LABELS = {"inbox": _l("站内消息"), "email": _l("电子邮件"), "sms": _l("短信")}
OUTBOX_CHANNELS = ("email", "sms")
# queued: waiting for its due time; sending: claimed by a deliverer until lease_until; sent; failed:
# gave up after the last retry; digested: folded into that day's e-mail digest (digest_id).
STATUSES = ("queued", "sending", "sent", "failed", "digested")


class NotificationContact(db.Model):
    """A user's e-mail and mobile (kept apart from ``users``); a deputy without a mobile here is
    reached at the roster's 手机."""

    __tablename__ = "notification_contacts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    email_digest: Mapped[bool] = mapped_column(default=False)  # one e-mail a day instead of one each

    user = relationship("User")


class InboxItem(db.Model):
    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    about_type: Mapped[str | None] = mapped_column(String(32))
    about_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(db.Model):
    __tablename__ = "notification_messages"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'digested')", name="status"),
        CheckConstraint("status <> 'sending' OR lease_until IS NOT NULL", name="sending_leased"),
        Index("ix_notification_messages_status_due_at", "status", "due_at"),
        # One digest per user and day: two deliverers composing the same digest cannot both succeed.
        UniqueConstraint("user_id", "digest_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(254))  # never written to a log
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    about_type: Mapped[str | None] = mapped_column(String(32))
    about_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default="queued")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest_pending: Mapped[bool] = mapped_column(default=False)  # waits for the user's daily digest
    digest_date: Mapped[date | None]  # set on a digest message itself: the local day it covers
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_messages.id", ondelete="SET NULL"), index=True)

    attempt_rows: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", order_by="DeliveryAttempt.id", cascade="all, delete-orphan")


class DeliveryAttempt(db.Model):
    __tablename__ = "notification_attempts"
    __table_args__ = (CheckConstraint("outcome IN ('sent', 'error')", name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("notification_messages.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    worker: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))
    detail: Mapped[str] = mapped_column(String(500), default="")  # scrubbed of addresses and numbers

    message: Mapped[OutboxMessage] = relationship(back_populates="attempt_rows")


class NotificationPreference(db.Model):
    """Whether a kind of message goes to a channel: ``user_id`` NULL is the staff's default for
    everyone; a user's own row overrides it."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("channel IN ('inbox', 'email', 'sms')", name="channel"),
        UniqueConstraint("user_id", "kind", "channel"),
        # NULLs are distinct in a UNIQUE: the defaults get their own partial index.
        Index("uq_notification_preferences_default", "kind", "channel", unique=True,
              sqlite_where=db.text("user_id IS NULL"), postgresql_where=db.text("user_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool]


register_constraint_messages({
    "ck_notification_messages_channel": (_l("未知的发送渠道。"), None),
    "ck_notification_preferences_channel": (_l("未知的发送渠道。"), None),
    "uq_notification_preferences_user_id_kind_channel": (_l("该消息类型与渠道的设置已存在。"), None),
    "uq_notification_preferences_default": (_l("该消息类型与渠道的默认设置已存在。"), None),
}, kind=DomainError)


class Reminder(db.Model):
    """A scheduled reminder already queued (``notify remind`` is idempotent): one row per item and key,
    e.g. ``due7:2026-12-08`` (7 days before that deadline), ``overdue:0`` (the first week),
    ``progress:1`` (the first two months). The UNIQUE is the final word when two runs overlap."""

    __tablename__ = "notification_reminders"
    __table_args__ = (UniqueConstraint("about_type", "about_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    about_type: Mapped[str] = mapped_column(String(32))
    about_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


CHASE_WEIGHTS = {"deputy": 1, "staff": 2, "leadership": 4}  # 代表 1, 代表工委 2, 领导 4
CHASE_LABELS = {"deputy": _l("代表"), "staff": _l("代表工委"), "leadership": _l("领导")}


class Chase(db.Model):
    """催办: someone pressing a unit about one case or suggestion; ``weight`` by who sent it."""

    __tablename__ = "notification_chases"
    __table_args__ = (
        CheckConstraint("sender IN ('deputy', 'staff', 'leadership')", name="sender"),
        CheckConstraint("weight IN (1, 2, 4)", name="weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sender: Mapped[str] = mapped_column(String(12))
    weight: Mapped[int]
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    by = relationship("User")


register_constraint_messages({
    "uq_notification_reminders_about_type_about_id_key": (_l("该提醒已经发送过。"), None),
    "uq_notification_messages_user_id_digest_date": (_l("今天的汇总邮件已经生成。"), None),
})
