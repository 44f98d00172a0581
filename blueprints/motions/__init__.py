"""Motions (议案): drafting and 联名 by deputies, review by the presidium or the 议案审查委员会, the agenda
and its decision, or conversion into a suggestion; the public register at /motions/."""
from __future__ import annotations


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from ..core.pagecache import watch_tables
    from . import services
    from .views import bp

    areas.area(app, "motions")
    app.register_blueprint(bp)
    app.config.setdefault("MOTION_MIN_SIGNERS", 10)
    areas.menu_entry(app, _l("代表议案"), "motions.index", order=51)
    areas.workspace_tile(app, _l("议案审查"), "motions.manage", order=43, visible=areas.has_role("staff"))
    areas.workspace_tile(app, _l("我的议案"), "motions.mine", order=44, visible=areas.role_is("deputy"))
    areas.workspace_count(app, _l("待确认的议案联名邀请"), "motions.mine", services.waiting_invitations, order=4,
                          visible=areas.role_is("deputy"))
    areas.workspace_count(app, _l("待审查的议案"), "motions.manage", services.waiting_review, order=32,
                          visible=areas.has_role("staff"), status="submitted")
    watch_tables("motions", "motion_signers", "motion_reviews")
    areas.demo_loader(app, _demo, order=55, name="motions")


def _demo(ctx) -> None:
    from .demo import demo

    demo(ctx.rng)
