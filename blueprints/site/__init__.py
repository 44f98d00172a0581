"""The public site: the home page and the public directory of deputies and stations, a composition
of the areas (registry, noticeboard, stations, duties). Areas do not import it."""
from __future__ import annotations


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from .views import bp

    areas.area(app, "site")
    app.register_blueprint(bp)
    areas.menu_entry(app, _l("找代表"), "site.deputies", order=20)
    areas.menu_entry(app, _l("联络站"), "site.stations", order=30)
