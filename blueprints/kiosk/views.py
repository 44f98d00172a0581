"""The station kiosk (/kiosk/<station_id>): no login, big type, today's duty deputies, the next reception
days, the latest notices, QR codes, and a message form on the screen itself. HTMX polls the home screen's
content; static/js/kiosk.js sends the screen home after KIOSK_IDLE_SECONDS without a touch. Everything
works as plain links and forms when JavaScript fails. No staff links, no way out of /kiosk/<id>."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..core.extensions import db, limiter
from ..core.flow import INVALID
from ..core.htmx import render_page
from ..core.timeutil import local_today
from ..registry.models import Deputy, Station
from ..stations import calendar as cal
from ..stations.forms import MessageForm
from ..stations.public import active_station_or_404, message_limit, submit_message

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


def _context(station: Station) -> dict:
    return {"station": station, "idle": current_app.config.get("KIOSK_IDLE_SECONDS", 90),
            "poll": current_app.config.get("KIOSK_POLL_SECONDS", 60)}


@bp.after_request
def _kiosk_headers(response):
    response.headers["Cache-Control"] = "no-store"  # a half-typed message never comes back from a cache
    return response


@bp.get("/<int:station_id>")
def home(station_id: int):
    station = active_station_or_404(station_id)
    today = local_today()
    upcoming = cal.upcoming_days(station.id, limit=4, today=today)
    on_duty = [d.deputy for rday in upcoming if rday.day == today and rday.status == "scheduled"
               for d in rday.duties]
    from ..noticeboard.services import public_notices_for_station

    notices = public_notices_for_station(station, limit=4)
    return render_page("kiosk/home.html", "kiosk/_content.html", upcoming=upcoming, on_duty=on_duty,
                       notices=notices, today=today,
                       rule_text=cal.rule_texts([station.id]).get(station.id), **_context(station))


@bp.route("/<int:station_id>/message", methods=["GET", "POST"])
@limiter.limit(message_limit, exempt_when=lambda: request.method != "POST")
def message(station_id: int):
    station = active_station_or_404(station_id)
    form = MessageForm()
    # On the kiosk the message goes to this station or one of its serving deputies.
    deputies = db.session.execute(select(Deputy.id, Deputy.name).where(
        Deputy.station_id == station.id, Deputy.ended_on.is_(None)).order_by(Deputy.sort_name, Deputy.id)).all()
    form.target.choices = [(f"s{station.id}", station.name)] + [(f"d{i}", f"{n}代表") for i, n in deputies]
    if request.method == "GET":
        form.target.data = f"s{station.id}"
    status = 200
    if form.validate_on_submit():
        if form.target.data not in {value for value, _label in form.target.choices}:
            form.target.errors = [_("请选择本站或本站代表。")]
            status = INVALID
        else:
            result = submit_message(form, "kiosk")
            if result is not None:
                session["kiosk_receipt"] = "" if result == "BOT" else result.receipt_code
                return redirect(url_for("kiosk.receipt", station_id=station.id), 303)
            status = INVALID
    elif request.method == "POST":
        status = INVALID
    return render_template("kiosk/message.html", form=form, **_context(station)), status


@bp.get("/<int:station_id>/receipt")
def receipt(station_id: int):
    station = active_station_or_404(station_id)
    code = session.pop("kiosk_receipt", None)
    if code is None:
        return redirect(url_for("kiosk.home", station_id=station.id))
    return render_template("kiosk/receipt.html", code=code, **_context(station))


@bp.get("/<int:station_id>/message-qr.svg")
def message_qr(station_id: int):
    """A QR code to leave a message from one's own phone (the public form, this station preselected)."""
    from ..core.qr import public_url, qr_response

    station = active_station_or_404(station_id)
    return qr_response(public_url("messages.new_message", station_id=station.id))
