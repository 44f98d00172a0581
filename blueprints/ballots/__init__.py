"""民生实事项目票决: candidate collection, meetings with check-in, ballots, tally, projects."""
from __future__ import annotations


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from . import pass_views
    from .notice_views import bp as notices_bp
    from .views import bp

    clerk_or_staff = areas.has_role("clerk", "staff")
    areas.area(app, "ballots")
    app.register_blueprint(bp)
    pass_views.register(app)
    app.register_blueprint(notices_bp)
    areas.menu_entry(app, _l("民生实事"), "ballots.livelihood_home", order=40)
    areas.menu_entry(app, _l("会议票决"), "ballots.meetings", order=110, visible=clerk_or_staff,
                     more=areas.has_role("staff"))  # the clerk's daily page; staff's now and then
    areas.workspace_tile(app, _l("会议签到与表决"), "ballots.meetings", order=30, visible=clerk_or_staff)
    from .meetings import open_ballot_for

    areas.workspace_count(app, _l("项表决正在进行，去投票"), "ballots.vote", open_ballot_for, order=1, big=True,
                          visible=areas.role_is("deputy"))
    from .notices import notices_waiting_for

    areas.workspace_count(app, _l("份会议通知待回执"), "notices.mine", notices_waiting_for, order=2,
                          visible=areas.role_is("deputy"))
    areas.workspace_tile(app, _l("常委会、小组活动与述职通知"), "notices.occasions_list", order=32,
                         visible=areas.has_role("staff"))
    areas.workspace_tile(app, _l("民生实事项目征集"), "ballots.proposals", order=31, visible=areas.has_role("staff"))
    areas.demo_loader(app, _demo, order=40, name="ballots")


def _demo(ctx) -> None:
    from .demo import demo

    demo()
