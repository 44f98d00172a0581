"""Request plumbing every area relies on: sessions, security headers, error pages, SQLite pragmas."""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import and_, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload
from werkzeug.routing import IntegerConverter

from .errors import DomainError
from .extensions import db, login_manager
from .htmx import is_htmx
from .pagination import MAX_ID
from .timeutil import to_local
from .transaction import discard


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` limited to the INTEGER range: larger numbers name no row (and overflow SQLite)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


# htmx 2 swaps only 2xx answers by default; a refusal (400 bad request, 403, 404, 409 conflict, 422
# invalid, 429) carries its Chinese message in the fragment, so it is swapped like a success. A
# server error is not swapped: static/js/htmx-errors.js says so above the page instead.
HTMX_CONFIG = json.dumps({
    "includeIndicatorStyles": False,
    "historyCacheSize": 0,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "4..", "swap": True, "error": False},
        {"code": "...", "swap": False, "error": True},
    ],
}, separators=(",", ":"))

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling breaks SAVEPOINTs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in account, in one query with what nearly every signed-in page reads next: its deputy,
    station and unit (header, workspace, lists) and this browser's session row (checked before each
    request, ``_check_session_row``; kept in ``g`` for that one request)."""
    from .accounts import _sid_hash
    from .models import User, UserSession

    try:
        pk, token = user_id.split(":", 1)
        stmt = select(User).where(User.id == int(pk)).options(
            joinedload(User.deputy), joinedload(User.station), joinedload(User.unit))
    except (ValueError, TypeError):
        return None
    sid = session.get("sid")
    if sid:
        stmt = stmt.add_columns(UserSession).outerjoin(UserSession, and_(
            UserSession.user_id == User.id, UserSession.sid_hash == _sid_hash(sid)))
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    user = row[0]
    if sid:
        g.session_row = (sid, row[1])
    if not user.active or user.session_token != token:
        return None
    return user


def _log_refusal(kind: str) -> None:
    """A 403, CSRF failure or 429 in the security event log; a 429 at most once a minute per address
    (a script hammering the site must not turn every refusal into a database write)."""
    from . import security_log
    from .ratelimit import DatabaseStorage

    if kind == "rate_limited":
        try:
            if DatabaseStorage().incr(f"seclog:429:{request.remote_addr}", 60) > 1:
                return
        except Exception:  # noqa: BLE001 (the answer is already a refusal)
            return
    user = current_user._get_current_object() if current_user.is_authenticated else None
    security_log.record_refusal(kind, user=user)


def init_app(app: Flask) -> None:
    login_manager.login_view = "core.login"
    login_manager.login_message = _("请先登录。")
    login_manager.login_message_category = "warning"
    # No remember-me cookie: stations and meeting halls have shared machines.
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=0)

    @app.before_request
    def enforce_idle_timeout():
        if not current_user.is_authenticated:
            return None
        now = datetime.now(UTC).timestamp()
        last_seen = session.get("last_seen")
        limit = app.config["IDLE_TIMEOUT_MINUTES"] * 60
        if last_seen is not None and now - last_seen > limit:
            logout_user()
            session.clear()
            flash(_("长时间未操作，登录已过期，请重新登录。"), "warning")
            return redirect(url_for("core.login", next=request.full_path if request.method == "GET" else None))
        session["last_seen"] = now
        return _check_session_row()

    def _check_session_row():
        # A browser its owner ended on /account/sessions (or every browser, after a password change)
        # is signed out at its next request; the row's last-seen time is refreshed once a minute.
        from . import accounts

        loaded = g.pop("session_row", None)  # read with the account by load_user, in this request
        sid = session.get("sid")
        if not sid:
            return None
        row = loaded[1] if loaded is not None and loaded[0] == sid else accounts.session_row(sid)
        if row is None:
            logout_user()
            session.clear()
            flash(_("此设备上的登录已被结束，请重新登录。"), "warning")
            return redirect(url_for("core.login"))
        if (datetime.now(UTC) - row.last_seen_at.replace(tzinfo=row.last_seen_at.tzinfo or UTC)).total_seconds() > 60:
            accounts.touch_session(row.id)
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        # A signed-in session's answer is never stored. Read from the session, not current_user: after a
        # commit the user row is expired and asking it would cost one more query per POST.
        if session.get("_user_id") is not None:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def header_items_shown():
        """The areas' header items, except while the account must choose its password or set up two-step
        verification, or is signed in by a meeting pass (those sessions open nothing else, so an item's
        request would be refused, or redirected and the page reloaded on every poll)."""
        from . import areas, totp

        if (not current_user.is_authenticated or current_user.must_change_password or session.get("scope")
                or totp.must_enrol(current_user)):  # an admin setting up two-step verification: nothing polls
            return []
        return areas.header_items()

    @app.context_processor
    def template_globals():
        from . import areas
        from .models import ROLE_LABELS

        return {"csrf_token": generate_csrf, "ROLE_LABELS": ROLE_LABELS, "is_htmx": is_htmx,
                "htmx_config": HTMX_CONFIG, "area_menu": areas.menu_for, "menu_parts": areas.menu_parts,
                "workspace_tiles": areas.tiles_for,
                "workspace_panels": areas.panels, "workspace_counts": areas.counts_for,
                "header_items": header_items_shown, "site": site_identity()}

    def site_identity() -> dict:
        """The site's names and the office's contact, from settings (app.py Config: SITE_NAME, COUNTY_NAME,
        OFFICE_NAME, OFFICE_PHONE, OFFICE_ADDRESS): header, <title> and footer."""
        config = app.config
        return {"name": config.get("SITE_NAME") or "代表履职服务平台", "county": config.get("COUNTY_NAME") or "",
                "office": config.get("OFFICE_NAME") or "", "phone": config.get("OFFICE_PHONE") or "",
                "address": config.get("OFFICE_ADDRESS") or ""}

    @app.template_filter("localtime")
    def localtime(value, fmt="%Y-%m-%d %H:%M"):
        local = to_local(value)
        return local.strftime(fmt) if local else ""

    @app.template_filter("reply_class")
    def reply_class(code, labels=None):
        from .cases import reply_class_text

        return reply_class_text(code, labels)

    @app.template_filter("cndate")
    def cndate(value):
        return f"{value.year}年{value.month}月{value.day}日" if value else ""

    @app.template_filter("option_tags")
    def option_tags(rows, selected=None, value="id", label="name"):
        """``<option>`` tags for rows (their ``value`` and ``label`` attributes), the one equal to
        ``selected`` marked: one Python loop, for filters with a city's hundreds of townships and groups,
        where a Jinja loop cost 2-3 ms a page."""
        tags = []
        for row in rows:
            key = getattr(row, value)
            mark = " selected" if key == selected else ""
            tags.append(f'<option value="{escape(key)}"{mark}>{escape(getattr(row, label))}</option>')
        return Markup("".join(tags))  # noqa: S704 -- every value and label above went through escape()

    def error_page(code: int, title: str, message: str):
        def handler(error):
            discard()
            if code in (403, 429):
                _log_refusal("forbidden" if code == 403 else "rate_limited")
            detail = getattr(error, "description", None) if code in (400, 403, 404, 409, 422) else None
            if isinstance(detail, str) and detail.isascii():
                detail = None  # werkzeug's English defaults are not for our users
            template = "errors/_error.html" if is_htmx() else "errors/error.html"
            return render_template(template, code=code, title=title, message=detail or message), code

        return handler

    errors = {
        400: (_("请求有误"), _("提交的内容无法处理，请检查后重试。")),
        422: (_("未能保存"), _("提交的内容不符合要求，未做任何修改。")),
        403: (_("没有权限"), _("您的账号没有权限访问此页面。")),
        404: (_("页面不存在"), _("您要找的页面不存在或已被移除。")),
        405: (_("请求方式不允许"), _("此页面不接受这种请求方式。")),
        409: (_("操作冲突"), _("该操作与现有数据冲突，未做任何修改。")),
        413: (_("文件太大"), _("上传的文件超过大小限制，请压缩或拆分后重试。")),
        429: (_("操作太频繁"), _("请求过于频繁，请稍后再试。")),
        500: (_("服务器出错"), _("服务器处理时出错，数据未被修改。请稍后重试或联系管理员。")),
    }
    for code, (title, message) in errors.items():
        app.register_error_handler(code, error_page(code, title, message))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        # A refusal no view caught: its own message and status, as a page or an HTMX fragment.
        discard()
        if error.status == 403:
            _log_refusal("forbidden")
        title = errors.get(error.status, errors[422])[0]
        template = "errors/_error.html" if is_htmx() else "errors/error.html"
        return render_template(template, code=error.status, title=title, message=error.message), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        discard()
        _log_refusal("csrf_failed")
        message = _("页面已过期或缺少安全令牌，请刷新页面后重新提交。")
        template = "errors/_error.html" if is_htmx() else "errors/error.html"
        return render_template(template, code=400, title=_("请求有误"), message=message), 400

    @app.teardown_request
    def _forget(exc):
        g.pop("audit_actor", None)
        g.pop("session_row", None)

    from . import urlmemo

    urlmemo.install(app)

    from . import fastgettext

    fastgettext.install(app)

    from . import hardening

    hardening.init_app(app)
