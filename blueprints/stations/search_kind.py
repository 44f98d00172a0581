"""群众诉求 and 社情民意 cases in the site-wide search (core.search): title and text.

Never public (a case carries a constituent's words; the public tracks their own by receipt code), so
``public_only`` shows none. Signed in, the same rows as the case list (cases_views.visible_cases): staff
all, a liaison their station's, a unit those assigned to it, a deputy those they raised; the cases that
carry a suggestion are searched as suggestions.
"""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, select

from ..core.cases import Case, CaseAssignment
from ..core.search import Kind, register_kind

COLUMNS = ("title", "body")


def scope(user, public_only: bool):
    if public_only:
        return None
    base = Case.source != "suggestion"
    if user.has_role("staff"):
        return base
    if user.role == "liaison" and user.station_id:
        return base & (Case.station_id == user.station_id)
    if user.role == "unit" and user.unit_id:
        return base & Case.id.in_(select(CaseAssignment.case_id).where(CaseAssignment.unit_id == user.unit_id))
    if user.role == "deputy" and user.deputy_id:
        return base & (Case.deputy_id == user.deputy_id)
    return false()


def present(case: Case, public_only: bool):
    return case.title, case.body, url_for("cases.detail", case_id=case.id)


def register(app) -> None:
    register_kind(app, Kind("case", _l("群众诉求"), Case, COLUMNS, scope, present, order=20))
