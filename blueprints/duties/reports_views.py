"""Reports to voters (述职评议): staff schedule and record them and follow who has reported this
term; voters assess on the day by scanning the event's QR code (public, one answer per phone)."""
from __future__ import annotations

import secrets

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core.extensions import db, limiter
from ..core.flow import INVALID, run_action, run_form
from ..core.hardening import cookie_name
from ..core.pagination import int_arg, page_number, paginate
from ..core.permissions import role_required
from ..core.qr import public_url
from ..core.timeutil import local_today
from ..registry.models import LEVEL_LABELS, LEVELS, Deputy
from . import reports
from .forms import AssessForm, MeetingForm, ReportForm
from .models import VoterReport
from .views import _user, bp

DEVICE_COOKIE = "dp_assess_device"


def _report(report_id: int) -> VoterReport:
    return db.session.scalar(select(VoterReport).where(VoterReport.id == report_id)
                             .options(joinedload(VoterReport.deputy))) or abort(404)


@bp.get("/duties/reports/")
@role_required("staff")
def reports_list():
    level = request.args.get("level", "county")
    level = level if level in LEVELS else "county"
    show = request.args.get("show", "due")
    # The term's start for the level: the most recent term entered for it (None: all time).
    from .models import CongressTerm

    term = db.session.scalar(select(CongressTerm).where(CongressTerm.level == level)
                             .order_by(CongressTerm.starts_on.desc()).limit(1))
    start = term.starts_on if term else None
    page = paginate(reports.tracking(level, start, reported=(show == "done")), page_number(), per_page=50)
    year_start = local_today().replace(month=1, day=1)
    this_year = db.session.scalar(select(func.count(func.distinct(VoterReport.deputy_id))).join(Deputy).where(
        VoterReport.held, VoterReport.scheduled_on >= year_start, Deputy.level == level))
    serving = db.session.scalar(select(func.count()).select_from(Deputy).where(
        Deputy.level == level, Deputy.ended_on.is_(None)))
    upcoming = db.session.scalars(select(VoterReport).options(joinedload(VoterReport.deputy))
                                  .where(VoterReport.scheduled_on >= local_today(), ~VoterReport.held)
                                  .order_by(VoterReport.scheduled_on).limit(20)).all()
    return render_template("duties/reports.html", page=page, level=level, show=show, term=term,
                           this_year=this_year, serving=serving, upcoming=upcoming, LEVEL_LABELS=LEVEL_LABELS)


@bp.route("/duties/reports/new", methods=["GET", "POST"])
@role_required("staff")
def report_new():
    deputy_id = int_arg("deputy_id")
    deputy = db.session.get(Deputy, deputy_id) if deputy_id else None
    if deputy is None:
        abort(404)
    form = ReportForm()
    if request.method == "GET":
        form.constituency.data = deputy.constituency
    return run_form(
        form, lambda f: reports.schedule(deputy, f.scheduled_on.data, f.place.data, f.constituency.data, _user()),
        success=_("已安排述职。"), redirect_to=lambda report: url_for("duties.report_detail", report_id=report.id),
        render=lambda status: (render_template("duties/report_form.html", form=form, deputy=deputy), status),
        field="place")


@bp.route("/duties/reports/<int:report_id>", methods=["GET", "POST"])
@role_required("staff")
def report_detail(report_id: int):
    report = _report(report_id)
    form = MeetingForm(obj=None)
    if request.method == "GET" and report.held:
        form.attendance.data, form.questions.data = report.attendance, report.questions
        form.satisfied.data, form.basic.data = report.paper_satisfied, report.paper_basic
        form.unsatisfied.data = report.paper_unsatisfied
    here = url_for("duties.report_detail", report_id=report.id)
    if request.method == "POST" and request.form.get("action") in ("open", "close"):
        _result, error = run_action(lambda: reports.set_qr_open(report, request.form["action"] == "open", _user()))
        if error is not None:
            flash(error.message, "error")
        return redirect(here, 303)

    def render(status: int):
        return render_template("duties/report.html", report=report, form=form, qr=reports.qr_counts(report.id),
                               assess_url=public_url("duties.assess", token=report.qr_token)), status

    return run_form(
        form, lambda f: reports.record_meeting(report, attendance=f.attendance.data, questions=f.questions.data,
                                               satisfied=f.satisfied.data, basic=f.basic.data,
                                               unsatisfied=f.unsatisfied.data, actor=_user()),
        success=_("述职评议结果已登记，并计入代表履职档案。"), redirect_to=here, render=render, field="attendance")


@bp.get("/duties/reports/<int:report_id>/qr.svg")
@role_required("staff")
def report_qr(report_id: int):
    from ..core.qr import qr_response

    report = _report(report_id)
    return qr_response(public_url("duties.assess", token=report.qr_token), max_age=0)


def _assess_limit() -> str:
    return current_app.config.get("ASSESS_RATE_LIMIT", "20 per day")


def _address_and_event() -> str:
    # Every GET hands out a fresh device cookie, so the cookie alone does not bound one client's answers:
    # the answers from one address to one event are bounded too (a hall's shared Wi-Fi: see app.py).
    return f"{request.remote_addr}|{(request.view_args or {}).get('token', '')[:32]}"


@bp.route("/assess/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@limiter.limit(_assess_limit, methods=["POST"], key_func=_address_and_event)
def assess(token: str):
    """The voters' page on the day: one answer per phone (a random cookie, hashed with the event)."""
    if len(token) > 32:
        abort(404)
    report = db.session.scalar(select(VoterReport).where(VoterReport.qr_token == token)
                               .options(joinedload(VoterReport.deputy))) or abort(404)
    form = AssessForm()
    device = request.cookies.get(cookie_name(DEVICE_COOKIE)) or ""
    status, done = 200, False
    if form.validate_on_submit():
        # One answer per phone: a second one is refused by the UNIQUE (report, device), 409 with its message.
        _result, error = run_action(lambda: reports.submit_assessment(report, device, form.choice.data))
        if error is None:
            done = True
        else:
            flash(error.message, "error")
            status = error.status
    elif request.method == "POST":
        status = INVALID
    response = make_response(render_template("duties/assess.html", report=report, form=form, done=done), status)
    if not device:
        response.set_cookie(cookie_name(DEVICE_COOKIE), secrets.token_urlsafe(16), max_age=3 * 365 * 24 * 3600,
                            httponly=True, samesite="Lax", secure=request.is_secure)
    return response

