"""Accounts, roles, administrative areas and the append-only audit log."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .errors import DomainError, register_constraint_messages
from .extensions import db
from .timeutil import UTCDateTime, utcnow

# Role names as stored; labels are what users read.
ROLES = ("deputy", "liaison", "unit", "clerk", "leader", "staff", "admin")
ROLE_LABELS = {
    "deputy": "人大代表",
    "liaison": "联络站联络员",
    "unit": "承办单位",
    "clerk": "会务/计票人员",
    "leader": "常委会组成人员（督办领导）",
    "staff": "代表工委工作人员",
    "admin": "系统管理员",
}

AREA_KINDS = ("county", "township", "village")
AREA_KIND_LABELS = {"county": "县(区)", "township": "乡镇(街道)", "village": "村(社区)"}


class PasswordState:
    """``users.password_state``: whose password the account holds (see core/accounts.py)."""

    CHOSEN = "chosen"  # the user's own
    ONE_TIME = "one_time"  # an initial password from a slip or an admin reset, not used yet
    ONE_TIME_USED = "one_time_used"  # signed in with it once: a new password must be chosen now


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Area(db.Model):
    """County → township → village/community."""

    __tablename__ = "areas"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        CheckConstraint("kind IN ('county', 'township', 'village')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)

    parent: Mapped[Area | None] = relationship(remote_side="Area.id", back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent", order_by="Area.name")

    @property
    def kind_label(self) -> str:
        return AREA_KIND_LABELS.get(self.kind, self.kind)

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    def __str__(self) -> str:
        return self.name


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('deputy', 'liaison', 'unit', 'clerk', 'leader', 'staff', 'admin')", name="role"
        ),
        CheckConstraint("role <> 'deputy' OR deputy_id IS NOT NULL", name="deputy_linked"),
        CheckConstraint("password_state IN ('chosen', 'one_time', 'one_time_used')", name="password_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated on logout, password change and disabling: a copied session cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    # chosen: the user's own password; one_time: an initial password (a slip, an admin reset) not yet
    # used; one_time_used: signed in with it once, so choosing a new one is the only page open, and the
    # initial password cannot sign in a second time (blueprints/core/accounts.py).
    password_state: Mapped[str] = mapped_column(String(16), default="chosen", server_default="chosen")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deputy_id: Mapped[int | None] = mapped_column(
        ForeignKey("deputies.id", ondelete="RESTRICT"), unique=True
    )
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id", ondelete="SET NULL"))

    deputy = relationship("Deputy", back_populates="user")
    station = relationship("Station")
    unit = relationship("HandlingUnit")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def must_change_password(self) -> bool:
        return self.password_state != PasswordState.CHOSEN

    def has_role(self, *roles: str) -> bool:
        # The system administrator may do whatever the office staff may do.
        return self.role in roles or self.role == "admin"


class LoginAttempt(db.Model):
    """Failed logins, kept in the database so that every worker sees the same count."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    address: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))


class LoginThrottle(db.Model):
    """Sign-in attempts per (account, address): each is counted *before* its password is checked (so a
    parallel burst cannot check more than allowed), cleared by a correct password from that address, and
    after ``LOGIN_FREE_ATTEMPTS`` failures each further attempt must wait a doubling delay
    (core/accounts.py). ``account`` is ``u<user id>`` for a known account, else the typed login."""

    __tablename__ = "login_throttles"

    account: Mapped[str] = mapped_column(String(80), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    wait_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class UserSession(db.Model):
    """A signed-in browser (core/accounts.py ``start_session``): listed on /account/sessions, where its
    owner can end it; the cookie carries a random id whose SHA-256 is stored here. Ended = deleted."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    address: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(200))


class UserTotp(db.Model):
    """A TOTP second factor (RFC 6238, pyotp; core/totp.py). ``confirmed_at`` NULL: being set up.
    ``last_step`` refuses a code used a second time; ``recovery_hashes`` are the unused recovery codes."""

    __tablename__ = "user_totp"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_hashes: Mapped[list | None] = mapped_column(JSON)

    user = relationship("User")


class RateCounter(db.Model):
    """Flask-Limiter's counters (fixed windows), shared by every worker and kept across restarts
    (core/ratelimit.py, ``RATELIMIT_STORAGE_URI = "database://"``). ``expires_at`` is epoch seconds."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Float, index=True)


SECURITY_EVENT_KINDS = ("login_ok", "login_failed", "login_throttled", "logout", "password_changed",
                        "forbidden", "csrf_failed", "rate_limited")
SECURITY_EVENT_LABELS = {
    "login_ok": "登录成功", "login_failed": "登录失败", "login_throttled": "登录被限速", "logout": "退出登录",
    "password_changed": "修改密码", "forbidden": "无权访问(403)", "csrf_failed": "安全令牌无效(CSRF)",
    "rate_limited": "请求过频(429)",
}


class SecurityEvent(db.Model):
    """Sign-ins, sign-outs, password changes and refusals (403, CSRF, 429), kept as long as the audit
    log. Never a password; digits runs in a typed login are masked (a deputy may sign in by phone)."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_at", "at"),
        Index("ix_security_events_kind_at", "kind", "at"),
        CheckConstraint("kind IN ('login_ok', 'login_failed', 'login_throttled', 'logout', 'password_changed', "
                        "'forbidden', 'csrf_failed', 'rate_limited')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    login: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(200))

    user = relationship("User")

    @property
    def kind_label(self) -> str:
        return SECURITY_EVENT_LABELS.get(self.kind, self.kind)


class ContentVersion(db.Model):
    """A counter per kind of content; "public" is bumped by every change public pages show."""

    __tablename__ = "content_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class AuditEntry(db.Model):
    """Append-only: rows are inserted, never updated or deleted (enforced by database triggers)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id"),
        Index("ix_audit_entries_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(255))
    changes: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)

    actor = relationship("User")


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(mapper, connection, target):
    raise PermissionError("audit entries are append-only")


# What a user is told when a change breaks one of these constraints (core.errors.constraint_refusal);
# a taken name is invalid input on the form (422, next to its field).
register_constraint_messages({
    "uq_users_username": (_l("该用户名已被使用，请换一个。"), "username"),
    "uq_users_deputy_id": (_l("该代表已有账号，一位代表只能有一个账号。"), "username"),
    "uq_areas_parent_id_name": (_l("同一上级下已有同名区划。"), "name"),
    "uq_areas_code": (_l("区划代码已被其他区划使用。"), "code"),
    "ck_users_deputy_linked": (_l("代表账号必须关联一位代表。"), "role"),
}, kind=DomainError)
