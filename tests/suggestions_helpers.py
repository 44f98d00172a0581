"""Shared set-up for the suggestion tests: a session, deputies with accounts, staff, two units."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today

TEXT = {"title": "关于加快推进柏庄镇卫生院建设的建议", "grounds": "柏庄镇卫生院用房老旧，群众就医不便。",
        "proposal": "一、列入年度计划；二、落实建设资金；三、年内开工。", "category": "health"}


@pytest.fixture
def env(app, make_user, make_deputy):
    from blueprints.core.models import User
    from blueprints.registry.models import DeputyGroup, GroupMembership, HandlingUnit
    from blueprints.suggestions.models import CongressSession
    from tests.conftest import PASSWORD_HASH

    today = local_today()
    session = CongressSession(name="县十八届人大二次会议", year=today.year, opens_on=today - timedelta(days=1),
                              closes_on=today + timedelta(days=2), accepting=True)
    units = [HandlingUnit(name="县卫生健康委员会"), HandlingUnit(name="县财政局"), HandlingUnit(name="县交通运输局")]
    db.session.add_all([session, *units])
    db.session.commit()
    lead = make_user("deputy", "lead", display_name="王建国")
    other = make_user("deputy", "other", display_name="李秀英")
    reviewer = make_user("deputy", "reviewer", display_name="张组长")
    ended = make_deputy(name="赵终止", ended_on=date(2025, 1, 1), end_reason="job_change")
    group = DeputyGroup(name="城关镇代表小组", kind="regional")
    db.session.add(group)
    db.session.flush()
    db.session.add_all([GroupMembership(group_id=group.id, deputy_id=lead.deputy_id, role="member"),
                        GroupMembership(group_id=group.id, deputy_id=reviewer.deputy_id, role="leader")])
    staff = make_user("staff", "staff", display_name="陈工作")
    leader = make_user("leader", "leader1", display_name="县人大常委会副主任 刘明")
    unit_users = []
    for index, unit in enumerate(units):
        user = User(username=f"unit{index}", display_name=f"{unit.name}办理员", role="unit", unit=unit,
                    password_hash=PASSWORD_HASH)
        db.session.add(user)
        unit_users.append(user)
    db.session.commit()
    return {"session": session, "units": units, "lead": lead, "other": other, "reviewer": reviewer,
            "ended": ended, "staff": staff, "unit_users": unit_users, "group": group, "leader": leader}


def draft(env, **values):
    from blueprints.suggestions import services

    return services.create_draft({**TEXT, **values}, by=env["lead"], session=env["session"])


def registered(env, **values):
    from blueprints.suggestions import services

    item = draft(env, **values)
    services.submit(item, by=env["lead"])
    services.register(item, by=env["staff"])
    return item


def answered(env, reply_class="A", **values):
    from blueprints.suggestions import handling

    item = registered(env, **values)
    handling.assign(item, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    extra = {"promised_on": local_today() + timedelta(days=90)} if reply_class == "B" else {}
    if reply_class == "C":
        extra = {"reasons": "受财力所限，暂无资金安排。"}
    handling.reply(item, "经研究，已列入计划。", reply_class, by=env["unit_users"][0], **extra)
    return item
