"""Pages of 督 and 评 (issue 19): the work page's panel (supervision records, the 三考 plan, carry-over
rounds, links to earlier suggestions) and its actions; the leader's page; the office's pages for plans,
follow-up samples, interviews, the unit ranking and the handling report."""
from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.extensions import db
from ..core.flow import run_form
from ..core.models import User
from ..core.pagination import int_arg
from ..core.permissions import role_required
from ..core.timeutil import local_today
from . import followups, plans, rating, services, stats, supervision
from .models import CongressSession
from .supervision_forms import (
    CarryAssignForm,
    CarryReportForm,
    InterviewForm,
    LinkForm,
    OutcomeForm,
    PlanForm,
    ProgressForm,
    SampleForm,
    SuperviseForm,
    UnitBallotForm,
    VisitForm,
    WeightsForm,
)
from .supervision_models import FollowupSample, FollowupVisit, UnitInterview
from .views import FORMS, _act, _unit, _units, bp

FORMS.update({"supervise": SuperviseForm, "plan": PlanForm, "progress": ProgressForm,
              "carry_assign": CarryAssignForm, "carry_report": CarryReportForm, "link": LinkForm})


def fill_choices(item, forms: dict) -> None:
    """Choices of the work page's select fields (called for the page and for a posted form)."""
    if "key" in forms:
        forms["key"].key_leader.choices = [(0, _("（请选择）"))] + [(u.id, u.display_name)
                                                                 for u in supervision.leaders()]
    if "carry_assign" in forms:
        forms["carry_assign"].unit_id.choices = [(0, _("（请选择）"))] + [(u.id, u.name) for u in _units()]
    if "progress" in forms:
        plan = plans.plan_of(item) if item.number else None
        forms["progress"].milestone_id.choices = [(0, _("（方案整体）"))] + [
            (m.id, f"{m.due_on.isoformat()} {m.title}") for m in (plan.milestones if plan else [])]
    if "link" in forms:
        forms["link"].earlier_session.choices = [(0, _("（请选择）"))] + [
            (s.id, s.name) for s in services.all_sessions() if s.opens_on < item.session.opens_on]


def context(item) -> dict:
    """What the work page's 督/评 panel shows."""
    user = current_user
    plan = plans.plan_of(item) if item.case_id else None
    carry = supervision.current_carry(item)
    rounds = supervision.carry_rounds(carry) if carry else []
    main = [a for a in (item.case.assignments if item.case else [])
            if a.role == "main" and a.round == item.round and a.state == "pending"]
    return {
        "records": supervision.records_of(item) if item.is_key else [],
        "can_supervise": item.is_key and (services.is_staff(user) or (supervision.is_leader(user)
                                                                       and item.key_leader_id == user.id)),
        "plan": plan,
        "can_plan": bool(main) and user.role == "unit" and main[0].unit_id == user.unit_id and plan is None
        and item.status == "assigned",
        "can_progress": plan is not None and user.role == "unit" and plan.unit_id == user.unit_id
        and item.status != "closed",
        "carry": carry,
        "carry_rounds": rounds,
        "can_carry_report": bool(rounds) and user.role == "unit" and rounds[-1].unit_id == user.unit_id
        and rounds[-1].reported_at is None,
        "earlier": supervision.earlier_of(item) if item.number else [],
        "years_raised": supervision.years_raised([item.id]).get(item.id, 1) if item.number else 1,
        "today": local_today(),
    }


# ---- the work page's actions ------------------------------------------------------------------

@bp.post("/suggestions/<int:suggestion_id>/supervise")
@role_required("leader", "staff")
def supervise(suggestion_id: int):
    return _act(suggestion_id, "supervise",
                lambda item, f, by: supervision.add_record(item, f.held_on.data, f.form.data, f.participants.data,
                                                           f.agreed.data, by=by),
                _("督办记录已保存。"), "agreed")


@bp.post("/suggestions/<int:suggestion_id>/plan")
@role_required("unit")
def plan(suggestion_id: int):
    return _act(suggestion_id, "plan",
                lambda item, f, by: plans.file_plan(item, f.summary.data, plans.parse_milestones(f.milestones.data),
                                                    by=by),
                _("办理方案已报送。"), "summary")


@bp.post("/suggestions/<int:suggestion_id>/progress")
@role_required("unit")
def progress(suggestion_id: int):
    return _act(suggestion_id, "progress",
                lambda item, f, by: plans.add_progress(item, f.text.data, by=by,
                                                       milestone_id=f.milestone_id.data or None,
                                                       done=bool(f.done.data)),
                _("办理进度已报告。"), "text")


@bp.post("/suggestions/<int:suggestion_id>/carry/assign")
@role_required("staff")
def carry_assign(suggestion_id: int):
    return _act(suggestion_id, "carry_assign",
                lambda item, f, by: supervision.assign_carried(item, _unit(f.unit_id.data), f.deadline.data, by=by),
                _("已交办本年度连办。"), "unit_id")


@bp.post("/suggestions/<int:suggestion_id>/carry/report")
@role_required("unit")
def carry_report(suggestion_id: int):
    return _act(suggestion_id, "carry_report",
                lambda item, f, by: supervision.report_carried(item, f.report.data, by=by),
                _("办理情况已报告。"), "report")


@bp.post("/suggestions/<int:suggestion_id>/link")
@role_required("staff")
def link(suggestion_id: int):
    def action(item, f, by):
        earlier = supervision.find_earlier(str(f.earlier_session.data or ""), f.earlier_number.data)
        return supervision.link_earlier(item, earlier, by=by)

    return _act(suggestion_id, "link", action, _("已关联以往建议。"), "earlier_number")


# ---- the leader's page ------------------------------------------------------------------------

@bp.get("/leader/suggestions/")
@role_required("leader", "staff")
def leader():
    leaders = supervision.leaders()
    if current_user.role == "leader":
        person = current_user
    else:
        person = db.session.get(User, int_arg("leader_id") or 0) or (leaders[0] if leaders else None)
        if person is not None and person.role != "leader":
            abort(404)
    items = db.session.scalars(supervision.leader_suggestions_query(person.id)).all() if person else []
    return render_template("suggestions/leader.html", person=person, leaders=leaders, items=items,
                           today=local_today())


# ---- the office: plans, follow-ups, interviews -----------------------------------------------

@bp.get("/manage/suggestions/plans")
@role_required("staff")
def plans_page():
    missing = db.session.execute(plans.missing_plans_query().limit(200)).all()
    late = db.session.execute(plans.overdue_milestones_query().limit(200)).all()
    return render_template("suggestions/plans.html", missing=missing, late=late, days=plans.PLAN_DAYS,
                           today=local_today())


def _sessions_choices():
    return [(s.id, s.name) for s in services.all_sessions()]


@bp.route("/manage/suggestions/followups", methods=["GET", "POST"])
@role_required("staff")
def followups_page():
    form = SampleForm()
    form.session_id.choices = _sessions_choices()

    def render(status):
        samples = db.session.scalars(followups.samples_of().options(selectinload(FollowupSample.session))
                                     .limit(50)).all()
        return render_template("suggestions/followups.html", form=form, samples=samples), status

    return run_form(form, lambda f: followups.draw_sample(
        db.session.get(CongressSession, f.session_id.data or 0) or abort(404), f.mode.data, f.value.data,
        by=current_user._get_current_object(), seed=f.seed.data),
        success=lambda s: _("已抽取 %(n)d 件（种子 %(seed)d）。", n=s.size, seed=s.seed),
        redirect_to=lambda s: url_for("suggestions.followup_sample", sample_id=s.id), render=render, field="value")


def _sample_page(sample: FollowupSample, posted: dict | None = None, status: int = 200):
    visits = db.session.scalars(select(FollowupVisit).where(FollowupVisit.sample_id == sample.id)
                                .options(selectinload(FollowupVisit.suggestion)).order_by(FollowupVisit.id)).all()
    forms = {v.id: (posted or {}).get(v.id) or VisitForm(prefix=f"v{v.id}", formdata=None) for v in visits}
    return render_template("suggestions/followup_sample.html", sample=sample, visits=visits, forms=forms,
                           reproducible=followups.check_sample(sample)), status


@bp.get("/manage/suggestions/followups/<int:sample_id>")
@role_required("staff")
def followup_sample(sample_id: int):
    return _sample_page(db.session.get(FollowupSample, sample_id) or abort(404))


def _visit(visit_id: int) -> FollowupVisit:
    return db.session.get(FollowupVisit, visit_id) or abort(404)


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@bp.post("/manage/suggestions/followups/visits/<int:visit_id>")
@role_required("staff")
def followup_visit(visit_id: int):
    visit = _visit(visit_id)
    form = VisitForm(prefix=f"v{visit.id}")
    return run_form(form, lambda f: followups.record_visit(
        visit, f.visited_on.data, f.visitors.data, f.findings.data, _yes_no(f.deputy_satisfied.data),
        _yes_no(f.public_satisfied.data), by=current_user._get_current_object()),
        success=_("回访情况已记录。"), redirect_to=url_for("suggestions.followup_sample", sample_id=visit.sample_id),
        render=lambda status: _sample_page(_visit(visit_id).sample, {visit_id: form}, status), field="findings")


@bp.post("/manage/suggestions/followups/visits/<int:visit_id>/second")
@role_required("staff")
def followup_second(visit_id: int):
    visit = _visit(visit_id)
    return run_form(None, lambda f: followups.send_to_second_handling(visit, by=current_user._get_current_object()),
                    success=_("已送二次交办，请在建议页面重新交办。"),
                    redirect_to=url_for("suggestions.followup_sample", sample_id=visit.sample_id),
                    render=lambda status: _sample_page(_visit(visit_id).sample, None, status))


def _interviews_page(form, outcome_forms=None, status=200):
    rows = db.session.scalars(supervision.interviews_query().limit(200)).all()
    outcome_forms = outcome_forms or {}
    forms = {r.id: outcome_forms.get(r.id) or OutcomeForm(prefix=f"o{r.id}", formdata=None) for r in rows}
    return render_template("suggestions/interviews.html", form=form, rows=rows, outcome_forms=forms), status


def _interview_form():
    form = InterviewForm()
    form.unit_id.choices = [(0, _("（请选择）"))] + [(u.id, u.name) for u in _units()]
    form.session_id.choices = [(0, _("（全部会议）"))] + _sessions_choices()
    return form


@bp.route("/manage/suggestions/interviews", methods=["GET", "POST"])
@role_required("staff")
def interviews():
    form = _interview_form()
    if request.method == "GET" and not form.held_on.data:
        form.held_on.data = local_today()
    return run_form(form, lambda f: supervision.record_interview(
        _unit(f.unit_id.data), f.kind.data, f.held_on.data, f.head_name.data, f.content.data,
        by=current_user._get_current_object(), session=db.session.get(CongressSession, f.session_id.data or 0),
        outcome=f.outcome.data),
        success=_("约谈问效已记录。"), redirect_to=url_for("suggestions.interviews"),
        render=lambda status: _interviews_page(form, None, status), field="unit_id")


@bp.post("/manage/suggestions/interviews/<int:interview_id>/outcome")
@role_required("staff")
def interview_outcome(interview_id: int):
    row = db.session.get(UnitInterview, interview_id) or abort(404)
    form = OutcomeForm(prefix=f"o{row.id}")
    return run_form(form, lambda f: supervision.set_interview_outcome(row, f.outcome.data,
                                                                      by=current_user._get_current_object()),
                    success=_("整改结果已记录。"), redirect_to=url_for("suggestions.interviews"),
                    render=lambda status: _interviews_page(_interview_form(), {interview_id: form}, status),
                    field="outcome")


# ---- 评: the unit ranking and the handling report ---------------------------------------------

def _session_arg() -> CongressSession | None:
    session_id = int_arg("session_id")
    if session_id:
        return db.session.get(CongressSession, session_id) or abort(404)
    sessions = services.all_sessions()
    return sessions[0] if sessions else None


def _meetings():
    from ..ballots.models import Meeting

    return db.session.scalars(select(Meeting).order_by(Meeting.held_on.desc().nulls_last(), Meeting.id.desc())
                              .limit(50)).all()


def _rating_page(session, weights=None, ballot_form=None, status=200):
    rule, rows = rating.ranking(session) if session else (None, [])
    if weights is None:
        weights = WeightsForm(formdata=None, obj=rule)
    if ballot_form is None:
        ballot_form = UnitBallotForm(formdata=None, data={"meeting_id": int_arg("meeting_id") or 0,
                                                          "year": session.year if session else None})
    ballot_form.meeting_id.choices = [(0, _("（请选择）"))] + [(m.id, m.title) for m in _meetings()]
    return render_template("suggestions/rating.html", session=session, sessions=services.all_sessions(), rule=rule,
                           rows=rows, weights=weights, ballot_form=ballot_form, pct=rating.pct,
                           formula=rating.formula_text(rule) if rule else ""), status


@bp.get("/manage/suggestions/rating")
@role_required("staff")
def rating_page():
    return _rating_page(_session_arg())


@bp.post("/manage/suggestions/rating/weights")
@role_required("staff")
def rating_weights():
    session = _session_arg() or abort(404)
    form = WeightsForm()
    return run_form(form, lambda f: rating.set_rule(session.year, {k: getattr(f, k).data for k in rating.WEIGHTS},
                                                    by=current_user._get_current_object()),
                    success=_("%(y)d 年度测评权重已保存。", y=session.year),
                    redirect_to=url_for("suggestions.rating_page", session_id=session.id),
                    render=lambda status: _rating_page(session, form, None, status), field="w_on_time")


@bp.post("/manage/suggestions/rating/ballot")
@role_required("staff")
def rating_ballot():
    """反向测评, from the rating page or the meeting page (a meeting and a year)."""
    from ..ballots.models import Meeting

    form = UnitBallotForm()
    form.meeting_id.choices = [(0, "")] + [(m.id, m.title) for m in _meetings()]
    meeting_id = form.meeting_id.data if isinstance(form.meeting_id.data, int) else 0
    meeting = db.session.get(Meeting, meeting_id) if 0 < meeting_id < 2**31 else None
    if meeting is not None and meeting.id not in dict(form.meeting_id.choices):
        form.meeting_id.choices.append((meeting.id, meeting.title))
    year = form.year.data if isinstance(form.year.data, int) and 2000 <= form.year.data <= 2100 else None
    year = year or (meeting.held_on.year if meeting and meeting.held_on else local_today().year)
    session = db.session.scalar(select(CongressSession).where(CongressSession.year == year)
                                .order_by(CongressSession.opens_on.desc()).limit(1))
    return run_form(form, lambda f: rating.create_unit_ballot(meeting, year, by=current_user._get_current_object()),
                    success=_("已创建承办单位满意度测评（无记名），请在会议页面开始表决。"),
                    redirect_to=lambda ballot: url_for("ballots.meeting", meeting_id=ballot.meeting_id),
                    render=lambda status: _rating_page(session, None, form, status), field="meeting_id",
                    flash_refusal=True)


@bp.post("/manage/suggestions/rating/publish")
@role_required("staff")
def rating_publish():
    session = _session_arg() or abort(404)
    return run_form(None, lambda f: rating.publish(session, by=current_user._get_current_object()),
                    success=_("测评结果已在公示栏发布。"),
                    redirect_to=url_for("suggestions.rating_page", session_id=session.id),
                    render=lambda status: _rating_page(session, None, None, status))


@bp.get("/manage/suggestions/rating/export.xlsx")
@role_required("staff")
def rating_export():
    from ..core.downloads import XLSX, download

    session = _session_arg() or abort(404)
    return download(rating.export_xlsx(session), f"{session.name}承办单位测评.xlsx", XLSX)


@bp.get("/manage/suggestions/sessions/<int:session_id>/report")
@role_required("staff", "leader")
def handling_report(session_id: int):
    session = db.session.get(CongressSession, session_id) or abort(404)
    _rule, rows = rating.ranking(session)
    key_items = db.session.scalars(stats.supervision_query(session.id, kind="key")).all()
    return render_template("suggestions/report.html", session=session, f=rating.report_figures(session),
                           rows=rows, key_items=key_items, pct=rating.pct, today=local_today())
