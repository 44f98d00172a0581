"""Roster import (upload) and export routes."""
from flask import abort

from .views import bp


@bp.route("/deputies/import", methods=["GET", "POST"])
def roster_import():
    abort(404)


@bp.get("/deputies/export.xlsx")
def roster_export():
    abort(404)
