"""Personal meeting passes (扫码签到): print one card per deputy; scanning it on the deputy's phone signs
them in for that meeting's phone pages, on that day only, and checks them in.

- The code is 128 random bits (``secrets.token_urlsafe(16)``), printed as a QR code of
  ``/pass#<code>``: the fragment never reaches a server log or a Referer; the page's script posts it.
  Only its SHA-256 is stored (``MeetingPass.code_hash``), so printing a pass is issuing it: the codes
  exist only on the sheet that ``issue_passes`` returns.
- One phone per pass: the first phone's random cookie is bound to the pass (its SHA-256); any other
  phone is refused until the clerk reissues the pass (new code, the old one stops working) or revokes it.
- Refused with a Chinese message, nothing changed: an unknown code, a revoked pass, a pass of another
  day than the meeting's (``Meeting.held_on``), an ended deputy, a deputy without an active account,
  a second phone.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import selectinload

from ..core import audit
from ..core.errors import Conflict, DomainError, Forbidden
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from ..registry.models import Deputy, GroupMembership
from . import meetings as meeting_services
from .models import Attendance, Meeting
from .pass_models import MeetingPass

CODE_BYTES = 16  # 128 bits


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_device_token() -> str:
    return secrets.token_urlsafe(16)


@dataclass
class Card:
    deputy: Deputy
    code: str
    group: str


def _group_name(deputy: Deputy) -> str:
    group = deputy.regional_group
    return group.name if group else deputy.level_label + _("人大代表")


@transactional
def issue_passes(meeting: Meeting, deputy_ids: list[int] | None = None, *, reissue: bool = False,
                 actor=None) -> list[Card]:
    """Passes for the serving deputies of the roll (``deputy_ids``: only those). A deputy who has a
    pass keeps it unless ``reissue`` (then the old code and phone stop working at once)."""
    stmt = (select(Deputy).join(Attendance, Attendance.deputy_id == Deputy.id)
            .where(Attendance.meeting_id == meeting.id)
            .options(selectinload(Deputy.memberships).selectinload(GroupMembership.group))
            .order_by(Deputy.sort_name, Deputy.id))
    if deputy_ids is not None:
        stmt = stmt.where(Deputy.id.in_(deputy_ids))
    deputies = list(db.session.scalars(stmt))
    if deputy_ids is not None and len(deputies) != len(set(deputy_ids)):
        raise DomainError(_("该代表不在本次会议的名单中。"))
    ended = [d for d in deputies if not d.serving]
    if deputy_ids is not None and ended:
        raise DomainError(_("%(n)s 的代表资格已终止，不能发放签到证。", n=ended[0].name))
    existing = {p.deputy_id: p for p in db.session.scalars(
        select(MeetingPass).where(MeetingPass.meeting_id == meeting.id))}
    cards: list[Card] = []
    for deputy in deputies:
        if not deputy.serving:
            continue
        found = existing.get(deputy.id)
        if found is not None and not reissue:
            continue
        code = secrets.token_urlsafe(CODE_BYTES)
        if found is None:
            db.session.add(MeetingPass(meeting_id=meeting.id, deputy_id=deputy.id, code_hash=digest(code)))
        else:
            found.code_hash, found.device_hash, found.used_at, found.revoked_at = digest(code), None, None, None
            found.issued_at = utcnow()
        cards.append(Card(deputy, code, _group_name(deputy)))
    if not cards:
        raise DomainError(_("名单上的代表都已有签到证，未做任何修改；如需补发，请在名单中逐人“重新发放”。"))
    db.session.flush()
    audit.record("pass_issue", "meeting", meeting.id,
                 f"{'重新发放' if reissue else '发放'}签到证 {len(cards)} 张（《{meeting.title}》）", actor=actor)
    return cards


@transactional
def revoke_pass(meeting: Meeting, deputy_id: int, actor=None) -> MeetingPass:
    found = db.session.scalar(select(MeetingPass).where(MeetingPass.meeting_id == meeting.id,
                                                        MeetingPass.deputy_id == deputy_id))
    if found is None:
        raise DomainError(_("这位代表还没有签到证。"))
    if found.revoked_at is not None:
        raise Conflict(_("这张签到证已经收回。"))
    found.revoked_at = utcnow()
    audit.record("pass_revoke", "meeting", meeting.id, f"收回代表 {found.deputy.name} 的签到证", actor=actor)
    return found


@dataclass
class PassUse:
    user: object
    meeting_id: int
    checked_in_now: bool


@transactional
def use_pass(code: str, device_token: str) -> PassUse:
    """A phone presents a pass: check everything, bind the phone, check the deputy in."""
    code = (code or "").strip()
    if not code or len(code) > 64 or not device_token:
        raise DomainError(_("签到证无效，请扫描您本人的签到证二维码。"))
    found = db.session.execute(_pass_query(), {"code_hash": digest(code)}).first()
    if found is None:
        raise DomainError(_("签到证无效或已重新发放，请扫描您本人最新的签到证，或找会务人员。"))
    if found.revoked_at is not None:
        raise Forbidden(_("这张签到证已被收回，请找会务人员。"))
    if found.held_on != local_today():
        raise Forbidden(_("签到证只在会议当天（%(d)s）有效。",
                          d=found.held_on.isoformat() if found.held_on else _("未定")))
    if found.ended_on is not None:  # Deputy.serving
        raise Forbidden(_("该代表的代表资格已终止，签到证不能使用。"))
    user = found.User
    if user is None or not user.active:
        raise Forbidden(_("您还没有可用的账号，请找会务人员。"))
    device = digest(device_token)
    if found.device_hash is not None and found.device_hash != device:
        raise Conflict(_("这张签到证已在另一部手机上使用。如需换手机，请找会务人员重新发放签到证。"))
    # Core statements on the session's connection: a scan is on the meeting morning's hot path (2,977 at
    # the door), and the ORM's flush of one changed row cost more than the UPDATE itself.
    db.session.connection().execute(_pass_used(), {"pass_id": found.id, "device": device, "at": utcnow()})
    # what check_in_if_absent reads of the meeting, without loading it
    meeting = SimpleNamespace(id=found.meeting_id, held_on=found.held_on, title=found.title)
    checked_in_now = meeting_services.check_in_if_absent(meeting, found.deputy_id, user)
    # Handed over detached, its attributes loaded: COMMIT would expire it and signing in would read it again.
    db.session.expunge(user)
    return PassUse(user=user, meeting_id=meeting.id, checked_in_now=checked_in_now)


# The scan's statements are built once (so compiled once): built per call, building and keying them cost
# more than running them.
@functools.cache
def _pass_query():
    """The pass by its code's hash: the columns the checks read and the deputy's account, in one query (the
    pass row locked on PostgreSQL). Columns, not the pass, meeting and deputy as objects: three fewer
    entities to build on every scan."""
    return (select(MeetingPass.id, MeetingPass.revoked_at, MeetingPass.device_hash, MeetingPass.meeting_id,
                   MeetingPass.deputy_id, Meeting.held_on, Meeting.title, Deputy.ended_on, User)
            .join(Meeting, Meeting.id == MeetingPass.meeting_id).join(Deputy, Deputy.id == MeetingPass.deputy_id)
            .outerjoin(User, User.deputy_id == Deputy.id)
            .where(MeetingPass.code_hash == bindparam("code_hash"))
            .with_for_update(of=MeetingPass).execution_options(populate_existing=True))


@functools.cache
def _pass_used():
    table = MeetingPass.__table__
    return (update(table).where(table.c.id == bindparam("pass_id"))
            .values(device_hash=bindparam("device"), used_at=bindparam("at")))


def passes_of(meeting: Meeting) -> dict[int, MeetingPass]:
    return {p.deputy_id: p for p in db.session.scalars(
        select(MeetingPass).where(MeetingPass.meeting_id == meeting.id))}
