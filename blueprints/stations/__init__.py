"""Liaison stations: reception days and the duty rota, reception records, messages from the public,
station statistics. The case workflow itself lives in blueprints/core/cases.py (shared with suggestions)."""
from __future__ import annotations


def register(app) -> None:
    """Blueprints, CLI, the workspace panel and the demo loader (registered with core.areas)."""
    from ..core import areas
    from . import cases_views, public, views
    from .cli import stations_cli

    areas.area(app, "stations")
    app.register_blueprint(views.bp)
    app.register_blueprint(cases_views.bp)
    app.register_blueprint(public.bp)
    app.cli.add_command(stations_cli)
    areas.workspace_panel(app, "stations/_workspace.html")
    areas.demo_loader(app, _demo, order=20, name="stations")


def _demo(ctx) -> None:
    from .demo import demo

    demo()
