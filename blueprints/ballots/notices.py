"""Meeting notices (会议通知) with 回执 and 请假.

Staff send one notice per meeting to every deputy on its roll (inbox, e-mail, SMS through
notifications.notify, in the same transaction). Each deputy answers from the notice's page (the inbox
message links to it): 参加, or 请假 with a reason; until the meeting day they may change the answer (a
new leave request waits for a decision again). Staff see who answered what and who has not answered,
approve or refuse leave, and remind those who have not answered (once a day by hand; ``notify remind``
does it once by itself two days before the meeting).

An approved leave is an excused absence: the check-in and quorum figures show it (meetings.counts;
the quorum stays two thirds of ALL deputies on the roll), and after the meeting 登记未请假缺席 records a
duty absence (a points deduction, duties.scoring) for each deputy on the roll who neither checked in nor
had leave approved; recording an absence by hand for a deputy on approved leave that day is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select

from ..core import areas, audit
from ..core.errors import Conflict, DomainError, Forbidden, NotFound
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from ..registry.models import Deputy
from .models import Attendance, Meeting
from .notice_models import ANSWERS, MeetingNotice, NoticeReply


def notice_link(notice_id: int) -> str:
    return f"/meeting-notices/{notice_id}"


def notice_of(meeting_id: int) -> MeetingNotice | None:
    return db.session.scalar(select(MeetingNotice).where(MeetingNotice.meeting_id == meeting_id))


def get_notice(notice_id: int) -> MeetingNotice:
    notice = db.session.get(MeetingNotice, notice_id)
    if notice is None:
        raise NotFound(_("会议通知不存在。"))
    return notice


def _over(meeting: Meeting, today: date) -> bool:
    return meeting.held_on is not None and meeting.held_on < today


def _roll_users(meeting_id: int, deputy_ids=None) -> list[tuple[int, int]]:
    """(user id, deputy id) of the active accounts of deputies on the roll (optionally only ``deputy_ids``)."""
    stmt = (select(User.id, User.deputy_id).join(Attendance, Attendance.deputy_id == User.deputy_id)
            .where(Attendance.meeting_id == meeting_id, User.active.is_(True)))
    if deputy_ids is not None:
        stmt = stmt.where(User.deputy_id.in_(deputy_ids))
    return [tuple(r) for r in db.session.execute(stmt.order_by(User.id))]


def _staff_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role.in_(("staff", "admin")), User.active.is_(True))))


def _text(meeting: Meeting, notice: MeetingNotice) -> str:
    lines = [notice.body.strip()]
    if meeting.held_on:
        lines.append(_("会议日期：%(d)s", d=meeting.held_on.isoformat()))
    if notice.starts:
        lines.append(_("报到时间：%(t)s", t=notice.starts))
    if notice.place:
        lines.append(_("地点：%(p)s", p=notice.place))
    lines.append(_("请在通知页面回执：参加，或请假并说明理由。"))
    return "\n".join(lines)


@transactional
def send_notice(meeting: Meeting, body: str, place: str | None, starts: str | None, actor,
                today: date | None = None) -> tuple[MeetingNotice, int, int]:
    """The notice, to every deputy on the roll. Returns (notice, accounts notified, deputies on the roll
    without an account — staff must reach them another way)."""
    from ..notifications.services import notify

    today = today or local_today()
    body = (body or "").strip()
    if not body:
        raise DomainError(_("请填写通知内容。"), field="body")
    if len(body) > 5000:
        raise DomainError(_("通知内容不能超过 5000 字。"), field="body")
    if _over(meeting, today):
        raise DomainError(_("会议已经结束，不能再发会议通知。"), field="body")
    if notice_of(meeting.id) is not None:
        raise Conflict(_("本次会议已经发出会议通知。"))
    notice = MeetingNotice(meeting_id=meeting.id, body=body, place=(place or "").strip()[:128] or None,
                           starts=(starts or "").strip()[:64] or None, sent_by_id=actor.id if actor else None)
    db.session.add(notice)
    db.session.flush()
    users = _roll_users(meeting.id)
    roll = db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.meeting_id == meeting.id))
    reached = len({d for _u, d in users})
    notify([u for u, _d in users], "meeting", _("会议通知：%(t)s", t=meeting.title), _text(meeting, notice),
           link=notice_link(notice.id), about=("meeting_notices", notice.id))
    audit.record("create", "meeting_notice", notice.id,
                 f"发出《{meeting.title}》会议通知，名单 {roll} 名，{reached} 名有账号", actor=actor)
    return notice, len(users), roll - reached


def roll_row(meeting_id: int, deputy_id: int | None) -> Attendance | None:
    if deputy_id is None:
        return None
    return db.session.scalar(select(Attendance).where(Attendance.meeting_id == meeting_id,
                                                      Attendance.deputy_id == deputy_id))


def reply_of(notice_id: int, deputy_id: int | None) -> NoticeReply | None:
    if deputy_id is None:
        return None
    return db.session.scalar(select(NoticeReply).where(NoticeReply.notice_id == notice_id,
                                                       NoticeReply.deputy_id == deputy_id))


@transactional
def reply(notice: MeetingNotice, user, answer: str, reason: str | None = None,
          today: date | None = None) -> NoticeReply:
    """A deputy's 回执: ``attend`` or ``leave`` (with a reason). Changing it is allowed until the
    meeting day; a leave request (new, or with a new reason) waits for staff again."""
    from ..notifications.services import notify

    today = today or local_today()
    meeting = notice.meeting
    if user.deputy_id is None or roll_row(meeting.id, user.deputy_id) is None:
        raise Forbidden(_("您不在本次会议的名单中，不能回执。"))
    if answer not in ANSWERS:
        raise DomainError(_("请选择参加或请假。"), field="answer")
    reason = (reason or "").strip()
    if answer == "leave" and not reason:
        raise DomainError(_("请假请填写理由。"), field="reason")
    if len(reason) > 255:
        raise DomainError(_("请假理由不能超过 255 字。"), field="reason")
    if _over(meeting, today):
        raise DomainError(_("会议已经结束，不能再回执。"), field="answer")
    row = reply_of(notice.id, user.deputy_id)
    if row is not None and row.answer == answer and (answer == "attend" or row.reason == reason):
        raise Conflict(_("您已经提交了同样的回执。"))
    if row is None:
        row = NoticeReply(notice_id=notice.id, deputy_id=user.deputy_id)
        db.session.add(row)
    row.answer, row.replied_at = answer, utcnow()
    row.reason = reason if answer == "leave" else None
    row.leave_status = "pending" if answer == "leave" else None
    row.decided_by_id = row.decided_at = row.decision_note = None
    db.session.flush()  # a second tab at the same instant: uq_meeting_notice_replies_notice_id_deputy_id
    if answer == "leave":
        notify(_staff_ids(), "meeting", _("请假申请：%(n)s（%(t)s）", n=user.deputy.name, t=meeting.title),
               _("理由：%(r)s", r=reason), link=f"/meetings/{meeting.id}/notice", about=("meeting_notices", notice.id))
    return row


@transactional
def decide_leave(row: NoticeReply, approve: bool, note: str | None, actor, today: date | None = None) -> NoticeReply:
    from ..notifications.services import notify

    if row.answer != "leave":
        raise DomainError(_("这位代表回执参加，没有请假申请。"))
    if row.leave_status != "pending":
        raise Conflict(_("这份请假申请已经审批过了（%(s)s）。", s=row.leave_label))
    note = (note or "").strip()[:255] or None
    if not approve and not note:
        raise DomainError(_("不准假请说明原因。"), field="note")
    row.leave_status = "approved" if approve else "refused"
    row.decided_by_id, row.decided_at, row.decision_note = actor.id, utcnow(), note
    meeting = row.notice.meeting
    verdict = _("已准假") if approve else _("未准假")
    audit.record("update", "meeting_notice", row.notice_id,
                 f"{row.deputy.name}请假{verdict}（《{meeting.title}》）", actor=actor)
    users = [u for u, _d in _roll_users(meeting.id, [row.deputy_id])]
    notify(users, "meeting", _("请假%(v)s：%(t)s", v=verdict, t=meeting.title),
           note or (_("准假，本次会议记为请假缺席。") if approve else ""), link=notice_link(row.notice_id),
           about=("meeting_notices", row.notice_id))
    return row


def roll_with_replies(notice: MeetingNotice) -> list[tuple[Deputy, NoticeReply | None, bool]]:
    """Every deputy on the roll, their reply (or None) and whether they have an account."""
    has_account = exists().where(User.deputy_id == Deputy.id, User.active.is_(True))
    rows = db.session.execute(
        select(Deputy, NoticeReply, has_account)
        .join(Attendance, and_(Attendance.deputy_id == Deputy.id, Attendance.meeting_id == notice.meeting_id))
        .outerjoin(NoticeReply, and_(NoticeReply.deputy_id == Deputy.id, NoticeReply.notice_id == notice.id))
        .order_by(NoticeReply.id.is_not(None), Deputy.name)).all()
    return [tuple(r) for r in rows]


def summary(rows) -> dict[str, int]:
    out = {"total": len(rows), "none": 0, "attend": 0, "pending": 0, "approved": 0, "refused": 0}
    for _deputy, row, _account in rows:
        key = "none" if row is None else (row.answer if row.answer == "attend" else row.leave_status)
        out[key] += 1
    return out


def _unanswered_users(notice: MeetingNotice) -> list[tuple[int, int]]:
    answered = set(db.session.scalars(select(NoticeReply.deputy_id).where(NoticeReply.notice_id == notice.id)))
    return [(u, d) for u, d in _roll_users(notice.meeting_id) if d not in answered]


def _remind(notice: MeetingNotice, key: str, now) -> int:
    from ..notifications.models import Reminder
    from ..notifications.services import queue

    done = set(db.session.scalars(select(Reminder.about_id).where(Reminder.about_type == "deputies",
                                                                  Reminder.key == key)))
    users = [(u, d) for u, d in _unanswered_users(notice) if d not in done]
    meeting = notice.meeting
    for deputy_id in sorted({d for _u, d in users}):
        db.session.add(Reminder(about_type="deputies", about_id=deputy_id, key=key, created_at=now))
    if users:
        queue([u for u, _d in users], "meeting", _("请回执会议通知：%(t)s", t=meeting.title),
              _("您还没有回执《%(t)s》的会议通知（会议日期 %(d)s），请选择参加或请假。", t=meeting.title,
                d=meeting.held_on.isoformat() if meeting.held_on else "—"),
              link=notice_link(notice.id), about=("meeting_notices", notice.id), now=now)
    return len({d for _u, d in users})


@transactional
def remind_unanswered(notice: MeetingNotice, actor, today: date | None = None) -> int:
    """Staff remind every deputy (with an account) who has not answered, at most once a day."""
    today = today or local_today()
    if _over(notice.meeting, today):
        raise DomainError(_("会议已经结束，不再提醒回执。"))
    if not _unanswered_users(notice):
        raise DomainError(_("有账号的代表都已回执，无需提醒。"))
    count = _remind(notice, f"notice:{notice.id}:{today.isoformat()}", utcnow())
    if count == 0:
        raise Conflict(_("今天已经提醒过所有未回执的代表。"))
    audit.record("update", "meeting_notice", notice.id, f"提醒 {count} 名代表回执会议通知", actor=actor)
    return count


def remind_before_meetings(today: date, now) -> int:
    """``notify remind``: two days before a meeting (and up to its day), once, every deputy who has not answered."""
    from ..core.transaction import transaction

    ids = db.session.scalars(select(MeetingNotice.id).join(Meeting).where(
        Meeting.held_on >= today, Meeting.held_on <= today + timedelta(days=2)).order_by(MeetingNotice.id)).all()
    queued = 0
    for notice_id in ids:
        with transaction():
            notice = db.session.get(MeetingNotice, notice_id)
            queued += _remind(notice, f"notice:{notice_id}:soon", now)
    return queued


# ---- excused absence -------------------------------------------------------------------------------

def excused_query(meeting_id):
    """Deputy ids with approved leave for the meeting (``meeting_id`` a value or a column)."""
    return (select(NoticeReply.deputy_id).join(MeetingNotice, MeetingNotice.id == NoticeReply.notice_id)
            .where(MeetingNotice.meeting_id == meeting_id, NoticeReply.leave_status == "approved"))


def excused_on(deputy_id: int, day: date) -> bool:
    """Approved leave for a meeting held on ``day`` (duties.scoring refuses an absence then)."""
    return db.session.scalar(select(NoticeReply.id).join(MeetingNotice).join(Meeting).where(
        NoticeReply.deputy_id == deputy_id, NoticeReply.leave_status == "approved",
        Meeting.held_on == day).limit(1)) is not None


@dataclass(frozen=True)
class MeetingLeave:
    """A congress meeting the deputy was excused from, as the archive lists it beside the occasions."""

    held_on: date
    title: str
    kind_label: str


def approved_leaves(deputy_id: int, year: int) -> list[MeetingLeave]:
    """The congress meetings of ``year`` the deputy had approved leave for (请假（已批准）)."""
    rows = db.session.execute(
        select(Meeting.held_on, Meeting.title).join(MeetingNotice, MeetingNotice.meeting_id == Meeting.id)
        .join(NoticeReply, NoticeReply.notice_id == MeetingNotice.id)
        .where(NoticeReply.deputy_id == deputy_id, NoticeReply.leave_status == "approved",
               Meeting.held_on >= date(year, 1, 1), Meeting.held_on <= date(year, 12, 31))
        .order_by(Meeting.held_on, Meeting.id))
    return [MeetingLeave(held_on, title, _("人民代表大会会议")) for held_on, title in rows]


@transactional
def record_unexcused_absences(meeting: Meeting, actor, today: date | None = None) -> int:
    """After the meeting: a duty absence (deducted under the points rules) for each deputy on the roll who
    did not check in and had no approved leave; approved leave is excused and deducts nothing."""
    from ..duties.models import Absence

    today = today or local_today()
    if meeting.held_on is None or meeting.held_on > today:
        raise DomainError(_("会议举行后才能登记缺席。"))
    day = meeting.held_on
    recorded = select(Absence.deputy_id).where(Absence.occurred_on == day)
    ids = db.session.scalars(select(Attendance.deputy_id).where(
        Attendance.meeting_id == meeting.id, Attendance.checked_in_at.is_(None),
        Attendance.deputy_id.not_in(excused_query(meeting.id)), Attendance.deputy_id.not_in(recorded))
        .order_by(Attendance.deputy_id)).all()
    if not ids:
        raise Conflict(_("没有需要登记的未请假缺席代表（已签到、已准假或已登记）。"))
    note = f"未请假缺席《{meeting.title}》"[:255]
    db.session.add_all(Absence(deputy_id=d, occurred_on=day, year=day.year, note=note,
                               recorded_by_id=actor.id if actor else None) for d in ids)
    db.session.flush()
    audit.record("create", "absence", meeting.id, f"登记《{meeting.title}》未请假缺席代表 {len(ids)} 名", actor=actor)
    return len(ids)


@areas.count_query
def notices_waiting_for(user):
    """Workspace count for a deputy (one query): notices of meetings, and of occasions (occasions.py), not
    yet held that they have not answered."""
    from .occasions import waiting_query

    if not user.deputy_id:
        return None
    today = local_today()
    answered = select(NoticeReply.notice_id).where(NoticeReply.deputy_id == user.deputy_id)
    meetings = (select(func.count(MeetingNotice.id)).join(Meeting).join(
        Attendance, and_(Attendance.meeting_id == Meeting.id, Attendance.deputy_id == user.deputy_id))
        .where((Meeting.held_on.is_(None)) | (Meeting.held_on >= today), MeetingNotice.id.not_in(answered)))
    return select(meetings.scalar_subquery() + waiting_query(user.deputy_id, today).scalar_subquery())
