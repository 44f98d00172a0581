"""Reception records, messages from the public, and the station statistics. Cases are opened and moved
through blueprints/core/cases.py; this module only adds what is particular to stations."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import areas, audit, cases
from ..core.cases import CONSTITUENT_SOURCES, Case, CaseAssignment, CaseRating
from ..core.errors import Conflict, DomainError, Forbidden
from ..core.extensions import db
from ..core.timeutil import LOCAL_TZ, local_today, to_local, utcnow
from ..core.transaction import transactional
from ..registry.models import Deputy, Station
from .models import CATEGORIES, Reception, ReceptionDay

MAX_MESSAGE = 2_000
MAX_SUMMARY = 5_000
# Mainland mobile (1[3-9] + 9 digits) or a landline with area code (0xx-xxxxxxx[x]).
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def clean_phone(raw: str | None, field: str = "phone") -> str | None:
    phone = re.sub(r"[\s]", "", raw or "")
    if not phone:
        return None
    if not PHONE_RE.match(phone):
        raise DomainError(_("“%(p)s”不是有效的电话号码（手机 11 位，座机请带区号）。", p=phone[:20]), field=field)
    return phone


def can_run_station(user, station_id: int | None) -> bool:
    """Staff everywhere; a liaison only at their own station."""
    if user is None or not user.is_authenticated:
        return False
    return user.has_role("staff") or (user.role == "liaison" and station_id is not None
                                      and user.station_id == station_id)


# ---- reception records -------------------------------------------------------------------------

@transactional
def record_reception(station: Station, values: dict, *, by) -> Reception:
    """Record one visit. values: category, summary, deputy_ids, consent, visitor_name, visitor_phone,
    answered_on_spot, spot_answer, follow_up (opens a case), reception_day_id. One unit of work: the
    visit, the deputies' duty activities and the case commit together or not at all."""
    if not can_run_station(by, station.id):
        raise Forbidden(_("您只能记录本站的接待。"))
    category = values.get("category")
    if category not in CATEGORIES:
        raise DomainError(_("请选择反映问题的类别。"), field="category")
    summary = (values.get("summary") or "").strip()
    if not summary:
        raise DomainError(_("请填写群众反映的内容。"), field="summary")
    if len(summary) > MAX_SUMMARY:
        raise DomainError(_("内容不能超过 %(n)d 个字符。", n=MAX_SUMMARY), field="summary")
    consent = bool(values.get("consent"))
    name = (values.get("visitor_name") or "").strip()[:32] or None
    phone = clean_phone(values.get("visitor_phone"), "visitor_phone")
    if (name or phone) and not consent:
        raise DomainError(_("记录群众姓名或电话须经本人同意，请勾选“本人同意留下联系方式”。"), field="consent")
    deputy_ids = list(dict.fromkeys(values.get("deputy_ids") or []))
    deputies = db.session.scalars(select(Deputy).where(Deputy.id.in_(deputy_ids))).all() if deputy_ids else []
    if len(deputies) != len(deputy_ids):
        raise DomainError(_("所选接待代表不存在。"), field="deputy_ids")
    on_spot = bool(values.get("answered_on_spot"))
    follow_up = bool(values.get("follow_up"))
    if on_spot and follow_up:
        raise DomainError(_("当场答复的事项无需转为待办件；需要交办的请不要勾选“当场答复”。"), field="follow_up")
    visited_at = values.get("visited_at")
    if visited_at is not None:
        if visited_at.tzinfo is None:
            raise DomainError(_("接待时间不正确。"), field="visited_at")
        if visited_at > utcnow() + timedelta(minutes=5):
            raise DomainError(_("接待时间不能晚于现在。"), field="visited_at")
        if visited_at < utcnow() - timedelta(days=366):
            raise DomainError(_("只能补录一年以内的接待。"), field="visited_at")
    rday_id = values.get("reception_day_id")
    if rday_id and db.session.scalar(select(ReceptionDay.station_id).where(ReceptionDay.id == rday_id)) \
            != station.id:
        raise DomainError(_("接待日不属于本站。"), field="reception_day_id")
    visit = Reception(station_id=station.id, reception_day_id=rday_id or None, category=category, summary=summary,
                      consent=consent, visitor_name=name if consent else None,
                      visitor_phone=phone if consent else None, answered_on_spot=on_spot,
                      spot_answer=(values.get("spot_answer") or "").strip()[:MAX_SUMMARY] or None,
                      recorded_by_id=by.id, deputies=list(deputies), visited_at=visited_at or utcnow())
    db.session.add(visit)
    db.session.flush()
    audit.record("create", "reception", visit.id, f"{station.name}接待记录：{CATEGORIES[category]}", actor=by)
    _record_reception_duty(station, visit, by)
    if follow_up:
        title = summary.splitlines()[0][:60]
        case = cases.open_case("reception", title, summary, by=by, category=category, station=station,
                               contact_name=visit.visitor_name, contact_phone=visit.visitor_phone)
        visit.case_id = case.id
    return visit


def _reception_ref(station_id: int, day: date) -> str:
    # One duty activity per deputy, station and day, whether it came from a visit or a served duty.
    return f"reception:{station_id}:{day.isoformat()}"


def _record_reception_duty(station: Station, visit: Reception, by) -> None:
    """Receiving constituents is a duty activity (接待选民): one per deputy, station and day however many
    visitors came, recorded in this transaction through the duties service."""
    from ..duties.services import record_activity

    day = to_local(visit.visited_at).date()
    for deputy in visit.deputies:
        record_activity(deputy.id, "reception", day, f"在{station.name}接待选民", source="stations",
                        source_ref=_reception_ref(station.id, day), place=station.name, actor=by)


def served_deputy_ids(rday: ReceptionDay) -> set[int]:
    """Deputies whose reception duty that day is already in their duty record."""
    from ..duties.services import recorded_deputy_ids

    return recorded_deputy_ids("stations", _reception_ref(rday.station_id, rday.day))


@transactional
def confirm_duty_served(rday: ReceptionDay, deputy_ids: list[int], *, by) -> int:
    """The liaison confirms who was actually on duty (到岗) on a past or present reception day: each
    gets the day's 接待选民 duty activity, even if no constituent came. Returns how many were added."""
    from ..duties.services import record_activity

    if not can_run_station(by, rday.station_id):
        raise Forbidden(_("您只能确认本站的值班。"))
    if rday.status != "scheduled":
        raise Conflict(_("已取消的接待日不能确认到岗。"), field="deputy_ids")
    if rday.day > local_today():
        raise Conflict(_("接待日还没到，不能确认到岗。"), field="deputy_ids")
    ids = set(deputy_ids)
    if not ids:
        raise DomainError(_("请选择到岗的值班代表。"), field="deputy_ids")
    rostered = {d.deputy_id: d.deputy for d in rday.duties}
    if not ids <= rostered.keys():
        raise DomainError(_("所选代表不在当天的值班表上，请先排班。"), field="deputy_ids")
    new = sorted(ids - served_deputy_ids(rday))
    station = rday.station
    for deputy_id in new:
        record_activity(deputy_id, "reception", rday.day, f"在{station.name}值班接待选民", source="stations",
                        source_ref=_reception_ref(station.id, rday.day), place=station.name, actor=by)
    if new:
        names = "、".join(rostered[i].name for i in new)
        audit.record("served", "duty", rday.id, f"{station.name} {rday.day.isoformat()} 值班到岗：{names}", actor=by)
    return len(new)


def receptions_for(station_id: int, start: date, end: date) -> list[Reception]:
    from sqlalchemy.orm import selectinload

    lo = datetime.combine(start, datetime.min.time(), LOCAL_TZ)
    hi = datetime.combine(end, datetime.max.time(), LOCAL_TZ)
    return db.session.scalars(
        select(Reception).where(Reception.station_id == station_id, Reception.visited_at >= lo,
                                Reception.visited_at <= hi)
        .options(selectinload(Reception.deputies), selectinload(Reception.case))
        .order_by(Reception.visited_at.desc())).all()


# ---- messages from the public ------------------------------------------------------------------

@transactional
def leave_message(*, station: Station | None, deputy: Deputy | None, body: str, phone: str | None = None,
                  name: str | None = None, source: str = "message", sms_consent: bool = False) -> Case:
    """A message for a station or a deputy, without an account. Returns the case (its receipt_code).
    One unit of work (on SQLite it takes the write lock first: a burst of messages queues, none fails)."""
    if station is None and deputy is None:
        raise DomainError(_("请选择要留言的联络站或代表。"), field="station_id")
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise DomainError(_("请填写留言内容。"), field="body")
    if len(body) > MAX_MESSAGE:
        raise DomainError(_("留言不能超过 %(n)d 个字符（现有 %(m)d 个）。", n=MAX_MESSAGE, m=len(body)),
                          field="body")
    phone = clean_phone(phone)
    name = (name or "").strip()[:32] or None
    if station is None and deputy is not None:
        station = deputy.station  # the deputy's station follows the message up
    title = re.sub(r"\s+", " ", body)[:40]
    return cases.open_case(source, title, body, station=station, deputy=None, contact_name=name,
                           contact_phone=phone, source_ref=f"deputy:{deputy.id}" if deputy else None,
                           sms_consent=sms_consent)


def message_recipient(case: Case) -> str:
    """To whom a message went, as the tracking page says it: the deputy (and the station that follows it
    up) or the station."""
    deputy = None
    if (case.source_ref or "").startswith("deputy:") and case.source_ref[7:].isdigit():
        deputy = db.session.get(Deputy, int(case.source_ref[7:]))
    station = case.station.name if case.station else ""
    if deputy is not None:
        return (_("%(d)s代表（由%(s)s跟进）", d=deputy.name, s=station) if station
                else _("%(d)s代表", d=deputy.name))
    return station


def expected_reply_date(case: Case) -> date | None:
    """When the constituent may expect an answer: the handling unit's deadline once assigned, else
    MESSAGE_REPLY_DAYS (15 by default) after the message; none once answered or closed."""
    if case.status in ("sent", "closed", "merged"):
        return None
    if case.deadline:
        return case.deadline
    days = current_app.config.get("MESSAGE_REPLY_DAYS", 15) if has_app_context() else 15
    return to_local(case.created_at).date() + timedelta(days=days)


def public_timeline(case: Case) -> list[tuple[datetime, str]]:
    """What the tracking page may show: dates and step names, never people, units' internal notes or
    contact data."""
    shown = {"open": _("已收到"), "assign": _("已交办承办单位"), "reply": None, "send": _("已答复"),
             "reopen": _("重新办理"), "close": _("已办结"), "merged_from": None, "decline": None}
    return [(step.at, shown[step.action]) for step in case.steps if shown.get(step.action)]


# ---- statistics --------------------------------------------------------------------------------

def _local_month(value: datetime) -> int:
    return value.astimezone(LOCAL_TZ).month


def station_stats(year: int, *, station_id: int | None = None, area_id: int | None = None) -> dict:
    """Per month (1–12) and in total: visits, cases raised, answered, answered within the deadline,
    ratings (满意 + 基本满意 share). Filters: one station, or one township's stations. Five queries."""
    lo = datetime(year, 1, 1, tzinfo=LOCAL_TZ).astimezone(UTC)
    hi = datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ).astimezone(UTC)

    def scope(stmt, column):
        if station_id:
            return stmt.where(column == station_id)
        if area_id:
            return stmt.where(column.in_(select(Station.id).where(Station.area_id == area_id)))
        return stmt.where(column.is_not(None))

    months = {m: defaultdict(int) for m in range(1, 13)}
    for (at,) in db.session.execute(scope(select(Reception.visited_at).where(
            Reception.visited_at >= lo, Reception.visited_at < hi), Reception.station_id)):
        months[_local_month(at)]["visits"] += 1
    for (at,) in db.session.execute(scope(select(Case.created_at).where(
            Case.created_at >= lo, Case.created_at < hi, Case.status != "merged"), Case.station_id)):
        months[_local_month(at)]["cases"] += 1
    for replied_at, deadline in db.session.execute(scope(
            select(CaseAssignment.replied_at, CaseAssignment.deadline).join(Case, Case.id == CaseAssignment.case_id)
            .where(CaseAssignment.role == "main", CaseAssignment.replied_at >= lo, CaseAssignment.replied_at < hi),
            Case.station_id)):
        month = months[_local_month(replied_at)]
        month["answered"] += 1
        if replied_at.astimezone(LOCAL_TZ).date() <= deadline:
            month["on_time"] += 1
    for rated_at, rating in db.session.execute(scope(
            select(CaseRating.rated_at, CaseRating.rating).join(Case, Case.id == CaseRating.case_id)
            .where(CaseRating.rated_at >= lo, CaseRating.rated_at < hi), Case.station_id)):
        month = months[_local_month(rated_at)]
        month["rated"] += 1
        month[rating] += 1
    total = defaultdict(int)
    for month in months.values():
        for key, value in month.items():
            total[key] += value
    rows = [{"month": m, **_ratios(months[m])} for m in range(1, 13)]
    return {"year": year, "months": rows, "total": _ratios(total)}


def _ratios(values: dict) -> dict:
    out = {k: values.get(k, 0) for k in ("visits", "cases", "answered", "on_time", "rated", "satisfied",
                                          "basically", "unsatisfied")}
    out["on_time_rate"] = round(100 * out["on_time"] / out["answered"]) if out["answered"] else None
    out["satisfaction"] = round(100 * (out["satisfied"] + out["basically"]) / out["rated"]) if out["rated"] else None
    return out


def bar_chart_svg(rows: list[dict], key: str, label: str, *, width: int = 360, height: int = 180) -> str:
    """A plain server-rendered SVG bar chart of one figure by month (no script, no CDN)."""
    from xml.sax.saxutils import escape

    top = max((r[key] or 0 for r in rows), default=0) or 1
    bar_w = (width - 40) / len(rows)
    # narrow, so that on a phone (about 330 px) the 14-unit text stays above 12 px; months by number
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 30}" role="img" '
             f'aria-label="{escape(label)}" class="chart"><title>{escape(label)}</title>']
    for i, row in enumerate(rows):
        value = row[key] or 0
        h = round((height - 20) * value / top)
        x = 30 + i * bar_w
        parts.append(f'<rect x="{x + 4:.1f}" y="{height - h}" width="{bar_w - 8:.1f}" height="{h}" fill="#0b4f8a">'
                     f'<title>{row["month"]}月：{value}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - h - 4}" font-size="14" text-anchor="middle">'
                     f'{value}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height + 18}" font-size="14" text-anchor="middle">'
                     f'{row["month"]}</text>')
    parts.append(f'<line x1="30" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#555"/></svg>')
    return "".join(parts)


def stats_xlsx(stats: dict, title: str) -> bytes:
    from ..core.xlsx import ExportWorkbook

    book = ExportWorkbook()
    sheet = book.sheet("统计")
    sheet.append([title])
    sheet.append(["月份", "接待人次", "形成待办件", "已答复", "按期答复", "按期率(%)", "已评价", "满意", "基本满意",
                  "不满意", "满意率(%)"])
    for row in [*stats["months"], {"month": "合计", **stats["total"]}]:
        sheet.append([f"{row['month']}月" if isinstance(row["month"], int) else row["month"], row["visits"],
                      row["cases"], row["answered"], row["on_time"], row["on_time_rate"], row["rated"],
                      row["satisfied"], row["basically"], row["unsatisfied"], row["satisfaction"]])
    return book.save()


@transactional
def publish_stats(year: int, *, by, station: Station | None = None):
    """Publish a year's summary on the noticeboard (duty_record category), revised in place."""
    from ..noticeboard.services import publish_notice

    stats = station_stats(year, station_id=station.id if station else None)
    t = stats["total"]
    who = station.name if station else "全县各代表联络站"
    body = (f"{year}年，{who}共接待群众 {t['visits']} 人次，形成待办件 {t['cases']} 件，已答复 {t['answered']} 件，"
            f"其中按期答复 {t['on_time']} 件；群众评价 {t['rated']} 件，满意和基本满意率 "
            f"{t['satisfaction'] if t['satisfaction'] is not None else '—'}%。")
    return publish_notice("duty_record", f"{who}{year}年接待工作情况", body,
                          scope="station" if station else "county", station=station,
                          source="stations.stats", source_ref=f"{station.id if station else 'all'}:{year}", actor=by)


def answered_this_year() -> int:
    """Constituents' cases (群众诉求: receptions, messages, kiosk; not deputies' suggestions) answered (a main
    unit's reply) since 1 January, local time: the public home count."""
    start = datetime(local_today().year, 1, 1, tzinfo=LOCAL_TZ)
    return db.session.scalar(select(func.count()).select_from(Case).where(
        Case.answered_at >= start, Case.source.in_(CONSTITUENT_SOURCES))) or 0


# ---- workspace counts (core.areas.workspace_count): SQL the workspace runs in one statement ------

def _cases_of(user):
    """The cases (not suggestions) the user's workspace counts: staff all, a liaison their station's."""
    stmt = select(func.count(Case.id)).where(Case.source != "suggestion")
    if user.role == "liaison":
        stmt = stmt.where(Case.station_id == user.station_id)
    return stmt


@areas.count_query
def waiting_cases_new(user):
    """待交办: cases waiting for assignment (staff: all; liaison: their station's)."""
    return _cases_of(user).where(Case.status == "new")


@areas.count_query
def waiting_cases_overdue(user):
    """Cases whose main unit has not replied by the deadline (a unit: its own assignments)."""
    late = select(CaseAssignment.case_id).where(CaseAssignment.state == "pending", CaseAssignment.role == "main",
                                                CaseAssignment.deadline < local_today())
    if user.role == "unit":
        late = late.where(CaseAssignment.unit_id == user.unit_id)
    return _cases_of(user).where(Case.status == "assigned", Case.id.in_(late))


@areas.count_query
def waiting_unit_assignments(user):
    """A unit's pending assignments (its default case list), suggestions' cases excluded."""
    return (select(func.count(func.distinct(CaseAssignment.case_id))).join(Case, Case.id == CaseAssignment.case_id)
            .where(CaseAssignment.unit_id == user.unit_id, CaseAssignment.state == "pending",
                   Case.source != "suggestion"))


def due_within(days: int = 7):
    """Pending main assignments whose deadline falls within ``days`` days (today included)."""
    from datetime import timedelta

    today = local_today()
    return select(CaseAssignment.case_id).where(CaseAssignment.state == "pending", CaseAssignment.role == "main",
                                                CaseAssignment.deadline >= today,
                                                CaseAssignment.deadline <= today + timedelta(days=days))


@areas.count_query
def waiting_due_soon(user):
    """A unit's cases due within 7 days (its own assignments; suggestions are counted in their area)."""
    return _cases_of(user).where(Case.status == "assigned", Case.id.in_(
        due_within().where(CaseAssignment.unit_id == user.unit_id)))


def recent_decisions(unit_id: int | None):
    from datetime import timedelta

    from ..core.cases import CaseStep

    since = utcnow() - timedelta(days=7)
    stmt = select(CaseStep.case_id).where(CaseStep.action.in_(("extension_approve", "extension_refuse")),
                                          CaseStep.at >= since)
    return stmt.where(CaseStep.unit_id == unit_id) if unit_id is not None else stmt


@areas.count_query
def waiting_extension_decisions(user):
    """A unit: cases and suggestions whose extension request was decided in the last 7 days."""
    return select(func.count(func.distinct(Case.id))).where(
        Case.id.in_(recent_decisions(user.unit_id)), Case.source != "suggestion")


@areas.count_query
def waiting_extension_requests(user):
    """Staff: open extension requests (cases; suggestions are counted in their area)."""
    return _cases_of(user).where(Case.id.in_(
        select(CaseAssignment.case_id).where(CaseAssignment.extension_until.is_not(None))))


@areas.count_query
def duty_tomorrow_for(user):
    """A deputy on duty at a reception day tomorrow: (number, the station's public page)."""
    from datetime import timedelta

    from .models import DutyAssignment, ReceptionDay

    if not user.deputy_id:
        return None
    return areas.CountQuery(
        select(func.count(DutyAssignment.id).label("n"), func.min(DutyAssignment.station_id).label("station_id"))
        .join(ReceptionDay, ReceptionDay.id == DutyAssignment.reception_day_id)
        .where(DutyAssignment.deputy_id == user.deputy_id, DutyAssignment.day == local_today() + timedelta(days=1),
               ReceptionDay.status == "scheduled"),
        lambda number, station_id: (number, {"station_id": station_id}) if number else None)


@areas.count_query
def reception_today_for(user):
    """A liaison: their station's reception days today (a link to record the visits)."""
    from .models import ReceptionDay

    if not user.station_id:
        return None
    station_id = user.station_id
    return areas.CountQuery(select(func.count(ReceptionDay.id)).where(
        ReceptionDay.station_id == station_id, ReceptionDay.day == local_today(),
        ReceptionDay.status == "scheduled"), lambda number: (number or 0, {"station_id": station_id}))


@areas.count_query
def unrecorded_days_for(user):
    """A liaison: reception days of the last 30 days (today excluded) with no visit recorded."""
    from datetime import timedelta

    from .models import Reception, ReceptionDay

    if not user.station_id:
        return None
    today = local_today()
    station_id = user.station_id
    return areas.CountQuery(select(func.count(ReceptionDay.id)).where(
        ReceptionDay.station_id == station_id, ReceptionDay.status == "scheduled",
        ReceptionDay.day < today, ReceptionDay.day >= today - timedelta(days=30),
        ReceptionDay.id.not_in(select(Reception.reception_day_id).where(Reception.reception_day_id.is_not(None)))),
        lambda number: (number or 0, {"station_id": station_id}))
