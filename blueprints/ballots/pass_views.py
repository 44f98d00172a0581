"""Meeting passes: the clerk's list and print sheet, and the page a pass's QR code opens (passes.py).

A deputy signed in by a pass holds ``session["scope"] = {"meeting": id, "day": "YYYY-MM-DD"}``: only
that meeting's phone pages answer (ballot, confirmation, done, self check-in), and only that day; any
other page is 403 and the next day the session ends.
"""
from __future__ import annotations

import base64

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.errors import DomainError, Forbidden
from ..core.extensions import db
from ..core.hardening import cookie_name
from ..core.permissions import role_required
from ..core.qr import public_url, qr_svg
from ..core.timeutil import local_today, utcnow
from . import passes
from .models import Attendance
from .views import CLERKS, get_meeting

bp = Blueprint("passes", __name__)

DEVICE_COOKIE = "dp_device"
# What a pass opens (plus logging out); the meeting's own id must be in the address.
SCOPED_ENDPOINTS = frozenset({"ballots.vote", "ballots.vote_confirm", "ballots.vote_done", "ballots.self_checkin"})
# The public result page (with its ballot trackers) is open to everyone, so a deputy on a pass may check
# that their tracker is in the count without signing in again.
ALWAYS_OPEN = frozenset({"passes.scan", "core.logout", "core.healthz", "static", "ballots.public_result"})


def enforce_pass_scope():
    scope = session.get("scope")
    if not scope or not current_user.is_authenticated:
        return None
    if scope.get("day") != local_today().isoformat():
        logout_user()
        session.clear()
        flash(_("签到证只在会议当天有效，请重新扫码或用密码登录。"), "warning")
        return redirect(url_for("core.login"))
    if request.endpoint in ALWAYS_OPEN:
        return None
    if request.endpoint in SCOPED_ENDPOINTS and (request.view_args or {}).get("meeting_id") == scope.get("meeting"):
        return None
    raise Forbidden(_("扫码登录只能打开本次会议的签到和投票页面；使用其他功能请退出后用密码登录。"))


@bp.route("/pass", methods=["GET", "POST"])
def scan():
    device = request.cookies.get(cookie_name(DEVICE_COOKIE)) or ""
    status = 200
    if request.method == "POST":
        try:
            used = passes.use_pass(request.form.get("code", ""), device)
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            session.clear()
            login_user(used.user, remember=False)
            session["last_seen"] = utcnow().timestamp()
            session["scope"] = {"meeting": used.meeting_id, "day": local_today().isoformat()}
            flash(_("签到成功。") if used.checked_in_now else _("您已签到。"), "success")
            return redirect(url_for("ballots.vote", meeting_id=used.meeting_id), 303)
    response = make_response(render_template("ballots/pass_scan.html"), status)
    if not device:
        response.set_cookie(cookie_name(DEVICE_COOKIE), passes.new_device_token(), max_age=3 * 24 * 3600,
                            httponly=True, samesite="Lax",
                            secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/meetings/<int:meeting_id>/passes")
@role_required(*CLERKS)
def sheet(meeting_id: int):
    meeting = get_meeting(meeting_id)
    roll = db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)
                              .options(joinedload(Attendance.deputy))).all()
    roll = sorted(roll, key=lambda a: (a.deputy.sort_name, a.deputy_id))
    return render_template("ballots/passes.html", meeting=meeting, roll=roll, passes=passes.passes_of(meeting))


def _cards_page(meeting, cards):
    base = public_url("passes.scan")
    rendered = [(card, "data:image/svg+xml;base64," + base64.b64encode(qr_svg(f"{base}#{card.code}")).decode())
                for card in cards]
    return render_template("ballots/passes_print.html", meeting=meeting, cards=rendered)


@bp.post("/meetings/<int:meeting_id>/passes/print")
@role_required(*CLERKS)
def print_all(meeting_id: int):
    meeting = get_meeting(meeting_id)
    try:
        cards = passes.issue_passes(meeting, actor=current_user._get_current_object())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".sheet", meeting_id=meeting.id), 303)
    return _cards_page(meeting, cards)


@bp.post("/meetings/<int:meeting_id>/passes/<int:deputy_id>/reissue")
@role_required(*CLERKS)
def reissue(meeting_id: int, deputy_id: int):
    meeting = get_meeting(meeting_id)
    try:
        cards = passes.issue_passes(meeting, [deputy_id], reissue=True, actor=current_user._get_current_object())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".sheet", meeting_id=meeting.id), 303)
    return _cards_page(meeting, cards)


@bp.post("/meetings/<int:meeting_id>/passes/<int:deputy_id>/revoke")
@role_required(*CLERKS)
def revoke(meeting_id: int, deputy_id: int):
    meeting = get_meeting(meeting_id)
    try:
        passes.revoke_pass(meeting, deputy_id, actor=current_user._get_current_object())
        flash(_("签到证已收回。"), "success")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for(".sheet", meeting_id=meeting.id), 303)


def register(app) -> None:
    app.register_blueprint(bp)
    app.before_request(enforce_pass_scope)
