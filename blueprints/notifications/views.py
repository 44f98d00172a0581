"""/inbox/: every signed-in user's messages, their channels and contacts; staff set the defaults."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..core.extensions import db
from ..core.flow import run_form
from ..core.htmx import render_page
from ..core.pagination import Page, page_number, paginate
from ..core.permissions import role_required
from ..core.timeutil import local_today
from . import services
from .forms import ContactForm
from .models import CHANNEL_LABELS, CHANNELS, InboxItem, NotificationContact, NotificationPreference
from .reminders import case_link

bp = Blueprint("notifications", __name__, url_prefix="/inbox", cli_group=None)


def _safe_link(link: str | None) -> str | None:
    """Only links inside the site are followed (they are written by the areas, but be sure)."""
    return link if link and link.startswith("/") and not link.startswith("//") else None


@bp.get("/")
@login_required
def inbox():
    unread_only = request.args.get("unread") == "1"
    query = select(InboxItem).where(InboxItem.user_id == current_user.id)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    page = paginate(query.order_by(InboxItem.created_at.desc(), InboxItem.id.desc()), page_number(), per_page=20)
    return render_page("notifications/inbox.html", "notifications/_items.html", page=page,
                       unread_only=unread_only, unread=services.unread_count(current_user.id),
                       kinds=services.KINDS, safe_link=_safe_link)


@bp.get("/count")
@login_required
def count():
    """The header's link with the unread count (fetched by HTMX after the page has loaded)."""
    return render_template("notifications/_count.html", unread=services.unread_count(current_user.id))


@bp.post("/<int:item_id>/read")
@login_required
def read(item_id: int):
    item = services.mark_read(current_user.id, item_id)  # someone else's message: 404
    if request.form.get("open") == "1" and _safe_link(item.link):
        return redirect(item.link, 303)
    return redirect(request.form.get("back") if _safe_link(request.form.get("back")) else url_for(".inbox"), 303)


@bp.post("/read-all")
@login_required
def read_all():
    return run_form(None, lambda _f: services.mark_all_read(current_user.id),
                    success=lambda n: _("已将 %(n)d 条消息标为已读。", n=n), redirect_to=url_for(".inbox"),
                    render=lambda status: redirect(url_for(".inbox"), 303))


def _choices(user_id: int | None):
    """{(kind, channel): enabled} as the user (or, for None, everyone by default) gets them."""
    if user_id is not None:
        return {(k, c): c in services.wanted_channels(user_id, k) for k in services.KINDS for c in CHANNELS}
    rows = {(r.kind, r.channel): r.enabled for r in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.is_(None)))}
    return {(k, c): rows.get((k, c), c in kind.channels) for k, kind in services.KINDS.items() for c in CHANNELS}


def _save_choices(user_id: int | None, current: dict) -> None:
    for (kind, channel), enabled in current.items():
        wanted = request.form.get(f"pref-{kind}-{channel}") == "1"
        if wanted != enabled:
            services.set_preference(user_id, kind, channel, wanted)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    contact = db.session.get(NotificationContact, current_user.id)
    email, mobile, digest = services.contact_of(current_user)
    form = ContactForm(obj=contact) if request.method == "POST" else ContactForm(
        data={"email": email, "mobile": mobile, "email_digest": digest})
    choices = _choices(current_user.id)

    def save(f):
        from ..core.transaction import transaction

        with transaction():
            services.set_contact(current_user.id, email=f.email.data, mobile=f.mobile.data,
                                 email_digest=f.email_digest.data)
            _save_choices(current_user.id, choices)

    def render(status):
        return render_template("notifications/settings.html", form=form, choices=choices, kinds=services.KINDS,
                               CHANNELS=CHANNELS, CHANNEL_LABELS=CHANNEL_LABELS, staff_defaults=False), status

    return run_form(form, save, success=_("消息设置已保存。"), redirect_to=url_for(".settings"), render=render,
                    field="email")


@bp.route("/defaults", methods=["GET", "POST"])
@role_required("staff")
def defaults():
    choices = _choices(None)

    def render(status):
        return render_template("notifications/settings.html", form=None, choices=choices, kinds=services.KINDS,
                               CHANNELS=CHANNELS, CHANNEL_LABELS=CHANNEL_LABELS, staff_defaults=True), status

    if request.method == "GET":
        return render(200)
    return run_form(None, lambda _f: _save_choices(None, choices), success=_("默认消息设置已保存。"),
                    redirect_to=url_for(".defaults"), render=render)


# ---- 催办 and the supervision list ----------------------------------------------------------------

def _may_supervise(user) -> bool:
    return user.has_role("staff", "leader") or (user.role == "deputy" and user.deputy_id is not None)


@bp.get("/supervision")
@login_required
def supervision():
    from .chases import supervision as supervision_query

    if not _may_supervise(current_user):
        abort(403)
    sort = request.args.get("sort", "pressure")
    if sort not in ("pressure", "deadline"):
        abort(404)
    deputy_id = current_user.deputy_id if current_user.role == "deputy" else None
    leader_id = current_user.id if current_user.role == "leader" else None  # the key suggestions they lead
    query = supervision_query(deputy_id=deputy_id, leader_id=leader_id, sort=sort)
    number, per_page = page_number(), 30
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if number > max(1, -(-total // per_page)):
        abort(404)
    rows = db.session.execute(query.limit(per_page).offset((number - 1) * per_page)).all()
    page = Page(items=rows, page=number, per_page=per_page, total=total)
    return render_template("notifications/supervision.html", page=page, sort=sort, today=local_today(),
                           case_link=case_link)


@bp.post("/supervision/<int:case_id>/chase")
@login_required
def chase(case_id: int):
    from .chases import chase as chase_case

    sort = request.form.get("sort") if request.form.get("sort") in ("pressure", "deadline") else "pressure"
    return run_form(None, lambda _f: chase_case(case_id, by=current_user, note=request.form.get("note")),
                    success=_("已催办，承办单位将收到通知。"), redirect_to=url_for(".supervision", sort=sort),
                    render=lambda status: (redirect(url_for(".supervision", sort=sort), 303)))
