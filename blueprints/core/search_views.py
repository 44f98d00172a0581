"""The site-wide search page (/search/?q=): every kind the signed-in user may see, through core.search.
Plain GET works without JS; with HTMX the results follow the typing (the fragment only)."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required

from . import search as core_search
from .errors import DomainError
from .htmx import render_page

bp = Blueprint("search", __name__, url_prefix="/search")


@bp.get("/")
@login_required
def index():
    query = request.args.get("q", "")
    kind = request.args.get("kind", "")
    kinds = core_search.registered_kinds()
    chosen = [kind] if kind in {k.name for k in kinds} else None
    results, message, status = None, None, 200
    if query.strip():
        try:
            results = core_search.search(query, user=current_user._get_current_object(), kinds=chosen, limit=20)
        except DomainError as error:
            message, status = error.message, error.status
    elif "q" in request.args:
        message, status = core_search.empty_message(), 422
    response = render_page("core/search.html", "core/_search_results.html", query=query[:200], kind=kind,
                           kinds=kinds, results=results, message=message)
    return response, status


def register(app) -> None:
    from flask_babel import lazy_gettext as _l

    from . import areas

    app.register_blueprint(bp)
    areas.menu_entry(app, _l("搜索"), "search.index", order=95, visible=areas.has_role("staff"))
    areas.workspace_tile(app, _l("全文搜索"), "search.index", order=1, visible=areas.signed_in)
