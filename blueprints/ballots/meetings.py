"""Meetings: the roll (serving deputies of the congress), check-in and the quorum."""
from __future__ import annotations

import functools
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam, case, func, or_, select, update

from ..core import areas, audit
from ..core.errors import Conflict, DomainError
from ..core.extensions import db
from ..core.models import Area
from ..core.timeutil import utcnow
from ..core.transaction import transactional
from ..registry.models import LEVELS, Deputy
from .models import Attendance, Meeting


def quorum_met(present: int, total: int) -> bool:
    """Two thirds of ALL deputies on the roll (not of those checked in)."""
    return total > 0 and present * 3 >= total * 2


def roll_query(level: str, term: str | None, area_id: int | None = None):
    """Serving deputies of the level (and term); for a township congress, of its township only (the
    deputy's area is the township or one of its villages)."""
    stmt = select(Deputy.id).where(Deputy.level == level, Deputy.ended_on.is_(None))
    if term:
        stmt = stmt.where(Deputy.term == term)
    if area_id is not None:
        villages = select(Area.id).where(Area.parent_id == area_id)
        stmt = stmt.where(or_(Deputy.area_id == area_id, Deputy.area_id.in_(villages)))
    return stmt


def townships() -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.kind == "township").order_by(Area.name)))


@transactional
def create_meeting(title: str, level: str, term: str | None, held_on: date | None, actor=None,
                   area_id: int | None = None) -> Meeting:
    """A meeting and its roll. A township congress (level township) names its township: its roll,
    quorum and passing rule are that township's deputies, not every township deputy of the county."""
    title = (title or "").strip()
    term = (term or "").strip() or None
    if not title:
        raise DomainError(_("请填写会议名称。"), field="title")
    if len(title) > 120:
        raise DomainError(_("会议名称不能超过 120 个字符。"), field="title")
    if level not in LEVELS:
        raise DomainError(_("请选择人大层级。"), field="level")
    if level == "township":
        area = db.session.get(Area, area_id) if area_id else None
        if area is None or area.kind != "township":
            raise DomainError(_("乡镇人代会请选择所属乡镇。"), field="area_id")
    elif area_id:
        raise DomainError(_("只有乡镇人代会可以选择乡镇。"), field="area_id")
    deputy_ids = db.session.scalars(roll_query(level, term, area_id if level == "township" else None)).all()
    if not deputy_ids:
        raise DomainError(_("没有符合条件的在任代表，无法建立会议名单。"), field="term")
    meeting = Meeting(title=title, level=level, term=term, held_on=held_on,
                      area_id=area_id if level == "township" else None)
    db.session.add(meeting)
    db.session.flush()
    db.session.add_all(Attendance(meeting_id=meeting.id, deputy_id=d) for d in deputy_ids)
    audit.record("create", "meeting", meeting.id, f"新建会议《{title}》，应到代表 {len(deputy_ids)} 名", actor=actor)
    return meeting


def counts(meeting_id: int) -> dict:
    """present / total, the excused (approved leave, not checked in: notices.py) and the quorum, in one
    query (polled by projector screens). The quorum stays two thirds of ALL deputies on the roll."""
    from .notices import excused_query

    absent = Attendance.checked_in_at.is_(None)
    total, present, excused = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((Attendance.checked_in_at.is_not(None), 1), else_=0)), 0),
               func.coalesce(func.sum(case((absent & Attendance.deputy_id.in_(excused_query(meeting_id)), 1),
                                           else_=0)), 0))
        .where(Attendance.meeting_id == meeting_id)
    ).one()
    present, excused = int(present), int(excused)
    return {"total": total, "present": present, "excused": excused, "absent": total - present - excused,
            "quorum": quorum_met(present, total), "quorum_needed": -(-2 * total // 3)}


@transactional
def check_in(meeting: Meeting, deputy_id: int, actor=None, *, by_self: bool = False) -> Attendance:
    """Check a deputy in, once: a second check-in (another clerk's desk, a stale page, a second scan)
    is refused with Conflict and changes nothing. The roll row is locked (FOR UPDATE on PostgreSQL;
    SQLite's write transaction already began IMMEDIATE), so two desks at once cannot both succeed."""
    meeting_id, actor_id = meeting.id, actor.id if actor else None
    row = db.session.scalar(select(Attendance).where(Attendance.meeting_id == meeting_id,
                                                     Attendance.deputy_id == deputy_id)
                            .with_for_update().execution_options(populate_existing=True))
    if row is None:
        raise DomainError(_("该代表不在本次会议的名单中。"))
    if row.checked_in_at is not None:
        raise Conflict(_("您已签到。") if by_self else _("该代表已签到。"))
    row.checked_in_at = utcnow()
    row.checked_in_by_id = actor_id
    _record_attendance_duty(meeting, deputy_id, actor)
    if not by_self:
        audit.record("check_in", "meeting", meeting_id, f"为代表 {row.deputy.name} 签到", actor=actor)
    return row


def check_in_if_absent(meeting: Meeting, deputy_id: int, actor) -> bool:
    """A pass scan's check-in: one UPDATE that only a deputy on the roll not yet checked in matches (so two
    scans at once cannot both check in), then the duty record. True when this call checked them in."""
    result = db.session.connection().execute(_check_in_statement(), {  # Core, built once (a hot path)
        "meeting": meeting.id, "deputy": deputy_id, "at": utcnow(), "by": actor.id if actor else None})
    if result.rowcount != 1:
        return False
    from ..duties.services import record_activity_once

    # The same record as _record_attendance_duty, in one INSERT … ON CONFLICT DO NOTHING (a scan is on
    # the meeting morning's hot path: 2,977 of them at the door).
    record_activity_once(deputy_id, "congress_session", meeting.held_on or utcnow(), meeting.title,
                         source="ballots", source_ref=f"meeting:{meeting.id}", actor=actor)
    return True


@functools.cache
def _check_in_statement():
    """UPDATE the roll row of a deputy not yet checked in; built once, so it is compiled once."""
    table = Attendance.__table__
    return (update(table).where(table.c.meeting_id == bindparam("meeting"), table.c.deputy_id == bindparam("deputy"),
                                table.c.checked_in_at.is_(None))
            .values(checked_in_at=bindparam("at"), checked_in_by_id=bindparam("by")))


def _record_attendance_duty(meeting: Meeting, deputy_id: int, actor) -> None:
    """Attending the congress session (出席人代会) is a duty activity; checking in is the record of it,
    and every vote cast follows a check-in. Recorded here, not at voting time, so that nothing about
    a secret ballot is written next to the deputy's name."""
    from ..duties.services import record_activity

    record_activity(deputy_id, "congress_session", meeting.held_on or utcnow(), meeting.title,
                    source="ballots", source_ref=f"meeting:{meeting.id}", actor=actor)


def self_check_in(meeting: Meeting, user, *, by_pass_for: int | None) -> Attendance:
    """A deputy checks in on their own phone only when signed in by their personal pass for this
    meeting (``by_pass_for``: the meeting the session's pass is for; ballots/passes.py). The
    meeting-wide QR token is gone: a shared code let anyone who saw it check in from anywhere."""
    if by_pass_for != meeting.id:
        raise DomainError(_("请扫描您本人的签到证二维码签到。"))
    if user.deputy_id is None:
        raise DomainError(_("只有代表本人可以扫码签到。"))
    return check_in(meeting, user.deputy_id, user, by_self=True)


def attendance_of(meeting_id: int, deputy_id: int | None) -> Attendance | None:
    if deputy_id is None:
        return None
    return db.session.scalar(select(Attendance).where(Attendance.meeting_id == meeting_id,
                                                      Attendance.deputy_id == deputy_id))


def search_roll(meeting: Meeting, q: str, limit: int = 30):
    stmt = (select(Attendance, Deputy).join(Deputy, Deputy.id == Attendance.deputy_id)
            .where(Attendance.meeting_id == meeting.id))
    q = (q or "").strip()[:32]
    if q:  # a name, or the 代表编号 printed on the pass
        stmt = stmt.where(or_(Deputy.name.contains(q, autoescape=True), Deputy.code == q))
    return db.session.execute(stmt.order_by(Attendance.checked_in_at.is_not(None), Deputy.sort_name, Deputy.id)
                              .limit(limit)).all()


@areas.count_query
def open_ballot_for(user):
    """The workspace's big link: ballots open now that this deputy may still vote on (SQL: the workspace
    runs it with its other counts). ``(number, {"meeting_id": id})`` for the first such meeting, or None."""
    from .models import Ballot, BallotReceipt

    if not user.deputy_id:
        return None
    return areas.CountQuery(
        select(func.count(Ballot.id).label("n"), Ballot.meeting_id.label("meeting_id"))
        .where(Ballot.status == "open",
               Ballot.meeting_id.in_(select(Attendance.meeting_id).where(Attendance.deputy_id == user.deputy_id)),
               Ballot.id.not_in(select(BallotReceipt.ballot_id).where(BallotReceipt.deputy_id == user.deputy_id)))
        .group_by(Ballot.meeting_id).order_by(Ballot.meeting_id).limit(1),
        lambda number, meeting_id: (number, {"meeting_id": meeting_id}) if number else None)
