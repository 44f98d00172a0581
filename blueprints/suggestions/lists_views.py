"""Lists per role: the deputy's suggestions, invitations and review queue; the unit's inbox; the office's
list, bulk assignment (交办会), supervision (重点督办, overdue, 跨年连办) and sessions."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.extensions import db
from ..core.flow import run_form
from ..core.pagination import int_arg, page_number, paginate
from ..core.permissions import role_required
from ..core.timeutil import local_today
from . import handling, services, stats
from .forms import BulkAssignForm, CarryOverForm, SessionForm
from .models import STATUSES, CongressSession, Suggestion, SuggestionCosigner
from .views import _unit, _units, bp, list_page


@bp.get("/my/suggestions/")
@role_required("deputy")
def mine():
    deputy_id = current_user.deputy_id
    own = db.session.scalars(select(Suggestion).where(Suggestion.lead_deputy_id == deputy_id)
                             .options(selectinload(Suggestion.session), selectinload(Suggestion.main_unit))
                             .order_by(Suggestion.id.desc())).all()
    invitations = db.session.scalars(
        select(SuggestionCosigner).where(SuggestionCosigner.deputy_id == deputy_id)
        .options(selectinload(SuggestionCosigner.suggestion).selectinload(Suggestion.lead_deputy))
        .order_by(SuggestionCosigner.id.desc())).all()
    to_review = []
    if current_user.deputy:
        from ..registry.models import DeputyGroup, GroupMembership

        led = select(GroupMembership.group_id).where(GroupMembership.deputy_id == deputy_id,
                                                    GroupMembership.role.in_(("leader", "vice_leader")))
        professional_lead = db.session.scalar(select(DeputyGroup.id).where(DeputyGroup.kind == "professional",
                                                                         DeputyGroup.id.in_(led)).limit(1))
        stmt = (select(Suggestion).where(Suggestion.status == "submitted", Suggestion.lead_deputy_id != deputy_id)
                .options(selectinload(Suggestion.lead_deputy)).order_by(Suggestion.submitted_at).limit(100))
        if not professional_lead:
            members = select(GroupMembership.deputy_id).where(GroupMembership.group_id.in_(led))
            stmt = stmt.where(Suggestion.lead_deputy_id.in_(members))
        to_review = db.session.scalars(stmt).all()
    return render_template("suggestions/mine.html", own=own, invitations=invitations, to_review=to_review)


@bp.get("/unit/suggestions/")
@role_required("unit")
def inbox():
    state = "all" if request.args.get("state") == "all" else "open"
    if not current_user.unit_id:
        return render_template("suggestions/inbox.html", page=None, state=state)
    stmt = handling.unit_inbox_query(current_user.unit_id, state).options(
        selectinload(Suggestion.lead_deputy), selectinload(Suggestion.session))
    if request.args.get("due") == "7":  # the workspace's count: due within 7 days
        stmt = services.due_soon_filter(stmt)
    return list_page("suggestions/inbox.html", "suggestions/_inbox_rows.html", stmt, 50, state=state,
                     today=local_today())


@bp.get("/manage/suggestions/")
@role_required("staff")
def manage():
    session_id = int_arg("session_id")
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()[:64]
    stmt = (select(Suggestion).where(Suggestion.status != "draft")
            .options(selectinload(Suggestion.lead_deputy), selectinload(Suggestion.main_unit),
                     selectinload(Suggestion.session))
            .order_by(Suggestion.id.desc()))
    if session_id:
        stmt = stmt.where(Suggestion.session_id == session_id)
    if status in STATUSES and status != "draft":
        stmt = stmt.where(Suggestion.status == status)
    if q:
        stmt = stmt.where(Suggestion.title.contains(q, autoescape=True))
    if request.args.get("extension") == "1":  # the workspace's count: open extension requests
        stmt = services.extension_filter(stmt)
    filters = {"session_id": session_id or "", "status": status, "q": q}
    return list_page("suggestions/manage.html", "suggestions/_manage_rows.html", stmt, 50, filters=filters,
                     sessions=services.all_sessions(), STATUSES=STATUSES, today=local_today())


@bp.route("/manage/suggestions/assign", methods=["GET", "POST"])
@role_required("staff")
def bulk_assign():
    """交办会: every suggestion waiting for assignment in one table, a main unit per row."""
    session_id = int_arg("session_id")
    stmt = (select(Suggestion).where(Suggestion.status == "registered")
            .options(selectinload(Suggestion.lead_deputy), selectinload(Suggestion.session))
            .order_by(Suggestion.session_id, Suggestion.number).limit(500))
    if session_id:
        stmt = stmt.where(Suggestion.session_id == session_id)
    form = BulkAssignForm()
    if request.method == "GET":
        form.deadline.data = handling.default_deadline()

    def action(form):
        rows = []
        by_id = {s.id: s for s in db.session.scalars(stmt)}
        for raw in request.form.getlist("pick"):
            item = by_id.get(int(raw)) if raw.isascii() and raw.isdigit() else None
            if item is not None:
                unit = _unit(int_or_zero(request.form.get(f"unit_{item.id}")))
                assist = _unit(int_or_zero(request.form.get(f"assist_{item.id}")))
                rows.append((item, unit, [assist] if assist else []))
        return handling.assign_many(rows, form.deadline.data, by=current_user._get_current_object(),
                                    note=form.note.data)

    def render(status):
        return render_template("suggestions/bulk_assign.html", form=form, waiting=db.session.scalars(stmt).all(),
                               units=_units(), sessions=services.all_sessions(), session_id=session_id,
                               picked=set(request.form.getlist("pick")), posted=request.form), status

    return run_form(form, action, success=lambda count: _("已交办 %(n)d 件建议。", n=count),
                    redirect_to=url_for("suggestions.bulk_assign", session_id=session_id or None),
                    render=render, field="deadline")


def int_or_zero(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 10 else 0


@bp.route("/manage/suggestions/supervision", methods=["GET", "POST"])
@role_required("staff")
def supervision():
    kind = request.args.get("kind", "all")
    session_id = int_arg("session_id")
    form = CarryOverForm()
    if request.method == "GET":
        form.year.data = local_today().year + 1

    def render(status):
        key_page = paginate(stats.supervision_query(session_id, kind=kind), page_number(), per_page=100)
        carried = db.session.scalars(stats.carried_query().limit(200)).all()
        sessions = services.all_sessions()
        shares = services.key_counts_by_session([s.id for s in sessions[:5]])
        return render_template("suggestions/supervision.html", page=key_page, carried=carried, form=form,
                               kind=kind, session_id=session_id, sessions=sessions, shares=shares,
                               key_required=services.key_required, today=local_today()), status

    return run_form(form, lambda f: services.carry_over(f.year.data or 0, by=current_user._get_current_object()),
                    success=lambda count: _("已转入 %(y)d 年跨年连办 %(n)d 件。", y=form.year.data, n=count),
                    redirect_to=url_for("suggestions.supervision"), render=render, field="year")


@bp.route("/manage/suggestions/sessions", methods=["GET", "POST"])
@role_required("staff")
def sessions():
    form = SessionForm()

    def render(status):
        return render_template("suggestions/sessions.html", form=form, sessions=services.all_sessions()), status

    if request.method == "POST" and request.form.get("toggle"):
        session = db.session.get(CongressSession, int_or_zero(request.form.get("toggle")))
        if session is None:
            return redirect(url_for("suggestions.sessions"), 303)
        return run_form(None, lambda f: services.set_accepting(session, not session.accepting,
                                                               by=current_user._get_current_object()),
                        success=_("已更新。"), redirect_to=url_for("suggestions.sessions"), render=render)
    return run_form(form, lambda f: services.create_session(f.name.data, f.year.data, f.opens_on.data,
                                                            f.closes_on.data, by=current_user._get_current_object()),
                    success=_("会议已新建，代表可以在该会议下提出建议。"), redirect_to=url_for("suggestions.sessions"),
                    render=render, field="name")
