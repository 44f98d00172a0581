"""Stations: reception rules (month ends, leap years, holidays moved), the calendar and the rota,
reception records, messages from the public, statistics."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core import cases
from blueprints.core.cases import Case
from blueprints.core.errors import DomainError, Forbidden
from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.registry.models import Deputy
from blueprints.stations import calendar as cal
from blueprints.stations import services
from blueprints.stations.models import DutyAssignment, Reception, ReceptionDay, ReceptionRule

HOURS = {"start_time": time(9), "end_time": time(11, 30)}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def setup(county, make_user):
    station, other = county["stations"]
    deputies = [Deputy(name=n, level="county", station=station) for n in ("王芳", "李强", "赵敏", "陈刚")]
    db.session.add_all(deputies)
    db.session.commit()
    return {"station": station, "other": other, "deputies": deputies, "staff": make_user("staff"),
            "liaison": make_user("liaison", station=station), "unit": county["unit"],
            "unit_user": make_user("unit", unit=county["unit"])}


def rule(kind="month_days", **values):
    r = ReceptionRule(kind=kind, start_time=time(9), end_time=time(11), deputies_per_day=2, **values)
    return r


# ---- rule dates ------------------------------------------------------------------------------

def test_month_days_past_the_month_end_fall_on_the_last_day():
    dates = cal.rule_dates(rule(month_days="31"), 2026)
    assert date(2026, 4, 30) in dates and date(2026, 2, 28) in dates and len(dates) == 12


def test_leap_years_give_29_february():
    assert date(2028, 2, 29) in cal.rule_dates(rule(month_days="29,30"), 2028)
    feb = [d for d in cal.rule_dates(rule(month_days="29,30"), 2027) if d.month == 2]
    assert feb == [date(2027, 2, 28)]  # 29 and 30 both clamp to the 28th: one day, not two


def test_nth_weekday_and_last_weekday():
    first_tuesdays = cal.rule_dates(rule("nth_weekday", nth=1, weekday=1), 2026)
    assert first_tuesdays[0] == date(2026, 1, 6) and all(d.weekday() == 1 and d.day <= 7 for d in first_tuesdays)
    last_fridays = cal.rule_dates(rule("nth_weekday", nth=-1, weekday=4), 2026)
    assert last_fridays[0] == date(2026, 1, 30) and all((d + timedelta(days=7)).month != d.month for d in last_fridays)


def test_holidays_move_to_the_next_working_day():
    off = {date(2027, 10, d) for d in range(1, 8)}
    planned = dict(cal.planned_days(rule(month_days="5,25"), 2027, today=date(2027, 1, 1), off=off))
    # 5 October 2027 is in the National Day week: moved to Friday 8 October
    assert planned[date(2027, 10, 8)] == date(2027, 10, 5)
    assert date(2027, 10, 5) not in planned


def test_planned_days_skip_the_past():
    planned = cal.planned_days(rule(month_days="5,25"), 2027, today=date(2027, 6, 10), off=set())
    assert planned[0][0] == date(2027, 6, 25)


# ---- the rule, generation and the rota ---------------------------------------------------------

def test_set_rule_and_generate_the_year_with_a_fair_rota(setup):
    station = setup["station"]
    year = local_today().year + 1
    cal.set_rule(station, {"kind": "month_days", "month_days": "5、25", **HOURS, "deputies_per_day": 2},
                 by=setup["liaison"])
    result = cal.generate_year(station, year, by=setup["liaison"])
    assert result == {"days": 24, "duties": 48}
    per_deputy = dict(db.session.execute(select(DutyAssignment.deputy_id, func.count())
                                         .group_by(DutyAssignment.deputy_id)).all())
    assert sorted(per_deputy.values()) == [12, 12, 12, 12]  # 48 duties over 4 deputies, in turn
    # generating again adds nothing
    assert cal.generate_year(station, year, by=setup["liaison"]) == {"days": 0, "duties": 0}


def test_a_rule_that_yields_no_dates_is_refused(setup):
    station = setup["station"]
    cal.set_rule(station, {"kind": "month_days", "month_days": "5", **HOURS}, by=setup["staff"])
    before = (count(ReceptionDay), count(DutyAssignment))
    with pytest.raises(DomainError, match="已没有可安排的接待日"):
        cal.generate_year(station, local_today().year - 1, by=setup["staff"])
    assert (count(ReceptionDay), count(DutyAssignment)) == before


@pytest.mark.parametrize("values, message", [
    ({"kind": "month_days", "month_days": ""}, "请填写每月的接待日期"),
    ({"kind": "month_days", "month_days": "5,32"}, "不是 1–31 之间的日期"),
    ({"kind": "month_days", "month_days": "五"}, "不是 1–31 之间的日期"),
    ({"kind": "nth_weekday", "nth": 7, "weekday": 1}, "请选择第几个星期几"),
    ({"kind": "month_days", "month_days": "5", "start_time": time(12), "end_time": time(9)},
     "结束时间必须晚于开始时间"),
])
def test_bad_rules_are_refused(setup, values, message):
    with pytest.raises(DomainError, match=message):
        cal.set_rule(setup["station"], {**HOURS, **values}, by=setup["staff"])
    assert count(ReceptionRule) == 0


def test_rota_skips_ended_terms_and_deputies_booked_elsewhere(setup):
    station, other = setup["station"], setup["other"]
    wang, li, zhao, chen = setup["deputies"]
    day = local_today() + timedelta(days=10)
    chen.ended_on, chen.end_reason = day - timedelta(days=1), "job_change"
    rd_other = ReceptionDay(station_id=other.id, day=day, **HOURS)
    rd = ReceptionDay(station_id=station.id, day=day, **HOURS)
    db.session.add_all([rd_other, rd])
    db.session.flush()
    db.session.add(DutyAssignment(reception_day_id=rd_other.id, deputy_id=wang.id, station_id=other.id, day=day))
    db.session.commit()
    cal.fill_rota([station.id], day, day, per_day={station.id: 4})
    db.session.commit()
    assert {d.deputy_id for d in rd.duties} == {li.id, zhao.id}


def test_hand_edit_refuses_double_booking_and_ended_terms(setup):
    station, other = setup["station"], setup["other"]
    wang, li, _zhao, chen = setup["deputies"]
    day = local_today() + timedelta(days=3)
    rd = ReceptionDay(station_id=station.id, day=day, **HOURS)
    rd_other = ReceptionDay(station_id=other.id, day=day, **HOURS)
    db.session.add_all([rd, rd_other])
    db.session.commit()
    cal.set_duty(rd_other, [wang.id], by=setup["staff"])
    with pytest.raises(DomainError, match="当天已在临涣镇人大代表联络站值班"):
        cal.set_duty(rd, [li.id, wang.id], by=setup["staff"])
    assert [d.deputy_id for d in rd.duties] == []
    chen.ended_on, chen.end_reason = day, "illness"
    db.session.commit()
    with pytest.raises(DomainError, match="代表资格已于.*终止"):
        cal.set_duty(rd, [chen.id], by=setup["staff"])
    cal.set_duty(rd, [li.id], by=setup["liaison"])
    assert [d.deputy_id for d in rd.duties] == [li.id]
    assert count(DutyAssignment) == 2


def test_the_database_refuses_a_double_booking(setup):
    from sqlalchemy.exc import IntegrityError

    day = local_today() + timedelta(days=3)
    wang = setup["deputies"][0]
    rds = [ReceptionDay(station_id=s.id, day=day, **HOURS) for s in (setup["station"], setup["other"])]
    db.session.add_all(rds)
    db.session.flush()
    db.session.add_all([DutyAssignment(reception_day_id=r.id, deputy_id=wang.id, station_id=r.station_id, day=day)
                        for r in rds])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_move_and_cancel_a_day_with_a_public_note(setup):
    station = setup["station"]
    day = local_today() + timedelta(days=5)
    rd = ReceptionDay(station_id=station.id, day=day, **HOURS)
    db.session.add(rd)
    db.session.commit()
    cal.set_duty(rd, [setup["deputies"][0].id], by=setup["staff"])
    with pytest.raises(DomainError, match="请填写公开说明"):
        cal.move_day(rd, day + timedelta(days=1), "", by=setup["staff"])
    with pytest.raises(DomainError, match="接待日不能安排在过去的日期"):
        cal.move_day(rd, local_today() - timedelta(days=1), "因故调整", by=setup["staff"])
    db.session.refresh(rd)
    assert rd.day == day
    cal.move_day(rd, day + timedelta(days=2), "因节假日顺延", by=setup["staff"])
    assert rd.day == day + timedelta(days=2) and rd.moved_from == day
    assert rd.duties[0].day == rd.day
    cal.cancel_day(rd, "因防汛工作取消", by=setup["staff"])
    assert rd.status == "cancelled" and rd.duties == [] and rd.public_note == "因防汛工作取消"


def test_themed_reception_in_the_past_is_refused(setup):
    values = {"day": local_today() - timedelta(days=1), "theme": "法官进站", "invited": "县法院副院长", **HOURS}
    with pytest.raises(DomainError, match="接待日不能安排在过去的日期"):
        cal.add_themed_day(setup["station"], values, by=setup["staff"])
    assert count(ReceptionDay) == 0
    values["day"] = local_today() + timedelta(days=7)
    rd = cal.add_themed_day(setup["station"], values, by=setup["staff"])
    assert rd.kind == "themed" and rd.theme == "法官进站"


def test_publish_month_goes_to_the_noticeboard_and_is_revised_in_place(setup):
    from blueprints.noticeboard.models import Notice

    station = setup["station"]
    day = local_today() + timedelta(days=1)
    rd = ReceptionDay(station_id=station.id, day=day, **HOURS)
    db.session.add(rd)
    db.session.commit()
    cal.set_duty(rd, [setup["deputies"][0].id], by=setup["staff"])
    notice = cal.publish_month(station, day.year, day.month, by=setup["staff"])
    assert notice.category == "reception" and notice.station_id == station.id and "王芳" in notice.body
    cal.publish_month(station, day.year, day.month, by=setup["staff"])
    assert count(Notice) == 1


def test_ics_feed_lists_days_with_local_times(setup):
    station = setup["station"]
    rd = ReceptionDay(station_id=station.id, day=date(2030, 3, 5), **HOURS)
    db.session.add(rd)
    db.session.commit()
    text = cal.ics_calendar(station, [rd], "example.org")
    assert "DTSTART;TZID=Asia/Shanghai:20300305T090000" in text and text.startswith("BEGIN:VCALENDAR")


# ---- reception records -------------------------------------------------------------------------

def test_a_visit_needing_follow_up_becomes_a_case(setup):
    visit = services.record_reception(setup["station"], {
        "category": "urban", "summary": "东街路灯不亮\n已经一个月", "deputy_ids": [setup["deputies"][0].id],
        "consent": True, "visitor_name": "刘女士", "visitor_phone": "13912345678", "follow_up": True,
    }, by=setup["liaison"])
    case = visit.case
    assert case.source == "reception" and case.title == "东街路灯不亮" and case.category == "urban"
    assert case.contact_phone == "13912345678" and case.station_id == setup["station"].id
    assert [d.name for d in visit.deputies] == ["王芳"]


def test_a_visit_answered_on_the_spot_opens_no_case(setup):
    services.record_reception(setup["station"], {"category": "social", "summary": "咨询医保报销比例",
                                                 "answered_on_spot": True, "spot_answer": "已解释政策"},
                              by=setup["liaison"])
    assert count(Case) == 0 and count(Reception) == 1


@pytest.mark.parametrize("values, message", [
    ({"category": "nope", "summary": "x"}, "请选择反映问题的类别"),
    ({"category": "urban", "summary": " "}, "请填写群众反映的内容"),
    ({"category": "urban", "summary": "x", "visitor_phone": "12345"}, "不是有效的电话号码"),
    ({"category": "urban", "summary": "x", "visitor_name": "刘"}, "须经本人同意"),
])
def test_bad_reception_records_are_refused(setup, values, message):
    with pytest.raises(DomainError, match=message):
        services.record_reception(setup["station"], values, by=setup["liaison"])
    assert count(Reception) == 0 and count(Case) == 0


def test_a_liaison_records_only_at_their_station(setup, make_user):
    other_liaison = make_user("liaison", "l2", station=setup["other"])
    with pytest.raises(Forbidden) as refused:
        services.record_reception(setup["station"], {"category": "urban", "summary": "x"}, by=other_liaison)
    assert refused.value.status == 403
    assert count(Reception) == 0


# ---- messages from the public ------------------------------------------------------------------

def test_a_message_gets_a_receipt_code(setup):
    case = services.leave_message(station=setup["station"], deputy=None, body="小区门口积水严重", phone="0561-3012345")
    assert case.source == "message" and cases.find_by_receipt(case.receipt_code).id == case.id
    deputy_case = services.leave_message(station=None, deputy=setup["deputies"][1], body="请关注公交站台",
                                         source="kiosk")
    assert deputy_case.station_id == setup["station"].id and deputy_case.source_ref.startswith("deputy:")


@pytest.mark.parametrize("body, phone, message", [
    ("", None, "请填写留言内容"),
    ("字" * 10_000, None, "留言不能超过 2000 个字符"),
    ("积水", "1380000", "不是有效的电话号码"),
    ("积水", "abc", "不是有效的电话号码"),
])
def test_bad_messages_are_refused(setup, body, phone, message):
    with pytest.raises(DomainError, match=message):
        services.leave_message(station=setup["station"], deputy=None, body=body, phone=phone)
    assert count(Case) == 0


def test_public_timeline_shows_no_names_or_notes(setup):
    case = services.leave_message(station=setup["station"], deputy=None, body="积水", phone="13800000000")
    cases.assign_case(case, setup["unit"], local_today() + timedelta(days=5), by=setup["staff"], note="内部意见")
    labels = [label for _at, label in services.public_timeline(case)]
    assert labels == ["已收到", "已交办承办单位"]


# ---- statistics --------------------------------------------------------------------------------

def test_station_stats_count_visits_cases_answers_and_ratings(setup):
    station = setup["station"]
    services.record_reception(station, {"category": "urban", "summary": "路灯", "follow_up": True}, by=setup["liaison"])
    services.record_reception(station, {"category": "social", "summary": "医保", "answered_on_spot": True},
                              by=setup["liaison"])
    case = db.session.scalars(select(Case)).one()
    cases.assign_case(case, setup["unit"], local_today(), by=setup["staff"])
    cases.reply_case(case, "已修复", by=setup["unit_user"])
    cases.send_answer(case, by=setup["staff"])
    cases.rate_case(case, "satisfied")
    stats = services.station_stats(local_today().year, station_id=station.id)
    t = stats["total"]
    assert (t["visits"], t["cases"], t["answered"], t["on_time"], t["rated"], t["satisfaction"]) == (2, 1, 1, 1, 1, 100)
    assert services.station_stats(local_today().year, station_id=setup["other"].id)["total"]["visits"] == 0
    area_stats = services.station_stats(local_today().year, area_id=station.area_id)
    assert area_stats["total"]["visits"] == 2
    assert "<svg" in services.bar_chart_svg(stats["months"], "visits", "接待人次")
    assert services.stats_xlsx(stats, "统计")[:2] == b"PK"
    assert services.answered_this_year() == 1


def test_the_rotation_carries_on_into_the_next_year(setup):
    station = setup["station"]
    fifth = Deputy(name="周强", level="county", station=station)
    db.session.add(fifth)
    db.session.commit()
    ids = [d.id for d in setup["deputies"]] + [fifth.id]
    year = local_today().year + 1
    cal.set_rule(station, {"kind": "month_days", "month_days": "25", **HOURS, "deputies_per_day": 1},
                 by=setup["staff"])
    cal.generate_year(station, year, by=setup["staff"])  # 12 days over 5 deputies: 3, 3, 2, 2, 2
    cal.generate_year(station, year + 1, by=setup["staff"])
    january = db.session.scalar(select(DutyAssignment.deputy_id).where(DutyAssignment.day == date(year + 1, 1, 25)))
    assert january == ids[2]  # the next in turn, not the first deputy again


def test_receiving_deputies_get_one_reception_activity_per_day(setup):
    from blueprints.duties.models import Activity

    first, second = setup["deputies"][0], setup["deputies"][1]
    for summary in ("东街路灯不亮", "小区停车难"):
        services.record_reception(setup["station"], {"category": "urban", "summary": summary,
                                                     "deputy_ids": [first.id, second.id]}, by=setup["liaison"])
    activities = db.session.scalars(select(Activity).order_by(Activity.deputy_id)).all()
    assert [(a.deputy_id, a.type_code, a.status) for a in activities] == [
        (first.id, "reception", "verified"), (second.id, "reception", "verified")]
    assert activities[0].occurred_on == local_today() and activities[0].place == setup["station"].name


def test_a_refused_visit_records_no_activity(setup):
    from blueprints.duties.models import Activity

    with pytest.raises(DomainError):
        services.record_reception(setup["station"], {"category": "nope", "summary": "x",
                                                     "deputy_ids": [setup["deputies"][0].id]}, by=setup["liaison"])
    assert count(Activity) == 0 and count(Reception) == 0


# ---- one unit of work, refusals by constraint name (issue 13) ------------------------------------

def test_a_racing_double_booking_gets_the_rota_constraints_message(setup):
    """Two liaisons roster one deputy at two stations at the same moment: both checks passed, the
    UNIQUE(deputy, day) refuses the second, with the rota's message, and nothing of it is stored."""
    from blueprints.core.errors import Conflict
    from blueprints.core.transaction import transaction

    day = local_today() + timedelta(days=3)
    wang = setup["deputies"][0]
    rds = [ReceptionDay(station_id=s.id, day=day, **HOURS) for s in (setup["station"], setup["other"])]
    db.session.add_all(rds)
    db.session.commit()
    cal.set_duty(rds[1], [wang.id], by=setup["staff"])
    with pytest.raises(Conflict, match="该代表当天已在其他联络站值班") as refused, transaction():
        db.session.add(DutyAssignment(reception_day_id=rds[0].id, deputy_id=wang.id, station_id=rds[0].station_id,
                                      day=day))
    assert refused.value.status == 409 and refused.value.field == "deputy_ids"
    assert count(DutyAssignment) == 1


def test_moving_a_day_onto_another_of_the_stations_days_gets_the_days_constraints_message(setup):
    from blueprints.core.errors import Conflict

    station = setup["station"]
    first, second = (ReceptionDay(station_id=station.id, day=local_today() + timedelta(days=n), **HOURS)
                     for n in (3, 4))
    db.session.add_all([first, second])
    db.session.commit()
    with pytest.raises(Conflict, match="本站这一天的这个时间已有接待安排") as refused:
        cal.move_day(first, second.day, "因故调整", by=setup["staff"])
    assert refused.value.field == "day"
    assert db.session.get(ReceptionDay, first.id).day == local_today() + timedelta(days=3)
    values = {"day": second.day, "theme": "法官进站", **HOURS}
    with pytest.raises(Conflict, match="本站这一天的这个时间已有接待安排"):
        cal.add_themed_day(station, values, by=setup["staff"])
    assert count(ReceptionDay) == 2


def test_a_visit_and_its_case_commit_together_or_not_at_all(setup, monkeypatch):
    from blueprints.duties.models import Activity

    values = {"category": "urban", "summary": "东街路灯不亮", "deputy_ids": [setup["deputies"][0].id],
              "follow_up": True}
    real_open_case = cases.open_case

    def open_then_fail(*args, **kwargs):
        real_open_case(*args, **kwargs)  # nested: only flushed
        raise DomainError("承办系统暂时不可用")

    monkeypatch.setattr(cases, "open_case", open_then_fail)
    with pytest.raises(DomainError, match="承办系统暂时不可用"):
        services.record_reception(setup["station"], values, by=setup["liaison"])
    db.session.rollback()
    assert count(Reception) == 0 and count(Case) == 0 and count(Activity) == 0
    monkeypatch.setattr(cases, "open_case", real_open_case)
    visit_id = services.record_reception(setup["station"], values, by=setup["liaison"]).id
    db.session.rollback()  # committed by the service: nothing left for a rollback to drop
    visit = db.session.get(Reception, visit_id)
    assert visit.case.source == "reception" and count(Case) == 1 and count(Activity) == 1


def test_state_refusals_of_the_rota_are_conflicts(setup):
    from blueprints.core.errors import Conflict

    rd = ReceptionDay(station_id=setup["station"].id, day=local_today() - timedelta(days=1), **HOURS)
    db.session.add(rd)
    db.session.commit()
    with pytest.raises(Conflict, match="已经过去的接待日不能再排班"):
        cal.set_duty(rd, [setup["deputies"][0].id], by=setup["staff"])
    with pytest.raises(Conflict, match="已经过去的接待日不能再调整"):
        cal.cancel_day(rd, "因故取消", by=setup["staff"])
    assert count(DutyAssignment) == 0 and db.session.get(ReceptionDay, rd.id).status == "scheduled"
