"""Registry: deputies, groups, stations, handling units, roster import and export."""
from __future__ import annotations


def register(app) -> None:
    """Blueprint, CLI, staff menu and workspace links, and the demo county's first loader."""
    from flask_babel import lazy_gettext as _l

    from ..core import areas
    from . import demo
    from .cli import registry_cli
    from .issuing_views import accounts_cli
    from .issuing_views import bp as issuing_bp
    from .views import bp

    staff = areas.has_role("staff")
    areas.area(app, "registry")
    app.register_blueprint(bp)
    app.register_blueprint(issuing_bp)
    app.cli.add_command(registry_cli)
    app.cli.add_command(accounts_cli)
    areas.menu_entry(app, _l("代表名册"), "registry.deputies", order=120, visible=staff)
    areas.menu_entry(app, _l("代表小组"), "registry.groups", order=130, visible=staff, more=True)
    areas.menu_entry(app, _l("站点管理"), "registry.stations", order=140, visible=staff, more=True)
    areas.workspace_tile(app, _l("代表名册"), "registry.deputies", order=10, visible=staff)
    areas.workspace_tile(app, _l("导入代表名册"), "registry.roster_import", order=11, visible=staff)
    areas.workspace_tile(app, _l("代表小组"), "registry.groups", order=12, visible=staff)
    areas.workspace_tile(app, _l("联络站（家、室、站、点）"), "registry.stations", order=13, visible=staff)
    areas.workspace_tile(app, _l("承办单位"), "registry.units", order=14, visible=staff)
    areas.workspace_tile(app, _l("行政区划"), "registry.areas", order=15, visible=staff)
    areas.workspace_tile(app, _l("批量开通账号"), "issuing.issue", order=17, visible=staff)
    areas.demo_loader(app, demo.load, order=10, name="registry")
