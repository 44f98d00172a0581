"""Notices of occasions without a congress meeting: 常委会会议 (a standing committee sitting), 代表小组活动
(a deputy group's activity) and 向选民述职 (a report to voters).

Unlike a meeting notice (notices.py) there is no congress ``Meeting`` behind it (no quorum, ballots or
check-in): the notice carries its own roll, one ``OccasionRecipient`` row per deputy (UNIQUE notice +
deputy), written when it is sent:

- 代表小组活动: the serving deputies of the group (a group with none is refused);
- 常委会会议: the deputies staff pick (the registry does not record who sits on the standing committee);
- 向选民述职: the reporting deputies staff pick, and/or every serving deputy of a township (its own area
  or one of its villages, as a township congress's roll).

Sending notifies the roll through ``notify`` in the same transaction. Each recipient answers on the notice
page exactly as for a meeting notice: 参加, or 请假 with a reason (the answer lives on their recipient row,
so there is one per recipient; the same answer twice is refused, a change is allowed until the day). Staff
see who has not answered and who asked for leave, and approve or refuse it (refusal needs a reason).

The points rules (duties.scoring) deduct only for an unexcused absence from the congress session, so these
occasions deduct nothing either way; an approved leave is recorded here and the deputy's archive lists it
as 请假（已批准） (``approved_leaves``).
"""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select

from ..core import audit
from ..core.errors import Conflict, DomainError, Forbidden, NotFound
from ..core.extensions import db
from ..core.models import Area, User
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from ..registry.models import Deputy, DeputyGroup, GroupMembership
from .notice_models import ANSWERS, OCCASION_KINDS, OccasionNotice, OccasionRecipient


def occasion_link(notice_id: int) -> str:
    return f"/occasion-notices/{notice_id}"


def get_occasion(notice_id: int) -> OccasionNotice:
    notice = db.session.get(OccasionNotice, notice_id)
    if notice is None:
        raise NotFound(_("通知不存在。"))
    return notice


def groups() -> list[DeputyGroup]:
    return list(db.session.scalars(select(DeputyGroup).order_by(DeputyGroup.name)))


def candidates() -> list[Deputy]:
    """Serving deputies staff may pick (standing committee sitting, report to voters)."""
    return list(db.session.scalars(select(Deputy).where(Deputy.ended_on.is_(None))
                                   .order_by(Deputy.level, Deputy.sort_name, Deputy.id)))


def _ids(values) -> list[int]:
    out = []
    for value in values or ():
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            raise DomainError(_("所选代表不存在。"), field="deputy_ids") from None
    return sorted(set(out))


def _picked(deputy_ids: list[int]) -> list[int]:
    found = {d.id: d for d in db.session.scalars(select(Deputy).where(Deputy.id.in_(deputy_ids)))}
    if len(found) != len(deputy_ids):
        raise DomainError(_("所选代表不存在。"), field="deputy_ids")
    ended = [d.name for d in found.values() if not d.serving]
    if ended:
        raise DomainError(_("%(n)s已不在任，不能列入通知名单。", n="、".join(sorted(ended))), field="deputy_ids")
    return deputy_ids


def _roll(kind: str, group_id, deputy_ids, area_id) -> tuple[list[int], DeputyGroup | None, Area | None]:
    if kind == "group":
        group = db.session.get(DeputyGroup, group_id) if group_id else None
        if group is None:
            raise DomainError(_("请选择代表小组。"), field="group_id")
        ids = list(db.session.scalars(
            select(GroupMembership.deputy_id).join(Deputy, Deputy.id == GroupMembership.deputy_id)
            .where(GroupMembership.group_id == group.id, Deputy.ended_on.is_(None))
            .order_by(GroupMembership.deputy_id)))
        if not ids:
            raise DomainError(_("代表小组“%(g)s”没有在任代表，不能发通知。", g=group.name), field="group_id")
        return ids, group, None
    ids = _picked(_ids(deputy_ids))
    area = None
    if kind == "report" and area_id:
        area = db.session.get(Area, area_id)
        if area is None or area.kind != "township":
            raise DomainError(_("请选择一个乡镇。"), field="area_id")
        villages = select(Area.id).where(Area.parent_id == area.id)
        township = db.session.scalars(select(Deputy.id).where(
            Deputy.ended_on.is_(None), or_(Deputy.area_id == area.id, Deputy.area_id.in_(villages)))).all()
        if not township and not ids:
            raise DomainError(_("%(a)s没有在任代表，不能发通知。", a=area.name), field="area_id")
        ids = sorted(set(ids) | set(township))
    if not ids:
        raise DomainError(_("请选择述职的代表，或选择一个乡镇。") if kind == "report"
                          else _("请选择通知对象（至少一名代表）。"), field="deputy_ids")
    return ids, None, area


def _users(notice_id: int, deputy_ids=None) -> list[tuple[int, int]]:
    """(user id, deputy id) of the active accounts of deputies on the notice's roll."""
    stmt = (select(User.id, User.deputy_id)
            .join(OccasionRecipient, OccasionRecipient.deputy_id == User.deputy_id)
            .where(OccasionRecipient.notice_id == notice_id, User.active.is_(True)))
    if deputy_ids is not None:
        stmt = stmt.where(User.deputy_id.in_(deputy_ids))
    return [tuple(r) for r in db.session.execute(stmt.order_by(User.id))]


def _text(notice: OccasionNotice) -> str:
    lines = [notice.body.strip(), _("日期：%(d)s", d=notice.held_on.isoformat())]
    if notice.starts:
        lines.append(_("时间：%(t)s", t=notice.starts))
    if notice.place:
        lines.append(_("地点：%(p)s", p=notice.place))
    lines.append(_("请在通知页面回执：参加，或请假并说明理由。"))
    return "\n".join(lines)


@transactional
def send_occasion(kind: str, title: str, held_on: date | None, body: str, place: str | None, starts: str | None,
                  actor, *, group_id: int | None = None, deputy_ids=(), area_id: int | None = None,
                  today: date | None = None) -> tuple[OccasionNotice, int, int]:
    """The notice and its roll. Returns (notice, accounts notified, deputies on the roll without an account)."""
    from ..notifications.services import notify

    today = today or local_today()
    if kind not in OCCASION_KINDS:
        raise DomainError(_("请选择通知类别。"), field="kind")
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise DomainError(_("请填写名称。"), field="title")
    if len(title) > 120:
        raise DomainError(_("名称不能超过 120 字。"), field="title")
    if held_on is None:
        raise DomainError(_("请填写日期。"), field="held_on")
    if held_on < today:
        raise DomainError(_("日期已经过去，不能再发通知。"), field="held_on")
    if not body:
        raise DomainError(_("请填写通知内容。"), field="body")
    if len(body) > 5000:
        raise DomainError(_("通知内容不能超过 5000 字。"), field="body")
    ids, group, area = _roll(kind, group_id, deputy_ids, area_id)
    notice = OccasionNotice(kind=kind, title=title, held_on=held_on, group_id=group.id if group else None,
                            area_id=area.id if area else None, body=body,
                            place=(place or "").strip()[:128] or None, starts=(starts or "").strip()[:64] or None,
                            sent_by_id=actor.id if actor else None)
    db.session.add(notice)
    db.session.flush()
    db.session.add_all(OccasionRecipient(notice_id=notice.id, deputy_id=d) for d in ids)
    db.session.flush()
    users = _users(notice.id)
    reached = len({d for _u, d in users})
    notify([u for u, _d in users], "meeting", _("%(k)s通知：%(t)s", k=notice.kind_label, t=title), _text(notice),
           link=occasion_link(notice.id), about=("occasion_notices", notice.id))
    audit.record("create", "occasion_notice", notice.id,
                 f"发出{notice.kind_label}《{title}》通知，名单 {len(ids)} 名，{reached} 名有账号", actor=actor)
    return notice, len(users), len(ids) - reached


def recipient_of(notice_id: int, deputy_id: int | None) -> OccasionRecipient | None:
    if deputy_id is None:
        return None
    return db.session.scalar(select(OccasionRecipient).where(OccasionRecipient.notice_id == notice_id,
                                                             OccasionRecipient.deputy_id == deputy_id))


def _staff_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role.in_(("staff", "admin")), User.active.is_(True))))


@transactional
def reply(notice: OccasionNotice, user, answer: str, reason: str | None = None,
          today: date | None = None) -> OccasionRecipient:
    """A recipient's 回执, on their roll row: ``attend`` or ``leave`` (with a reason)."""
    from ..notifications.services import notify

    today = today or local_today()
    row = recipient_of(notice.id, user.deputy_id)
    if row is None:
        raise Forbidden(_("您不在这份通知的名单中，不能回执。"))
    if answer not in ANSWERS:
        raise DomainError(_("请选择参加或请假。"), field="answer")
    reason = (reason or "").strip()
    if answer == "leave" and not reason:
        raise DomainError(_("请假请填写理由。"), field="reason")
    if len(reason) > 255:
        raise DomainError(_("请假理由不能超过 255 字。"), field="reason")
    if notice.held_on < today:
        raise DomainError(_("活动已经结束，不能再回执。"), field="answer")
    if row.answer == answer and (answer == "attend" or row.reason == reason):
        raise Conflict(_("您已经提交了同样的回执。"))
    row.answer, row.replied_at = answer, utcnow()
    row.reason = reason if answer == "leave" else None
    row.leave_status = "pending" if answer == "leave" else None
    row.decided_by_id = row.decided_at = row.decision_note = None
    db.session.flush()
    if answer == "leave":
        notify(_staff_ids(), "meeting", _("请假申请：%(n)s（%(t)s）", n=user.deputy.name, t=notice.title),
               _("理由：%(r)s", r=reason), link=f"/occasion-notices/{notice.id}/roll",
               about=("occasion_notices", notice.id))
    return row


@transactional
def decide_leave(row: OccasionRecipient, approve: bool, note: str | None, actor) -> OccasionRecipient:
    from ..notifications.services import notify

    if row.answer != "leave":
        raise DomainError(_("%(n)s没有请假申请，不能审批。", n=row.deputy.name))
    if row.leave_status != "pending":
        raise Conflict(_("这份请假申请已经审批过了（%(s)s）。", s=row.leave_label))
    note = (note or "").strip()[:255] or None
    if not approve and not note:
        raise DomainError(_("不准假请说明原因。"), field="note")
    row.leave_status = "approved" if approve else "refused"
    row.decided_by_id, row.decided_at, row.decision_note = actor.id, utcnow(), note
    notice = row.notice
    verdict = _("已准假") if approve else _("未准假")
    audit.record("update", "occasion_notice", notice.id, f"{row.deputy.name}请假{verdict}（《{notice.title}》）",
                 actor=actor)
    notify([u for u, _d in _users(notice.id, [row.deputy_id])], "meeting",
           _("请假%(v)s：%(t)s", v=verdict, t=notice.title),
           note or (_("准假，记为请假（已批准），不扣履职积分。") if approve else ""),
           link=occasion_link(notice.id), about=("occasion_notices", notice.id))
    return row


def roll_with_answers(notice: OccasionNotice) -> list[tuple[Deputy, OccasionRecipient | None, bool]]:
    """Every deputy on the roll, their answer (None: not answered) and whether they have an account;
    those who have not answered first."""
    has_account = exists().where(User.deputy_id == Deputy.id, User.active.is_(True))
    rows = db.session.execute(
        select(Deputy, OccasionRecipient, has_account)
        .join(OccasionRecipient, and_(OccasionRecipient.deputy_id == Deputy.id,
                                      OccasionRecipient.notice_id == notice.id))
        .order_by(OccasionRecipient.answer.is_not(None), Deputy.sort_name, Deputy.id)).all()
    return [(d, r if r.answer else None, a) for d, r, a in rows]


def list_occasions() -> list[tuple[OccasionNotice, int, int, int]]:
    """Every occasion notice, newest first: (notice, on the roll, not answered, leave pending)."""
    r = OccasionRecipient
    rows = db.session.execute(
        select(OccasionNotice, func.count(r.id), func.count(r.id).filter(r.answer.is_(None)),
               func.count(r.id).filter(r.leave_status == "pending"))
        .join(r, r.notice_id == OccasionNotice.id).group_by(OccasionNotice.id)
        .order_by(OccasionNotice.held_on.desc(), OccasionNotice.id.desc())).all()
    return [tuple(x) for x in rows]


def mine(deputy_id: int) -> list[tuple[OccasionNotice, OccasionRecipient]]:
    return [tuple(x) for x in db.session.execute(
        select(OccasionNotice, OccasionRecipient).join(OccasionRecipient)
        .where(OccasionRecipient.deputy_id == deputy_id).order_by(OccasionNotice.held_on.desc()))]


def waiting_query(deputy_id: int, today: date):
    """Occasion notices not yet held the deputy has not answered (a count; notices.notices_waiting_for)."""
    return select(func.count(OccasionRecipient.id)).join(OccasionNotice).where(
        OccasionRecipient.deputy_id == deputy_id, OccasionRecipient.answer.is_(None),
        OccasionNotice.held_on >= today)


def approved_leaves(deputy_id: int, year: int) -> list[OccasionNotice]:
    """The occasions of ``year`` the deputy was excused from (请假（已批准）; the archive lists them)."""
    return list(db.session.scalars(
        select(OccasionNotice).join(OccasionRecipient)
        .where(OccasionRecipient.deputy_id == deputy_id, OccasionRecipient.leave_status == "approved",
               OccasionNotice.held_on >= date(year, 1, 1), OccasionNotice.held_on <= date(year, 12, 31))
        .order_by(OccasionNotice.held_on)))


def _remind(notice: OccasionNotice, key: str, now) -> int:
    """Queue a reminder to every recipient with an account who has not answered and was not reminded under
    ``key``; records each (notification_reminders) in the caller's transaction. Returns how many deputies."""
    from ..notifications.models import Reminder
    from ..notifications.services import queue

    answered = {r.deputy_id for r in notice.recipients if r.answer}
    done = set(db.session.scalars(select(Reminder.about_id).where(Reminder.about_type == "deputies",
                                                                  Reminder.key == key)))
    users = [(u, d) for u, d in _users(notice.id) if d not in answered and d not in done]
    deputies = sorted({d for _u, d in users})
    db.session.add_all(Reminder(about_type="deputies", about_id=d, key=key, created_at=now) for d in deputies)
    if users:
        queue([u for u, _d in users], "meeting", _("请回执通知：%(t)s", t=notice.title),
              _("您还没有回执《%(t)s》的通知（日期 %(d)s），请选择参加或请假。", t=notice.title,
                d=notice.held_on.isoformat()), link=occasion_link(notice.id), about=("occasion_notices", notice.id),
              now=now)
    return len(deputies)


@transactional
def remind_unanswered(notice: OccasionNotice, actor, today: date | None = None) -> int:
    """Staff remind every recipient (with an account) who has not answered, at most once a day."""
    today = today or local_today()
    if notice.held_on < today:
        raise DomainError(_("活动已经结束，不再提醒回执。"))
    answered = {r.deputy_id for r in notice.recipients if r.answer}
    if not [d for _u, d in _users(notice.id) if d not in answered]:
        raise DomainError(_("有账号的代表都已回执，无需提醒。"))
    count = _remind(notice, f"occasion:{notice.id}:{today.isoformat()}", utcnow())
    if count == 0:
        raise Conflict(_("今天已经提醒过所有未回执的代表。"))
    audit.record("update", "occasion_notice", notice.id, f"提醒 {count} 名代表回执通知", actor=actor)
    return count


def remind_before_occasions(today: date, now) -> int:
    """``notify remind``: from two days before an occasion (and up to its day), once, every recipient who has not
    answered (``occasion:<id>:soon``), as for meeting notices (notices.remind_before_meetings)."""
    from ..core.transaction import transaction

    ids = db.session.scalars(select(OccasionNotice.id).where(
        OccasionNotice.held_on >= today, OccasionNotice.held_on <= today + timedelta(days=2))
        .order_by(OccasionNotice.id)).all()
    queued = 0
    for notice_id in ids:
        with transaction():
            queued += _remind(db.session.get(OccasionNotice, notice_id), f"occasion:{notice_id}:soon", now)
    return queued
