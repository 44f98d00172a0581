"""Demo data for the stations area (called at the end of core/demo.py): reception rules and the year's
calendar and rota, a themed reception, today's reception at 城关镇 (so the kiosk shows duty deputies),
a few visits, and cases at every step of the loop, drawn from the seeds (相山: 每月5日或25日接待日;
垃圾分类、雨污管网堵塞、人居环境整治; 老旧小区改造、危墙修建)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from ..core import cases
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import LOCAL_TZ, local_today, utcnow
from ..core.transaction import transaction
from ..registry.models import HandlingUnit, Station
from . import calendar as cal
from . import services
from .models import ReceptionDay

RULES = [
    {"kind": "month_days", "month_days": "5,25"},  # 相山: 每月5日或25日
    {"kind": "month_days", "month_days": "10,20"},  # 北关: 每月10日和20日
    {"kind": "nth_weekday", "nth": 1, "weekday": 1},  # 每月第一个星期二
]
# Receptions at other stations too (a demo where only one station ever saw a visitor is not believed):
# station name → (category, what was raised, follow up?, the unit that handles it).
MORE_VISITS = {
    "临涣镇人大代表之家": [
        ("health", "临涣镇卫生院夜间急诊只有一名医生，群众就医等待时间长", True, "县卫生健康委员会"),
        ("agriculture", "咨询高标准农田建设补贴申报办法", False, None),
    ],
    "双堆集镇代表活动室": [
        ("transport", "双堆村通往镇区的村道破损，雨天学生上学不便", True, "县交通运输局"),
        ("social", "咨询城乡居民养老保险补缴办法", False, None),
    ],
}
VISITS = [
    ("environment", "小区垃圾分类投放点设置不合理，夏天异味大", True),
    ("urban", "南湖路一段围墙开裂，存在倒塌危险", True),
    ("urban", "老旧小区雨污管网堵塞，雨天污水外溢", True),
    ("social", "咨询城乡居民医保缴费标准", False),
    ("transport", "学校门口上下学时段交通拥堵，希望增设护学岗", True),
]


def demo() -> None:
    """The whole area's demo data in one unit of work: loaded completely or not at all."""
    with transaction():
        _load()


def _load() -> None:
    staff = db.session.scalar(select(User).where(User.username == "staff"))
    liaison = db.session.scalar(select(User).where(User.username == "liaison"))
    unit_user = db.session.scalar(select(User).where(User.username == "unit"))
    stations = db.session.scalars(select(Station).order_by(Station.id)).all()
    units = db.session.scalars(select(HandlingUnit).order_by(HandlingUnit.id)).all()
    if not (staff and liaison and unit_user and stations and units):
        return
    today = local_today()
    for i, station in enumerate(stations):
        cal.set_rule(station, {**RULES[i % len(RULES)], "start_time": time(9), "end_time": time(11, 30),
                               "deputies_per_day": 2}, by=staff)
    for year in (today.year, today.year + 1):
        cal.generate_year(stations, year, by=staff)
    home = liaison.station or stations[0]
    # Today is a reception day at the liaison's station, whatever the date the demo is loaded.
    if db.session.scalar(select(ReceptionDay.id).where(ReceptionDay.station_id == home.id,
                                                       ReceptionDay.day == today)) is None:
        db.session.add(ReceptionDay(station_id=home.id, day=today, start_time=time(9), end_time=time(11, 30),
                                    public_note="临时增加接待日"))
        db.session.flush()
    cal.fill_rota([home.id], today, today, per_day={home.id: 2})
    cal.add_themed_day(home, {"day": today + timedelta(days=9), "start_time": time(14, 30), "end_time": time(16, 30),
                              "theme": "法官进站", "invited": "县人民法院副院长、立案庭庭长"}, by=liaison)
    deputy_ids = [d.id for d in home.deputies if d.ended_on is None][:2]
    opened = []
    for index, (category, summary, follow_up) in enumerate(VISITS):
        visit = services.record_reception(home, {"category": category, "summary": summary, "deputy_ids": deputy_ids,
                                                 "answered_on_spot": not follow_up, "follow_up": follow_up,
                                                 "spot_answer": None if follow_up else "已当场解释缴费标准",
                                                 "visited_at": office_hours(index)},
                                          by=liaison)
        if visit.case:
            opened.append(visit.case)
    services.leave_message(station=home, deputy=None, body="东街路灯一个月不亮，晚上老人出行不便，请帮忙反映。",
                           phone="13955501234")
    unit = unit_user.unit or units[0]
    deadline = today + timedelta(days=15)
    # 1: closed with 满意; 2: answered and sent, waiting for a rating; 3: with the unit; 4: still to assign.
    first, second, third = opened[0], opened[1], opened[2]
    for case in (first, second, third):
        cases.sort_case(case, by=liaison, category=case.category)
        cases.assign_case(case, unit, deadline, by=staff)
    cases.reply_case(first, "已联系物业调整投放点位置，增加清运频次。", by=unit_user, reply_class="A")
    cases.send_answer(first, by=liaison)
    cases.rate_case(first, "satisfied")
    cases.reply_case(second, "已对围墙设置警示并列入本年度危墙修缮计划，预计下月完工。", by=unit_user, reply_class="B")
    cases.send_answer(second, by=liaison)
    cases.request_extension(third, deadline + timedelta(days=20), "管网疏通需协调供水公司停水施工", by=unit_user)
    cal.publish_month(home, today.year, today.month, by=liaison)
    _more_visits(stations, units, staff, deadline)


def office_hours(index: int) -> datetime:
    """A visit's time during this morning's reception (09:10, 09:35, ...), or the last weekday's when the
    demo is loaded before then or on a weekend: a demo whose visitors all came at the minute it was loaded,
    or on a Sunday, is not believed."""
    now = utcnow().astimezone(LOCAL_TZ)
    when = datetime.combine(now.date(), time(9, 10), LOCAL_TZ) + timedelta(minutes=25 * index)
    while when > now or when.weekday() >= 5:
        when -= timedelta(days=1)
    return when


def _more_visits(stations, units, staff, deadline) -> None:
    by_name = {s.name: s for s in stations}
    unit_named = {u.name: u for u in units}
    for station_name, visits in MORE_VISITS.items():
        station = by_name.get(station_name)
        if station is None:
            continue
        deputy_ids = [d.id for d in station.deputies if d.ended_on is None][:2]
        for index, (category, summary, follow_up, unit_name) in enumerate(visits):
            visit = services.record_reception(station, {
                "category": category, "summary": summary, "deputy_ids": deputy_ids,
                "answered_on_spot": not follow_up, "follow_up": follow_up,
                "visited_at": office_hours(index) - timedelta(days=7),
                "spot_answer": None if follow_up else "已当场解答，并留下经办部门电话"}, by=staff)
            if visit.case and unit_name in unit_named:
                cases.sort_case(visit.case, by=staff, category=visit.case.category)
                cases.assign_case(visit.case, unit_named[unit_name], deadline, by=staff)
