"""Public pages of the stations area (no login): leave a message, track it by receipt code and rate the
answer, the station's .ics calendar feed and the printable month sheet (上墙)."""
from __future__ import annotations

import calendar as pycal
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from ..core import cases
from ..core.errors import attach_to_form
from ..core.extensions import db, limiter
from ..core.flow import INVALID, run_action
from ..core.htmx import is_htmx
from ..core.pagination import MAX_ID, int_arg, parse_positive_int
from ..core.timeutil import local_today
from ..registry.models import Deputy, Station
from . import calendar as cal
from . import services
from .forms import MessageForm, RateForm, TrackForm
from .models import WEEKDAYS

bp = Blueprint("messages", __name__)


def message_limit() -> str:
    return current_app.config.get("MESSAGE_RATE_LIMIT", "10 per hour")


def track_limit() -> str:
    return current_app.config.get("TRACK_RATE_LIMIT", "30 per hour")


def _only_posts() -> bool:
    return request.method != "POST"


DEPUTY_MATCHES = 30  # deputies offered for a name typed into the search


def _deputy_label(deputy: Deputy) -> str:
    """A deputy as the public tells them apart: name, level, township (two called 卢浩 differ here)."""
    where = deputy.area.name if deputy.area else (deputy.constituency or "")
    return _("%(n)s代表（%(l)s%(w)s）", n=deputy.name, l=deputy.level_label, w=f"，{where}" if where else "")


def search_deputies(q: str, limit: int = DEPUTY_MATCHES) -> list[Deputy]:
    """Serving deputies whose name contains q (the message form's search, with or without JavaScript)."""
    q = (q or "").strip()[:32]
    if not q:
        return []
    from sqlalchemy.orm import joinedload

    return db.session.scalars(
        select(Deputy).where(Deputy.ended_on.is_(None), Deputy.name.contains(q, autoescape=True))
        .options(joinedload(Deputy.area)).order_by(Deputy.sort_name, Deputy.id).limit(limit)).all()


def _targets(deputy_id: int | None, q: str = "") -> dict[str, list[tuple[str, str]]]:
    """The choices, nothing chosen unless the visitor came from a deputy's or a station's page: a blank
    first option, every active station, and the deputies (the one from the link or the posted form,
    and those whose name matches the search)."""
    stations = db.session.execute(select(Station.id, Station.name).where(Station.active).order_by(Station.name)).all()
    deputies = search_deputies(q)
    if deputy_id:
        deputy = db.session.get(Deputy, deputy_id)
        if deputy and deputy.ended_on is None and deputy not in deputies:
            deputies.insert(0, deputy)
    choices = {"": [("", _("请选择联络站或代表"))], _("联络站"): [(f"s{sid}", name) for sid, name in stations]}
    if deputies:
        choices[_("人大代表")] = [(f"d{d.id}", _deputy_label(d)) for d in deputies]
    return choices


def resolve_target(value: str | None):
    """'s12' → (station, None); 'd7' → (None, deputy); anything else → (None, None)."""
    value = value or ""
    if len(value) < 2 or value[0] not in "sd" or not value[1:].isascii() or not value[1:].isdigit():
        return None, None
    ident = int(value[1:])
    if not 0 < ident <= MAX_ID:
        return None, None
    if value[0] == "s":
        station = db.session.get(Station, ident)
        return (station if station and station.active else None), None
    deputy = db.session.get(Deputy, ident)
    return None, (deputy if deputy and deputy.ended_on is None else None)


def submit_message(form: MessageForm, source: str):
    """Shared by /messages/new and the kiosk: the honeypot, the target, the service."""
    if form.website.data:
        # A bot filled the hidden field: answer as if it worked, store nothing.
        return "BOT"
    station, deputy = resolve_target(form.target.data)
    if station is None and deputy is None:
        form.target.errors = [*form.target.errors, _("请选择要留言的联络站或代表。")]
        return None
    case, error = run_action(lambda: services.leave_message(
        station=station, deputy=deputy, body=form.body.data, phone=form.phone.data, name=form.name.data,
        source=source, sms_consent=bool(form.sms_consent.data)))
    if error is not None:
        attach_to_form(form, error, "body")
    return case


@bp.route("/messages/new", methods=["GET", "POST"])
@limiter.limit(message_limit, exempt_when=_only_posts)
def new_message():
    station_id, deputy_id = int_arg("station_id"), int_arg("deputy_id")
    posted = request.form.get("target", "")
    if posted.startswith("d"):  # the form keeps the deputy it was posted with
        deputy_id = parse_positive_int(posted[1:])
    q = request.args.get("q", "").strip()[:32]
    form = MessageForm()
    form.target.choices = _targets(deputy_id, q)
    if request.method == "GET":  # chosen only when the visitor came from that deputy's or station's page
        form.target.data = f"d{deputy_id}" if deputy_id else (f"s{station_id}" if station_id else "")
    if is_htmx() and request.method == "GET" and request.args.get("part") == "target":
        return render_template("stations/_message_target.html", form=form, q=q)
    status = 200
    if form.validate_on_submit():
        result = submit_message(form, "message")
        if result is not None:
            session["receipt"] = "" if result == "BOT" else result.receipt_code
            return redirect(url_for("messages.sent"), 303)
        status = INVALID
    elif request.method == "POST":
        status = INVALID
    return render_template("stations/message_new.html", form=form, q=q), status


@bp.get("/messages/sent")
def sent():
    code = session.pop("receipt", None)
    kind = session.pop("receipt_kind", "message")
    if code is None:
        return redirect(url_for("messages.track"))
    return render_template("stations/message_sent.html", code=code, kind=kind)


@bp.route("/messages/track", methods=["GET", "POST"])
@limiter.limit(track_limit, exempt_when=_only_posts)
def track():
    """Only status, dates and the public answer, for a valid code; the same "not found" for a wrong and a
    malformed code. POST only, so codes stay out of addresses and logs."""
    form = TrackForm()
    rate = RateForm(prefix="rate")
    case, proposal, status = None, None, 200
    if form.validate_on_submit():
        case = cases.find_by_receipt(form.code.data)
        if case is None:  # a livelihood proposal's receipt (the ballots area's service)
            from ..ballots.proposals import find_by_receipt, public_progress

            found = find_by_receipt(form.code.data)
            proposal = public_progress(found) if found else None
        if case is None and proposal is None:
            form.code.errors = [*form.code.errors, _("没有找到这个回执码对应的留言，请核对后再试。")]
            status = 404
    elif request.method == "POST":
        status = INVALID
    return render_template("stations/track.html", form=form, case=case, proposal=proposal, rate=rate,
                           **_tracked(case)), status


def _tracked(case) -> dict:
    """What the tracking page shows of a case: the steps, to whom it went and the expected reply date."""
    if case is None:
        return {"timeline": []}
    return {"timeline": services.public_timeline(case), "recipient": services.message_recipient(case),
            "expected": services.expected_reply_date(case)}


@bp.post("/messages/rate")
@limiter.limit(track_limit)
def rate_message():
    form = RateForm(prefix="rate")
    case = cases.find_by_receipt(form.code.data) if form.validate_on_submit() else None
    if case is None:
        flash(_("没有找到这个回执码对应的留言，请核对后再试。"), "error")
        return redirect(url_for("messages.track"), 303)
    _rating, error = run_action(lambda: cases.rate_case(case, form.rating.data, note=form.note.data))
    if error is not None:
        flash(error.message, "error")
        return render_template("stations/track.html", form=TrackForm(code=case.receipt_code), case=case,
                               rate=form, **_tracked(case)), error.status
    flash(_("感谢您的评价。"), "success")
    return render_template("stations/track.html", form=TrackForm(code=case.receipt_code), case=case,
                           rate=RateForm(prefix="rate"), **_tracked(case))


# ---- the station's published rota --------------------------------------------------------------

def active_station_or_404(station_id: int) -> Station:
    """An active station, else 404 (the station's public pages and its kiosk)."""
    if not 0 < station_id <= MAX_ID:
        abort(404)
    station = db.session.get(Station, station_id)
    if station is None or not station.active:
        abort(404)
    return station


@bp.get("/stations/<int:station_id>/rota.ics")
def rota_ics(station_id: int):
    station = active_station_or_404(station_id)
    today = local_today()
    days = cal.days_between(station.id, date(today.year, today.month, 1), date(today.year + 1, 12, 31))
    from urllib.parse import urlsplit

    from ..core.qr import public_base

    body = cal.ics_calendar(station, days, urlsplit(public_base()).netloc)  # never the request's Host
    from ..core.downloads import download

    return download(body, f"station-{station.id}.ics", "text/calendar", inline=True, cache="public, max-age=600")


@bp.get("/stations/<int:station_id>/rota/print")
def rota_print(station_id: int):
    """The month sheet for the station's wall (A4, print stylesheet)."""
    station = active_station_or_404(station_id)
    raw = request.args.get("month", "")
    today = local_today()
    try:
        year, month = (int(x) for x in raw.split("-")) if raw else (today.year, today.month)
        date(year, month, 1)
    except ValueError:
        abort(404)
    if not 2000 <= year <= 2100:
        abort(404)
    days = cal.days_between(station.id, date(year, month, 1), date(year, month, pycal.monthrange(year, month)[1]))
    return render_template("stations/rota_print.html", station=station, year=year, month=month, days=days,
                           WEEKDAYS=WEEKDAYS)
