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
    from . import search_kind

    search_kind.register(app)  # core.search: what this area adds to the site-wide search
    app.cli.add_command(stations_cli)
    areas.workspace_panel(app, "stations/_workspace.html")
    from flask_babel import lazy_gettext as _l

    from . import services

    staff, liaison, unit = areas.has_role("staff"), areas.role_is("liaison"), areas.role_is("unit")
    areas.workspace_count(app, _l("待交办的群众诉求"), "cases.index", services.waiting_cases_new, order=20,
                          visible=lambda u: staff(u) or liaison(u), status="new")
    areas.workspace_count(app, _l("逾期未答复"), "cases.index", services.waiting_cases_overdue, order=21,
                          visible=lambda u: staff(u) or unit(u), status="overdue")
    areas.workspace_count(app, _l("交办本单位待答复"), "cases.index", services.waiting_unit_assignments, order=10,
                          visible=unit)
    areas.workspace_count(app, _l("7 天内到期"), "cases.index", services.waiting_due_soon, order=11,
                          visible=unit, status="due7")
    areas.workspace_count(app, _l("近 7 天的延期审批结果"), "cases.index", services.waiting_extension_decisions,
                          order=13, visible=unit, status="extension_decided")
    areas.workspace_count(app, _l("待审批的延期申请"), "cases.index", services.waiting_extension_requests, order=22,
                          visible=staff, status="extension")
    areas.workspace_count(app, _l("明天值班接待"), "site.station", services.duty_tomorrow_for, order=5,
                          visible=areas.role_is("deputy"))
    liaison_only = areas.role_is("liaison")
    areas.workspace_count(app, _l("今天的接待日，登记来访"), "stations.receptions", services.reception_today_for,
                          order=6, visible=liaison_only)
    areas.workspace_count(app, _l("近 30 天未登记接待记录的接待日"), "stations.month", services.unrecorded_days_for,
                          order=7, visible=liaison_only)
    areas.demo_loader(app, _demo, order=20, name="stations")
    areas.demo_loader(app, _demo_drive, order=35, name="stations-drive")


def _demo(ctx) -> None:
    from .demo import demo

    demo()


def _demo_drive(ctx) -> None:
    from .drive import demo

    demo(ctx.rng)
