"""Reception days and the duty rota: the station's rule, the year's calendar generated from it,
holidays moved, days moved or cancelled with a public note, themed receptions, the rota filled fairly by
rotation and edited by hand, and its publication (noticeboard, .ics)."""
from __future__ import annotations

import calendar as pycal
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..core import audit
from ..core.errors import Conflict, DomainError
from ..core.extensions import db
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from ..registry.models import Deputy, Station
from .models import NTH_LABELS, WEEKDAYS, DutyAssignment, ReceptionDay, ReceptionRule, describe_rule

MAX_NOTE = 255


def holidays() -> set[date]:
    """Public holidays from config (HOLIDAYS: ISO dates); reception days falling on one move on."""
    raw = current_app.config.get("HOLIDAYS", ()) if has_app_context() else ()
    return {date.fromisoformat(d) if isinstance(d, str) else d for d in raw}


# ---- the rule --------------------------------------------------------------------------------

def rule_texts(station_ids) -> dict[int, str]:
    """station id → its reception-day rule in Chinese (``models.describe_rule``), in one query; the text every
    public page shows (home, /stations/, /stations/<id>, the kiosk). A station without a rule is absent."""
    ids = list(station_ids)
    if not ids:
        return {}
    rules = db.session.scalars(select(ReceptionRule).where(ReceptionRule.station_id.in_(ids))).all()
    return {r.station_id: describe_rule(r, holidays=True) for r in rules}


def parse_month_days(text: str | None) -> list[int]:
    """"5,25" / "5、25" / "10 20" → [5, 25]; DomainError on anything else."""
    parts = [p for p in re.split(r"[,，、\s]+", (text or "").strip()) if p]
    if not parts:
        raise DomainError(_("请填写每月的接待日期，例如 5,25。"), field="month_days")
    days = []
    for part in parts:
        if not (part.isascii() and part.isdigit() and 1 <= int(part) <= 31):
            raise DomainError(_("“%(p)s”不是 1–31 之间的日期。", p=part), field="month_days")
        days.append(int(part))
    return sorted(set(days))


@transactional
def set_rule(station: Station, values: dict, *, by) -> ReceptionRule:
    """Create or change the station's rule. values: kind, month_days (text), nth, weekday, start_time,
    end_time, deputies_per_day."""
    kind = values.get("kind")
    start, end = values.get("start_time"), values.get("end_time")
    if kind not in ("month_days", "nth_weekday"):
        raise DomainError(_("请选择接待日规则。"), field="kind")
    days = parse_month_days(values.get("month_days")) if kind == "month_days" else []
    nth, weekday = values.get("nth"), values.get("weekday")
    if kind == "nth_weekday" and (nth not in NTH_LABELS or weekday not in range(7)):
        raise DomainError(_("请选择第几个星期几。"), field="nth")
    if not isinstance(start, time) or not isinstance(end, time) or end <= start:
        raise DomainError(_("结束时间必须晚于开始时间。"), field="end_time")
    per_day = values.get("deputies_per_day") or 2
    if not 1 <= per_day <= 10:
        raise DomainError(_("每天值班代表人数应在 1–10 之间。"), field="deputies_per_day")
    rule = db.session.scalar(select(ReceptionRule).where(ReceptionRule.station_id == station.id))
    before = _rule_snapshot(rule) if rule else {}
    if rule is None:
        rule = ReceptionRule(station_id=station.id)
        db.session.add(rule)
    rule.kind = kind
    rule.month_days = ",".join(map(str, days)) if days else None
    rule.nth, rule.weekday = (nth, weekday) if kind == "nth_weekday" else (None, None)
    rule.start_time, rule.end_time, rule.deputies_per_day = start, end, per_day
    db.session.flush()
    after = _rule_snapshot(rule)
    audit.record("update" if before else "create", "reception_rule", rule.id,
                 f"{station.name}接待日规则：{rule.description}", changes=audit.diff(before, after), actor=by)
    return rule


def _rule_snapshot(rule: ReceptionRule) -> dict:
    values = audit.snapshot(rule, ("kind", "month_days", "nth", "weekday", "deputies_per_day"))
    values["hours"] = f"{rule.start_time:%H:%M}-{rule.end_time:%H:%M}"  # JSON has no time type
    return values


def rule_dates(rule: ReceptionRule, year: int) -> list[date]:
    """The rule's dates in a year. A month day past the month's end means the month's last day
    (the 31st in April is 30 April; the 29th–31st in February is 28 or 29 February)."""
    found = set()
    for month in range(1, 13):
        last = pycal.monthrange(year, month)[1]
        if rule.kind == "month_days":
            found.update(date(year, month, min(d, last)) for d in rule.days)
        else:
            weekdays = [date(year, month, d) for d in range(1, last + 1)
                        if date(year, month, d).weekday() == rule.weekday]
            found.add(weekdays[-1] if rule.nth == -1 else weekdays[rule.nth - 1])
    return sorted(found)


def next_working_day(day: date, off: set[date]) -> date:
    while day in off or day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def planned_days(rule: ReceptionRule, year: int, *, today: date | None = None,
                 off: set[date] | None = None) -> list[tuple[date, date | None]]:
    """(day, moved_from) for the rule's dates from today on; a date on a holiday moves to the next working
    day (moved_from says where it came from)."""
    today = today or local_today()
    off = holidays() if off is None else off
    result, taken = [], set()
    for day in rule_dates(rule, year):
        moved = None
        if day in off:
            moved, day = day, next_working_day(day, off)
        if day < today or day in taken or day.year != year:
            continue
        taken.add(day)
        result.append((day, moved))
    return result


# ---- generating the calendar and the rota ------------------------------------------------------

def _moved_note(moved: date | None) -> str | None:
    return _("原定%(m)d月%(d)d日，因节假日顺延", m=moved.month, d=moved.day) if moved else None


@transactional
def generate_year(stations: list[Station] | Station, year: int, *, by=None, today: date | None = None,
                  off: set[date] | None = None) -> dict:
    """Create the reception days of a year from each station's rule (days already there are kept) and
    fill their rota. Bulk inserts: 400 stations × 24 days in a few statements. One transaction."""
    single = isinstance(stations, Station)
    stations = [stations] if single else list(stations)
    today = today or local_today()
    off = holidays() if off is None else off
    ids = [s.id for s in stations]
    rules = {r.station_id: r for r in db.session.scalars(select(ReceptionRule).where(
        ReceptionRule.station_id.in_(ids)))} if ids else {}
    if single and stations[0].id not in rules:
        raise DomainError(_("请先设置本站的接待日规则。"), field="kind")
    existing = set(db.session.execute(select(ReceptionDay.station_id, ReceptionDay.day).where(
        ReceptionDay.station_id.in_(ids), ReceptionDay.day >= date(year, 1, 1),
        ReceptionDay.day <= date(year, 12, 31))).all()) if ids else set()
    rows = []
    for station_id, rule in rules.items():
        for day, moved in planned_days(rule, year, today=today, off=off):
            if (station_id, day) in existing or (moved and (station_id, moved) in existing):
                continue
            rows.append({"station_id": station_id, "day": day, "start_time": rule.start_time,
                         "end_time": rule.end_time, "kind": "regular", "status": "scheduled",
                         "public_note": _moved_note(moved), "moved_from": moved, "created_at": utcnow()})
    if single and not rows and not existing:
        raise DomainError(_("按此规则在 %(y)d 年已没有可安排的接待日，请检查规则或年份。", y=year), field="kind")
    if rows:
        db.session.execute(insert(ReceptionDay), rows)
    duties = fill_rota(ids, date(year, 1, 1), date(year, 12, 31), today=today,
                       per_day={sid: r.deputies_per_day for sid, r in rules.items()})
    summary = f"生成 {year} 年接待日 {len(rows)} 个，排班 {duties} 人次"
    if single:
        summary = f"{stations[0].name}：{summary}"
    audit.record("generate", "reception_day", stations[0].id if single else None, summary, actor=by)
    return {"days": len(rows), "duties": duties}


def fill_rota(station_ids: list[int], start: date, end: date, *, today: date | None = None,
              per_day: dict[int, int] | None = None) -> int:
    """Fill the empty places of each scheduled day from today on, in turn among the station's serving
    deputies: whoever has had the fewest duties in the past year goes first (then by id), skipping anyone
    already on duty elsewhere that day or whose term has ended by then. Flushes: the caller's
    ``transaction()`` commits (generate_year is one)."""
    if not station_ids:
        return 0
    today = today or local_today()
    start = max(start, today)
    per_day = per_day or {}
    days = db.session.execute(
        select(ReceptionDay.id, ReceptionDay.station_id, ReceptionDay.day)
        .where(ReceptionDay.station_id.in_(station_ids), ReceptionDay.status == "scheduled",
               ReceptionDay.day >= start, ReceptionDay.day <= end)
        .order_by(ReceptionDay.station_id, ReceptionDay.day, ReceptionDay.start_time)).all()
    if not days:
        return 0
    deputies = defaultdict(list)
    for deputy_id, station_id, ended_on in db.session.execute(
            select(Deputy.id, Deputy.station_id, Deputy.ended_on)
            .where(Deputy.station_id.in_(station_ids), or_(Deputy.ended_on.is_(None), Deputy.ended_on > start))
            .order_by(Deputy.id)):
        deputies[station_id].append((deputy_id, ended_on))
    # Duties over the past year count too, so that January carries on December's turn.
    year_start = start - timedelta(days=365)
    all_ids = [d for rows in deputies.values() for d, _e in rows]
    counts = defaultdict(int)
    booked = set()  # (deputy, day) anywhere
    filled = defaultdict(int)
    for chunk in _chunks(all_ids, 900):
        for deputy_id, day in db.session.execute(
                select(DutyAssignment.deputy_id, DutyAssignment.day)
                .where(DutyAssignment.deputy_id.in_(chunk), DutyAssignment.day >= year_start)):
            counts[deputy_id] += 1
            booked.add((deputy_id, day))
    for chunk in _chunks([d[0] for d in days], 900):
        for reception_day_id, n in db.session.execute(
                select(DutyAssignment.reception_day_id, func.count()).where(
                    DutyAssignment.reception_day_id.in_(chunk)).group_by(DutyAssignment.reception_day_id)):
            filled[reception_day_id] = n
    rows = []
    for reception_day_id, station_id, day in days:
        wanted = per_day.get(station_id, 2) - filled[reception_day_id]
        if wanted <= 0:
            continue
        candidates = sorted((counts[d], d) for d, ended in deputies[station_id]
                            if (ended is None or ended > day) and (d, day) not in booked)
        for _count, deputy_id in candidates[:wanted]:
            rows.append({"reception_day_id": reception_day_id, "deputy_id": deputy_id,
                         "station_id": station_id, "day": day})
            counts[deputy_id] += 1
            booked.add((deputy_id, day))
    if rows:
        db.session.execute(insert(DutyAssignment), rows)
    return len(rows)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---- editing days ------------------------------------------------------------------------------

def _check_future(day: date | None, field: str = "day") -> None:
    if day is None:
        raise DomainError(_("请填写日期。"), field=field)
    if day < local_today():
        raise DomainError(_("接待日不能安排在过去的日期。"), field=field)


def _note(text: str | None, required: bool) -> str | None:
    text = (text or "").strip()
    if required and not text:
        raise DomainError(_("请填写公开说明，例如“因国庆假期顺延”。"), field="note")
    if len(text) > MAX_NOTE:
        raise DomainError(_("说明不能超过 %(n)d 个字符。", n=MAX_NOTE), field="note")
    return text or None


@transactional
def add_themed_day(station: Station, values: dict, *, by) -> ReceptionDay:
    """主题接待 (局长进站, 法官进站 …) with a theme and the invited officials. A day already taken at
    that time is refused by the UNIQUE(station, day, start time) (its message is in models.py)."""
    _check_future(values.get("day"))
    theme = (values.get("theme") or "").strip()
    if not theme:
        raise DomainError(_("请填写接待主题。"), field="theme")
    if len(theme) > 64:
        raise DomainError(_("主题不能超过 64 个字符。"), field="theme")
    invited = (values.get("invited") or "").strip()[:255] or None
    start, end = values.get("start_time"), values.get("end_time")
    if not isinstance(start, time) or not isinstance(end, time) or end <= start:
        raise DomainError(_("结束时间必须晚于开始时间。"), field="end_time")
    rday = ReceptionDay(station_id=station.id, day=values["day"], start_time=start, end_time=end, kind="themed",
                        theme=theme, invited=invited, public_note=_note(values.get("note"), False))
    db.session.add(rday)
    db.session.flush()
    audit.record("create", "reception_day", rday.id, f"{station.name} {rday.day} 主题接待：{theme}", actor=by)
    return rday


@transactional
def move_day(rday: ReceptionDay, new_day: date | None, note: str, *, by) -> ReceptionDay:
    """Move a day (e.g. off a holiday) with a public note; its rota moves along. Another day of the
    station at that date and time is refused by the days' UNIQUE, a deputy on duty elsewhere that day
    by the rota's UNIQUE (messages in models.py)."""
    _check_future(new_day)
    if rday.day < local_today():
        raise Conflict(_("已经过去的接待日不能再调整。"), field="day")
    if rday.status == "cancelled":
        raise Conflict(_("已取消的接待日不能调整。"), field="day")
    note = _note(note, True)
    clash = db.session.scalar(select(DutyAssignment.deputy_id).where(
        DutyAssignment.deputy_id.in_([d.deputy_id for d in rday.duties]), DutyAssignment.day == new_day,
        DutyAssignment.reception_day_id != rday.id).limit(1))
    if clash is not None:
        raise Conflict(_("%(name)s在 %(d)s 已在其他联络站值班，请先调整值班安排。",
                         name=db.session.get(Deputy, clash).name, d=new_day.isoformat()), field="day")
    old = rday.day
    rday.moved_from = rday.moved_from or old
    rday.day, rday.public_note = new_day, note
    for duty in rday.duties:
        duty.day = new_day
    db.session.flush()
    audit.record("update", "reception_day", rday.id, f"接待日 {old} 调整到 {new_day}：{note}",
                 changes={"day": [old.isoformat(), new_day.isoformat()]}, actor=by)
    return rday


@transactional
def cancel_day(rday: ReceptionDay, note: str, *, by) -> ReceptionDay:
    if rday.day < local_today():
        raise Conflict(_("已经过去的接待日不能再调整。"), field="day")
    note = _note(note, True)
    rday.status, rday.public_note = "cancelled", note
    rday.duties.clear()
    audit.record("update", "reception_day", rday.id, f"取消接待日 {rday.day}：{note}",
                 changes={"status": ["scheduled", "cancelled"]}, actor=by)
    return rday


@transactional
def set_duty(rday: ReceptionDay, deputy_ids: list[int], *, by) -> ReceptionDay:
    """Hand-edit a day's rota (the HTMX cell on the calendar). Refuses an ended term and a double booking:
    the check names the other station; UNIQUE(deputy, day) has the last word when two edits race."""
    deputy_ids = list(dict.fromkeys(deputy_ids))
    if rday.status == "cancelled":
        raise Conflict(_("已取消的接待日不能排班。"), field="deputy_ids")
    if rday.day < local_today():
        raise Conflict(_("已经过去的接待日不能再排班。"), field="deputy_ids")
    chosen = db.session.scalars(select(Deputy).where(Deputy.id.in_(deputy_ids))).all() if deputy_ids else []
    if len(chosen) != len(deputy_ids):
        raise DomainError(_("所选代表不存在。"), field="deputy_ids")
    for deputy in chosen:
        if deputy.ended_on is not None and deputy.ended_on <= rday.day:
            raise DomainError(_("%(name)s的代表资格已于 %(d)s 终止，不能排班。", name=deputy.name,
                                d=deputy.ended_on.isoformat()), field="deputy_ids")
    busy = db.session.execute(
        select(Deputy.name, Station.name).join(DutyAssignment, DutyAssignment.deputy_id == Deputy.id)
        .join(Station, Station.id == DutyAssignment.station_id)
        .where(DutyAssignment.deputy_id.in_(deputy_ids), DutyAssignment.day == rday.day,
               DutyAssignment.reception_day_id != rday.id).limit(1)).first() if deputy_ids else None
    if busy:
        raise Conflict(_("%(name)s当天已在%(station)s值班，同一代表同一天不能在两个联络站值班。",
                         name=busy[0], station=busy[1]), field="deputy_ids")
    before = sorted(d.deputy_id for d in rday.duties)
    keep = {d.deputy_id: d for d in rday.duties}
    rday.duties[:] = [keep.get(i) or DutyAssignment(deputy_id=i, station_id=rday.station_id, day=rday.day)
                      for i in deputy_ids]
    audit.record("update", "duty", rday.id, f"{rday.day} 值班代表调整",
                 changes={"deputies": [before, sorted(deputy_ids)]}, actor=by)
    return rday


# ---- reading -----------------------------------------------------------------------------------

def days_between(station_id: int, start: date, end: date, *, include_cancelled: bool = True) -> list[ReceptionDay]:
    stmt = (select(ReceptionDay).where(ReceptionDay.station_id == station_id, ReceptionDay.day >= start,
                                       ReceptionDay.day <= end)
            .options(selectinload(ReceptionDay.duties).joinedload(DutyAssignment.deputy))
            .order_by(ReceptionDay.day, ReceptionDay.start_time))
    if not include_cancelled:
        stmt = stmt.where(ReceptionDay.status == "scheduled")
    return db.session.scalars(stmt).all()


def upcoming_days(station_id: int, limit: int = 6, today: date | None = None) -> list[ReceptionDay]:
    """The next reception days (cancelled ones too: their public note tells people not to come)."""
    today = today or local_today()
    return db.session.scalars(
        select(ReceptionDay).where(ReceptionDay.station_id == station_id, ReceptionDay.day >= today)
        .options(selectinload(ReceptionDay.duties).joinedload(DutyAssignment.deputy))
        .order_by(ReceptionDay.day, ReceptionDay.start_time).limit(limit)).all()


def deputy_upcoming_duties(deputy_id: int, limit: int = 10) -> list[DutyAssignment]:
    """A deputy's next duty days with their reception day and station: one query (the workspace)."""
    return db.session.scalars(
        select(DutyAssignment).where(DutyAssignment.deputy_id == deputy_id, DutyAssignment.day >= local_today())
        .options(joinedload(DutyAssignment.reception_day).joinedload(ReceptionDay.station))
        .order_by(DutyAssignment.day).limit(limit)).all()


def todays_receptions(limit: int = 8, today: date | None = None) -> list[ReceptionDay]:
    """Today's scheduled reception days across stations (the public home page)."""
    today = today or local_today()
    return db.session.scalars(
        select(ReceptionDay).where(ReceptionDay.day == today, ReceptionDay.status == "scheduled")
        .options(joinedload(ReceptionDay.station), selectinload(ReceptionDay.duties)
                 .joinedload(DutyAssignment.deputy))
        .order_by(ReceptionDay.start_time, ReceptionDay.station_id).limit(limit)).all()


def month_grid(year: int, month: int) -> list[list[date | None]]:
    """Weeks (Monday first) of the month; days of the neighbouring months are None."""
    weeks = pycal.Calendar().monthdatescalendar(year, month)
    return [[d if d.month == month else None for d in week] for week in weeks]


# ---- publishing --------------------------------------------------------------------------------

def rota_text(station: Station, days: list[ReceptionDay]) -> str:
    lines = []
    for rday in days:
        names = "、".join(d.deputy.name for d in rday.duties) or "待定"
        head = f"- {rday.day:%m月%d日}（{WEEKDAYS[rday.day.weekday()]}）{rday.hours}"
        if rday.status == "cancelled":
            lines.append(f"{head} **取消**：{rday.public_note or ''}")
            continue
        theme = f" 主题接待：{rday.theme}" + (f"（邀请：{rday.invited}）" if rday.invited else "") if rday.theme else ""
        note = f"（{rday.public_note}）" if rday.public_note else ""
        lines.append(f"{head}{theme} 值班代表：{names}{note}")
    return "\n".join(lines) or "本月暂无接待日。"


@transactional
def publish_month(station: Station, year: int, month: int, *, by):
    """Publish the month's reception days and rota on the noticeboard (revised in place when republished)."""
    from ..noticeboard.services import publish_notice

    last = pycal.monthrange(year, month)[1]
    days = days_between(station.id, date(year, month, 1), date(year, month, last))
    if not days:
        raise DomainError(_("%(y)d年%(m)d月没有接待日，无需公示。", y=year, m=month), field="month")
    body = f"{station.name}{year}年{month}月代表接待日安排：\n\n{rota_text(station, days)}\n\n" \
           f"地址：{station.address or '—'}。欢迎选民群众前来反映意见建议。"
    return publish_notice("reception", f"{station.name}{year}年{month}月代表接待安排", body, scope="station",
                          station=station, source="stations.rota", source_ref=f"{station.id}:{year}-{month:02d}",
                          actor=by)


ICS_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def ics_escape(text: str | None) -> str:
    """An RFC 5545 TEXT value (3.3.11): backslash, semicolon and comma escaped, every line break (CR LF,
    LF or a bare CR) as \\n, other control characters dropped (a bare CR would end the line early)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    return ICS_CONTROLS.sub("", text)


def ics_fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts, current, size = [], [], 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not parts else 74):  # continuation lines start with a space
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def ics_calendar(station: Station, days: list[ReceptionDay], base_url: str) -> str:
    """RFC 5545 text for the station's reception days (local times with TZID Asia/Shanghai)."""
    esc = ics_escape

    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//daibiao-lvzhi//stations//ZH", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{esc(station.name + '接待日')}", "X-WR-TIMEZONE:Asia/Shanghai"]
    for rday in days:
        names = "、".join(d.deputy.name for d in rday.duties)
        summary = (rday.theme or "代表接待日") + ("（取消）" if rday.status == "cancelled" else "")
        desc = "值班代表：" + (names or "待定") + (f"\n{rday.public_note}" if rday.public_note else "")
        start = datetime.combine(rday.day, rday.start_time)
        end = datetime.combine(rday.day, rday.end_time)
        lines += ["BEGIN:VEVENT", f"UID:reception-{rday.id}@{esc(base_url)}", f"DTSTAMP:{stamp}",
                  f"DTSTART;TZID=Asia/Shanghai:{start:%Y%m%dT%H%M%S}", f"DTEND;TZID=Asia/Shanghai:{end:%Y%m%dT%H%M%S}",
                  f"SUMMARY:{esc(summary)}", f"DESCRIPTION:{esc(desc)}",
                  f"LOCATION:{esc(station.address or station.name)}",
                  f"STATUS:{'CANCELLED' if rday.status == 'cancelled' else 'CONFIRMED'}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(ics_fold(line) for line in lines) + "\r\n"

