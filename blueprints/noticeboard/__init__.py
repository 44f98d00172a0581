"""Noticeboard (公示栏): announcements, their versions and attachments, and the Atom feed. Other areas
publish through ``services.publish_notice``; the public home page lives in ``blueprints/site``."""
from __future__ import annotations


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from .views import bp

    areas.area(app, "noticeboard")
    app.register_blueprint(bp)
    from . import search_kind

    search_kind.register(app)  # core.search: what this area adds to the site-wide search
    areas.menu_entry(app, _l("公示"), "noticeboard.notices", order=10)
    areas.menu_entry(app, _l("公示管理"), "noticeboard.manage", order=150, visible=areas.has_role("staff"),
                     more=True)
