"""Suggestions in the site-wide search (core.search): 案由, 案据 and 方案.

Who sees which: the public (and ``public_only``) registered suggestions only (PUBLIC_STATUSES: no
drafts, nothing submitted or returned); staff every suggestion but others' drafts; everyone else the
public ones plus their own (the lead deputy). Answers are not searched (a withheld reply stays hidden).
"""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_

from ..core.search import Kind, register_kind
from .models import PUBLIC_STATUSES, Suggestion

COLUMNS = ("title", "grounds", "proposal")


def scope(user, public_only: bool):
    public = Suggestion.status.in_(PUBLIC_STATUSES)
    if public_only:
        return public
    deputy_id = getattr(user, "deputy_id", None)
    own = Suggestion.lead_deputy_id == deputy_id if deputy_id else None
    if user.has_role("staff"):
        return or_(Suggestion.status != "draft", own) if own is not None else Suggestion.status != "draft"
    return or_(public, own) if own is not None else public


def present(item: Suggestion, public_only: bool):
    number = f"第 {item.number} 号 " if item.number else ""
    url = (url_for("suggestions.public_detail", suggestion_id=item.id) if public_only
           else url_for("suggestions.work", suggestion_id=item.id))
    return f"{number}{item.title}", f"{item.grounds} {item.proposal}", url


def register(app) -> None:
    register_kind(app, Kind("suggestion", _l("代表建议"), Suggestion, COLUMNS, scope, present, order=10))
