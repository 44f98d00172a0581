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
        assert 8 <= local.hour < 18 and local.weekday() < 7, local
