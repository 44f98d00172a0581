"""A TOTP second factor (RFC 6238, 6 digits, 30 s, pyotp) for staff and admin accounts.

Staff may turn it on at /account/totp; admin accounts must (``TOTP_REQUIRED_FOR_ADMINS``, on by default):
an admin without it who signs in is led to that page and can open nothing else until it is set up.
Setting up: a secret (160 bits), shown as a QR code (core/qr.py) and as text, confirmed by one code;
then 10 recovery codes are shown once (each signs in once instead of a code; stored hashed). A code is
accepted one step either side of now, and never twice (``last_step``). Lost phone and codes: an admin
resets the second factor on the account's page (audited; every session of the account ends).
"""
from __future__ import annotations

import secrets
import time

import pyotp
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from . import audit
from .errors import DomainError
from .extensions import db
from .models import User, UserTotp
from .timeutil import utcnow
from .transaction import transactional

ROLES_WITH_TOTP = ("staff", "admin")
RECOVERY_CODES = 10
ISSUER = "代表履职服务平台"


def row(user: User) -> UserTotp | None:
    return db.session.get(UserTotp, user.id)


def enabled(user: User) -> bool:
    found = row(user)
    return found is not None and found.confirmed_at is not None


def may_use(user: User) -> bool:
    return user.role in ROLES_WITH_TOTP


def must_enrol(user: User) -> bool:
    return (user.role == "admin" and bool(current_app.config.get("TOTP_REQUIRED_FOR_ADMINS", True))
            and not enabled(user))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


@transactional
def begin(user: User) -> UserTotp:
    """A new secret, not yet confirmed (replacing an unconfirmed one)."""
    if not may_use(user):
        raise DomainError(_("只有工作人员和管理员账号可以开启两步验证。"))
    found = row(user)
    if found is not None and found.confirmed_at is not None:
        raise DomainError(_("两步验证已经开启。"))
    if found is None:
        found = UserTotp(user_id=user.id, secret=pyotp.random_base32(32))
        db.session.add(found)
    else:
        found.secret = pyotp.random_base32(32)
    db.session.flush()
    return found


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    if len(code) != 6 or not code.isdigit():
        return None
    totp, now = pyotp.TOTP(secret), time.time()
    for offset in (-1, 0, 1):
        at = now + offset * totp.interval
        step = int(at // totp.interval)
        if secrets.compare_digest(totp.at(at), code) and (last_step is None or step > last_step):
            return step
    return None


def _new_recovery_codes() -> tuple[list[str], list[str]]:
    from .accounts import ONE_TIME_ALPHABET, hash_one_time_password

    codes = ["".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    return codes, [hash_one_time_password(code) for code in codes]


@transactional
def confirm(user: User, code: str) -> list[str]:
    """Turn the pending secret on with a first code; returns the recovery codes (shown once)."""
    found = row(user)
    if found is None or found.confirmed_at is not None:
        raise DomainError(_("请先开始设置两步验证。"))
    step = _matching_step(found.secret, code, None)
    if step is None:
        raise DomainError(_("验证码不正确，请核对手机上显示的 6 位数字（注意手机时间要准确）。"), field="code")
    codes, hashes = _new_recovery_codes()
    found.confirmed_at, found.last_step, found.recovery_hashes = utcnow(), step, hashes
    audit.record("update", "user", user.id, f"账号 {user.username} 开启两步验证", actor=user)
    return codes


@transactional
def check(user: User, code: str) -> bool:
    """A code from the app, or an unused recovery code (used up by this). Locks the row: the same code
    typed twice at once is accepted once."""
    found = db.session.get(UserTotp, user.id, with_for_update=True, populate_existing=True)
    if found is None or found.confirmed_at is None:
        return False
    step = _matching_step(found.secret, code, found.last_step)
    if step is not None:
        found.last_step = step
        return True
    typed = (code or "").strip()
    for index, hashed in enumerate(found.recovery_hashes or []):
        if len(typed) == 10 and check_password_hash(hashed, typed):
            found.recovery_hashes = [h for i, h in enumerate(found.recovery_hashes) if i != index]
            return True
    return False


@transactional
def disable(user: User, code: str) -> None:
    if must_enrol(user) or (user.role == "admin" and current_app.config.get("TOTP_REQUIRED_FOR_ADMINS", True)):
        raise DomainError(_("管理员账号必须使用两步验证，不能关闭。"))
    if not check(user, code):
        raise DomainError(_("验证码不正确。"), field="code")
    db.session.delete(row(user))
    audit.record("update", "user", user.id, f"账号 {user.username} 关闭两步验证", actor=user)


@transactional
def reset(user: User, actor: User) -> None:
    """An admin's reset for a lost phone: the account sets it up again at its next sign-in (admins) or
    when it wishes (staff). Every session of the account ends."""
    from .accounts import end_sessions

    found = row(user)
    if found is None:
        raise DomainError(_("该账号没有开启两步验证。"))
    db.session.delete(found)
    end_sessions(user)
    audit.record("update", "user", user.id, f"重置账号 {user.username} 的两步验证", actor=actor)
