"""三考 (武穴): at assignment the main unit files a handling plan with milestones and dates (一考方案);
progress entries against them (二考进度); the answer is the result (三考结果, handling.reply). Staff see
plans missing 15 days after assignment and milestones overdue. Each writing function is one unit of work."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select

from ..core import areas, audit
from ..core.cases import Case, CaseAssignment
from ..core.errors import Conflict, DomainError, clean_text
from ..core.extensions import db
from ..core.timeutil import LOCAL_TZ, local_today, to_local
from ..core.transaction import transactional
from .models import Suggestion
from .services import MAX_NOTE, MAX_TEXT, SuggestionForbidden
from .supervision_models import HandlingPlan, PlanMilestone, PlanProgress

PLAN_DAYS = 15  # the plan is due this many days after assignment
MAX_MILESTONES = 12


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TZ).astimezone(UTC)


def plan_of(suggestion: Suggestion, round_: int | None = None) -> HandlingPlan | None:
    return db.session.scalar(select(HandlingPlan).where(HandlingPlan.suggestion_id == suggestion.id,
                                                        HandlingPlan.round == (round_ or suggestion.round)))


def _main_pending(suggestion: Suggestion, by):
    from .handling import unit_assignments

    if by is None or by.role != "unit" or not by.unit_id:
        raise SuggestionForbidden(_("只有承办单位可以进行此操作。"))
    mine = [a for a in unit_assignments(suggestion, by.unit_id) if a.role == "main"]
    if not mine:
        raise SuggestionForbidden(_("只有本轮的主办单位可以报送办理方案。"))
    return mine[0]


def parse_milestones(text: str | None) -> list[tuple[str, date]]:
    """Milestones from a form, one a line: ``YYYY-MM-DD 事项`` (a space, a tab or a comma between)."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        head, _sep, title = line.replace("，", " ").replace(",", " ").replace("\t", " ").partition(" ")
        try:
            due = date.fromisoformat(head.strip())
        except ValueError:
            raise DomainError(_("第 %(n)d 行：请以日期开头（如 2026-06-30 完成选址）。", n=number),
                              field="milestones") from None
        rows.append((title.strip(), due))
    return rows


@transactional
def file_plan(suggestion: Suggestion, summary: str, milestones: list[tuple[str, date]], *, by) -> HandlingPlan:
    """一考方案: the main unit's plan of the current round, with milestones (a title and a date each).
    Refused once the suggestion is answered: the answer is the result, not a plan."""
    if suggestion.status in ("answered", "closed"):
        raise Conflict(_("这件建议已经答复，不能再报送办理方案。"), field="summary")
    assignment = _main_pending(suggestion, by)
    if assignment.state != "pending":
        raise Conflict(_("这件建议已经答复，不能再报送办理方案。"), field="summary")
    if plan_of(suggestion) is not None:
        raise Conflict(_("本轮已经报送过办理方案，不能重复报送。"), field="summary")
    summary = clean_text(summary, _("办理方案"), MAX_TEXT, "summary")
    if not milestones:
        raise DomainError(_("请至少填写一个时间节点。"), field="milestones")
    if len(milestones) > MAX_MILESTONES:
        raise DomainError(_("时间节点最多 %(n)d 个。", n=MAX_MILESTONES), field="milestones")
    assigned_on = to_local(assignment.assigned_at).date()
    rows = []
    for title, due in milestones:
        title = clean_text(title, _("节点事项"), 200, "milestones")
        if due is None:
            raise DomainError(_("请填写节点“%(t)s”的日期。", t=title), field="milestones")
        if due < assigned_on:
            raise DomainError(_("节点“%(t)s”的日期早于交办日期。", t=title), field="milestones")
        rows.append(PlanMilestone(title=title, due_on=due))
    plan = HandlingPlan(suggestion_id=suggestion.id, round=suggestion.round, unit_id=by.unit_id, summary=summary,
                        filed_by_id=by.id, milestones=rows)
    db.session.add(plan)
    db.session.flush()
    audit.record("plan", "suggestion", suggestion.id, f"报送办理方案（{len(rows)} 个节点）：《{suggestion.title}》",
                 actor=by)
    return plan


@transactional
def add_progress(suggestion: Suggestion, text: str, *, by, milestone_id: int | None = None,
                 done: bool = False) -> PlanProgress:
    """二考进度: a progress entry against a milestone (``done`` marks it reached) or the plan as a whole."""
    plan = plan_of(suggestion)
    if by is None or by.role != "unit" or plan is None or plan.unit_id != by.unit_id:
        raise SuggestionForbidden(_("只有报送办理方案的主办单位可以报告进度。"))
    if suggestion.status == "closed":
        raise Conflict(_("这件建议已经办结。"), field="text")
    milestone = None
    if milestone_id:
        milestone = next((m for m in plan.milestones if m.id == milestone_id), None)
        if milestone is None:
            raise DomainError(_("请选择本方案的时间节点。"), field="milestone_id")
        if done and milestone.done_on is not None:
            raise Conflict(_("节点“%(t)s”已经完成。", t=milestone.title), field="milestone_id")
    elif done:
        raise DomainError(_("请选择完成的时间节点。"), field="milestone_id")
    text = clean_text(text, _("进展情况"), MAX_NOTE, "text")
    today = local_today()
    row = PlanProgress(plan=plan, milestone_id=milestone.id if milestone else None, reported_on=today, text=text,
                       done=done, recorded_by_id=by.id)
    db.session.add(row)
    if done:
        milestone.done_on = today
    audit.record("progress", "suggestion", suggestion.id, f"报告办理进度：《{suggestion.title}》", actor=by,
                 note=text[:500])
    return row


# ---- what staff and units see ---------------------------------------------------------------

def _current_main():
    return and_(CaseAssignment.case_id == Case.id, CaseAssignment.role == "main", CaseAssignment.round == Case.round,
                CaseAssignment.state == "pending")


def missing_plans_query(unit_id: int | None = None, *, overdue_only: bool = True, today: date | None = None):
    """Suggestions being handled whose main unit has filed no plan for the round: those assigned more
    than PLAN_DAYS days ago (``overdue_only``), or all (a unit's 待报方案)."""
    today = today or local_today()
    has_plan = exists().where(HandlingPlan.suggestion_id == Suggestion.id, HandlingPlan.round == Suggestion.round)
    stmt = (select(Suggestion, CaseAssignment.assigned_at)
            .join(Case, Case.id == Suggestion.case_id).join(CaseAssignment, _current_main())
            .where(Suggestion.status == "assigned", ~has_plan)
            .order_by(CaseAssignment.assigned_at, Suggestion.id))
    if overdue_only:
        stmt = stmt.where(CaseAssignment.assigned_at < _utc_start(today - timedelta(days=PLAN_DAYS)))
    if unit_id:
        stmt = stmt.where(CaseAssignment.unit_id == unit_id)
    return stmt


def overdue_milestones_query(unit_id: int | None = None, today: date | None = None):
    """Milestones not reached by their date, of plans of suggestions still being handled."""
    today = today or local_today()
    stmt = (select(PlanMilestone, Suggestion)
            .join(HandlingPlan, HandlingPlan.id == PlanMilestone.plan_id)
            .join(Suggestion, and_(Suggestion.id == HandlingPlan.suggestion_id, Suggestion.round == HandlingPlan.round))
            .where(PlanMilestone.done_on.is_(None), PlanMilestone.due_on < today,
                   Suggestion.status.in_(("assigned", "answered")))
            .order_by(PlanMilestone.due_on, PlanMilestone.id))
    if unit_id:
        stmt = stmt.where(HandlingPlan.unit_id == unit_id)
    return stmt


def _count(stmt):
    return select(func.count()).select_from(stmt.order_by(None).subquery())


# The workspace's counts (core.areas.count_query: SQL, run together with the page's other counts).

@areas.count_query
def staff_missing_plans(user):
    return _count(missing_plans_query())


@areas.count_query
def staff_overdue_milestones(user):
    return _count(overdue_milestones_query())


@areas.count_query
def unit_plans_due(user):
    return _count(missing_plans_query(user.unit_id, overdue_only=False))


@areas.count_query
def unit_overdue_milestones(user):
    return _count(overdue_milestones_query(user.unit_id))
