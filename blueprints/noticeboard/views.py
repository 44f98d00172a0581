"""Public noticeboard pages (notices, history, Atom feed, attachments) and the staff pages that
write, schedule, pin and take down notices. The home page is the public site's (blueprints/site)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.audit import ACTION_LABELS
from ..core.downloads import download
from ..core.errors import DomainError, attach_to_form
from ..core.extensions import db
from ..core.flow import run_form
from ..core.htmx import render_page
from ..core.models import Area, AuditEntry
from ..core.pagecache import cached_public_page
from ..core.pagination import count_rows, int_arg, page_number, paginate
from ..core.permissions import role_required
from ..core.publicfacts import remembered
from ..core.timeutil import LOCAL_TZ, utcnow
from ..core.versioning import check_version
from . import services
from .forms import AttachmentForm, NoticeForm
from .markup import plain_summary, render_markdown
from .models import CATEGORIES, STATUS_LABELS, Notice, NoticeAttachment

bp = Blueprint("noticeboard", __name__)


@bp.app_template_filter("markdown")
def markdown_filter(text):
    return render_markdown(text)


@bp.app_template_filter("summary")
def summary_filter(text, limit=120):
    return plain_summary(text, limit)


@remembered
def _townships():
    """(id, name) rows of the townships, for the filter: plain rows, not 100 ORM objects per page."""
    return tuple(db.session.execute(select(Area.id, Area.name).where(Area.kind == "township")
                                    .order_by(Area.name)).all())


@remembered
def _public_total(category: str | None, area_id: int | None, q: str | None) -> int:
    """How many notices the public list shows for these filters (a count of every published notice)."""
    return count_rows(services.public_notices(category, area_id, q))


# ---- public ----------------------------------------------------------------------------------

@bp.get("/notices/")
@cached_public_page
def notices():
    category = request.args.get("category", "")
    if category and category not in CATEGORIES:
        abort(404, description=_("没有这个公示栏目。"))
    area_id = int_arg("area_id")
    q = request.args.get("q", "").strip()[:64]
    filtered = (category or None, area_id, q or None)
    page = paginate(services.public_notices(*filtered), page_number(), per_page=20, total=_public_total(*filtered))
    filters = {"category": category, "area_id": area_id or "", "q": q}
    return render_page("noticeboard/notices.html", "noticeboard/_notice_rows.html", page=page, filters=filters,
                       CATEGORIES=CATEGORIES, townships=_townships())


@bp.get("/notices/<int:notice_id>")
@cached_public_page
def notice(notice_id: int):
    item = services.get_public_notice(notice_id)
    if item is None:
        abort(404)  # drafts, scheduled and taken-down notices do not exist for the public
    return render_template("noticeboard/notice.html", notice=item)


@bp.get("/notices/<int:notice_id>/history")
@cached_public_page
def notice_history(notice_id: int):
    item = services.get_public_notice(notice_id)
    if item is None:
        abort(404)
    return render_template("noticeboard/history.html", notice=item)


def _send_attachment(attachment: NoticeAttachment) -> Response:
    inline = attachment.content_type in ("application/pdf", "image/png", "image/jpeg")
    return download(attachment.data, attachment.filename, attachment.content_type, inline=inline,
                    cache="private, max-age=300")


@bp.get("/notices/<int:notice_id>/files/<int:attachment_id>")
def notice_attachment(notice_id: int, attachment_id: int):
    item = services.get_public_notice(notice_id)
    attachment = db.session.get(NoticeAttachment, attachment_id)
    if item is None or attachment is None or attachment.notice_id != item.id:
        abort(404)
    return _send_attachment(attachment)


@bp.get("/notices/feed.atom")
@cached_public_page
def feed():
    entries = services.feed_notices(50)
    updated = max((n.revised_at or n.publish_at for n in entries), default=utcnow())
    from ..core.qr import public_base

    xml = render_template("noticeboard/feed.atom.xml", entries=entries, updated=updated, base=public_base())
    return Response(xml, mimetype="application/atom+xml")


# ---- staff -----------------------------------------------------------------------------------

def _fill_choices(form):
    from ..registry.models import Station

    form.area_id.choices = [(0, _("（不限）"))] + [(a.id, a.name) for a in _townships()]
    form.station_id.choices = [(0, _("（不限）"))] + [
        (s.id, s.name) for s in db.session.scalars(select(Station).order_by(Station.name))]


def _local_input(value: datetime | None):
    """A datetime-local field value (Asia/Shanghai, naive) for a stored UTC time."""
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None) if value else None


def _to_utc(value: datetime | None):
    return value.replace(tzinfo=LOCAL_TZ) if value else None


def _values(form, notice: Notice | None) -> dict:
    mode = form.mode.data
    if mode == "now":
        publish_at = notice.publish_at if notice and notice.publish_at and notice.publish_at <= utcnow() \
            else utcnow()
    elif mode == "scheduled":
        publish_at = _to_utc(form.publish_at.data)
    else:
        publish_at = None
    return {"category": form.category.data, "title": form.title.data, "body": form.body.data,
            "scope": form.scope.data, "area_id": form.area_id.data or None, "station_id": form.station_id.data or None,
            "pinned": form.pinned.data, "publish_at": publish_at, "take_down_at": _to_utc(form.take_down_at.data)}


def _get_notice(notice_id: int) -> Notice:
    return db.session.get(Notice, notice_id) or abort(404)


@bp.get("/noticeboard/")
@role_required("staff")
def manage():
    status = request.args.get("status", "")
    now = utcnow()
    stmt = select(Notice).options(selectinload(Notice.area), selectinload(Notice.station)) \
        .order_by(Notice.id.desc())
    if status == "draft":
        stmt = stmt.where(Notice.publish_at.is_(None))
    elif status == "scheduled":
        stmt = stmt.where(Notice.publish_at > now)
    elif status == "published":
        stmt = stmt.where(services.public_clause(now))
    elif status == "taken_down":
        stmt = stmt.where(Notice.take_down_at <= now)
    q = request.args.get("q", "").strip()[:64]
    if q:
        stmt = stmt.where(Notice.title.like(f"%{q}%"))
    page = paginate(stmt, page_number(), per_page=30)
    return render_page("noticeboard/manage.html", "noticeboard/_manage_rows.html", page=page,
                       filters={"status": status, "q": q}, STATUS_LABELS=STATUS_LABELS, now=now)


@bp.route("/noticeboard/new", methods=["GET", "POST"])
@bp.route("/noticeboard/<int:notice_id>/edit", methods=["GET", "POST"])
@role_required("staff")
def notice_form(notice_id: int | None = None):
    item = _get_notice(notice_id) if notice_id else None
    data = None
    if item is not None and request.method == "GET":
        status = item.status()
        data = {"area_id": item.area_id or 0, "station_id": item.station_id or 0,
                "mode": {"draft": "draft", "scheduled": "scheduled"}.get(status, "now"),
                "publish_at": _local_input(item.publish_at), "take_down_at": _local_input(item.take_down_at)}
    form = NoticeForm(obj=item, data=data)
    _fill_choices(form)
    # the live preview: htmx posts the body as it is typed (the 预览 button does the same without JS)
    form.body.render_kw = {**(form.body.render_kw or {}), "hx-post": url_for("noticeboard.notice_preview"),
                           "hx-trigger": "input changed delay:500ms", "hx-target": "#notice-preview",
                           "hx-swap": "outerHTML"}
    actor = current_user._get_current_object()
    if request.method == "POST" and request.form.get("preview"):  # 预览 without JavaScript: nothing saved
        return render_template("noticeboard/notice_form.html", form=form, notice=item,
                               preview=render_markdown(form.body.data))

    def save(f):
        if item is None:
            return services.create_notice(_values(f, None), actor)
        check_version(item, f.row_version.data)
        return services.update_notice(item, _values(f, item), actor)

    return run_form(form, save, success=lambda saved: _("公示已保存（%(s)s）。", s=STATUS_LABELS[saved.status()]),
                    redirect_to=lambda saved: url_for("noticeboard.manage_notice", notice_id=saved.id),
                    render=lambda status: (render_template("noticeboard/notice_form.html", form=form, notice=item),
                                           status),
                    field="title")


@bp.post("/noticeboard/preview")
@role_required("staff")
def notice_preview():
    """The editor's live preview (htmx, as the clerk types): the body as the public will read it."""
    body = request.form.get("body", "")[:20000]
    return render_template("noticeboard/_preview.html", preview=render_markdown(body))


@bp.route("/noticeboard/<int:notice_id>", methods=["GET", "POST"])
@role_required("staff")
def manage_notice(notice_id: int):
    item = _get_notice(notice_id)
    upload = AttachmentForm()
    actor = current_user._get_current_object()
    status_code = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "attach":
                if upload.validate_on_submit():
                    file = upload.file.data
                    services.add_attachment(item, file.filename or "", file.read(), actor)
                    flash(_("附件已上传。"), "success")
                    return redirect(url_for("noticeboard.manage_notice", notice_id=item.id))
                status_code = 422
            else:
                if action == "publish":
                    services.publish_now(item, actor)
                    flash(_("已发布。"), "success")
                elif action == "take_down":
                    services.take_down(item, actor, request.form.get("reason"))
                    flash(_("已撤下，公众将看不到这条公示。"), "success")
                elif action in ("pin", "unpin"):
                    services.set_pinned(item, action == "pin", actor)
                    flash(_("已置顶。") if action == "pin" else _("已取消置顶。"), "success")
                elif action == "delete":
                    services.delete_draft(item, actor)
                    flash(_("草稿已删除。"), "success")
                    return redirect(url_for("noticeboard.manage"))
                elif action == "remove_attachment":
                    attachment = db.session.get(NoticeAttachment, int(request.form.get("attachment_id") or 0))
                    if attachment is None or attachment.notice_id != item.id:
                        abort(404)
                    services.remove_attachment(attachment, actor)
                    flash(_("附件已删除。"), "success")
                else:
                    abort(400)
                return redirect(url_for("noticeboard.manage_notice", notice_id=item.id))
        except DomainError as exc:  # the service's transaction has rolled back
            if action == "attach":
                attach_to_form(upload, exc, "file")
            else:
                flash(exc.message, "error")
            status_code = 422
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "notice", AuditEntry.object_id == item.id)
        .order_by(AuditEntry.id.desc()).limit(30)).all()
    return render_template("noticeboard/manage_notice.html", notice=item, upload=upload, history=history,
                           STATUS_LABELS=STATUS_LABELS, ACTION_LABELS=ACTION_LABELS), status_code


@bp.get("/noticeboard/<int:notice_id>/files/<int:attachment_id>")
@role_required("staff")
def manage_attachment(notice_id: int, attachment_id: int):
    attachment = db.session.get(NoticeAttachment, attachment_id)
    if attachment is None or attachment.notice_id != notice_id:
        abort(404)
    return _send_attachment(attachment)
