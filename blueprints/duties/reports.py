"""Reports to voters (述职评议): scheduling, the record of the meeting, and the democratic
assessment (民主测评) on paper or by voters scanning the event's QR code, one submission per phone.
Each write is one unit of work (``@transactional``); a second answer from the same phone is refused by
uq_duty_report_assessments_report_id_device_hash with the message registered in models.py."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select

from ..core import audit
from ..core.errors import Conflict, DomainError
from ..core.extensions import db
from ..core.timeutil import local_today
from ..core.transaction import transactional
from ..registry.models import Deputy
from .models import ASSESSMENT_CHOICES, ReportAssessment, VoterReport
from .services import record_activity


@transactional
def schedule(deputy: Deputy, when: date, place: str, constituency: str | None, actor) -> VoterReport:
    place = (place or "").strip()
    if not place:
        raise DomainError(_("请填写述职地点。"), field="place")
    if len(place) > 128:
        raise DomainError(_("地点不能超过 128 个字。"), field="place")
    if not deputy.serving:
        raise DomainError(_("该代表的代表资格已终止，不能安排述职。"), field="deputy_id")
    report = VoterReport(deputy_id=deputy.id, scheduled_on=when, place=place,
                         constituency=(constituency or deputy.constituency or "").strip()[:64] or None,
                         qr_token=secrets.token_urlsafe(16))
    db.session.add(report)
    db.session.flush()
    audit.record("create", "voter_report", report.id, f"安排{deputy.name}向选民述职（{when.isoformat()}）",
                 actor=actor)
    _tell_deputy(report, deputy)
    return report


def _tell_deputy(report: VoterReport, deputy: Deputy) -> None:
    """The deputy hears of the scheduled report (notifications area, in this transaction)."""
    from flask import current_app

    from ..core.models import User

    if "notifications" not in current_app.extensions["areas"].names:
        return
    from ..notifications.services import notify

    users = list(db.session.scalars(select(User.id).where(User.deputy_id == deputy.id, User.active.is_(True))))
    if users:
        notify(users, "deputy_step", _("已安排向选民述职：%(d)s", d=report.scheduled_on.isoformat()),
               _("您将于 %(d)s 在%(p)s向选民述职（述职评议），请做好准备。", d=report.scheduled_on.isoformat(),
                 p=report.place), link="/me/", about=("duty_voter_reports", report.id))


@transactional
def record_meeting(report: VoterReport, *, attendance: int, questions: str | None, satisfied: int, basic: int,
                   unsatisfied: int, actor) -> None:
    """Record the held meeting and the paper forms; the report counts as the deputy's activity."""
    if report.scheduled_on > local_today():
        raise DomainError(_("述职尚未举行，不能登记结果。"), field="attendance")
    for field, value in (("attendance", attendance), ("satisfied", satisfied), ("basic", basic),
                         ("unsatisfied", unsatisfied)):
        if value is None or value < 0 or value > 100000:
            raise DomainError(_("人数应为 0 或正整数。"), field=field)
    if satisfied + basic + unsatisfied > attendance:
        raise DomainError(_("纸质测评票数之和不能超过到会人数。"), field="satisfied")
    before = audit.snapshot(report, ("held", "attendance", "paper_satisfied", "paper_basic", "paper_unsatisfied"))
    report.held, report.attendance = True, attendance
    report.questions = (questions or "").strip()[:5000] or None
    report.paper_satisfied, report.paper_basic, report.paper_unsatisfied = satisfied, basic, unsatisfied
    record_activity(report.deputy_id, "voter_report", report.scheduled_on, _("向选民述职"), place=report.place,
                    source="voter_report", source_ref=str(report.id), actor=actor)
    audit.record("update", "voter_report", report.id, f"登记{report.deputy.name}述职评议结果", actor=actor,
                 changes=audit.diff(before, audit.snapshot(
                     report, ("held", "attendance", "paper_satisfied", "paper_basic", "paper_unsatisfied"))))


@transactional
def set_qr_open(report: VoterReport, is_open: bool, actor) -> None:
    report.qr_open = is_open
    audit.record("update", "voter_report", report.id, ("开放" if is_open else "关闭") + "扫码测评", actor=actor)


def qr_counts(report_id: int) -> dict[str, int]:
    rows = db.session.execute(select(ReportAssessment.choice, func.count()).where(
        ReportAssessment.report_id == report_id).group_by(ReportAssessment.choice)).all()
    return {choice: dict(rows).get(choice, 0) for choice in ASSESSMENT_CHOICES}


def device_hash(device_id: str, report: VoterReport) -> str:
    # Hashed with the event's token: the stored value links no phone across events.
    return hashlib.sha256(f"{report.qr_token}:{device_id}".encode()).hexdigest()


@transactional
def submit_assessment(report: VoterReport, device_id: str, choice: str) -> None:
    if not report.qr_open:
        raise Conflict(_("本次述职的扫码测评未开放或已结束。"))
    if choice not in ASSESSMENT_CHOICES:
        raise DomainError(_("请选择满意、基本满意或不满意。"), field="choice")
    if not device_id:
        raise DomainError(_("请允许浏览器保存 Cookie 后再提交。"))
    # The same phone twice: the UNIQUE (report, device) refuses it, with its message (models.py).
    db.session.add(ReportAssessment(report_id=report.id, device_hash=device_hash(device_id, report), choice=choice))


def tracking(level: str, term_start: date | None, reported: bool):
    """Serving deputies of the level who have (or have not yet) reported since the term began:
    a statement for pagination, one EXISTS per row on an index."""
    held = select(VoterReport.id).where(VoterReport.deputy_id == Deputy.id, VoterReport.held)
    if term_start:
        held = held.where(VoterReport.scheduled_on >= term_start)
    cond = exists(held)
    stmt = select(Deputy).where(Deputy.level == level, or_(Deputy.ended_on.is_(None)),
                                cond if reported else ~cond).order_by(Deputy.sort_name, Deputy.id)
    return stmt
