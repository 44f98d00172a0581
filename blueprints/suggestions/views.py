"""Suggestion pages. Public: the register of each session, a suggestion's published page, statistics.
Signed in: one work page per suggestion showing what the user may read, with the actions their role
allows (each action a POST to its own URL); the deputy's, the unit's and the office's lists are in
lists_views.py."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from ..core.confirm import confirm_page, htmx_navigate
from ..core.extensions import db
from ..core.flow import run_form
from ..core.htmx import is_htmx, render_page
from ..core.models import User
from ..core.pagination import int_arg, page_number, paginate
from ..core.permissions import role_required
from ..core.versioning import check_version
from . import handling, services, stats
from .forms import (
    AssignForm,
    CompleteForm,
    ContactForm,
    DecideExtensionForm,
    DeclineForm,
    ExtensionForm,
    InviteForm,
    KeyForm,
    RateForm,
    ReasonForm,
    RegisterForm,
    ReplyForm,
    ReviewForm,
    SuggestionForm,
)
from .models import (
    PUBLIC_STATUSES,
    REPLY_CLASSES,
    STATUSES,
    CongressSession,
    Suggestion,
    SuggestionAnswer,
    SuggestionCosigner,
)

bp = Blueprint("suggestions", __name__)


def _session_or_404(session_id: int) -> CongressSession:
    return db.session.get(CongressSession, session_id) or abort(404)


def _units():
    from ..registry.models import HandlingUnit

    return db.session.scalars(select(HandlingUnit).where(HandlingUnit.active).order_by(HandlingUnit.name)).all()


def list_page(full: str, partial: str, stmt, per_page: int, **context):
    """A list page, or for an HTMX request (the filters) only its rows. A page past the end (a link
    from before the list changed) is refused with 404: an HTMX request gets its rows fragment carrying
    the message, so the swap shows it where the rows were; a page request gets the 404 page."""
    try:
        page = paginate(stmt, page_number(), per_page=per_page)
    except NotFound:
        if not is_htmx():
            raise
        response = render_page(full, partial, page=None, refusal=_("没有这一页：列表已经变化，请回到第一页。"),
                               **context)
        response.status_code = 404
        return response
    return render_page(full, partial, page=page, refusal=None, **context)


# ---- public ----------------------------------------------------------------------------------

@bp.get("/suggestions/")
def index():
    counts = dict(db.session.execute(
        select(Suggestion.session_id, func.count()).where(Suggestion.status.in_(PUBLIC_STATUSES))
        .group_by(Suggestion.session_id)).all())
    return render_template("suggestions/index.html", sessions=services.all_sessions(), counts=counts)


@bp.get("/suggestions/sessions/<int:session_id>/")
def register(session_id: int):
    session = _session_or_404(session_id)
    q = request.args.get("q", "").strip()[:64]
    unit_id = int_arg("unit_id")
    reply_class = request.args.get("reply_class", "")
    status = request.args.get("status", "")
    stmt = stats.register_query(session.id, q=q or None, unit_id=unit_id, reply_class=reply_class or None,
                                status=status or None)
    filters = {"q": q, "unit_id": unit_id or "", "reply_class": reply_class if reply_class in REPLY_CLASSES else "",
               "status": status if status in PUBLIC_STATUSES else ""}
    return list_page("suggestions/register.html", "suggestions/_register_rows.html", stmt, 50, session=session,
                     filters=filters, units=_units(), REPLY_CLASSES=REPLY_CLASSES, STATUSES=STATUSES,
                     PUBLIC_STATUSES=PUBLIC_STATUSES, session_id=session.id,
                     years_raised=supervision_views.supervision.years_raised)


@bp.get("/suggestions/<int:suggestion_id>")
def public_detail(suggestion_id: int):
    item = db.session.scalar(
        select(Suggestion).where(Suggestion.id == suggestion_id, Suggestion.status.in_(PUBLIC_STATUSES))
        .options(selectinload(Suggestion.cosigners).selectinload(SuggestionCosigner.deputy),
                 selectinload(Suggestion.answers).selectinload(SuggestionAnswer.unit)))
    if item is None:
        abort(404)  # drafts and suggestions under pre-review are not public
    return render_template("suggestions/public_detail.html", item=item)


@bp.get("/suggestions/sessions/<int:session_id>/stats")
def statistics(session_id: int):
    session = _session_or_404(session_id)
    totals = stats.session_totals(session.id)
    units = stats.unit_rows(session.id)
    return render_template("suggestions/stats.html", session=session, totals=totals, units=units,
                           charts=stats.charts(totals, units), percent=stats.percent,
                           key_required=services.key_required(totals["total"]))


@bp.get("/suggestions/units/<int:unit_id>/stats")
def unit_statistics(unit_id: int):
    from ..registry.models import HandlingUnit

    unit = db.session.get(HandlingUnit, unit_id) or abort(404)
    return render_template("suggestions/unit_stats.html", unit=unit, rows=stats.unit_session_rows(unit.id),
                           percent=stats.percent)


@bp.get("/manage/suggestions/export.xlsx")
@role_required("staff")
def export():
    session_id = int_arg("session_id")
    data = stats.export_register([session_id] if session_id else None)
    from ..core.downloads import XLSX, download

    return download(data, "代表建议办理台账.xlsx", XLSX)


# ---- drafting --------------------------------------------------------------------------------

def _fill_sessions(form, item: Suggestion | None = None):
    sessions = services.accepting_sessions()
    if item is not None and item.session not in sessions:
        sessions = [item.session, *sessions]
    form.session_id.choices = [(s.id, s.name) for s in sessions]


def _values(form) -> dict:
    return {"title": form.title.data, "grounds": form.grounds.data, "proposal": form.proposal.data,
            "category": form.category.data}


def _form_page(form, item: Suggestion | None):
    return lambda status: (render_template("suggestions/form.html", form=form, item=item), status)


@bp.route("/my/suggestions/new", methods=["GET", "POST"])
@role_required("deputy")
def new():
    form = SuggestionForm()
    _fill_sessions(form)
    return run_form(
        form, lambda f: services.create_draft(_values(f), by=current_user._get_current_object(),
                                              session=db.session.get(CongressSession, f.session_id.data or 0)),
        success=_("草稿已保存。提交前只有您和受邀附议的代表能看到。"),
        redirect_to=lambda item: url_for("suggestions.work", suggestion_id=item.id),
        render=_form_page(form, None), field="title")


@bp.route("/my/suggestions/<int:suggestion_id>/edit", methods=["GET", "POST"])
@role_required("deputy")
def edit(suggestion_id: int):
    item = _get(suggestion_id)
    if not services.is_lead(current_user, item):
        abort(403)
    form = SuggestionForm(obj=item)
    _fill_sessions(form, item)

    def action(f):
        user = current_user._get_current_object()
        check_version(item, f.row_version.data)
        if item.status == "returned":
            return services.revise(item, _values(f), f.note.data, by=user)
        return services.update_draft(item, _values(f), by=user,
                                     session=db.session.get(CongressSession, f.session_id.data or 0))

    return run_form(form, action, success=_("已保存。"),
                    redirect_to=url_for("suggestions.work", suggestion_id=suggestion_id),
                    render=_form_page(form, item), field="title")


# ---- the work page and its actions -----------------------------------------------------------

def _get(suggestion_id: int) -> Suggestion:
    item = db.session.scalar(
        select(Suggestion).where(Suggestion.id == suggestion_id)
        .options(selectinload(Suggestion.cosigners).selectinload(SuggestionCosigner.deputy),
                 selectinload(Suggestion.reviews), selectinload(Suggestion.revisions),
                 selectinload(Suggestion.answers), selectinload(Suggestion.contacts),
                 selectinload(Suggestion.carry_overs)))
    if item is None:
        abort(404)
    return item


FORMS = {
    "invite": InviteForm, "review": ReviewForm, "register": RegisterForm, "assign": AssignForm,
    "contact": ContactForm, "extension": ExtensionForm, "decide": DecideExtensionForm, "decline": DeclineForm,
    "reply": ReplyForm, "rate": RateForm, "key": KeyForm, "withhold": ReasonForm, "complete": CompleteForm,
}


def _forms(item: Suggestion, posted: dict | None = None) -> dict:
    forms = {}
    for name, cls in FORMS.items():
        if posted and name in posted:
            forms[name] = posted[name]
            continue
        data = {}
        if name == "register":
            data = {"category": item.category}
        elif name == "assign":
            data = {"deadline": handling.default_deadline()}
        elif name == "key":
            data = {"key_leader": item.key_leader_id or 0}
        forms[name] = cls(prefix=name, formdata=None, data=data)
    units = [(0, _("（请选择）"))] + [(u.id, u.name) for u in _units()]
    forms["assign"].unit_id.choices = units
    forms["assign"].assisting.choices = units[1:]
    supervision_views.fill_choices(item, forms)
    return forms


def _context(item: Suggestion) -> dict:
    user = current_user
    unit_id = user.unit_id if user.role == "unit" else None
    mine = handling.unit_assignments(item, unit_id) if unit_id else []
    pending = [a for a in mine if a.state == "pending"]
    cosign = next((c for c in item.cosigners if user.deputy_id and c.deputy_id == user.deputy_id), None)
    case = item.case
    return {
        "is_lead": services.is_lead(user, item),
        "is_staff": services.is_staff(user),
        "show_reply": services.can_read_reply(user, item),
        "can_review": item.status == "submitted" and services.can_review(user, item),
        "cosign": cosign,
        "unit_pending": pending[0] if pending else None,
        "unit_has": bool(mine),
        "case": case,
        "assignments": case.assignments if case else [],
        "steps": case.steps if case else [],
        "extension": case.main_assignment if case and case.main_assignment
        and case.main_assignment.extension_until else None,
        "key_required": services.key_required(services.key_counts(item.session)[0]) if item.number else 0,
        **supervision_views.context(item),
    }


def _work_page(item: Suggestion, posted: dict | None = None, status: int = 200):
    from .similar import similar  # the drafting hint, shown without JavaScript too (issue 19 §5)

    hint = similar(item.title, session_id=item.session_id) if item.status == "draft" and \
        services.is_lead(current_user, item) else []
    return render_template("suggestions/work.html", item=item, forms=_forms(item, posted), similar=hint,
                           **_context(item)), status


@bp.get("/my/suggestions/similar")
@role_required("deputy")
def similar_hint():
    """HTMX: the similar-suggestions hint for the 案由 being typed."""
    from .similar import similar

    session_id = int_arg("session_id")
    return render_template("suggestions/_similar.html",
                           similar=similar(request.args.get("title", "")[:120], session_id=session_id))


@bp.get("/suggestions/<int:suggestion_id>/work")
@login_required
def work(suggestion_id: int):
    item = _get(suggestion_id)
    if not services.can_read(current_user, item):
        abort(403)
    return _work_page(item)


def _act(suggestion_id: int, name: str | None, action, success: str, field: str):
    """Run one action from the work page through ``core.flow.run_form``: validate the named form, run the
    service in one transaction, redirect (303); on invalid input or a refusal show the work page again
    with the message next to the field (422, or 409 when the suggestion's state forbids it). A 403
    refusal answers the error page with its message."""
    item = _get(suggestion_id)
    form = FORMS[name](prefix=name) if name else None
    if name == "assign":
        units = [(0, "")] + [(u.id, u.name) for u in _units()]
        form.unit_id.choices, form.assisting.choices = units, units[1:]
    elif form is not None:
        supervision_views.fill_choices(item, {name: form})
    return run_form(form, lambda f: action(item, f, current_user._get_current_object()), success=success,
                    redirect_to=url_for("suggestions.work", suggestion_id=suggestion_id),
                    render=lambda status: _work_page(_get(suggestion_id), {name: form} if form else None, status),
                    field=field if form is not None else None)


@bp.route("/suggestions/<int:suggestion_id>/submit", methods=["GET", "POST"])
@role_required("deputy")
def submit(suggestion_id: int):
    """GET: the confirmation page (core/confirm.py); POST: submit for pre-review."""
    if request.method == "GET":
        item = _get(suggestion_id)
        return confirm_page(_("提交建议：%(t)s", t=item.title), [
            _("提交后建议进入预审，不能再修改；预审退回后才能修订。"),
            _("已确认附议的代表会随建议一并提交。")],
            url_for("suggestions.submit", suggestion_id=item.id), _("确认提交建议"),
            url_for("suggestions.work", suggestion_id=item.id))
    return htmx_navigate(_act(suggestion_id, None, lambda item, form, by: services.submit(item, by=by),
                              _("建议已提交，等待预审。"), ""))


@bp.post("/suggestions/<int:suggestion_id>/delete")
@role_required("deputy")
def delete(suggestion_id: int):
    item = _get(suggestion_id)
    return run_form(None, lambda f: services.delete_draft(item, by=current_user._get_current_object()),
                    success=_("草稿已删除。"), redirect_to=url_for("suggestions.mine"),
                    render=lambda status: _work_page(_get(suggestion_id), None, status))


@bp.post("/suggestions/<int:suggestion_id>/invite")
@role_required("deputy")
def invite(suggestion_id: int):
    def action(item, form, by):
        if not services.is_lead(by, item):
            raise services.SuggestionForbidden(_("只有领衔代表可以进行此操作。"))
        services.invite_cosigners(item, services.find_deputies(form.deputies.data), by=by)

    return _act(suggestion_id, "invite", action, _("已发出附议邀请。"), "deputies")


@bp.post("/suggestions/<int:suggestion_id>/cosign")
@role_required("deputy")
def cosign(suggestion_id: int):
    accept = request.form.get("answer") == "confirm"
    return _act(suggestion_id, None, lambda item, form, by: services.answer_cosign(item, accept, by=by),
                _("已附议。") if accept else _("已谢绝附议。"), "")


@bp.post("/suggestions/<int:suggestion_id>/review")
@role_required("deputy", "staff")
def review(suggestion_id: int):
    return _act(suggestion_id, "review",
                lambda item, form, by: services.review(item, form.decision.data, form.comment.data, by=by),
                _("预审意见已记录。"), "comment")


@bp.post("/suggestions/<int:suggestion_id>/register")
@role_required("staff")
def register_one(suggestion_id: int):
    return _act(suggestion_id, "register",
                lambda item, form, by: services.register(item, by=by, number=form.number.data,
                                                         category=form.category.data),
                _("已立案编号。"), "number")


def _unit(unit_id):
    from ..registry.models import HandlingUnit

    return db.session.get(HandlingUnit, unit_id) if unit_id else None


@bp.post("/suggestions/<int:suggestion_id>/assign")
@role_required("staff")
def assign(suggestion_id: int):
    def action(item, form, by):
        handling.assign(item, _unit(form.unit_id.data), form.deadline.data, by=by,
                        assisting=[_unit(u) for u in form.assisting.data or [] if _unit(u)], note=form.note.data)

    return _act(suggestion_id, "assign", action, _("已交办。"), "unit_id")


@bp.post("/suggestions/<int:suggestion_id>/contact")
@role_required("unit")
def contact(suggestion_id: int):
    return _act(suggestion_id, "contact",
                lambda item, form, by: handling.add_contact(item, form.stage.data, form.way.data,
                                                            form.contacted_on.data, form.content.data, by=by),
                _("沟通记录已保存。"), "content")


@bp.post("/suggestions/<int:suggestion_id>/extension")
@role_required("unit")
def extension(suggestion_id: int):
    return _act(suggestion_id, "extension",
                lambda item, form, by: handling.request_extension(item, form.until.data, form.reason.data, by=by),
                _("延期申请已提交，等待代表工委审批。"), "until")


@bp.post("/suggestions/<int:suggestion_id>/extension/decide")
@role_required("staff")
def decide(suggestion_id: int):
    return _act(suggestion_id, "decide",
                lambda item, form, by: handling.decide_extension(item, form.approve.data == "yes", by=by,
                                                                 note=form.note.data),
                _("已审批延期申请。"), "note")


@bp.post("/suggestions/<int:suggestion_id>/decline")
@role_required("unit")
def decline(suggestion_id: int):
    return _act(suggestion_id, "decline",
                lambda item, form, by: handling.decline(item, form.reason.data, by=by),
                _("已退回，等待代表工委重新交办。"), "reason")


@bp.post("/suggestions/<int:suggestion_id>/reply")
@role_required("unit")
def reply(suggestion_id: int):
    def action(item, form, by):
        upload = form.letter.data
        letter = (upload.filename or "", upload.read()) if upload and getattr(upload, "filename", "") else None
        handling.reply(item, form.text.data, form.reply_class.data or None, by=by, reasons=form.reasons.data,
                       promised_on=form.promised_on.data, letter=letter)

    return _act(suggestion_id, "reply", action, _("已答复。"), "text")


@bp.post("/suggestions/<int:suggestion_id>/rate")
@role_required("deputy")
def rate(suggestion_id: int):
    return _act(suggestion_id, "rate",
                lambda item, form, by: handling.rate(item, form.rating.data or "", form.note.data, by=by),
                _("感谢您的评价。"), "rating")


@bp.post("/suggestions/<int:suggestion_id>/key")
@role_required("staff")
def key(suggestion_id: int):
    make_key = request.form.get("set") == "1"
    return _act(suggestion_id, "key",
                lambda item, form, by: services.set_key(
                    item, make_key, db.session.get(User, form.key_leader.data or 0) if make_key else None, by=by),
                _("已列为重点督办。") if make_key else _("已取消重点督办。"), "key_leader")


@bp.post("/suggestions/<int:suggestion_id>/withhold")
@role_required("staff")
def withhold(suggestion_id: int):
    hide = request.form.get("set") == "1"
    return _act(suggestion_id, "withhold",
                lambda item, form, by: services.set_withheld(item, hide, form.reason.data, by=by),
                _("答复不再公开。") if hide else _("答复已恢复公开。"), "reason")


@bp.post("/suggestions/<int:suggestion_id>/complete")
@role_required("staff")
def complete(suggestion_id: int):
    return _act(suggestion_id, "complete",
                lambda item, form, by: services.complete(item, form.note.data, by=by),
                _("已确认落实完成。"), "note")


@bp.get("/suggestions/<int:suggestion_id>/answers/<int:answer_id>/letter")
@login_required
def letter(suggestion_id: int, answer_id: int):
    item = _get(suggestion_id)
    answer = db.session.get(SuggestionAnswer, answer_id)
    if answer is None or answer.suggestion_id != item.id or not answer.letter_data:
        abort(404)
    if not services.can_read_reply(current_user, item):
        abort(403)
    from ..core.downloads import download

    return download(answer.letter_data, answer.letter_filename or "letter", answer.letter_content_type)


from . import lists_views, supervision_views  # noqa: E402, F401  (the list pages; 督 and 评, issue 19)
