"""Workspaces show what waits, each count linking to its filtered list, in a bounded number of SQL queries."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from blueprints.core.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")

# The account with its browser's session row (one query, core/web.py load_user), the counts (all in one
# statement, core.areas.count_query) and the panels' own queries: measured on the demo county staff 2,
# deputy 5, unit 3, liaison 3 (2026-12-02), one spare for a panel. A new count adds no query. At city size
# (11,000 deputies) tests/test_workspaces_city.py checks ≤ 10 and that the number does not grow.
QUERY_BUDGET = 6


@contextmanager
def counted():
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _waiting(html: str) -> dict[str, tuple[int, str]]:
    found = re.findall(r'<li class="[^"]*"><a href="([^"]+)"><strong>(\d+)</strong><span>([^<]+)</span>', html)
    return {label: (int(n), href.replace("&amp;", "&")) for href, n, label in found}


def _workspace(client, username):
    client.post("/login", data={"username": username, "password": PASSWORD})
    with counted() as statements:
        response = client.get("/workspace/")
    assert response.status_code == 200
    print(f"{username}: {len(statements)} queries")
    return response.get_data(as_text=True), statements


def test_staff_workspace_counts_link_to_filtered_lists(demo):
    from blueprints.core.cases import Case
    from blueprints.suggestions.models import Suggestion

    client = demo.test_client()
    html, statements = _workspace(client, "staff")
    assert len(statements) <= QUERY_BUDGET, statements
    waiting = _waiting(html)
    new_cases = db.session.scalar(select(func.count(Case.id)).where(Case.status == "new", Case.source != "suggestion"))
    assert waiting["待交办的群众诉求"] == (new_cases, "/cases/?status=new")
    submitted = db.session.scalar(select(func.count(Suggestion.id)).where(Suggestion.status == "submitted"))
    assert waiting["待预审的代表建议"] == (submitted, "/manage/suggestions/?status=submitted")
    assert waiting["待核实的履职活动"][1] == "/duties/verify"
    assert "逾期未答复" in waiting
    for _label, (_n, href) in waiting.items():
        assert client.get(href).status_code == 200, href


def test_deputy_sees_the_open_ballot_first(demo):
    client = demo.test_client()
    html, statements = _workspace(client, "deputy41")
    assert len(statements) <= QUERY_BUDGET, statements
    waiting = _waiting(html)
    assert waiting["项表决正在进行，去投票"] == (1, "/meetings/2/vote")
    assert html.index("去投票") < html.index('class="tiles"')
    assert waiting["待确认的附议邀请"][1] == "/my/suggestions/"
    assert waiting["被退回待修改的履职活动"][1] == "/me/"


@pytest.mark.parametrize("username, label", [("unit", "交办本单位待答复"), ("liaison", "待交办的群众诉求")])
def test_unit_and_liaison_workspaces(demo, username, label):
    client = demo.test_client()
    html, statements = _workspace(client, username)
    assert len(statements) <= QUERY_BUDGET, statements
    assert label in _waiting(html)


@pytest.mark.parametrize("username, labels", [
    ("staff", ["待审批的延期申请", "待审批的建议延期申请"]),
    ("unit", ["7 天内到期", "近 7 天的延期审批结果", "7 天内到期的代表建议"]),
    ("liaison", ["今天的接待日，登记来访", "近 30 天未登记接待记录的接待日"]),
    ("deputy41", ["已答复待评价的建议", "份会议通知待回执"]),
])
def test_every_role_sees_what_waits_and_each_link_answers(demo, username, labels):
    """Issue 15's remaining counts: a deputy's duty tomorrow and answers to rate; a unit's items due in 7 days
    and extension decisions; a liaison's reception day today and days with no visit recorded; staff's
    extension requests. Each count is there (0 greyed), links to a list that answers, and the workspace
    stays within the query budget."""
    client = demo.test_client()
    html, statements = _workspace(client, username)
    assert len(statements) <= QUERY_BUDGET, (username, len(statements))
    waiting = _waiting(html)
    for label in labels:
        assert label in waiting, (username, label, sorted(waiting))
        assert client.get(waiting[label][1]).status_code == 200, waiting[label][1]


def test_the_counts_match_their_lists(demo):
    from datetime import timedelta

    from blueprints.core import cases
    from blueprints.core.cases import Case, CaseAssignment
    from blueprints.core.models import User
    from blueprints.core.timeutil import local_today
    from blueprints.stations import services
    from blueprints.stations.models import DutyAssignment, ReceptionDay

    today = local_today()
    item = db.session.scalar(select(CaseAssignment).join(Case).where(
        CaseAssignment.state == "pending", CaseAssignment.role == "main", Case.source != "suggestion",
        Case.status == "assigned").order_by(CaseAssignment.id))
    unit = db.session.scalar(select(User).where(User.role == "unit", User.unit_id == item.unit_id))
    staff = db.session.scalar(select(User).where(User.username == "staff"))
    if item.extension_until is None:
        cases.request_extension(item.case, item.deadline + timedelta(days=30), "需要协调资金", by=unit)
    requests = services.waiting_extension_requests(staff)
    decided = services.waiting_extension_decisions(unit)
    cases.decide_extension(item.case, True, by=staff)
    assert services.waiting_extension_requests(staff) == requests - 1
    assert services.waiting_extension_decisions(unit) == decided + 1
    before = services.waiting_due_soon(unit)
    item.deadline = today + timedelta(days=3)
    db.session.commit()
    assert services.waiting_due_soon(unit) == before + 1
    client = demo.test_client()
    client.post("/login", data={"username": unit.username, "password": PASSWORD})
    page = client.get("/cases/?status=extension_decided").get_data(as_text=True)
    assert item.case.title in page

    # a liaison's reception day today; a deputy on duty tomorrow (06:00, beside the demo's days)
    from datetime import time

    liaison = db.session.scalar(select(User).where(User.username == "liaison"))
    deputy = db.session.scalar(select(User).where(User.username == "deputy41"))
    known = services.reception_today_for(liaison)[0]
    today_day = ReceptionDay(station_id=liaison.station_id, day=today, start_time=time(6), end_time=time(7))
    tomorrow_day = ReceptionDay(station_id=liaison.station_id, day=today + timedelta(days=1), start_time=time(6),
                                end_time=time(7))
    db.session.add_all([today_day, tomorrow_day])
    db.session.flush()
    had = services.duty_tomorrow_for(deputy)
    db.session.add(DutyAssignment(reception_day_id=tomorrow_day.id, deputy_id=deputy.deputy_id,
                                  station_id=liaison.station_id, day=tomorrow_day.day))
    db.session.commit()
    assert services.reception_today_for(liaison)[0] == known + 1
    assert services.duty_tomorrow_for(deputy)[0] == (had[0] if had else 0) + 1
