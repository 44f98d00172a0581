"""HTTP hardening that is not a page: cookie names and HSTS under HTTPS, an absolute session lifetime,
NUL bytes refused before anything reads them. Installed by ``core.web.init_app``.

- ``HTTPS=1`` (``SESSION_COOKIE_SECURE``): the session cookie is called ``__Host-dp_session`` (the browser
  then accepts it only Secure, for this host, for path /: a sibling subdomain cannot plant one), other
  cookies the site sets use ``cookie_name(...)`` for the same prefix; every answer carries
  ``Strict-Transport-Security: max-age=31536000; includeSubDomains``. CSRF tokens live in the session.
- ``SESSION_ABSOLUTE_HOURS`` (default 12): a session ends that long after sign-in however busy it is
  (the idle limit alone never ends a projector page that polls every 2 seconds).
- A NUL byte in a query string or form field is refused with 400 and a Chinese message (PostgreSQL
  cannot store one in text, and no field needs it); other control characters are refused per field by
  ``core.forms.FlaskForm``.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

HSTS = "max-age=31536000; includeSubDomains"
HOST_PREFIX = "__Host-"


def cookie_name(name: str) -> str:
    """``name``, with the ``__Host-`` prefix when the site runs under HTTPS."""
    secure = current_app.config.get("SESSION_COOKIE_SECURE")
    return f"{HOST_PREFIX}{name}" if secure and not name.startswith(HOST_PREFIX) else name


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_ABSOLUTE_HOURS", 12)
    if app.config.get("SESSION_COOKIE_SECURE"):
        name = app.config.get("SESSION_COOKIE_NAME") or "session"
        if not name.startswith(HOST_PREFIX):
            app.config["SESSION_COOKIE_NAME"] = HOST_PREFIX + name
        app.config["SESSION_COOKIE_PATH"] = "/"
        app.config["SESSION_COOKIE_DOMAIN"] = None

    @app.before_request
    def refuse_nul_bytes():
        for values in (request.args, request.form):
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    abort(400, description=_("提交的内容含有不允许的控制字符（NUL），请删除后重试。"))
        return None

    @app.before_request
    def enforce_absolute_lifetime():
        if not current_user.is_authenticated:
            return None
        now = datetime.now(UTC).timestamp()
        started = session.get("signed_in_at")
        if started is None:
            session["signed_in_at"] = now  # the first request after sign-in (which starts a fresh session)
            return None
        if now - started > app.config["SESSION_ABSOLUTE_HOURS"] * 3600:
            logout_user()
            session.clear()
            flash(_("登录已超过 %(h)d 小时，请重新登录。", h=app.config["SESSION_ABSOLUTE_HOURS"]), "warning")
            return redirect(url_for("core.login", next=request.full_path if request.method == "GET" else None))
        return None

    @app.after_request
    def strict_transport_security(response):
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
