"""Deputy-facing pages (/me/: the archive, logging and correcting activities) and the verification
pages for staff and liaisons (queue, verify / return, bulk logging, recorded corrections).

Every form goes through ``core.flow.run_form`` (validate → the service in one transaction → flash →
303, or the form again with the refusal next to its field and the refusal's status: 422 for invalid
input, 409 for a conflict); buttons without a form page go through ``run_action``."""
from __future__ import annotations

import secrets
from math import ceil

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core.errors import DomainError
from ..core.extensions import db
from ..core.flow import run_action, run_form
from ..core.htmx import render_page
from ..core.pagination import Page, int_arg, page_number, paginate, parse_positive_int
from ..core.permissions import role_required
from ..core.timeutil import local_today
from ..core.transaction import after_commit
from ..registry.models import Deputy, DeputyGroup, GroupMembership
from . import provisional, scoring, services
from .forms import ActivityForm, CorrectionForm, ReturnForm
from .models import ACTIVITY_TYPES, Activity, ActivityAttachment

bp = Blueprint("duties", __name__)

ACTIVITIES_PER_PAGE = 20


def _user():
    return current_user._get_current_object()


def _year_arg() -> int:
    year = int_arg("year")
    return year if year and 2000 <= year <= 2100 else local_today().year


def _files(form) -> list[tuple[str, bytes]]:
    return [(f.filename, f.read()) for f in (form.files.data or []) if f and f.filename]


def _new_nonce(form) -> None:
    if not form.nonce.data:
        form.nonce.data = secrets.token_urlsafe(16)


def archive_context(deputy: Deputy, year: int, page: int) -> dict:
    """Everything the archive shows, in a fixed number of queries whatever the deputy's history."""
    standing = scoring.deputy_standing(year, deputy)
    archive = scoring.archive(deputy, year, standing)
    total = sum(t["verified"] + t["pending"] + t["returned"] for t in archive.by_type)
    pages = max(1, ceil(total / ACTIVITIES_PER_PAGE))
    if page > pages:
        abort(404)
    items = db.session.scalars(services.deputy_activities(deputy.id, year)
                               .limit(ACTIVITIES_PER_PAGE).offset((page - 1) * ACTIVITIES_PER_PAGE)).all()
    return {"deputy": deputy, "year": year, "archive": archive, "standing": standing,
            "leaves": scoring.excused_leaves(deputy.id, year),
            "page": Page(items=list(items), page=page, per_page=ACTIVITIES_PER_PAGE, total=total),
            "years": range(local_today().year, local_today().year - 6, -1)}


def _own_deputy() -> Deputy:
    if current_user.deputy_id is None:
        abort(403)
    return current_user.deputy


# ---- the deputy's own pages -------------------------------------------------------------------------

@bp.get("/me/")
@login_required
def me():
    deputy = _own_deputy()
    context = archive_context(deputy, _year_arg(), page_number())
    return render_page("duties/me.html", "duties/_archive.html", own=True, **context)


@bp.route("/me/activities/new", methods=["GET", "POST"])
@login_required
def activity_new():
    deputy = _own_deputy()
    form = ActivityForm()
    if request.method == "GET":
        form.occurred_on.data = local_today()
    _new_nonce(form)
    posted = request.method == "POST"
    chosen = _files(form) if posted else []
    token = form.kept.data if posted else None

    def log(f):
        files = provisional.take(token, current_user.id) + chosen
        activity = services.log_activity(deputy, f.values(), _user(), nonce=f.nonce.data, files=files)
        after_commit(lambda: provisional.discard(token))
        return activity

    def render(status):
        # Refused: the acceptable files are kept (a browser never re-fills a file input); the others named.
        keepable, dropped = _keepable(chosen, len(provisional.names(token, current_user.id)))
        form.kept.data = provisional.keep(keepable, current_user.id, token) if posted else None
        return render_template("duties/activity_form.html", form=form, activity=None, dropped=dropped,
                               kept=provisional.names(form.kept.data, current_user.id)), status

    return run_form(
        form, log, success=_("已提交，等待联络员或代表工委核实。"),
        # The archive of the year it counts in: in early January that is often last year.
        redirect_to=lambda activity: url_for("duties.me", year=activity.year), render=render, field="title")


def _chosen_names(form) -> list[str]:
    """The files chosen for a refused edit: a browser never re-fills a file input, so the page says
    plainly which ones must be chosen again (nothing was stored)."""
    return [f.filename for f in (form.files.data or []) if f and f.filename]


def _keepable(files: list[tuple[str, bytes]], already: int) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The chosen files that may be kept for the next submit, and the names of those that may not (a
    wrong type, too large, beyond the number allowed): those the page names, to be chosen again."""
    keep, dropped = [], []
    for name, data in files:
        try:
            services.check_attachment(name, data)
        except DomainError:
            dropped.append(name)
            continue
        if already + len(keep) >= services.MAX_ATTACHMENTS:
            dropped.append(name)
        else:
            keep.append((name, data))
    return keep, dropped


def _get_activity(activity_id: int) -> Activity:
    return db.session.scalar(select(Activity).where(Activity.id == activity_id).options(
        joinedload(Activity.deputy), selectinload(Activity.attachments))) or abort(404)


@bp.route("/me/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def activity_edit(activity_id: int):
    activity = _get_activity(activity_id)
    if current_user.deputy_id != activity.deputy_id:
        abort(403)
    form = ActivityForm(obj=activity)
    if request.method == "GET":
        form.duration_hours.data = activity.duration_hours
    if activity.status == "verified":
        flash(_("已核实的活动不能直接修改；如需更正，请联系代表工委登记更正（更正会留痕）。"), "error")
        return redirect(url_for("duties.activity_detail", activity_id=activity.id), 303)
    return run_form(
        form, lambda f: services.resubmit(activity, f.values(), _user(), files=_files(f)),
        success=_("已修改并重新提交，等待核实。"),
        redirect_to=lambda _result: url_for("duties.me", year=activity.year),
        render=lambda status: (render_template("duties/activity_form.html", form=form, activity=activity,
                                               dropped=_chosen_names(form)), status),
        field="title")


# ---- one activity ----------------------------------------------------------------------------------

def _may_see(activity: Activity) -> bool:
    return current_user.deputy_id == activity.deputy_id or services.may_manage(_user(), activity.deputy_id)


@bp.get("/duties/activities/<int:activity_id>")
@login_required
def activity_detail(activity_id: int):
    activity = _get_activity(activity_id)
    if not _may_see(activity):
        abort(403)
    can_verify = (activity.status == "pending" and current_user.deputy_id != activity.deputy_id
                  and services.may_manage(_user(), activity.deputy_id))
    return render_template("duties/activity.html", activity=activity, can_verify=can_verify,
                           return_form=ReturnForm(), can_correct=current_user.has_role("staff"))


@bp.get("/duties/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    item = db.session.get(ActivityAttachment, attachment_id) or abort(404)
    if not _may_see(item.activity):
        abort(403)
    from ..core.downloads import download

    response = download(item.data, item.filename, item.content_type, inline=item.content_type.startswith("image/"))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/duties/activities/<int:activity_id>/verify")
@role_required("staff", "liaison")
def activity_verify(activity_id: int):
    activity = _get_activity(activity_id)
    if not services.may_manage(_user(), activity.deputy_id):
        abort(403)
    _result, error = run_action(lambda: services.verify(activity, _user()))
    if error is not None:
        flash(error.message, "error")
        return redirect(url_for("duties.activity_detail", activity_id=activity_id), 303)
    flash(_("已核实通过：%(t)s", t=activity.title), "success")
    return redirect(request.form.get("next") == "queue" and url_for("duties.queue")
                    or url_for("duties.activity_detail", activity_id=activity_id), 303)


@bp.post("/duties/activities/<int:activity_id>/return")
@role_required("staff", "liaison")
def activity_return(activity_id: int):
    activity = _get_activity(activity_id)
    if not services.may_manage(_user(), activity.deputy_id):
        abort(403)
    form = ReturnForm()
    if not form.validate_on_submit():
        flash(_("退回时请写明原因。"), "error")
        return redirect(url_for("duties.activity_detail", activity_id=activity_id), 303)
    _result, error = run_action(lambda: services.return_activity(activity, _user(), form.reason.data))
    if error is not None:
        flash(error.message, "error")
        return redirect(url_for("duties.activity_detail", activity_id=activity_id), 303)
    flash(_("已退回，代表修改后可重新提交。"), "success")
    return redirect(url_for("duties.queue"), 303)


@bp.route("/duties/activities/<int:activity_id>/correct", methods=["GET", "POST"])
@role_required("staff")
def activity_correct(activity_id: int):
    activity = _get_activity(activity_id)
    if activity.status != "verified":
        flash(_("只有已核实的活动需要登记更正；待核实的活动请退回由代表修改。"), "error")
        return redirect(url_for("duties.activity_detail", activity_id=activity_id), 303)
    form = CorrectionForm(obj=activity)
    if request.method == "GET":
        form.duration_hours.data = activity.duration_hours
    return run_form(
        form, lambda f: services.correct(activity, f.values(), _user(), f.reason.data),
        success=_("更正已登记并留痕。"),
        redirect_to=url_for("duties.activity_detail", activity_id=activity_id),
        render=lambda status: (render_template("duties/correct.html", form=form, activity=activity), status),
        field="reason")


# ---- verification queue and bulk logging ----------------------------------------------------------

@bp.get("/duties/verify")
@role_required("staff", "liaison")
def queue():
    stmt = services.pending_queue(_user()).options(joinedload(Activity.deputy))
    page = paginate(stmt, page_number(), per_page=30)
    return render_page("duties/queue.html", "duties/_queue_rows.html", page=page, return_form=ReturnForm())


def _group_choices(user) -> list[DeputyGroup]:
    stmt = select(DeputyGroup).order_by(DeputyGroup.name).limit(200)
    if not user.has_role("staff"):
        stmt = stmt.where(DeputyGroup.liaison_user_id == user.id)
    return db.session.scalars(stmt).all()


@bp.route("/duties/batch", methods=["GET", "POST"])
@role_required("staff", "liaison")
def batch():
    user = _user()
    form = ActivityForm()
    _new_nonce(form)
    if request.method == "GET":
        form.type_code.data = "inspection"
        form.occurred_on.data = local_today()
    group_id = int_arg("group_id") or parse_positive_int(request.form.get("group_id"))
    members = []
    if group_id:
        group = db.session.get(DeputyGroup, group_id) or abort(404)
        if not user.has_role("staff") and group.liaison_user_id != user.id:
            abort(403)
        members = db.session.scalars(select(Deputy).join(GroupMembership, GroupMembership.deputy_id == Deputy.id)
                                     .where(GroupMembership.group_id == group_id)
                                     .order_by(Deputy.sort_name, Deputy.id)).all()
    q = request.args.get("q", "").strip()
    found = services.search_deputies(q, user) if q else []
    chosen = [int(x) for x in request.form.getlist("deputy_ids") if x.isascii() and x.isdigit() and len(x) < 10]
    context = {"form": form, "groups": _group_choices(user), "group_id": group_id, "members": members, "q": q,
               "found": found, "chosen": set(chosen)}

    def log(f):
        try:
            return services.log_for_many(chosen, f.values(), user, nonce=f.nonce.data)
        except DomainError as exc:
            if exc.field == "deputy_ids":  # the choice of deputies is not a form field: say it on top
                flash(exc.message, "error")
            raise

    return run_form(
        form, log, success=lambda created: _("已为 %(n)d 名代表登记“%(t)s”。", n=len(created), t=form.title.data),
        redirect_to=url_for("duties.batch", group_id=group_id) if group_id else url_for("duties.batch"),
        render=lambda status: (render_template("duties/batch.html", **context), status),
        field="title")


@bp.app_template_filter("duty_points")
def duty_points(value) -> str:
    return scoring.plain(value)


@bp.app_context_processor
def duty_labels():
    return {"ACTIVITY_TYPES": ACTIVITY_TYPES}


from . import cli, evaluation, reports_views  # noqa: E402,F401  (their routes and commands hang on bp)
