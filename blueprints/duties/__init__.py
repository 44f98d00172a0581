"""Deputy duty registration (履职登记), points, archives, evaluation and reports to voters."""
from __future__ import annotations


def register(app) -> None:
    """Blueprint (its CLI hangs on it), workspace links and the demo loader (core.areas)."""
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from .views import bp

    areas.area(app, "duties")
    app.register_blueprint(bp)
    areas.workspace_tile(app, _l("履职登记与评价"), "duties.evaluation", order=17, visible=areas.has_role("staff"))
    from .services import waiting_returned, waiting_to_verify

    areas.workspace_count(app, _l("被退回待修改的履职活动"), "duties.me", waiting_returned, order=4,
                          visible=lambda u: u.is_authenticated and u.role == "deputy" and bool(u.deputy_id))

    areas.workspace_count(app, _l("待核实的履职活动"), "duties.queue", waiting_to_verify, order=10,
                          visible=lambda u: u.is_authenticated and (u.role == "liaison" or u.has_role("staff")))
    areas.workspace_tile(app, _l("核实代表履职活动"), "duties.queue", order=20,
                         visible=lambda u: u.is_authenticated and (u.role == "liaison" or u.has_role("staff")))
    has_deputy = lambda u: u.is_authenticated and u.deputy is not None  # noqa: E731
    areas.workspace_tile(app, _l("我的履职档案"), "duties.me", order=80, visible=has_deputy)
    areas.workspace_tile(app, _l("登记履职活动"), "duties.activity_new", order=81, visible=has_deputy)
    areas.demo_loader(app, _demo, order=30, name="duties")


def _demo(ctx) -> None:
    from .demo import load

    load(ctx.seed)
