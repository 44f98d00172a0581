"""Login, logout, the workspace, health check, user administration and the audit log."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import or_, select, text

from . import accounts, totp
from .audit import ACTION_LABELS, OBJECT_LABELS
from .errors import DomainError, attach_to_form
from .extensions import db
from .flow import run_action, run_form
from .forms import ChangePasswordForm, LoginForm, ResetPasswordForm, RoleForm, TotpForm, UserForm
from .htmx import render_page
from .models import AuditEntry, User
from .pagination import int_arg, page_number, paginate
from .permissions import role_required
from .timeutil import LOCAL_TZ, utcnow

bp = Blueprint("core", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok", time=utcnow().isoformat())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.workspace"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data, request.remote_addr or "-")
        except DomainError as exc:
            flash(exc.message, "error")
            return render_template("core/login.html", form=form), 200
        session.clear()  # a fresh session: nothing from before the login carries over
        if totp.enabled(user):  # the password was right; the second factor decides (login_totp)
            session["totp_user"] = user.get_id()
            session["totp_since"] = utcnow().timestamp()
            session["totp_next"] = _safe_next(request.args.get("next"))
            return redirect(url_for("core.login_totp"), 303)
        return _signed_in(user, _safe_next(request.args.get("next")))
    return render_template("core/login.html", form=form)


def _signed_in(user: User, next_url: str | None):
    one_time = user.must_change_password
    _login(user)
    if one_time:
        return redirect(url_for("core.change_password"))
    if totp.must_enrol(user):
        flash(_("管理员账号必须开启两步验证：请先用手机验证器扫码完成设置。"), "warning")
        return redirect(url_for("core.account_totp"))
    return redirect(next_url or url_for("core.workspace"))


def _login(user: User) -> None:
    """Flask-Login's session plus a row in user_sessions, so that the owner can see and end it."""
    login_user(user, remember=False)
    session["last_seen"] = utcnow().timestamp()
    session["sid"] = accounts.start_session(user, request.remote_addr or "-", request.user_agent.string)


TOTP_LOGIN_SECONDS = 300


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    """The second step for an account with two-step verification: a code from the app or a recovery code."""
    pending, since = session.get("totp_user"), session.get("totp_since") or 0
    user = load_pending(pending) if pending and utcnow().timestamp() - since < TOTP_LOGIN_SECONDS else None
    if user is None:
        session.pop("totp_user", None)
        flash(_("请重新输入用户名和密码。"), "warning")
        return redirect(url_for("core.login"), 303)
    form = TotpForm()
    if form.validate_on_submit():
        address = request.remote_addr or "-"
        try:
            accounts.check_second_factor(user, form.code.data, address)
        except DomainError as exc:
            attach_to_form(form, exc, "code")
            return render_template("core/login_totp.html", form=form), 422
        next_url = session.get("totp_next")
        session.clear()
        return _signed_in(user, next_url)
    return render_template("core/login_totp.html", form=form)


def load_pending(user_id: str) -> User | None:
    from .web import load_user

    return load_user(user_id)


@bp.get("/login/forgot")
def forgot_password():
    return render_template("core/forgot.html", hint=accounts.office_phone_hint())


# While an account holds a one-time password, only these answer; everything else leads to choosing one.
OPEN_WHILE_ONE_TIME = frozenset({"core.change_password", "core.logout", "core.healthz", "core.forgot_password",
                                 "static"})
# While an admin must set up two-step verification, only these answer.
OPEN_WHILE_ENROLLING = OPEN_WHILE_ONE_TIME | {"core.account_totp", "core.account_totp_qr"}


def require_new_password():
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if session.get("scope"):  # signed in by a meeting pass: only that meeting's pages answer anyway
        return None
    if request.endpoint in OPEN_WHILE_ONE_TIME:
        return None
    flash(_("请先设置您自己的新密码，之后才能使用其他功能。"), "warning")
    if request.headers.get("HX-Request"):
        # A redirect would be followed inside the XHR and the whole page swapped into a fragment.
        return "", 200, {"HX-Redirect": url_for("core.change_password")}
    return redirect(url_for("core.change_password"), code=303)


def require_second_factor():
    if not current_user.is_authenticated or session.get("scope") or current_user.must_change_password:
        return None
    if request.endpoint in OPEN_WHILE_ENROLLING or not totp.must_enrol(current_user):
        return None
    flash(_("管理员账号必须开启两步验证：请先用手机验证器扫码完成设置。"), "warning")
    if request.headers.get("HX-Request"):
        return "", 200, {"HX-Redirect": url_for("core.account_totp")}
    return redirect(url_for("core.account_totp"), code=303)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "GET":
        return render_template("core/logout.html")
    if current_user.is_authenticated:
        accounts.logout(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("您已安全退出。"), "success")
    return redirect(url_for("core.login"))


@bp.get("/workspace/")
@login_required
def workspace():
    return render_template("core/workspace.html")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user._get_current_object(), form.current.data, form.new.data)
        except DomainError as exc:
            attach_to_form(form, exc, "new")
            return render_template("core/change_password.html", form=form,
                                   first=current_user.must_change_password), 422
        # The password change rotated the session token; sign in again on this device only.
        _login(current_user._get_current_object())
        flash(_("密码已修改，其他设备上的登录已失效。"), "success")
        return redirect(url_for("core.workspace"))
    return render_template("core/change_password.html", form=form,
                           first=current_user.must_change_password)


@bp.get("/account/")
@login_required
def account():
    return render_template("core/account.html", totp_on=totp.enabled(current_user), may_totp=totp.may_use(current_user))


@bp.route("/account/sessions", methods=["GET", "POST"])
@login_required
def account_sessions():
    from .models import UserSession

    user = current_user._get_current_object()
    here = url_for("core.account_sessions")
    if request.method == "POST":
        if request.form.get("action") == "end_others":
            _result, error = run_action(lambda: accounts.end_session(user, keep_sid=session.get("sid")))
            message = _("已结束其他设备上的登录。")
        else:
            session_id = _form_int("session_id")
            _result, error = run_action(lambda: accounts.end_session(user, session_id))
            message = _("该登录已结束。")
        flash(error.message if error else message, "error" if error else "success")
        return redirect(here, 303)
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.last_seen_at.desc())).all()
    current = accounts.session_row(session["sid"]) if session.get("sid") else None
    return render_template("core/account_sessions.html", rows=rows, current_id=current.id if current else None)


def _form_int(name: str) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit() or len(raw) > 9:
        abort(400)
    return int(raw)


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def account_totp():
    user = current_user._get_current_object()
    if not totp.may_use(user):
        abort(403)
    form = TotpForm()
    action = request.form.get("action")
    status, codes = 200, None
    if request.method == "POST":
        try:
            if action == "begin":
                totp.begin(user)
            elif action in ("confirm", "disable") and form.validate_on_submit():
                if action == "confirm":
                    codes = totp.confirm(user, form.code.data)
                    flash(_("两步验证已开启。请把下面的恢复码抄下或打印，妥善保管；它们只显示这一次。"), "success")
                else:
                    totp.disable(user, form.code.data)
                    flash(_("两步验证已关闭。"), "success")
                    return redirect(url_for("core.account"), 303)
            elif action not in ("confirm", "disable"):
                abort(400)
            else:
                status = 422
        except DomainError as exc:
            attach_to_form(form, exc, "code")
            status = exc.status
    found = totp.row(user)
    pending = found is not None and found.confirmed_at is None
    required = user.role == "admin" and current_app.config.get("TOTP_REQUIRED_FOR_ADMINS", True)
    return render_template("core/account_totp.html", form=form, found=found, pending=pending, codes=codes,
                           secret=found.secret if pending else None, required=required), status


@bp.get("/account/totp/qr.svg")
@login_required
def account_totp_qr():
    from .qr import qr_response

    found = totp.row(current_user)
    if found is None or found.confirmed_at is not None:
        abort(404)
    return qr_response(totp.provisioning_uri(current_user, found.secret), cache="no-store")


# ---- user administration (admin) -------------------------------------------------------------

def _org_models():
    """The registry's Station and HandlingUnit classes, reached through User's relationships
    (core imports no area)."""
    return User.station.property.mapper.class_, User.unit.property.mapper.class_


def _fill_org_choices(form):
    Station, HandlingUnit = _org_models()
    form.station_id.choices = [(0, _("（无）"))] + [
        (s.id, s.name) for s in db.session.scalars(select(Station).order_by(Station.name))
    ]
    form.unit_id.choices = [(0, _("（无）"))] + [
        (u.id, u.name) for u in db.session.scalars(select(HandlingUnit).order_by(HandlingUnit.name))
    ]


def _org(model, pk):
    return db.session.get(model, pk) if pk else None


@bp.get("/admin/users/")
@role_required("admin")
def users():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.role, User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    if role:
        stmt = stmt.where(User.role == role)
    page = paginate(stmt, page_number(), per_page=50)
    return render_page("core/users.html", "core/_user_rows.html", page=page, q=q, role=role)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required("admin")
def user_new():
    Station, HandlingUnit = _org_models()
    form = UserForm()
    _fill_org_choices(form)
    return run_form(
        form,
        lambda f: accounts.create_user(
            f.username.data, f.password.data, f.role.data, f.display_name.data,
            station=_org(Station, f.station_id.data) if f.role.data == "liaison" else None,
            unit=_org(HandlingUnit, f.unit_id.data) if f.role.data == "unit" else None,
            actor=current_user._get_current_object(),
        ),
        success=lambda user: _("账号 %(name)s 已创建。", name=user.username),
        redirect_to=lambda user: url_for("core.user_detail", user_id=user.id),
        render=lambda status: (render_template("core/user_new.html", form=form), status),
        field="username",
    )


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_detail(user_id: int):
    Station, HandlingUnit = _org_models()
    user = db.session.get(User, user_id) or abort(404)
    role_form = RoleForm(prefix="role", data={"role": user.role, "station_id": user.station_id or 0,
                                              "unit_id": user.unit_id or 0})
    _fill_org_choices(role_form)
    reset_form = ResetPasswordForm(prefix="reset")
    actor = current_user._get_current_object()
    status = 200
    try:
        if request.method == "POST":
            action = request.form.get("action")
            if action == "role" and role_form.validate_on_submit():
                accounts.change_role(user, role_form.role.data, actor,
                                     station=_org(Station, role_form.station_id.data),
                                     unit=_org(HandlingUnit, role_form.unit_id.data))
                flash(_("角色已保存。"), "success")
                return redirect(url_for("core.user_detail", user_id=user.id))
            if action == "reset" and reset_form.validate_on_submit():
                accounts.reset_password(user, reset_form.password.data, actor)
                flash(_("密码已重置，该账号的所有登录已失效。"), "success")
                return redirect(url_for("core.user_detail", user_id=user.id))
            if action == "totp_reset":
                totp.reset(user, actor)
                flash(_("已重置该账号的两步验证，其所有登录已失效。"), "success")
                return redirect(url_for("core.user_detail", user_id=user.id))
            if action in ("disable", "enable"):
                # CSRFProtect has already checked the token (form field or X-CSRFToken header).
                accounts.set_active(user, action == "enable", actor)
                flash(_("账号已启用。") if action == "enable" else _("账号已停用，其登录已失效。"), "success")
                return redirect(url_for("core.user_detail", user_id=user.id))
            status = 422
    except DomainError as exc:  # the service's transaction has rolled back
        flash(exc.message, "error")
        status = 422
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "user", AuditEntry.object_id == user.id)
        .order_by(AuditEntry.id.desc()).limit(20)
    ).all()
    return render_template("core/user_detail.html", user=user, role_form=role_form, totp_on=totp.enabled(user),
                           reset_form=reset_form, history=history, ACTION_LABELS=ACTION_LABELS), status


# ---- audit log (staff, admin) ----------------------------------------------------------------

def _parse_day(raw: str | None):
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:  # 0000-00-00 and 2026-02-30 too
        flash(_("日期格式应为 年-月-日，例如 2026-01-31。"), "error")
        g.bad_filter_date = True
        return None
    if not 1900 <= day.year <= 2999:  # 9999-12-31 + 1 day, or year 1 in UTC, overflow
        flash(_("日期“%(d)s”超出可查询的范围（1900 年至 2999 年），已忽略。", d=raw), "error")
        g.bad_filter_date = True
        return None
    return day


def _filtered(response):
    """A filter with an impossible date answers 400 (the page shows the message and the unfiltered list)."""
    if g.get("bad_filter_date"):
        response.status_code = 400
    return response


@bp.get("/audit/")
@role_required("staff")
def audit_log():
    filters = {k: request.args.get(k, "").strip() for k in ("object_type", "action", "actor", "start", "end")}
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters["object_type"]:
        stmt = stmt.where(AuditEntry.object_type == filters["object_type"])
    if filters["action"]:
        stmt = stmt.where(AuditEntry.action == filters["action"])
    if filters["actor"]:
        stmt = stmt.where(AuditEntry.actor_name.ilike(f"%{filters['actor']}%"))
    start, end = _parse_day(filters["start"]), _parse_day(filters["end"])
    if start:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(start, time(), LOCAL_TZ))
    if end:
        stmt = stmt.where(AuditEntry.at < datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ))
    object_id = int_arg("object_id")
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    page = paginate(stmt, page_number(), per_page=50)
    return _filtered(render_page("core/audit.html", "core/_audit_rows.html", page=page, filters=filters,
                       ACTION_LABELS=ACTION_LABELS, OBJECT_LABELS=OBJECT_LABELS))


@bp.get("/audit/security")
@role_required("staff")
def security_log():
    from sqlalchemy.orm import joinedload

    from .models import SECURITY_EVENT_LABELS, SecurityEvent

    filters = {k: request.args.get(k, "").strip() for k in ("kind", "user", "address", "start", "end")}
    stmt = select(SecurityEvent).options(joinedload(SecurityEvent.user)).order_by(SecurityEvent.id.desc())
    if filters["kind"] in SECURITY_EVENT_LABELS:
        stmt = stmt.where(SecurityEvent.kind == filters["kind"])
    if filters["user"]:
        like = f"%{filters['user']}%"
        stmt = stmt.where(or_(SecurityEvent.login.ilike(like), SecurityEvent.user_id.in_(
            select(User.id).where(or_(User.username.ilike(like), User.display_name.ilike(like))))))
    if filters["address"]:
        stmt = stmt.where(SecurityEvent.address == filters["address"])
    start, end = _parse_day(filters["start"]), _parse_day(filters["end"])
    if start:
        stmt = stmt.where(SecurityEvent.at >= datetime.combine(start, time(), LOCAL_TZ))
    if end:
        stmt = stmt.where(SecurityEvent.at < datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ))
    page = paginate(stmt, page_number(), per_page=50)
    return _filtered(render_page("core/security_log.html", "core/_security_rows.html", page=page, filters=filters,
                       LABELS=SECURITY_EVENT_LABELS))


def register(app) -> None:
    """Core's own pages, CLI, and its entries in the menu and the workspace (core.areas)."""
    from flask_babel import lazy_gettext as _l

    from . import areas
    from .cli import register_cli

    app.register_blueprint(bp)
    app.before_request(require_new_password)
    app.before_request(require_second_factor)
    register_cli(app)
    from . import search_views

    search_views.register(app)  # /search/ (core.search; the areas register their searchable kinds)
    staff, admin = areas.has_role("staff"), areas.role_is("admin")
    areas.menu_entry(app, _l("工作台"), "core.workspace", order=100, visible=areas.signed_in)
    areas.menu_entry(app, _l("操作日志"), "core.audit_log", order=160, visible=staff, more=True)
    areas.menu_entry(app, _l("账号管理"), "core.users", order=170, visible=admin, more=True)
    areas.workspace_tile(app, _l("操作日志"), "core.audit_log", order=16, visible=staff)
    areas.workspace_tile(app, _l("账号管理"), "core.users", order=60, visible=admin)
