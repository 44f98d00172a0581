"""notify(...) and the inbox: what other areas call, inside their own transaction.

    from blueprints.notifications.services import notify
    notify([user.id], "case_assigned", subject, body, link=url, about=case)   # or unit_id=...

writes inbox rows and outbox rows (e-mail, SMS) in the caller's transaction: they commit with the
change or not at all. After the commit a local deliverer may be woken (``after_commit``); nothing
is sent before that.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..core.errors import DomainError, NotFound
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import LOCAL_TZ, utcnow
from ..core.transaction import after_commit, transaction
from .models import CHANNELS, InboxItem, NotificationContact, NotificationPreference, OutboxMessage

SMS_FROM_HOUR, SMS_UNTIL_HOUR = 8, 22  # local time (Asia/Shanghai)


@dataclass(frozen=True)
class Kind:
    name: str
    label: object
    channels: frozenset  # on by default


KINDS: dict[str, Kind] = {}


def register_kind(name: str, label, channels: Iterable[str] = ("inbox", "email")) -> None:
    KINDS[name] = Kind(name, label, frozenset(channels))


register_kind("general", _l("一般通知"), ("inbox", "email"))
register_kind("case_assigned", _l("交办件"), ("inbox", "email", "sms"))
register_kind("deadline", _l("办理期限提醒"), ("inbox", "email", "sms"))
register_kind("chase", _l("催办"), ("inbox", "email", "sms"))
register_kind("deputy_step", _l("待代表处理的事项"), ("inbox", "email"))
register_kind("meeting", _l("会议通知"), ("inbox", "email", "sms"))
register_kind("duty", _l("值班接待提醒"), ("inbox", "email", "sms"))
register_kind("extension", _l("延期申请与审批"), ("inbox", "email"))
register_kind("overdue_digest", _l("超期件日报"), ("inbox", "email"))
register_kind("digest", _l("每日汇总"), ("email",))


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        raise DomainError(_l("未知的消息类型：%(kind)s", kind=name))
    return KINDS[name]


# ---- contacts and preferences ----------------------------------------------------------------

def contact_of(user: User) -> tuple[str | None, str | None, bool]:
    """(email, mobile, digest): the contact row, a deputy's mobile falling back to the roster's 手机."""
    row = db.session.get(NotificationContact, user.id)
    email = row.email if row else None
    mobile = row.mobile if row and row.mobile else None
    if mobile is None and user.deputy is not None:
        mobile = user.deputy.phone or None
    return email, mobile, bool(row and row.email_digest)


def wanted_channels(user_id: int, kind: str) -> set[str]:
    """The kind's built-in defaults, then the staff's defaults, then the user's own choices."""
    chosen = set(kind_of(kind).channels)
    rows = db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.channel, NotificationPreference.enabled)
        .where(NotificationPreference.kind == kind,
               (NotificationPreference.user_id == user_id) | NotificationPreference.user_id.is_(None))
    ).all()
    for _user, channel, enabled in sorted(rows, key=lambda r: r[0] is not None):  # defaults first
        (chosen.add if enabled else chosen.discard)(channel)
    return chosen


def set_preference(user_id: int | None, kind: str, channel: str, enabled: bool) -> None:
    """``user_id`` None: the staff's default for everyone."""
    kind_of(kind)
    if channel not in CHANNELS:
        raise DomainError(_l("未知的发送渠道。"))
    with transaction():
        query = select(NotificationPreference).where(
            NotificationPreference.kind == kind, NotificationPreference.channel == channel,
            NotificationPreference.user_id.is_(None) if user_id is None else NotificationPreference.user_id == user_id)
        row = db.session.scalar(query)
        if row is None:
            db.session.add(NotificationPreference(user_id=user_id, kind=kind, channel=channel, enabled=enabled))
        else:
            row.enabled = enabled


def set_contact(user_id: int, *, email: str | None, mobile: str | None, email_digest: bool = False) -> None:
    import re

    email = (email or "").strip() or None
    mobile = (mobile or "").strip().replace(" ", "") or None
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise DomainError(_l("电子邮件地址格式不正确。"), field="email")
    if mobile and not re.fullmatch(r"\+?\d{6,15}", mobile):
        raise DomainError(_l("手机号码格式不正确。"), field="mobile")
    with transaction():
        row = db.session.get(NotificationContact, user_id)
        if row is None:
            row = NotificationContact(user_id=user_id)
            db.session.add(row)
        row.email, row.mobile, row.email_digest = email, mobile, email_digest


# ---- notify ------------------------------------------------------------------------------------

def next_sms_time(at: datetime) -> datetime:
    """``at`` if it falls between 08:00 and 22:00 in Asia/Shanghai, else the next 08:00."""
    local = at.astimezone(LOCAL_TZ)
    if SMS_FROM_HOUR <= local.hour < SMS_UNTIL_HOUR:
        return at
    day = local.date() if local.hour < SMS_FROM_HOUR else local.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, SMS_FROM_HOUR, tzinfo=LOCAL_TZ).astimezone(at.tzinfo)


def _recipients(user_ids: Iterable[int] | None, unit_id: int | None) -> list[User]:
    ids = set(user_ids or ())
    query = select(User).where(User.active.is_(True))
    if unit_id is not None:
        query = query.where((User.unit_id == unit_id) | User.id.in_(ids))
    else:
        query = query.where(User.id.in_(ids))
    return list(db.session.scalars(query.order_by(User.id)))


def notify(user_ids: Iterable[int] | None = None, kind: str = "general", subject: str = "", body: str = "",
           link: str | None = None, *, unit_id: int | None = None, about=None,
           now: datetime | None = None) -> list[int]:
    """Queue ``subject``/``body`` for each recipient on the channels they want, in the caller's
    transaction (or a new one). Returns the recipients' user ids."""
    with transaction():
        ids = queue(user_ids, kind, subject, body, link, unit_id=unit_id, about=about, now=now)
        after_commit(_wake_worker)
    return ids


def queue(user_ids: Iterable[int] | None, kind: str, subject: str, body: str = "", link: str | None = None, *,
          unit_id: int | None = None, about=None, now: datetime | None = None) -> list[int]:
    """notify() without its own block: only adds rows to the session (for a flush listener)."""
    kind_of(kind)
    subject = str(subject).strip()[:200]
    if not subject:
        raise DomainError(_l("消息标题不能为空。"))
    now = now or utcnow()
    about_type = about_id = None
    if about is not None:
        about_type, about_id = (about if isinstance(about, tuple)
                                else (getattr(about, "__tablename__", type(about).__name__), about.id))
    users = _recipients(user_ids, unit_id)
    for user in users:
        channels = wanted_channels(user.id, kind)
        email, mobile, digest = contact_of(user)
        common = dict(user_id=user.id, kind=kind, subject=subject, body=str(body), link=link,
                      about_type=about_type, about_id=about_id)
        if "inbox" in channels:
            db.session.add(InboxItem(**common, created_at=now))
        if "email" in channels and email:
            db.session.add(OutboxMessage(**common, channel="email", address=email, due_at=now,
                                         created_at=now, digest_pending=digest))
        if "sms" in channels and mobile:
            db.session.add(OutboxMessage(**common, channel="sms", address=mobile,
                                         due_at=next_sms_time(now), created_at=now))
    return [u.id for u in users]


def _wake_worker() -> None:
    """After the commit: a deliverer in this process (NOTIFY_DELIVER_ON_COMMIT) sends at once;
    otherwise the cron/worker picks the rows up on its next pass."""
    from flask import current_app

    hook = current_app.extensions.get("notify_wake")
    if hook is not None:
        hook()


# ---- the inbox ---------------------------------------------------------------------------------

def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(InboxItem)
                             .where(InboxItem.user_id == user_id, InboxItem.read_at.is_(None))) or 0


def inbox_page(user_id: int, page: int = 1, per_page: int = 20, unread_only: bool = False):
    query = select(InboxItem).where(InboxItem.user_id == user_id)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.order_by(InboxItem.created_at.desc(), InboxItem.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
    return items, total


def mark_read(user_id: int, item_id: int) -> InboxItem:
    with transaction():
        item = db.session.get(InboxItem, item_id)
        if item is None or item.user_id != user_id:
            raise NotFound(_l("没有这条消息。"))
        if item.read_at is None:
            item.read_at = utcnow()
    return item


def mark_all_read(user_id: int) -> int:
    with transaction():
        result = db.session.execute(update(InboxItem).where(InboxItem.user_id == user_id,
                                                            InboxItem.read_at.is_(None))
                                    .values(read_at=utcnow()))
    return result.rowcount or 0
