"""Accounts: password policy, login throttled per (account, address) (``_reserve_attempt``), sessions
that really end, one-time passwords.

A one-time password (an issued slip, ``registry/issuing.py``, or an admin reset) is random and
readable (``ONE_TIME_ALPHABET``: no 0/O/1/l/I). It signs in once: the account's ``password_state``
goes ``one_time`` → ``one_time_used`` at that sign-in, every page but choosing a new password answers
with a redirect to it (``core.views``), and a second sign-in with the same password is refused.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, security_log
from .errors import Conflict, DomainError
from .extensions import db
from .models import ROLES, LoginAttempt, LoginThrottle, PasswordState, User, UserSession, new_session_token
from .timeutil import utcnow
from .transaction import after_commit, transaction, transactional

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# A hash of a random password: checking it costs the same as a real check, so a login for an
# unknown user takes as long as one for a known user.
_DUMMY_HASH = generate_password_hash("not-a-real-password-7c1f")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's 1,000 most common passwords and 4,000+ generated local ones (8+ characters: digit runs,
    520/1314, keyboard walks, pinyin words and surnames, the site's words; data/generate_common_passwords.py)."""
    lines = []
    for name in ("common_passwords.txt", "common_passwords_generated.txt"):
        lines += (Path(__file__).parent / "data" / name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, username: str | None = None) -> str | None:
    """The reason a password is refused, or None. Length and the common list only: no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("密码至少需要 %(n)d 个字符。", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("密码不能超过 %(n)d 个字符。", n=MAX_PASSWORD_LENGTH)
    if password.lower() in common_passwords():
        return _("这个密码太常见，很容易被猜到，请换一个。")
    if username and password.lower() == username.lower():
        return _("密码不能与用户名相同。")
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


# Readable on a printed slip and typed on a phone: no 0/O, 1/l/I.
ONE_TIME_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ONE_TIME_LENGTH = 10  # 56 symbols ** 10 ≈ 2**58
# A one-time password is random (58 bits) and lives until its first sign-in, so it does not need
# scrypt's deliberate slowness, which would make issuing 11,000 accounts take a quarter of an hour.
ONE_TIME_HASH_METHOD = "pbkdf2:sha256:20000"


def new_one_time_password() -> str:
    return "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_LENGTH))


def hash_one_time_password(password: str) -> str:
    return generate_password_hash(password, method=ONE_TIME_HASH_METHOD)


def set_one_time_password(user: User) -> str:
    """Give ``user`` a new one-time password (inside the caller's transaction) and return it. The
    caller shows it once (a slip, a workbook) and keeps it nowhere; every session of the account ends."""
    password = new_one_time_password()
    user.password_hash = hash_one_time_password(password)
    user.password_state = PasswordState.ONE_TIME
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(user)
    return password


def office_phone_hint() -> str:
    phone = (current_app.config.get("OFFICE_PHONE") or "").strip()
    if phone:
        return _("请联系代表工委（电话 %(phone)s）。", phone=phone)
    return _("请联系代表工委工作人员。")


def find_login_user(login: str) -> User | None:
    """The account a typed login names: a username, or a deputy's phone number or 代表编号 (when exactly
    one account matches). Core imports no area: the deputy model is reached through User.deputy."""
    login = login.strip()
    if not login:
        return None
    user = db.session.scalar(select(User).where(User.username == login))
    if user is not None:
        return user
    deputy_model = User.deputy.property.mapper.class_
    compact = "".join(ch for ch in login if ch not in " -")
    matches = db.session.scalars(
        select(User).join(deputy_model, User.deputy_id == deputy_model.id)
        .where(or_(deputy_model.phone == compact, deputy_model.code == login)).limit(2)
    ).all()
    return matches[0] if len(matches) == 1 else None


@transactional
def create_user(username: str, password: str, role: str, display_name: str | None = None, *,
                deputy=None, station=None, unit=None, password_hash: str | None = None,
                actor: User | None = None) -> User:
    """One unit of work (nested in the caller's when there is one). A username or deputy taken
    meanwhile is refused by its UNIQUE constraint with the message registered in models.py."""
    username = username.strip()
    if role not in ROLES:
        raise DomainError(_("未知的角色：%(role)s", role=role))
    if not username:
        raise DomainError(_("请填写用户名。"))
    if password_hash is None:
        problem = password_problem(password, username)
        if problem:
            raise DomainError(problem, field="password")
        password_hash = hash_password(password)
    if role == "deputy" and deputy is None:
        raise DomainError(_("代表账号必须关联一位代表。"))
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise DomainError(_("用户名“%(name)s”已被使用。", name=username))
    user = User(
        username=username,
        display_name=(display_name or (deputy.name if deputy else username)).strip(),
        password_hash=password_hash,
        role=role,
        deputy=deputy,
        station=station,
        unit=unit,
        # A password an administrator typed is known to two people: it signs in once, then its owner
        # must choose their own (as after a reset). The CLI's first admin chooses their own.
        password_state=PasswordState.ONE_TIME if actor is not None else PasswordState.CHOSEN,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id, f"新建账号 {username}（{user.role_label}）", actor=actor)
    return user


def _throttle_key(user: User | None, typed: str) -> str:
    return f"u{user.id}" if user is not None else "n:" + typed.strip().lower()[:78]


def _throttle_row(account: str, address: str, now) -> LoginThrottle:
    """The (account, address) row, created if absent and locked (PostgreSQL FOR UPDATE; on SQLite the
    transaction's BEGIN IMMEDIATE already serialises writers)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(LoginThrottle).values(account=account, address=address, attempts=0, last_at=now)
                       .on_conflict_do_nothing())
    return db.session.get(LoginThrottle, (account, address), with_for_update=True, populate_existing=True)


def _wait_message(seconds: float) -> str:
    if seconds >= 60:
        return _("登录尝试过于频繁，请 %(m)d 分钟后再试。", m=int(seconds // 60) + (1 if seconds % 60 else 0))
    return _("登录尝试过于频繁，请 %(s)d 秒后再试。", s=max(1, int(seconds + 0.999)))


def _reserve_attempt(user: User | None, typed: str, address: str, now, account: str | None = None) -> None:
    """Count this sign-in attempt for (account, address) *before* its password is checked, so that a
    parallel burst checks no more passwords than allowed; refuse (DomainError) while it must wait.

    Design: LOGIN_FREE_ATTEMPTS attempts from one address to one account; each further attempt must
    wait LOGIN_DELAY_SECONDS, doubling with every attempt up to LOGIN_MAX_DELAY_SECONDS. The counter
    is per (account, address): failures from another address never delay the owner's phone. When an
    account failed LOGIN_ACCOUNT_SLOW_AFTER times in the last hour from all addresses together, each
    address gets only one free attempt: this slows a spread-out guesser but still checks the owner's
    correct password from an address without failures. A correct password clears the row; a row
    untouched for a day starts again."""
    config = current_app.config
    account = account or _throttle_key(user, typed)
    refusal = None
    with transaction():
        row = _throttle_row(account, address, now)
        if row.last_at < now - timedelta(days=1):
            row.attempts, row.wait_until = 0, None
        if row.wait_until is not None and row.wait_until > now:
            refusal = _wait_message((row.wait_until - now).total_seconds())
            security_log.record("login_throttled", user=user, login=typed, address=address)
        else:
            free = config["LOGIN_FREE_ATTEMPTS"]
            recent = db.session.scalar(select(func.coalesce(func.sum(LoginThrottle.attempts), 0)).where(
                LoginThrottle.account == account, LoginThrottle.last_at >= now - timedelta(hours=1)))
            if recent >= config["LOGIN_ACCOUNT_SLOW_AFTER"]:
                free = 1
            row.attempts += 1
            row.last_at = now
            if row.attempts >= free:
                delay = config["LOGIN_DELAY_SECONDS"] * 2 ** min(row.attempts - free, 20)
                row.wait_until = now + timedelta(seconds=min(delay, config["LOGIN_MAX_DELAY_SECONDS"]))
    if refusal is not None:  # the refusal is committed (logged); it is said after
        raise DomainError(refusal)


def authenticate(username: str, password: str, address: str) -> User:
    """Check a login. Raises DomainError with the message to show; commits the attempt either way."""
    config = current_app.config
    now = utcnow()
    window_start = now - timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    recent_from_address = db.session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.address == address, LoginAttempt.at >= window_start)
    )
    if recent_from_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        raise DomainError(
            _("此网络地址登录失败次数过多，请 %(m)d 分钟后再试。", m=config["LOGIN_LOCK_MINUTES"])
        )

    user = find_login_user(username)
    _reserve_attempt(user, username, address, now)

    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    # The hash takes a while: the write below is its own unit of work (on SQLite a fresh BEGIN
    # IMMEDIATE), so another worker's write meanwhile makes this one wait, not fail.
    user_id = user.id if user is not None else None
    refusal = None
    one_time = user is not None and user.password_state != PasswordState.CHOSEN
    with transaction():
        # A one-time password is read again under a row lock: two phones typing it at the same moment
        # cannot both sign in with it (on SQLite BEGIN IMMEDIATE already serialises the two).
        user = (db.session.get(User, user_id, with_for_update=one_time, populate_existing=one_time)
                if user_id is not None else None)
        if not valid or user is None:
            db.session.add(LoginAttempt(address=address, username=username[:64]))
            security_log.record("login_failed", user=user, login=username, address=address)
            refusal = _("用户名或密码不正确。")
        else:
            # An ended deputy's account is also disabled: say why, which is the more useful message.
            if user.deputy is not None and not user.deputy.serving:
                raise DomainError(_("该代表的代表资格已终止，不能再登录。"))
            if not user.active:
                raise DomainError(_("该账号已停用，请联系代表工委。"))
            if user.password_state == PasswordState.ONE_TIME_USED:
                # The initial password has signed in once already: it is not a password any more.
                raise DomainError(_("这个初始密码已经用过一次，不能再次登录。") + office_phone_hint()
                                  + _("工作人员会为您重新发放初始密码。"))
            if user.password_state == PasswordState.ONE_TIME:
                user.password_state = PasswordState.ONE_TIME_USED
            db.session.execute(delete(LoginThrottle).where(LoginThrottle.account == _throttle_key(user, username),
                                                           LoginThrottle.address == address))
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            security_log.record("login_ok", user=user, address=address)
    if refusal is not None:  # the failed attempt is committed; the refusal is said after
        raise DomainError(refusal)
    return user


def check_second_factor(user: User, code: str, address: str) -> None:
    """The second step of a sign-in with two-step verification (core/totp.py): throttled like the
    password, per (account, address) under its own key, counted before the code is checked."""
    from . import totp

    account = f"t{user.id}"
    _reserve_attempt(user, user.username, address, utcnow(), account=account)
    if not totp.check(user, code):
        with transaction():
            security_log.record("login_failed", user=user, address=address)
        raise DomainError(_("验证码不正确。"), field="code")
    with transaction():
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.account == account,
                                                       LoginThrottle.address == address))


def end_sessions(user: User) -> None:
    """Invalidate every session cookie issued to this user (inside the caller's transaction)."""
    user.session_token = new_session_token()
    if user.id is not None:  # a user being created (issuing) has no sessions yet; no autoflush of it here
        with db.session.no_autoflush:
            db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@transactional
def start_session(user: User, address: str, agent: str | None) -> str:
    """Record a signed-in browser; returns the random id its session cookie carries."""
    sid = secrets.token_urlsafe(24)
    db.session.add(UserSession(user_id=user.id, sid_hash=_sid_hash(sid), address=address[:64],
                               agent=(agent or "")[:200] or None))
    return sid


def session_row(sid: str) -> UserSession | None:
    return db.session.scalar(select(UserSession).where(UserSession.sid_hash == _sid_hash(sid)))


@transactional
def touch_session(row_id: int) -> None:
    db.session.execute(update(UserSession).where(UserSession.id == row_id).values(last_seen_at=utcnow()))


@transactional
def end_session(user: User, session_id: int | None = None, *, keep_sid: str | None = None) -> int:
    """End one of ``user``'s signed-in browsers, or (session_id None) all but the one ``keep_sid`` names."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if session_id is not None:
        stmt = stmt.where(UserSession.id == session_id)
    elif keep_sid:
        stmt = stmt.where(UserSession.sid_hash != _sid_hash(keep_sid))
    ended = db.session.execute(stmt).rowcount or 0
    if session_id is not None and not ended:
        raise Conflict(_("这个登录已经结束了。"))
    return ended


@transactional
def logout(user: User) -> None:
    end_sessions(user)
    security_log.record("logout", user=user)


@transactional
def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise DomainError(_("当前密码不正确。"), field="current")
    problem = password_problem(new, user.username)
    if problem:
        raise DomainError(problem, field="new")
    if new == current:
        raise DomainError(_("新密码不能与当前密码相同。"), field="new")
    user.password_hash = hash_password(new)
    user.password_state = PasswordState.CHOSEN
    end_sessions(user)
    security_log.record("password_changed", user=user)


@transactional
def reset_password(user: User, new: str, actor: User) -> None:
    problem = password_problem(new, user.username)
    if problem:
        raise DomainError(problem, field="password")
    user.password_hash = hash_password(new)
    user.password_state = PasswordState.ONE_TIME  # the next sign-in leads straight to choosing a new password
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(user)
    audit.record("password", "user", user.id, f"重置账号 {user.username} 的密码", actor=actor)


@transactional
def set_active(user: User, active: bool, actor: User) -> None:
    if user.id == actor.id and not active:
        raise DomainError(_("不能停用自己的账号。"))
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(user)
    audit.record("enable" if active else "disable", "user", user.id,
                 f"{'启用' if active else '停用'}账号 {user.username}",
                 changes={"active": [not active, active]}, actor=actor)


@transactional
def change_role(user: User, role: str, actor: User, *, station=None, unit=None) -> None:
    if role not in ROLES:
        raise DomainError(_("未知的角色：%(role)s", role=role))
    if role == "deputy" and user.deputy is None:
        raise DomainError(_("只有关联了代表的账号才能设为代表角色。"))
    if user.id == actor.id and role != user.role:
        raise DomainError(_("不能修改自己的角色。"))
    before = {"role": user.role, "station_id": user.station_id, "unit_id": user.unit_id}
    user.role = role
    user.station = station if role == "liaison" else None
    user.unit = unit if role == "unit" else None
    after = {"role": user.role, "station_id": station.id if user.station else None,
             "unit_id": unit.id if user.unit else None}
    if before == after:
        return
    end_sessions(user)  # new rights take effect at the next login
    audit.record("role", "user", user.id, f"变更账号 {user.username} 的角色", changes=audit.diff(before, after),
                 actor=actor)


@transactional
def prune_login_attempts() -> int:
    """Forget the throttling counters older than a day (called by the CLI / cron). The security event
    log (security_events) keeps every sign-in failure as long as the audit log."""
    from . import ratelimit

    cutoff = utcnow() - timedelta(days=1)
    result = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_at < cutoff))
    after_commit(ratelimit.prune)
    return result.rowcount or 0
