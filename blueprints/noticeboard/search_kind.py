"""Notices in the site-wide search (core.search): title and text.

The public (and ``public_only``) see published notices only (not drafts, scheduled or taken down);
staff every notice, linked to its management page.
"""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core.search import Kind, register_kind
from .models import Notice
from .services import public_clause

COLUMNS = ("title", "body")


def scope(user, public_only: bool):
    if not public_only and user.has_role("staff"):
        return Notice.id.is_not(None)
    return public_clause()


def present(notice: Notice, public_only: bool):
    staff = not public_only and notice.status() != "published"
    url = (url_for("noticeboard.manage_notice", notice_id=notice.id) if staff
           else url_for("noticeboard.notice", notice_id=notice.id))
    return notice.title, notice.body, url


def register(app) -> None:
    register_kind(app, Kind("notice", _l("公示"), Notice, COLUMNS, scope, present, order=30))
