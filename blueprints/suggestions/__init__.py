"""Deputy suggestions (代表建议): drafting, co-signing, pre-review, registration, handling, rating, supervision."""
from __future__ import annotations


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from .views import bp

    areas.area(app, "suggestions")
    app.register_blueprint(bp)
    from . import search_kind

    search_kind.register(app)  # core.search: what this area adds to the site-wide search
    areas.menu_entry(app, _l("代表建议"), "suggestions.index", order=50)
    areas.workspace_tile(app, _l("代表建议管理"), "suggestions.manage", order=40, visible=areas.has_role("staff"))
    from .services import waiting_cosign_invitations, waiting_for_staff

    areas.workspace_count(app, _l("待确认的附议邀请"), "suggestions.mine", waiting_cosign_invitations, order=3,
                          visible=areas.role_is("deputy"))

    areas.workspace_count(app, _l("待预审的代表建议"), "suggestions.manage", waiting_for_staff("submitted"), order=30,
                          visible=areas.has_role("staff"), status="submitted")
    areas.workspace_count(app, _l("待交办的代表建议"), "suggestions.manage", waiting_for_staff("registered"), order=31,
                          visible=areas.has_role("staff"), status="registered")
    from . import services

    areas.workspace_count(app, _l("已答复待评价的建议"), "suggestions.mine", services.waiting_rating, order=4,
                          visible=areas.role_is("deputy"))
    areas.workspace_count(app, _l("7 天内到期的代表建议"), "suggestions.inbox", services.waiting_due_soon, order=12,
                          visible=areas.role_is("unit"), due="7")
    areas.workspace_count(app, _l("待审批的建议延期申请"), "suggestions.manage", services.waiting_extension_requests,
                          order=32, visible=areas.has_role("staff"), extension="1")
    areas.workspace_tile(app, _l("我的建议"), "suggestions.mine", order=41, visible=areas.role_is("deputy"))
    areas.workspace_tile(app, _l("交办本单位的代表建议"), "suggestions.inbox", order=42, visible=areas.role_is("unit"))
    _register_supervision(app, areas, _l)
    areas.demo_loader(app, _demo, order=50, name="suggestions")


def _register_supervision(app, areas, _l) -> None:
    """督 and 评 (issue 19): the leader's tile and count, the staff's and the units' plan counts."""
    from . import plans, supervision

    areas.workspace_tile(app, _l("我牵头督办的建议"), "suggestions.leader", order=43, visible=areas.role_is("leader"))
    areas.workspace_count(app, _l("督办中的重点建议"), "suggestions.leader", supervision.leader_open_count, order=4,
                          visible=areas.role_is("leader"))
    areas.workspace_tile(app, _l("督办与测评"), "suggestions.rating_page", order=44, visible=areas.has_role("staff"))
    areas.workspace_count(app, _l("交办超过 15 天未报办理方案"), "suggestions.plans_page", plans.staff_missing_plans,
                          order=32, visible=areas.has_role("staff"))
    areas.workspace_count(app, _l("逾期未完成的办理节点"), "suggestions.plans_page", plans.staff_overdue_milestones,
                          order=33, visible=areas.has_role("staff"))
    areas.workspace_count(app, _l("待报送的办理方案"), "suggestions.inbox", plans.unit_plans_due, order=22,
                          visible=areas.role_is("unit"))
    areas.workspace_count(app, _l("逾期未完成的办理节点"), "suggestions.inbox", plans.unit_overdue_milestones,
                          order=23, visible=areas.role_is("unit"))


def _demo(ctx) -> None:
    from .demo import demo

    demo(ctx.rng)
