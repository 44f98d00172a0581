"""``flask notify remind`` (daily, from cron): the scheduled reminders; and the case events.

Units, for every pending assignment of a case or suggestion (core.cases.CaseAssignment):
- the deadline in 7 days and in 1 day (``due7:<deadline>``, ``due1:<deadline>``: an extension gives new ones);
- overdue, then once a week (``overdue:<week>``);
- every two months from assignment a 进度通报 reminder until answered (``progress:<n>``).
Staff: one daily digest of overdue items (``staff-overdue``, keyed by the day).
Deputies: tomorrow's duty day (``tomorrow`` per duty assignment); from the 20th, this month's 社情民意
not yet filed (``sqmy:<YYYY-MM>`` per deputy: once a month); a meeting notice not answered, from two days
before the meeting (``notice:<id>:soon`` per deputy, ballots/notices.py) or an occasion's notice
(``occasion:<id>:soon``, ballots/occasions.py); tomorrow's report to voters
(``tomorrow`` per duty_voter_reports row).

Each reminder is recorded in ``notification_reminders`` in the transaction that queues it, so a second
run the same day (or a run after a crash) queues nothing more; a missed day is caught up on the next run
(the windows are "7 days or fewer", not "exactly 7").

Events (at once, in the transaction of the step): core.cases writes a CaseStep for each step; a
``before_flush`` listener here turns the new steps into messages (core imports no area, so the area
listens): 交办 → the unit; 申请延期 → staff; 同意/不同意延期 → the unit; the main unit's 答复 → the
deputy who raised it (with a reminder to rate it); 催办 → the unit.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..core.cases import Case, CaseAssignment, CaseStep
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import LOCAL_TZ as LOCAL
from ..core.timeutil import add_months, local_today, to_local, utcnow
from ..core.transaction import transaction
from ..registry.models import Deputy
from . import services
from .models import OutboxMessage, Reminder


def case_link(case: Case) -> str:
    ref = case.source_ref or ""
    if ref.startswith("suggestion:") and ref.split(":", 1)[1].isdigit():
        return f"/suggestions/{ref.split(':', 1)[1]}/work"
    return f"/cases/{case.id}"


def _already(about_type: str, about_id: int, key: str) -> bool:
    return db.session.scalar(select(Reminder.id).where(Reminder.about_type == about_type,
                                                      Reminder.about_id == about_id, Reminder.key == key)) is not None


def due_reminders(item: CaseAssignment, today: date) -> list[tuple[str, str, str, str]]:
    """(key, kind, subject, body) of the reminders due for ``item`` on ``today``."""
    case = item.case
    days_left = (item.deadline - today).days
    title = case.title
    out = []
    if 1 < days_left <= 7:
        out.append((f"due7:{item.deadline}", "deadline", _("办理期限提醒：%(t)s", t=title),
                    _("此件的办理期限为 %(d)s，还有 %(n)d 天。请按时答复。", d=item.deadline.isoformat(), n=days_left)))
    elif 0 <= days_left <= 1:
        out.append((f"due1:{item.deadline}", "deadline", _("明天到期：%(t)s", t=title) if days_left == 1
                    else _("今天到期：%(t)s", t=title),
                    _("此件的办理期限为 %(d)s，请尽快答复。", d=item.deadline.isoformat())))
    elif days_left < 0:
        week = (-days_left - 1) // 7
        out.append((f"overdue:{item.deadline}:{week}", "deadline", _("已超期：%(t)s", t=title),
                    _("此件的办理期限 %(d)s 已过 %(n)d 天，请立即答复或申请延期。",
                      d=item.deadline.isoformat(), n=-days_left)))
    assigned = to_local(item.assigned_at).date()
    periods = 0
    while add_months(assigned, 2 * (periods + 1)) <= today:
        periods += 1
    if periods:
        out.append((f"progress:{periods}", "deadline", _("进度通报提醒：%(t)s", t=title),
                    _("此件自 %(d)s 交办已满 %(m)d 个月，请报送办理进度（进度通报）。",
                      d=assigned.isoformat(), m=2 * periods)))
    return out


def remind(today: date | None = None, now: datetime | None = None) -> int:
    """Queue the reminders due today that were not queued before; returns how many were queued."""
    today = today or local_today()
    now = now or utcnow()
    return (remind_units(today, now) + staff_overdue_digest(today, now) + duty_tomorrow(today, now)
            + monthly_sqmy(today, now) + meeting_notices(today, now) + voter_report_tomorrow(today, now))


def meeting_notices(today: date, now: datetime) -> int:
    """Deputies who have not answered a meeting notice or an occasion's notice (常委会会议, 代表小组活动,
    向选民述职), once, from two days before the day."""
    if "ballots" not in current_app.extensions["areas"].names:
        return 0
    from ..ballots.notices import remind_before_meetings
    from ..ballots.occasions import remind_before_occasions

    return remind_before_meetings(today, now) + remind_before_occasions(today, now)


def voter_report_tomorrow(today: date, now: datetime) -> int:
    """A deputy's report to voters (向选民述职) scheduled for tomorrow, once per report."""
    from datetime import timedelta

    if "duties" not in current_app.extensions["areas"].names:
        return 0
    from ..duties.models import VoterReport

    tomorrow = today + timedelta(days=1)
    rows = db.session.execute(select(VoterReport.id, VoterReport.deputy_id, VoterReport.place).where(
        VoterReport.scheduled_on == tomorrow, VoterReport.held.is_(False)).order_by(VoterReport.id)).all()
    queued = 0
    for report_id, deputy_id, place in rows:
        with transaction():
            if _already("duty_voter_reports", report_id, "tomorrow"):
                continue
            db.session.add(Reminder(about_type="duty_voter_reports", about_id=report_id, key="tomorrow",
                                    created_at=now))
            services.notify(_deputy_user_ids_of(deputy_id), "deputy_step", _("明天向选民述职"),
                            _("您明天（%(d)s）在%(p)s向选民述职，请做好准备。", d=tomorrow.isoformat(), p=place),
                            link="/me/", about=("duty_voter_reports", report_id), now=now)
            queued += 1
    return queued


def remind_units(today: date, now: datetime | None = None) -> int:
    """The units' reminders for every pending assignment (deadlines, overdue, 进度通报)."""
    now = now or utcnow()
    items = db.session.scalars(
        select(CaseAssignment).join(Case).where(CaseAssignment.state == "pending", Case.status == "assigned")
        .order_by(CaseAssignment.id)).all()
    queued = 0
    for item_id, case_id, unit_id in [(i.id, i.case_id, i.unit_id) for i in items]:
        with transaction():
            item = db.session.get(CaseAssignment, item_id)
            for key, kind, subject, body in due_reminders(item, today):
                if _already("case_assignment", item_id, key):
                    continue
                db.session.add(Reminder(about_type="case_assignment", about_id=item_id, key=key, created_at=now))
                services.notify(unit_id=unit_id, kind=kind, subject=subject, body=body,
                                link=case_link(item.case), about=("cases", case_id), now=now)
                queued += 1
    return queued


def duty_tomorrow(today: date, now: datetime) -> int:
    """Deputies on duty at a reception day tomorrow (a cancelled day is not reminded)."""
    from datetime import timedelta

    from ..stations.models import DutyAssignment, ReceptionDay

    tomorrow = today + timedelta(days=1)
    rows = db.session.execute(
        select(DutyAssignment.id, DutyAssignment.deputy_id, ReceptionDay)
        .join(ReceptionDay, ReceptionDay.id == DutyAssignment.reception_day_id)
        .where(DutyAssignment.day == tomorrow, ReceptionDay.status == "scheduled")
        .order_by(DutyAssignment.id)).all()
    queued = 0
    for duty_id, deputy_id, day in rows:
        with transaction():
            if _already("duty_assignments", duty_id, "tomorrow"):
                continue
            db.session.add(Reminder(about_type="duty_assignments", about_id=duty_id, key="tomorrow", created_at=now))
            services.notify(_deputy_user_ids_of(deputy_id), "duty",
                            _("明天接待：%(s)s", s=day.station.name),
                            _("您明天（%(d)s %(h)s）在%(s)s值班接待选民。", d=tomorrow.isoformat(), h=day.hours,
                              s=day.station.name), link="/workspace/", about=("duty_assignments", duty_id), now=now)
            queued += 1
    return queued


def monthly_sqmy(today: date, now: datetime) -> int:
    """From the 20th: deputies (with an account) who filed no 社情民意 this month, once a month."""
    if today.day < 20:
        return 0
    month_start = datetime(today.year, today.month, 1, tzinfo=LOCAL).astimezone(UTC)
    # as the drive counts (stations/drive.py): a merged duplicate is not a 社情民意; serving deputies only
    filed = select(Case.deputy_id).where(Case.source == "deputy", Case.status != "merged",
                                         Case.created_at >= month_start, Case.deputy_id.is_not(None))
    users = db.session.execute(select(User.id, User.deputy_id).join(Deputy, Deputy.id == User.deputy_id).where(
        User.role == "deputy", User.active.is_(True), Deputy.ended_on.is_(None),
        User.deputy_id.not_in(filed)).order_by(User.id)).all()
    key = f"sqmy:{today:%Y-%m}"
    done = set(db.session.scalars(select(Reminder.about_id).where(Reminder.about_type == "deputies",
                                                                  Reminder.key == key)))
    queued = 0
    with transaction():
        for user_id, deputy_id in users:
            if deputy_id in done:
                continue
            db.session.add(Reminder(about_type="deputies", about_id=deputy_id, key=key, created_at=now))
            services.queue([user_id], "deputy_step", _("本月社情民意尚未报送"),
                           _("您本月（%(m)s）还没有报送社情民意，请在月底前通过工作台报送。", m=f"{today:%Y年%m月}"),
                           link="/workspace/", about=("deputies", deputy_id), now=now)
            queued += 1
    return queued


def staff_overdue_digest(today: date, now: datetime) -> int:
    from ..core.cases import overdue_query

    with transaction():
        key = today.isoformat()
        if _already("staff_overdue", 0, key):
            return 0
        cases = db.session.scalars(overdue_query(today)).all()
        if not cases:
            return 0
        db.session.add(Reminder(about_type="staff_overdue", about_id=0, key=key, created_at=now))
        staff = db.session.scalars(select(User.id).where(User.role.in_(("staff", "admin")),
                                                         User.active.is_(True))).all()
        lines = [f"{c.title}（{c.deadline.isoformat() if c.deadline else ''}）" for c in cases[:50]]
        services.notify(staff, "overdue_digest", _("超期件日报：共 %(n)d 件", n=len(cases)), "\n".join(lines),
                        link="/cases/", about=("staff_overdue", 0), now=now)
    return 1


# ---- events: the case steps ---------------------------------------------------------------------

def _deputy_user_ids_of(deputy_id: int) -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.deputy_id == deputy_id, User.active.is_(True))))


def _deputy_user_ids(case: Case) -> list[int]:
    if case.deputy_id is None:
        return []
    return list(db.session.scalars(select(User.id).where(User.deputy_id == case.deputy_id)))


def _staff_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role.in_(("staff", "admin")), User.active.is_(True))))


def messages_for_step(step: CaseStep):
    """(user_ids, unit_id, kind, subject, body) for a new step, or None."""
    case = step.case
    if case is None:
        return None
    note = step.note or ""
    if step.action == "assign" and step.unit_id:
        return ([], step.unit_id, "case_assigned", _("新交办：%(t)s", t=case.title), note)
    if step.action == "extension_request":
        return (_staff_ids(), None, "extension", _("延期申请：%(t)s", t=case.title), note)
    if step.action in ("extension_approve", "extension_refuse") and step.unit_id:
        subject = (_("延期已同意：%(t)s", t=case.title) if step.action == "extension_approve"
                   else _("延期未同意：%(t)s", t=case.title))
        return ([], step.unit_id, "extension", subject, note)
    if step.action == "reply" and case.status == "answered" and case.deputy_id:
        return (_deputy_user_ids(case), None, "deputy_step", _("已答复：%(t)s", t=case.title),
                note + "\n\n" + _("请查看答复并对办理结果进行评价（满意、基本满意、不满意）。"))
    return None


def constituent_sms(case: Case | None, now: datetime | None = None) -> OutboxMessage | None:
    """反馈 sent: an SMS with the receipt code and the tracking address to the constituent's mobile, only if
    they agreed (``Case.sms_consent``, set on the public message form or the kiosk). No account: the row
    has no user; it waits for the 08:00–22:00 window like every SMS; the number is only in ``address``."""
    if case is None or not case.sms_consent or not case.contact_phone:
        return None
    from ..core.qr import public_base

    now = now or utcnow()
    row = OutboxMessage(user_id=None, channel="sms", kind="constituent_answer", address=case.contact_phone,
                        subject=_("人大代表联络站"),
                        body=_("您的留言（回执码 %(c)s）已答复，请到 %(u)s 输入回执码查看并评价。",
                               c=case.receipt_code, u=public_base() + "/messages/track"),
                        about_type="cases", about_id=case.id, due_at=services.next_sms_time(now), created_at=now)
    db.session.add(row)
    return row


def _on_flush(session, flush_context, instances):
    if not has_app_context() or "notifications" not in getattr(current_app.extensions.get("areas"), "names", ()):
        return  # a script without the app, or an app without this area
    steps = [obj for obj in session.new if isinstance(obj, CaseStep)]
    for step in steps:
        if step.action == "send":
            constituent_sms(step.case)
        found = messages_for_step(step)
        if found:
            user_ids, unit_id, kind, subject, body = found
            services.queue(user_ids, kind, subject, body, link=case_link(step.case), unit_id=unit_id,
                           about=("cases", step.case.id) if step.case.id else None)


def listen() -> None:
    if not event.contains(Session, "before_flush", _on_flush):
        event.listen(Session, "before_flush", _on_flush)
