"""Notifications (消息通知): the inbox, e-mail and SMS through a transactional outbox, preferences.

Other areas call ``services.notify(...)`` inside their own transaction; ``flask notify deliver``
sends what is due (blueprints/notifications/delivery.py)."""
from __future__ import annotations


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from . import reminders
    from .cli import notify_cli
    from .views import bp

    areas.area(app, "notifications")
    reminders.listen()
    app.register_blueprint(bp)
    app.cli.add_command(notify_cli)
    for name in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD",
                 "MAIL_DEFAULT_SENDER", "SMS_PROVIDER", "SMS_WEBHOOK_URL", "SMS_WEBHOOK_SECRET"):
        app.config.setdefault(name, _env(name))
    areas.header_item(app, "notifications/_header.html", order=10)
    areas.workspace_tile(app, _l("消息"), "notifications.inbox", order=5, visible=areas.signed_in)
    areas.workspace_tile(app, _l("督办与催办"), "notifications.supervision", order=40,
                         visible=lambda u: u.is_authenticated and (u.has_role("staff", "leader") or u.role == "deputy"))
    areas.demo_loader(app, _demo, order=90, name="notifications")
    areas.workspace_tile(app, _l("默认消息设置"), "notifications.defaults", order=160,
                         visible=areas.has_role("staff"))


def _demo(ctx) -> None:
    from .demo import load

    load(ctx)


def _env(name: str):
    import os

    value = os.environ.get(name)
    if name == "MAIL_USE_TLS":
        return (value or "").lower() in ("1", "true", "yes")
    if name == "MAIL_PORT":
        return int(value) if value else 25
    if name == "SMS_PROVIDER":
        return value or "log"
    return value
