"""Motion pages: the public register (/motions/, /motions/<id>), the deputies' drafting and 联名
(/my/motions/), the work page with each role's actions, and the staff list (/manage/motions/)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..core.extensions import db
from ..core.flow import run_form
from ..core.pagination import MAX_ID, int_arg, page_number, paginate
from ..core.permissions import role_required
from . import services
from .forms import DecideForm, InviteForm, MotionForm, ReviewForm, SignForm
from .models import DECISIONS, PUBLIC_STATUSES, STATUSES, Motion, MotionSigner

bp = Blueprint("motions", __name__)


def _sessions():
    from ..suggestions.services import accepting_sessions, all_sessions

    return all_sessions, accepting_sessions


def _user():
    return current_user._get_current_object()


def _get(motion_id: int) -> Motion:
    if not 0 < motion_id <= MAX_ID:
        abort(404)
    item = db.session.scalar(select(Motion).where(Motion.id == motion_id).options(
        selectinload(Motion.signers).selectinload(MotionSigner.deputy), selectinload(Motion.review)))
    return item or abort(404)


def _linked_suggestion(item: Motion):
    from ..suggestions.origins import suggestion_for_motion

    return suggestion_for_motion(item.id) if item.status == "converted" else None


# ---- public ----------------------------------------------------------------------------------

@bp.get("/motions/")
def index():
    all_sessions, _accepting = _sessions()
    sessions = all_sessions()
    session_id = int_arg("session_id")
    session = next((s for s in sessions if s.id == session_id), None) or (sessions[0] if sessions else None)
    page = stats = None
    if session is not None:
        stmt = (select(Motion).where(Motion.session_id == session.id, Motion.status.in_(PUBLIC_STATUSES))
                .options(selectinload(Motion.lead_deputy), selectinload(Motion.signers)).order_by(Motion.number))
        page = paginate(stmt, page_number(), per_page=50)
        stats = services.stats(session.id)
    return render_template("motions/index.html", sessions=sessions, session=session, page=page, stats=stats,
                           DECISIONS=DECISIONS)


@bp.get("/motions/<int:motion_id>")
def public_detail(motion_id: int):
    item = _get(motion_id)
    if not item.is_public:
        abort(404)  # drafts are not public
    return render_template("motions/public_detail.html", item=item, suggestion=_linked_suggestion(item))


# ---- deputies --------------------------------------------------------------------------------

@bp.get("/my/motions/")
@role_required("deputy")
def mine():
    deputy_id = current_user.deputy_id or 0
    own = db.session.scalars(select(Motion).where(Motion.lead_deputy_id == deputy_id)
                             .options(selectinload(Motion.signers)).order_by(Motion.id.desc())).all()
    invited = db.session.scalars(select(MotionSigner).join(Motion).where(MotionSigner.deputy_id == deputy_id)
                                 .options(selectinload(MotionSigner.motion)).order_by(MotionSigner.id.desc())).all()
    return render_template("motions/mine.html", own=own, invited=invited, needed=services.min_signers())


def _form_page(form, item):
    return lambda status: (render_template("motions/form.html", form=form, item=item,
                                           needed=services.min_signers()), status)


def _fill(form, item=None):
    _all, accepting = _sessions()
    sessions = accepting()
    if item is not None and item.session not in sessions:
        sessions = [item.session, *sessions]
    form.session_id.choices = [(s.id, s.name) for s in sessions]


def _values(form) -> dict:
    return {"title": form.title.data, "grounds": form.grounds.data, "proposal": form.proposal.data}


@bp.route("/my/motions/new", methods=["GET", "POST"])
@role_required("deputy")
def new():
    from ..suggestions.models import CongressSession

    form = MotionForm()
    _fill(form)
    return run_form(form, lambda f: services.create_draft(
        _values(f), by=_user(), session=db.session.get(CongressSession, f.session_id.data or 0),
        delegation=f.delegation.data), success=_("议案草稿已保存，请邀请代表联名后提交。"),
        redirect_to=lambda item: url_for("motions.work", motion_id=item.id), render=_form_page(form, None),
        field="title")


@bp.route("/my/motions/<int:motion_id>/edit", methods=["GET", "POST"])
@role_required("deputy")
def edit(motion_id: int):
    item = _get(motion_id)
    if current_user.deputy_id != item.lead_deputy_id:
        abort(403)
    form = MotionForm(obj=item)
    _fill(form, item)
    return run_form(form, lambda f: services.update_draft(item, _values(f), by=_user(), delegation=f.delegation.data),
                    success=_("已保存。"), redirect_to=url_for("motions.work", motion_id=motion_id),
                    render=_form_page(form, item), field="title")


# ---- the work page ---------------------------------------------------------------------------

FORMS = {"invite": InviteForm, "sign": SignForm, "review": ReviewForm, "decide": DecideForm}


def _work_page(item: Motion, posted: dict | None = None, status: int = 200):
    forms = {name: (posted or {}).get(name) or cls(prefix=name, formdata=None) for name, cls in FORMS.items()}
    deputy_id = current_user.deputy_id
    return render_template(
        "motions/work.html", item=item, forms=forms, is_lead=bool(deputy_id) and deputy_id == item.lead_deputy_id,
        is_staff=services.is_staff(current_user), needed=services.min_signers(),
        my_invitation=next((s for s in item.signers if deputy_id and s.deputy_id == deputy_id), None),
        suggestion=_linked_suggestion(item)), status


@bp.get("/motions/<int:motion_id>/work")
@login_required
def work(motion_id: int):
    item = _get(motion_id)
    if not (services.is_staff(current_user) or services.can_read(current_user, item)):
        abort(403)
    return _work_page(item)


def _act(motion_id: int, name: str | None, action, success: str, field: str | None):
    item = _get(motion_id)
    form = FORMS[name](prefix=name) if name else None
    return run_form(form, lambda f: action(item, f, _user()), success=success,
                    redirect_to=url_for("motions.work", motion_id=motion_id),
                    render=lambda status: _work_page(_get(motion_id), {name: form} if form else None, status),
                    field=field if form is not None else None)


@bp.post("/motions/<int:motion_id>/invite")
@role_required("deputy")
def invite(motion_id: int):
    from ..suggestions.services import find_deputies

    return _act(motion_id, "invite", lambda item, f, by: services.invite_signers(
        item, find_deputies(f.deputies.data), by=by), _("联名邀请已发出。"), "deputies")


@bp.post("/motions/<int:motion_id>/sign")
@role_required("deputy")
def sign(motion_id: int):
    return _act(motion_id, "sign", lambda item, f, by: services.answer_invitation(item, f.accept.data == "1", by=by),
                _("已答复联名邀请。"), "accept")


@bp.post("/motions/<int:motion_id>/submit")
@role_required("deputy")
def submit(motion_id: int):
    return _act(motion_id, None, lambda item, f, by: services.submit(item, by=by), _("议案已提交，等待审查。"), None)


@bp.post("/motions/<int:motion_id>/review")
@role_required("staff")
def review(motion_id: int):
    return _act(motion_id, "review", lambda item, f, by: services.review(
        item, f.body.data, f.decision.data, f.reasons.data, f.reviewed_on.data, by=by), _("审查结果已记录。"),
        "decision")


@bp.post("/motions/<int:motion_id>/decide")
@role_required("staff")
def decide(motion_id: int):
    return _act(motion_id, "decide", lambda item, f, by: services.decide(
        item, f.decision.data, f.decided_on.data, f.note.data, by=by), _("审议结果已记录。"), "decision")


# ---- staff -----------------------------------------------------------------------------------

@bp.get("/manage/motions/")
@role_required("staff")
def manage():
    status = request.args.get("status", "")
    stmt = select(Motion).where(Motion.status != "draft").options(selectinload(Motion.lead_deputy),
                                                                  selectinload(Motion.signers))
    if status in STATUSES and status != "draft":
        stmt = stmt.where(Motion.status == status)
    page = paginate(stmt.order_by(Motion.id.desc()), page_number(), per_page=50)
    counts = dict(db.session.execute(select(Motion.status, func.count()).group_by(Motion.status)).all())
    return render_template("motions/manage.html", page=page, status=status, STATUSES=STATUSES, counts=counts)
