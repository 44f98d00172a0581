"""Workspaces show what waits, each count linking to its filtered list, in at most 10 SQL queries."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from blueprints.core.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")


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
    assert len(statements) <= 10, statements
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
    assert len(statements) <= 10, statements
    waiting = _waiting(html)
    assert waiting["项表决正在进行，去投票"] == (1, "/meetings/2/vote")
    assert html.index("去投票") < html.index('class="tiles"')
    assert waiting["待确认的附议邀请"][1] == "/my/suggestions/"
    assert waiting["被退回待修改的履职活动"][1] == "/me/"


@pytest.mark.parametrize("username, label", [("unit", "交办本单位待答复"), ("liaison", "待交办的群众诉求")])
def test_unit_and_liaison_workspaces(demo, username, label):
    client = demo.test_client()
    html, statements = _workspace(client, username)
    assert len(statements) <= 10, statements
    assert label in _waiting(html)
