"""A demo an insider believes (issue 18): what every visitor sees first must hold up."""
from __future__ import annotations

import re

from sqlalchemy import select

from blueprints.core.extensions import db

# The handling units a topic may go to (main unit), by words in the subject: independent of the demo's code.
TOPIC_UNITS = [
    (r"饮水|水利", {"县水利局"}),
    (r"养老", {"县民政局"}),
    (r"卫生院|医疗", {"县卫生健康委员会"}),
    (r"公路|道路|桥梁|公交", {"县交通运输局"}),
    (r"用工|求职", {"县人力资源和社会保障局"}),
    (r"管网|老旧小区", {"县住房和城乡建设局"}),
    (r"校园周边交通", {"县公安局", "县教育局"}),
    (r"垃圾", {"县农业农村局", "市生态环境局青山县分局", "县住房和城乡建设局"}),
    (r"农贸市场", {"县市场监督管理局"}),
]
FEMALE_GIVEN = {"秀英", "桂兰", "玉兰", "淑珍", "凤英", "海燕", "丽娟", "红梅", "秀兰", "春梅", "雪梅",
                "娜", "婷", "霞", "艳"}
MALE_GIVEN = {"建国", "国强", "志刚", "学军", "立新", "勇", "刚", "鹏", "斌", "浩", "峰"}


def test_every_demo_suggestion_goes_to_the_unit_of_its_topic(demo):
    from blueprints.suggestions.models import Suggestion

    assigned = db.session.scalars(select(Suggestion).where(Suggestion.main_unit_id.is_not(None))).all()
    assert len(assigned) >= 8
    for item in assigned:
        allowed = [units for pattern, units in TOPIC_UNITS if re.search(pattern, item.title)]
        assert allowed, f"no topic for {item.title}"
        assert item.main_unit.name in set().union(*allowed), f"{item.title} → {item.main_unit.name}"


def test_demo_names_match_genders_and_deputies_serve_in_their_township(demo):
    from blueprints.registry.models import Deputy

    for deputy in db.session.scalars(select(Deputy)):
        given = deputy.name[1:]
        assert given not in (FEMALE_GIVEN if deputy.gender == "男" else MALE_GIVEN), (deputy.name, deputy.gender)
        if deputy.station is not None and deputy.level in ("county", "township"):
            assert deputy.station.area_id == deputy.area_id, f"{deputy.name} serves outside their township"


def test_demo_projects_are_credible_for_the_time_of_year(demo):
    from blueprints.ballots.models import Project
    from blueprints.core.timeutil import local_today

    projects = db.session.scalars(select(Project)).all()
    assert projects
    if local_today().month >= 10:  # results published in January: by the last quarter none is at 30 %
        assert min(p.progress for p in projects) >= 65


def test_several_demo_stations_have_receptions_and_cases(demo):
    from sqlalchemy import func

    from blueprints.core.cases import Case
    from blueprints.stations.models import Reception

    with_visits = db.session.scalar(select(func.count(func.distinct(Reception.station_id))))
    with_cases = db.session.scalar(select(func.count(func.distinct(Case.station_id))).where(
        Case.source == "reception"))
    assert with_visits >= 3 and with_cases >= 3


def test_demo_visits_happen_in_office_hours(demo):
    from blueprints.core.timeutil import to_local
    from blueprints.stations.models import Reception

    for visit in db.session.scalars(select(Reception)):
        local = to_local(visit.visited_at)
        assert 8 <= local.hour < 18 and local.weekday() < 5, local


def _in_office(moment) -> bool:
    from datetime import time

    from blueprints.core.timeutil import to_local

    local = to_local(moment)
    return local.weekday() < 5 and time(8, 30) <= local.time() <= time(17, 30)


def test_demo_stamps_fall_in_office_hours_on_weekdays_and_in_order(demo):
    """Issue 18: no case, step, suggestion or activity stamped 02:13, 23:50 or on a Sunday; and the
    loop's order holds (a step never before its case, an answer before its rating)."""
    from blueprints.core.cases import Case, CaseAssignment, CaseRating, CaseStep
    from blueprints.core.timeutil import utcnow
    from blueprints.duties.models import Activity
    from blueprints.suggestions.models import (
        Suggestion,
        SuggestionAnswer,
        SuggestionContact,
        SuggestionCosigner,
        SuggestionReview,
    )

    now = utcnow()
    checked = 0
    for model in (Case, CaseAssignment, CaseRating, CaseStep, Suggestion, SuggestionCosigner, SuggestionReview,
                  SuggestionAnswer, SuggestionContact, Activity):
        columns = [c for c in model.__table__.columns if c.type.__class__.__name__ == "UTCDateTime"]
        for row in db.session.execute(select(model.id, *columns)):
            for column, value in zip(columns, row[1:], strict=True):
                if value is not None and value <= now:
                    checked += 1
                    assert _in_office(value), f"{model.__tablename__}.{column.name} #{row[0]}: {value}"
    assert checked > 1000

    def ordered(*stamps):
        present = [s for s in stamps if s is not None]
        return present == sorted(present)

    for case in db.session.scalars(select(Case)):
        steps = [s.at for s in sorted(case.steps, key=lambda s: s.id)]
        assert all(case.created_at <= at for at in steps), case.id
        assert steps == sorted(steps), case.id
        assert ordered(case.created_at, case.answered_at, case.sent_at), case.id
        assert ordered(case.sent_at, case.closed_at), case.id
    for assignment in db.session.scalars(select(CaseAssignment)):
        assert ordered(assignment.case.created_at, assignment.assigned_at, assignment.replied_at), assignment.id
    for rating in db.session.scalars(select(CaseRating)):
        assert ordered(rating.case.sent_at, rating.rated_at), rating.id
    for item in db.session.scalars(select(Suggestion)):
        assert ordered(item.created_at, item.submitted_at, item.registered_at, item.answered_at), item.id
        assert ordered(item.answered_at, item.completed_at), item.id
        if item.case is not None:
            assert ordered(item.registered_at, *(a.assigned_at for a in item.case.assignments)), item.id
    for signer in db.session.scalars(select(SuggestionCosigner)):
        assert ordered(signer.invited_at, signer.answered_at), signer.id
    for activity in db.session.scalars(select(Activity)):
        assert ordered(activity.created_at, activity.verified_at), activity.id
        if activity.source_ref.startswith("demo-"):  # the year's activities: filed after they were held
            assert to_local_date(activity.created_at) >= activity.occurred_on, activity.id


def to_local_date(moment):
    from blueprints.core.timeutil import to_local

    return to_local(moment).date()


def test_office_hours_moves_night_and_weekend_stamps_keeping_their_order(app):
    """The demo loaded at night or on a Sunday (the demo fixture may load in office hours): stamps at
    02:13, 23:50, 18:00 or on a Sunday move into the office hours before them; those in office hours
    stay; the order of all of them holds."""
    from datetime import datetime

    from blueprints.core import cases
    from blueprints.core.demo import office_hours
    from blueprints.core.timeutil import LOCAL_TZ

    def local(*args):
        return datetime(*args, tzinfo=LOCAL_TZ)

    # 2026-11-29 is a Sunday.
    stamps = [local(2026, 11, 27, 9, 0), local(2026, 11, 28, 11, 0), local(2026, 11, 29, 23, 50),
              local(2026, 11, 30, 2, 13), local(2026, 11, 30, 10, 0), local(2026, 11, 30, 18, 0),
              local(2026, 12, 1, 8, 0), local(2026, 12, 1, 17, 45), local(2026, 12, 2, 1, 0)]
    from blueprints.core.transaction import transaction

    made = []
    with transaction():
        for index, stamp in enumerate(stamps):
            case = cases.open_case("message", f"第{index}件", "路灯不亮。")
            db.session.flush()
            case.created_at = case.updated_at = stamp
            for step in case.steps:
                step.at = stamp
            made.append(case)
    with transaction():
        office_hours(now=local(2026, 12, 2, 3, 0))
    db.session.expire_all()
    moved = [db.session.get(type(c), c.id).created_at for c in made]
    assert all(_in_office(m) for m in moved), moved
    assert moved == sorted(moved) and len(set(moved)) == len(moved)
    assert moved[0] == stamps[0] and moved[4] == stamps[4]  # already in office hours: left
    assert to_local_date(moved[1]) == to_local_date(stamps[0])  # Saturday → the Friday after 09:00
    assert to_local_date(moved[8]) == to_local_date(stamps[7])  # 01:00 → the day before, after 17:45→17:30
    for case, when in zip(made, moved, strict=True):
        assert all(s.at == when for s in db.session.get(type(case), case.id).steps)
