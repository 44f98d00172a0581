"""Station work pages (liaison and staff): the reception rule, the year's calendar, the month view with
HTMX rota cells, moving/cancelling/themed days, reception records, statistics, publication."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.errors import attach_to_form
from ..core.extensions import db
from ..core.flow import INVALID, run_action, run_form
from ..core.htmx import is_htmx, render_page
from ..core.models import Area
from ..core.pagination import MAX_ID, int_arg
from ..core.permissions import role_required
from ..core.timeutil import LOCAL_TZ, local_today
from ..registry.models import Deputy, Station
from . import calendar as cal
from . import services
from .forms import (
    CancelDayForm,
    DutyForm,
    GenerateForm,
    MoveDayForm,
    ReceptionForm,
    RuleForm,
    ThemedDayForm,
)
from .models import CATEGORIES, WEEKDAYS, ReceptionDay, ReceptionRule

bp = Blueprint("stations", __name__, url_prefix="/station-work")


@bp.app_template_global()
def upcoming_duties_for(deputy_id):
    """The deputy's own upcoming duty (workspace)."""
    return cal.deputy_upcoming_duties(deputy_id) if deputy_id else []


def _user():
    return current_user._get_current_object()


def _station(station_id: int) -> Station:
    if not 0 < station_id <= MAX_ID:
        abort(404)
    station = db.session.get(Station, station_id) or abort(404)
    if not services.can_run_station(current_user, station.id):
        abort(403)
    return station


def _day(day_id: int) -> ReceptionDay:
    if not 0 < day_id <= MAX_ID:
        abort(404)
    rday = db.session.get(ReceptionDay, day_id) or abort(404)
    if not services.can_run_station(current_user, rday.station_id):
        abort(403)
    return rday


def _month_arg() -> tuple[int, int]:
    raw = request.args.get("month", "")
    try:
        year, month = (int(x) for x in raw.split("-")) if raw else (local_today().year, local_today().month)
        date(year, month, 1)
    except ValueError:
        abort(404)
    if not 2000 <= year <= 2100:
        abort(404)
    return year, month


def _station_deputies(station: Station, day: date | None = None) -> list[Deputy]:
    stmt = select(Deputy).where(Deputy.station_id == station.id).order_by(Deputy.sort_name, Deputy.id)
    rows = db.session.scalars(stmt).all()
    return [d for d in rows if d.ended_on is None or (day is not None and d.ended_on > day)]


@bp.get("/")
@role_required("liaison", "staff")
def index():
    if current_user.role == "liaison":
        if current_user.station_id is None:
            abort(403)
        return redirect(url_for("stations.month", station_id=current_user.station_id))
    stations = db.session.scalars(select(Station).where(Station.active).options(joinedload(Station.area))
                                  .order_by(Station.name)).all()
    rules = {r.station_id: r for r in db.session.scalars(select(ReceptionRule))}
    return render_template("stations/index.html", stations=stations, rules=rules)


# ---- rule and generation -----------------------------------------------------------------------

@bp.route("/<int:station_id>/rule", methods=["GET", "POST"])
@role_required("liaison", "staff")
def rule(station_id: int):
    station = _station(station_id)
    current = db.session.scalar(select(ReceptionRule).where(ReceptionRule.station_id == station.id))
    form = RuleForm(obj=current)
    generate = GenerateForm(year=local_today().year)

    def save(f):
        return cal.set_rule(station, {"kind": f.kind.data, "month_days": f.month_days.data, "nth": f.nth.data,
                                      "weekday": f.weekday.data, "start_time": f.start_time.data,
                                      "end_time": f.end_time.data, "deputies_per_day": f.deputies_per_day.data},
                            by=_user())

    return run_form(form, save, success=_("接待日规则已保存。"),
                    redirect_to=url_for("stations.rule", station_id=station.id),
                    render=lambda status: (render_template("stations/rule.html", station=station, form=form,
                                                           rule=current, generate=generate), status),
                    field="kind")


@bp.post("/<int:station_id>/generate")
@role_required("liaison", "staff")
def generate(station_id: int):
    station = _station(station_id)
    form = GenerateForm()
    if not form.validate_on_submit():
        flash(_("年份不正确。"), "error")
        return redirect(url_for("stations.rule", station_id=station.id), 303)
    result, error = run_action(lambda: cal.generate_year(station, form.year.data, by=_user()))
    if error is not None:
        flash(error.message, "error")
        return redirect(url_for("stations.rule", station_id=station.id), 303)
    flash(_("已生成接待日 %(d)d 个，排班 %(n)d 人次。", d=result["days"], n=result["duties"]), "success")
    return redirect(url_for("stations.month", station_id=station.id, month=f"{form.year.data}-01"), 303)


# ---- the month calendar and rota cells ---------------------------------------------------------

@bp.get("/<int:station_id>/calendar")
@role_required("liaison", "staff")
def month(station_id: int):
    station = _station(station_id)
    year, mon = _month_arg()
    grid = cal.month_grid(year, mon)
    first = next(d for week in grid for d in week if d)
    last = [d for week in grid for d in week if d][-1]
    days = cal.days_between(station.id, first, last)
    by_date: dict[date, list[ReceptionDay]] = {}
    for rday in days:
        by_date.setdefault(rday.day, []).append(rday)
    prev_month = f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"
    next_month = f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"
    return render_template("stations/month.html", station=station, year=year, mon=mon, grid=grid, by_date=by_date,
                           prev_month=prev_month, next_month=next_month, WEEKDAYS=WEEKDAYS, today=local_today(),
                           rule=db.session.scalar(select(ReceptionRule).where(ReceptionRule.station_id == station.id)))


@bp.route("/days/<int:day_id>/duty", methods=["GET", "POST"])
@role_required("liaison", "staff")
def duty(day_id: int):
    """The rota cell: a checkbox list of the station's deputies. HTMX swaps the cell in place; a refusal
    (a deputy already on duty at another station that day: 409) answers the cell's form again with the
    message, which htmx swaps in like a success (core.web HTMX_CONFIG)."""
    rday = _day(day_id)
    form = DutyForm(data={"deputy_ids": [d.deputy_id for d in rday.duties]} if request.method == "GET" else None)
    form.deputy_ids.choices = [(d.id, d.name) for d in _station_deputies(rday.station, rday.day)]
    status = 200
    if form.validate_on_submit():
        _result, error = run_action(lambda: cal.set_duty(rday, form.deputy_ids.data or [], by=_user()))
        if error is None:
            if is_htmx():
                return render_template("stations/_day_cell.html", rday=rday, today=local_today())
            flash(_("值班安排已保存。"), "success")
            return redirect(url_for("stations.month", station_id=rday.station_id,
                                    month=f"{rday.day.year}-{rday.day.month:02d}"), 303)
        attach_to_form(form, error, "deputy_ids")
        status = error.status
    elif request.method == "POST":
        status = INVALID
    return render_page("stations/duty.html", "stations/_duty_form.html", rday=rday, form=form), status


@bp.get("/days/<int:day_id>/cell")
@role_required("liaison", "staff")
def day_cell(day_id: int):
    return render_template("stations/_day_cell.html", rday=_day(day_id), today=local_today())


@bp.get("/days/<int:day_id>")
@role_required("liaison", "staff")
def day(day_id: int):
    rday = _day(day_id)
    return _render_day(rday, MoveDayForm(), CancelDayForm())


def _render_day(rday: ReceptionDay, move, cancel, status: int = 200):
    return render_template("stations/day.html", rday=rday, move=move, cancel=cancel, today=local_today(),
                           served=services.served_deputy_ids(rday)), status


@bp.post("/days/<int:day_id>/served")
@role_required("liaison", "staff")
def served(day_id: int):
    """值班到岗: the rostered deputies who served get the day in their duty record."""
    rday = _day(day_id)
    ids = [int(x) for x in request.form.getlist("deputy_ids") if x.isascii() and x.isdigit() and len(x) < 10]
    added, error = run_action(lambda: services.confirm_duty_served(rday, ids, by=_user()))
    if error is not None:
        flash(error.message, "error")
        return _render_day(rday, MoveDayForm(), CancelDayForm(), error.status)
    flash(_("已确认 %(n)d 名代表值班到岗，计入履职登记。", n=added), "success")
    return redirect(url_for("stations.day", day_id=rday.id), 303)


@bp.post("/days/<int:day_id>/move")
@role_required("liaison", "staff")
def move(day_id: int):
    rday = _day(day_id)
    form = MoveDayForm()
    return run_form(form, lambda f: cal.move_day(rday, f.day.data, f.note.data, by=_user()),
                    success=_("接待日已调整，公开说明已更新。"), redirect_to=url_for("stations.day", day_id=day_id),
                    render=lambda status: _render_day(rday, form, CancelDayForm(), status), field="day")


@bp.post("/days/<int:day_id>/cancel")
@role_required("liaison", "staff")
def cancel(day_id: int):
    rday = _day(day_id)
    form = CancelDayForm()
    return run_form(form, lambda f: cal.cancel_day(rday, f.note.data, by=_user()),
                    success=_("接待日已取消。"), redirect_to=url_for("stations.day", day_id=day_id),
                    render=lambda status: _render_day(rday, MoveDayForm(), form, status), field="note")


@bp.route("/<int:station_id>/themed", methods=["GET", "POST"])
@role_required("liaison", "staff")
def themed(station_id: int):
    station = _station(station_id)
    form = ThemedDayForm()

    def add(f):
        return cal.add_themed_day(station, {"day": f.day.data, "start_time": f.start_time.data,
                                            "end_time": f.end_time.data, "theme": f.theme.data,
                                            "invited": f.invited.data, "note": f.note.data}, by=_user())

    return run_form(form, add, success=_("主题接待已安排。"),
                    redirect_to=lambda rday: url_for("stations.day", day_id=rday.id),
                    render=lambda status: (render_template("stations/themed.html", station=station, form=form),
                                           status),
                    field="theme")


@bp.post("/<int:station_id>/publish")
@role_required("liaison", "staff")
def publish(station_id: int):
    station = _station(station_id)
    year, mon = _month_arg()
    _notice, error = run_action(lambda: cal.publish_month(station, year, mon, by=_user()))
    if error is not None:
        flash(error.message, "error")
    else:
        flash(_("%(y)d年%(m)d月接待安排已在公示栏发布。", y=year, m=mon), "success")
    return redirect(url_for("stations.month", station_id=station.id, month=f"{year}-{mon:02d}"), 303)


# ---- reception records -------------------------------------------------------------------------

@bp.route("/<int:station_id>/receptions", methods=["GET", "POST"])
@role_required("liaison", "staff")
def receptions(station_id: int):
    station = _station(station_id)
    today = local_today()
    form = ReceptionForm()
    form.deputy_ids.choices = [(d.id, d.name) for d in _station_deputies(station, today)]
    if request.method == "GET":  # today's duty deputies are ticked already
        todays = cal.days_between(station.id, today, today, include_cancelled=False)
        form.deputy_ids.data = [d.deputy_id for rday in todays for d in rday.duties]

    def record(f):
        # a record entered afterwards from paper names its own time (local); else it is now
        visited_at = f.visited_at.data.replace(tzinfo=LOCAL_TZ) if f.visited_at.data else None
        day = visited_at.date() if visited_at else today
        on_day = cal.days_between(station.id, day, day, include_cancelled=False)
        return services.record_reception(station, {
            "category": f.category.data, "summary": f.summary.data, "deputy_ids": f.deputy_ids.data,
            "consent": f.consent.data, "visitor_name": f.visitor_name.data,
            "visitor_phone": f.visitor_phone.data, "answered_on_spot": f.answered_on_spot.data,
            "spot_answer": f.spot_answer.data, "follow_up": f.follow_up.data, "visited_at": visited_at,
            "reception_day_id": on_day[0].id if on_day else None}, by=_user())

    def saved(visit) -> str:
        if visit.case_id:
            return _("接待记录已保存，已转为待办件（第 %(id)d 号）。", id=visit.case_id)
        return _("接待记录已保存。")

    def render(status: int):
        visits = services.receptions_for(station.id, date(today.year, today.month, 1), today)
        return render_template("stations/receptions.html", station=station, form=form, visits=visits,
                               CATEGORIES=CATEGORIES), status

    return run_form(form, record, success=saved, redirect_to=url_for("stations.receptions", station_id=station.id),
                    render=render, field="summary")


# ---- statistics --------------------------------------------------------------------------------

def _stats_args():
    year = int_arg("year") or local_today().year
    if not 2000 <= year <= 2100:
        abort(404)
    station_id, area_id = int_arg("station_id"), int_arg("area_id")
    if current_user.role == "liaison":
        station_id, area_id = current_user.station_id, None
        if station_id is None:
            abort(403)
    return year, station_id, area_id


@bp.get("/stats")
@role_required("liaison", "staff")
def stats():
    year, station_id, area_id = _stats_args()
    data = services.station_stats(year, station_id=station_id, area_id=area_id)
    charts = {label: services.bar_chart_svg(data["months"], key, label) for key, label in
              (("visits", _("接待人次")), ("cases", _("形成待办件")), ("answered", _("已答复")))}
    townships = db.session.scalars(select(Area).where(Area.kind == "township").order_by(Area.name)).all()
    stations = db.session.scalars(select(Station).order_by(Station.name)).all() \
        if current_user.has_role("staff") else []
    return render_template("stations/stats.html", data=data, charts=charts, year=year, station_id=station_id,
                           area_id=area_id, townships=townships, stations=stations)


@bp.get("/stats.xlsx")
@role_required("liaison", "staff")
def stats_xlsx():
    year, station_id, area_id = _stats_args()
    data = services.station_stats(year, station_id=station_id, area_id=area_id)
    body = services.stats_xlsx(data, _("%(y)d年联络站接待统计", y=year))
    from ..core.downloads import XLSX, download

    return download(body, f"stations-{year}.xlsx", XLSX)


@bp.post("/stats/publish")
@role_required("liaison", "staff")
def stats_publish():
    year, station_id, _area_id = _stats_args()
    station = db.session.get(Station, station_id) if station_id else None
    _notice, error = run_action(lambda: services.publish_stats(year, by=_user(), station=station))
    if error is not None:
        flash(error.message, "error")
    else:
        flash(_("接待工作情况已在公示栏发布。"), "success")
    return redirect(url_for("stations.stats", year=year, station_id=station_id or None), 303)


__all__ = ["bp", "LOCAL_TZ"]
