"""Accounts for everyone at once (批量开通账号): deputies, handling units, station liaisons.

    result = issue_accounts("deputy", township="城关镇", actor=staff)   # one unit of work
    result.slips    # [Slip(name, username, password, role_label, detail)], shown once, kept nowhere

Who: ``deputy`` — serving deputies (ended ones never), all of them or one township (乡镇, its villages
included), one group, or those added since a date (a roster just imported); ``unit`` — every active
handling unit; ``liaison`` — every active station (one liaison account per station).

Usernames: a deputy's phone number or 代表编号 (``DEPUTY_USERNAME``: "phone" or "code"; the other when
the first is missing); a unit's or station's short code (``code``; when it has none, ``dw<id>`` /
``lz<id>`` is given to it and kept). People who already have an account are skipped; with
``reset=True`` their account gets a new one-time password instead (every session of it ends).

Every new or reset account holds a one-time password (``core.accounts.set_one_time_password``): the
first sign-in leads to choosing a new one. The passwords exist only in the returned slips: the caller
prints them or writes the workbook; nothing logs them. One audit entry per batch (counts and scope).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..core import audit
from ..core.accounts import set_one_time_password
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import ROLE_LABELS, Area, User
from ..core.timeutil import LOCAL_TZ
from ..core.transaction import transactional
from ..core.xlsx import ExportWorkbook
from .models import Deputy, DeputyGroup, GroupMembership, HandlingUnit, Station

ISSUED_ROLES = ("deputy", "unit", "liaison")
SLIP_HEADER = ("姓名", "用户名", "初始密码", "角色")


@dataclass
class Slip:
    name: str
    username: str
    password: str
    role_label: str
    detail: str = ""  # group, unit or station: printed on the slip so it reaches the right person


@dataclass
class IssueResult:
    role: str
    scope: str
    slips: list[Slip] = field(default_factory=list)
    created: int = 0
    reset: int = 0
    skipped: int = 0  # already had an account (without reset)
    problems: list[str] = field(default_factory=list)  # people left out, and why

    @property
    def summary(self) -> str:
        text = _("已开通 %(c)d 个账号，重置 %(r)d 个初始密码，跳过已有账号 %(s)d 人。",
                 c=self.created, r=self.reset, s=self.skipped)
        if self.problems:
            text += _("另有 %(n)d 人未开通（原因见下）。", n=len(self.problems))
        return text


def townships() -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.kind == "township").order_by(Area.name)))


def groups() -> list[DeputyGroup]:
    return list(db.session.scalars(select(DeputyGroup).order_by(DeputyGroup.kind, DeputyGroup.name)))


def _township(name: str) -> Area:
    area = db.session.scalar(select(Area).where(Area.kind == "township", Area.name == name.strip()))
    if area is None:
        raise DomainError(_("没有名为“%(name)s”的乡镇（街道），请检查名称。", name=name.strip()), field="township")
    return area


def _group(name: str) -> DeputyGroup:
    group = db.session.scalar(select(DeputyGroup).where(DeputyGroup.name == name.strip()))
    if group is None:
        raise DomainError(_("没有名为“%(name)s”的代表小组，请检查名称。", name=name.strip()), field="group")
    return group


def deputy_set(township: str | None = None, group: str | None = None, since: date | None = None):
    """The serving deputies of the chosen set (filters combine) and a words-for-people description."""
    stmt = select(Deputy).where(Deputy.ended_on.is_(None))
    parts: list[str] = []
    if township:
        area = _township(township)
        stmt = stmt.where(or_(Deputy.area_id == area.id,
                              Deputy.area_id.in_(select(Area.id).where(Area.parent_id == area.id))))
        parts.append(area.name)
    if group:
        found = _group(group)
        stmt = stmt.where(Deputy.id.in_(select(GroupMembership.deputy_id)
                                        .where(GroupMembership.group_id == found.id)))
        parts.append(found.name)
    if since:
        stmt = stmt.where(Deputy.created_at >= datetime.combine(since, time(), LOCAL_TZ))
        parts.append(_("%(d)s 以后录入", d=since.isoformat()))
    scope = "、".join(parts) or _("全部在任代表")
    stmt = stmt.options(selectinload(Deputy.user),
                        selectinload(Deputy.memberships).selectinload(GroupMembership.group))
    return list(db.session.scalars(stmt.order_by(Deputy.sort_name, Deputy.id))), scope


def _deputy_username(deputy: Deputy, prefer: str) -> str | None:
    first, second = (deputy.code, deputy.phone) if prefer == "code" else (deputy.phone, deputy.code)
    return (first or second or "").strip() or None


@transactional
def issue_accounts(role: str, *, township: str | None = None, group: str | None = None,
                   since: date | None = None, reset: bool = False, actor: User | None = None,
                   progress: Callable[[int, int], None] | None = None) -> IssueResult:
    """Open (or with ``reset`` re-issue) the accounts of one set. Refused with a Chinese message and
    nothing written: an unknown role, township or group, a set with nobody in it, a set where everyone
    already has an account (without reset)."""
    if role not in ISSUED_ROLES:
        raise DomainError(_("只能批量开通代表、承办单位和联络站联络员的账号。"), field="role")
    if role != "deputy" and (township or group or since):
        raise DomainError(_("按乡镇、代表小组或录入日期选择只适用于代表账号。"), field="role")

    taken = set(db.session.scalars(select(User.username)))
    if role == "deputy":
        people, scope = deputy_set(township, group, since)
        if not people:
            raise DomainError(_("所选范围（%(s)s）内没有在任代表，未开通任何账号。", s=scope))
        prefer = current_app.config.get("DEPUTY_USERNAME", "phone")
        candidates = [(d.name, d.user, _deputy_username(d, prefer), d, _detail_deputy(d)) for d in people]
    elif role == "unit":
        units = list(db.session.scalars(select(HandlingUnit).where(HandlingUnit.active.is_(True))
                                        .order_by(HandlingUnit.name)))
        scope = _("全部承办单位")
        if not units:
            raise DomainError(_("还没有承办单位，未开通任何账号。"))
        existing = _accounts_by(User.unit_id, "unit")
        candidates = [(u.name, existing.get(u.id), _code(u, "dw", taken), u, u.name) for u in units]
    else:
        stations = list(db.session.scalars(select(Station).where(Station.active.is_(True)).order_by(Station.name)))
        scope = _("全部联络站")
        if not stations:
            raise DomainError(_("还没有联络站，未开通任何账号。"))
        existing = _accounts_by(User.station_id, "liaison")
        candidates = [(s.name + _("联络员"), existing.get(s.id), _code(s, "lz", taken), s, s.name)
                      for s in stations]

    result = IssueResult(role=role, scope=scope)
    label = ROLE_LABELS[role]
    new_users: list[tuple[User, str, str]] = []
    for index, (name, user, username, owner, detail) in enumerate(candidates, 1):
        if user is not None:
            if reset:
                result.slips.append(Slip(name, user.username, set_one_time_password(user), label, detail))
                result.reset += 1
            else:
                result.skipped += 1
        elif username is None:
            result.problems.append(_("%(n)s：没有手机号也没有代表编号，无法作为用户名。", n=name))
        elif username in taken:
            result.problems.append(_("%(n)s：用户名“%(u)s”已被其他账号使用。", n=name, u=username))
        else:
            taken.add(username)
            user = User(username=username, display_name=name[:64], password_hash="", role=role,
                        deputy=owner if role == "deputy" else None,
                        unit=owner if role == "unit" else None,
                        station=owner if role == "liaison" else None)
            result.slips.append(Slip(name, username, set_one_time_password(user), label, detail))
            new_users.append((user, username, detail))
            result.created += 1
        if progress:
            progress(index, len(candidates))
    if not result.slips:
        if result.skipped and not result.problems:
            raise DomainError(_("所选范围（%(s)s）内的 %(n)d 人都已有账号，未做任何修改；如需重新发放初始密码，"
                                "请勾选“重置已有账号的初始密码”。", s=scope, n=result.skipped))
        raise DomainError(_("所选范围（%(s)s）内没有可以开通的账号，未做任何修改。", s=scope)
                          + ("；".join(result.problems[:5])), problems=result.problems)
    db.session.add_all(user for user, _u, _d in new_users)
    db.session.flush()
    audit.record("issue", "user", None,
                 f"批量开通账号：{label}，范围 {scope}，新开通 {result.created} 个，重置 {result.reset} 个，"
                 f"跳过 {result.skipped} 个",
                 changes={"created": result.created, "reset": result.reset, "skipped": result.skipped,
                          "left_out": len(result.problems)}, actor=actor)
    return result


def _detail_deputy(deputy: Deputy) -> str:
    group = deputy.regional_group
    return group.name if group else deputy.level_label + _("人大代表")


def _accounts_by(column, role: str) -> dict[int, User]:
    found: dict[int, User] = {}
    for user in db.session.scalars(select(User).where(User.role == role, column.is_not(None)).order_by(User.id)):
        found.setdefault(getattr(user, column.key), user)
    return found


def _code(obj, prefix: str, taken: set[str]) -> str:
    """The unit's or station's short code, given one (``dw12``, ``lz3``) when it has none."""
    if not obj.code:
        code = f"{prefix}{obj.id}"
        while code in taken:
            code += "x"
        obj.code = code
    return obj.code


def slips_workbook(slips: list[Slip]) -> bytes:
    """姓名, 用户名, 初始密码, 角色 — one row per slip. Cells are text (a phone number stays a number's
    digits, a leading = is not a formula)."""
    book = ExportWorkbook()
    sheet = book.sheet("账号凭条", widths=(16, 18, 14, 14), text=True)
    sheet.append(list(SLIP_HEADER))
    for slip in slips:
        sheet.append([slip.name, slip.username, slip.password, slip.role_label])
    return book.save()
