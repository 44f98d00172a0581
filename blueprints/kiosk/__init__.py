"""The station kiosk: a touch screen in the station, no login, big type, back home after idle."""
from __future__ import annotations


def register(app) -> None:
    from ..core import areas
    from .views import bp

    areas.area(app, "kiosk")
    app.register_blueprint(bp)
