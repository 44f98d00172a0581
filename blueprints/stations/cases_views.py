"""Case pages for staff, liaisons, units and deputies: the list (overdue ones stand out) and one case
with the actions the user's role allows. Every rule is in blueprints/core/cases.py."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core import cases
from ..core.cases import Case, CaseAssignment
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.flow import run_form
from ..core.htmx import render_page
from ..core.pagination import MAX_ID, page_number, paginate
from ..core.permissions import role_required
from ..core.timeutil import local_today
from ..registry.models import HandlingUnit
from . import drive, services
from .forms import (
    AssignForm,
    CloseForm,
    DecideExtensionForm,
    DeclineForm,
    DeputyCaseForm,
    ExtensionForm,
    MergeForm,
    RateForm,
    ReplyForm,
    SendForm,
    SortForm,
)
from .models import CATEGORIES

bp = Blueprint("cases", __name__, url_prefix="/cases")
ROLES = ("staff", "liaison", "unit", "deputy")


def _user():
    return current_user._get_current_object()


def visible_cases():
    """The cases the current user may see: staff all, a liaison their station's, a unit those ever
    assigned to it, a deputy those they raised. Suggestions also run on the case workflow but are
    handled on their own pages (A/B/C answers, 三沟通), so they are not listed or acted on here."""
    stmt = select(Case).where(Case.source != "suggestion")
    user = current_user
    if user.has_role("staff"):
        return stmt
    if user.role == "liaison" and user.station_id:
        return stmt.where(Case.station_id == user.station_id)
    if user.role == "unit" and user.unit_id:
        return stmt.where(Case.id.in_(select(CaseAssignment.case_id).where(CaseAssignment.unit_id == user.unit_id)))
    if user.role == "deputy" and user.deputy_id:
        return stmt.where(Case.deputy_id == user.deputy_id)
    return stmt.where(False)


def _case(case_id: int) -> Case:
    if not 0 < case_id <= MAX_ID:
        abort(404)
    case = db.session.scalar(visible_cases().where(Case.id == case_id).options(
        selectinload(Case.assignments).joinedload(CaseAssignment.unit), selectinload(Case.steps),
        selectinload(Case.ratings), joinedload(Case.station)))
    if case is None:
        # Someone else's case is a 403 when it exists (a unit it was never assigned to): no guessing game
        # for logged-in staff accounts, whose ids are sequential anyway.
        abort(403 if db.session.get(Case, case_id) else 404)
    return case


def _filter_due7(user):
    return services.due_within().where(CaseAssignment.unit_id == user.unit_id) if user.role == "unit" \
        else services.due_within()


WORKSPACE_FILTERS = {
    "due7": _filter_due7,
    "extension": lambda user: select(CaseAssignment.case_id).where(CaseAssignment.extension_until.is_not(None)),
    "extension_decided": lambda user: services.recent_decisions(user.unit_id if user.role == "unit" else None),
}


@bp.get("/")
@role_required(*ROLES)
def index():
    status = request.args.get("status", "")
    stmt = visible_cases().options(joinedload(Case.station), selectinload(Case.assignments)
                                   .joinedload(CaseAssignment.unit))
    if status == "overdue":
        overdue_ids = cases.overdue_query().with_only_columns(Case.id).order_by(None)
        stmt = stmt.where(Case.id.in_(overdue_ids))
    elif status in WORKSPACE_FILTERS:  # the workspace counts' lists (stations/services.py)
        stmt = stmt.where(Case.id.in_(WORKSPACE_FILTERS[status](current_user)))
    elif status in cases.STATUSES:
        stmt = stmt.where(Case.status == status)
    elif current_user.role == "unit" and not status:
        # a unit's to-do list first: its pending assignments
        stmt = stmt.where(Case.id.in_(select(CaseAssignment.case_id).where(
            CaseAssignment.unit_id == current_user.unit_id, CaseAssignment.state == "pending")))
    page = paginate(stmt.order_by(Case.id.desc()), page_number(), per_page=30)
    return render_page("stations/cases.html", "stations/_case_rows.html", page=page, status=status,
                       STATUSES=cases.STATUSES, CATEGORIES=CATEGORIES, today=local_today())


@bp.route("/new", methods=["GET", "POST"])
@role_required("deputy")
def new():
    """社情民意: a deputy passes on what constituents told them; it enters the same loop."""
    form = DeputyCaseForm()

    def raise_case(f):
        return drive.file_public_opinion(_user(), f.category.data, f.title.data, f.body.data)

    return run_form(form, raise_case, success=_("已提交，工作人员将梳理交办。"),
                    redirect_to=lambda case: url_for("cases.detail", case_id=case.id),
                    render=lambda status: (render_template("stations/case_new.html", form=form), status),
                    field="body")


def _forms(case: Case) -> dict:
    units = db.session.scalars(select(HandlingUnit).where(HandlingUnit.active).order_by(HandlingUnit.name)).all()
    assign = AssignForm(prefix="assign")
    assign.unit_id.choices = [(0, _("请选择"))] + [(u.id, u.name) for u in units]
    assign.assisting.choices = [(u.id, u.name) for u in units]
    main = case.main_assignment
    return {
        "sort": SortForm(prefix="sort", data={"category": case.category, "title": case.title}),
        "assign": assign, "reply": ReplyForm(prefix="reply"), "decline": DeclineForm(prefix="decline"),
        "extension": ExtensionForm(prefix="extension"), "decide": DecideExtensionForm(prefix="decide"),
        "send": SendForm(prefix="send", data={"text": case.answer or (main.reply if main else "")}),
        "merge": MergeForm(prefix="merge"), "close": CloseForm(prefix="close"), "rate": RateForm(prefix="rate"),
    }


def _render(case: Case, forms: dict | None = None, status: int = 200):
    forms = forms or _forms(case)
    user = current_user
    my_assignment = next((a for a in case.assignments if user.role == "unit" and a.unit_id == user.unit_id
                          and a.round == case.round and a.state == "pending"), None)
    from ..suggestions.origins import suggestion_for_case

    return render_template("stations/case.html", case=case, forms=forms, can_manage=cases.can_manage(user, case),
                           suggestion=suggestion_for_case(case.id) if case.deputy_id else None,
                           can_convert=case.deputy_id is not None and (
                               user.has_role("staff") or (user.role == "deputy" and case.deputy_id == user.deputy_id)),
                           my_assignment=my_assignment, CATEGORIES=CATEGORIES, today=local_today(),
                           can_rate_as_deputy=user.role == "deputy" and case.deputy_id == user.deputy_id), status


@bp.get("/<int:case_id>")
@role_required(*ROLES)
def detail(case_id: int):
    return _render(_case(case_id))


def _act(case_id: int, name: str, action, field: str):
    """The named form through core.flow.run_form: the service in one transaction, then its message and a
    redirect; or the case again with the refusal next to ``field`` and flashed (also when the form is no
    longer shown in the case's new state), with the refusal's status: 422 invalid, 409 the case's state
    forbids it; a Forbidden refusal (403) goes to the site-wide error page."""
    case = _case(case_id)
    forms = _forms(case)
    return run_form(forms[name], lambda form: action(case, form), success=lambda message: message,
                    redirect_to=url_for("cases.detail", case_id=case_id),
                    render=lambda status: _render(case, forms, status), field=field, flash_refusal=True)


@bp.post("/<int:case_id>/sort")
@role_required("staff", "liaison")
def sort(case_id: int):
    return _act(case_id, "sort", lambda c, f: cases.sort_case(c, by=_user(), category=f.category.data,
                                                              title=f.title.data) and _("已保存。"), "category")


@bp.post("/<int:case_id>/assign")
@role_required("staff", "liaison")
def assign(case_id: int):
    def run(case, form):
        unit = db.session.get(HandlingUnit, form.unit_id.data) if form.unit_id.data else None
        assisting = [db.session.get(HandlingUnit, i) for i in form.assisting.data or []]
        cases.assign_case(case, unit, form.deadline.data, by=_user(), assisting=assisting, note=form.note.data)
        return _("已交办。")
    return _act(case_id, "assign", run, "unit_id")


@bp.post("/<int:case_id>/reply")
@role_required("unit")
def reply(case_id: int):
    return _act(case_id, "reply", lambda c, f: cases.reply_case(c, f.text.data, by=_user(),
                                                                reply_class=f.reply_class.data or None)
                and _("答复已提交。"), "text")


@bp.post("/<int:case_id>/decline")
@role_required("unit")
def decline(case_id: int):
    return _act(case_id, "decline", lambda c, f: cases.decline_case(c, f.reason.data, by=_user())
                and _("已退回，等待重新交办。"), "reason")


@bp.post("/<int:case_id>/extension")
@role_required("unit")
def extension(case_id: int):
    return _act(case_id, "extension", lambda c, f: cases.request_extension(c, f.until.data, f.reason.data,
                                                                           by=_user())
                and _("延期申请已提交。"), "until")


@bp.post("/<int:case_id>/extension/decide")
@role_required("staff", "liaison")
def decide(case_id: int):
    return _act(case_id, "decide", lambda c, f: cases.decide_extension(c, f.approve.data == "1", by=_user(),
                                                                       note=f.note.data)
                and _("已审批。"), "approve")


@bp.post("/<int:case_id>/send")
@role_required("staff", "liaison")
def send(case_id: int):
    return _act(case_id, "send", lambda c, f: cases.send_answer(c, by=_user(), text=f.text.data)
                and _("答复已反馈给群众。"), "text")


@bp.post("/<int:case_id>/merge")
@role_required("staff", "liaison")
def merge(case_id: int):
    def run(case, form):
        into = db.session.get(Case, form.into.data) if form.into.data else None
        if into is None:
            raise DomainError(_("请填写要并入的件号。"), field="into")
        cases.merge_cases(case, into, by=_user())
        return _("已合并。")
    return _act(case_id, "merge", run, "into")


@bp.post("/<int:case_id>/close")
@role_required("staff", "liaison")
def close(case_id: int):
    return _act(case_id, "close", lambda c, f: cases.close_case(c, by=_user(), note=f.note.data) and _("已办结。"),
                "note")


@bp.post("/<int:case_id>/rate")
@role_required("deputy")
def rate(case_id: int):
    return _act(case_id, "rate", lambda c, f: cases.rate_case(c, f.rating.data, by=_user(), rater="deputy",
                                                              note=f.note.data) and _("感谢评价。"), "rating")


@bp.post("/<int:case_id>/to-suggestion")
@role_required("staff", "deputy")
def to_suggestion(case_id: int):
    """Staff, or the deputy who filed it, turn a 社情民意 into a draft suggestion of that deputy (北关)."""
    from ..suggestions.origins import draft_from_case

    case = _case(case_id)

    def run(_form):
        return draft_from_case(case, by=_user())

    def where(item):
        if current_user.role == "deputy":
            return url_for("suggestions.edit", suggestion_id=item.id)
        return url_for("cases.detail", case_id=case_id)

    return run_form(None, run, success=_("已转为代表建议草稿，由代表补充方案后提交。"), redirect_to=where,
                    render=lambda status: _render(_case(case_id), None, status))


# ---- the monthly 社情民意 drive ------------------------------------------------------------------

@bp.app_template_global()
def sqmy_this_month(deputy_id):
    """The deputy's workspace: how many 社情民意 they filed this month."""
    return drive.filed_in_month(deputy_id) if deputy_id else 0


def _drive_filters():
    from ..core.models import Area
    from ..registry.models import LEVEL_LABELS, DeputyGroup

    townships = db.session.scalars(select(Area).where(Area.kind == "township").order_by(Area.name)).all()
    groups = db.session.scalars(select(DeputyGroup).order_by(DeputyGroup.name)).all()
    return {"townships": townships, "groups": groups, "LEVELS": LEVEL_LABELS}


@bp.get("/drive/")
@role_required("staff")
def drive_index():
    """Who has filed no 社情民意 yet this month (or ``?month=YYYY-MM``), by township, group and level."""
    from ..core.pagination import int_arg

    filters = {"month": request.args.get("month", "").strip()[:16], "township_id": int_arg("township_id"),
               "group_id": int_arg("group_id"), "level": request.args.get("level", "")}
    try:
        month = drive.parse_month(filters["month"])
    except DomainError as error:
        return render_template("stations/drive.html", result=None, error=error.message, filters=filters,
                               **_drive_filters()), error.status
    result = drive.missing(month, township_id=filters["township_id"], group_id=filters["group_id"],
                           level=filters["level"] or None)
    filters["month"] = month.strftime("%Y-%m")
    return render_template("stations/drive.html", result=result, error=None, filters=filters, **_drive_filters())


def _stats_args():
    raw = request.args.get("year", "")
    year = int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 4 else local_today().year
    return year, request.args.get("by", "township")


@bp.get("/drive/stats")
@role_required("staff")
def drive_stats():
    year, by = _stats_args()
    try:
        stats = drive.statistics(year, by)
    except DomainError as error:
        abort(error.status, error.message)
    return render_template("stations/drive_stats.html", stats=stats, BY=drive.BY)


@bp.get("/drive/stats.xlsx")
@role_required("staff")
def drive_stats_xlsx():
    from ..core.downloads import XLSX, download

    year, by = _stats_args()
    try:
        stats = drive.statistics(year, by)
    except DomainError as error:
        abort(error.status, error.message)
    return download(drive.statistics_xlsx(stats), f"社情民意统计-{year}-{drive.BY[stats['by']]}.xlsx", XLSX)
