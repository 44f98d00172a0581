"""Roster import (upload page) and export (.xlsx download)."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import audit
from ..core.downloads import XLSX, download
from ..core.errors import DomainError
from ..core.timeutil import local_today
from ..core.transaction import transaction
from . import roster, services
from .forms import RosterImportForm
from .roster import REQUIRED_HEADERS
from .views import _int_arg, bp


def _download(data: bytes, filename: str) -> Response:
    return download(data, filename, XLSX)


@bp.route("/deputies/import", methods=["GET", "POST"])
def roster_import():
    form = RosterImportForm()
    problems, error = [], None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = roster.import_roster(
                upload.read(), upload.filename or "", create_missing=form.create_missing.data,
                actor=current_user._get_current_object(),
            )
        except DomainError as exc:
            error, problems = exc.message, exc.problems
        else:
            flash(result.summary, "success")
            return redirect(url_for("registry.deputies", status="all"))
    elif request.method == "POST":
        error = _("请选择要导入的名册文件。")
    status = 422 if error else 200
    return render_template("registry/import.html", form=form, error=error, problems=problems[:500],
                           problem_count=len(problems), headers=REQUIRED_HEADERS), status


@bp.get("/deputies/export.xlsx")
def roster_export():
    statement = services.deputy_query(
        q=request.args.get("q", "").strip()[:64], level=request.args.get("level", ""),
        status=request.args.get("status", "serving"), station_id=_int_arg("station_id"),
        group_id=_int_arg("group_id"), area_id=_int_arg("area_id"),
    )
    data, count = roster.export_roster(statement, count=True)
    with transaction():  # the roster carries phone numbers: who exported how many is on record
        audit.record("export", "deputy", None, f"导出代表名册（{count} 人，含手机号码）",
                     actor=current_user._get_current_object())
    return _download(data, f"代表名册-{local_today().isoformat()}.xlsx")


@bp.get("/deputies/roster-template.xlsx")
def roster_template():
    return _download(roster.template_workbook(), "代表名册模板.xlsx")
