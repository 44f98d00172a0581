"""Issue 15 §4 at city size: every role's workspace in at most 10 SQL queries with 11,000 deputies, the
same number as in a small county built the same way (a count computed per deputy, per case or per
station would grow), and the counts it shows equal to direct queries.

What is counted: every statement the engine hands to the database driver while GET /workspace/ runs
(SQLAlchemy's ``before_cursor_execute`` on the engine), nothing excluded — the session-row check, the
account's own row, the SQLite ``BEGIN`` the app emits itself (core/web.py), the counts, the panels.
COMMIT and ROLLBACK are driver calls, not statements, so they do not show. The request runs in its own
app context, as on a server: a new database session whose identity map holds nothing from the sign-in.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. ``pytest -s`` prints each workspace's
queries and time at both sizes.
"""
from __future__ import annotations

import re
import shutil
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from tests.city_helpers import CITY, SMALL, build_city
from tests.conftest import ON_POSTGRES, PASSWORD, PASSWORD_HASH, TEST_DATABASE_URL, app_on, empty_postgres_tables

QUERY_BUDGET = 10  # issue 15 §4: at most 10 SQL queries per workspace at city size
ROLES = {"staff": "staff", "deputy": "deputy1", "unit": "unit1", "liaison": "liaison1"}


@pytest.fixture(scope="module")
def county_files(tmp_path_factory):
    """SQLite: each size built once into a file (a copy of the migrated template), copied for each test."""
    files: dict[int, str] = {}

    def file_for(deputies: int, template: str) -> str:
        if deputies not in files:
            path = tmp_path_factory.mktemp("county") / f"county-{deputies}.db"
            shutil.copyfile(template, path)
            with app_on(f"sqlite:///{path}"):
                build_city(deputies, PASSWORD_HASH)
            files[deputies] = str(path)
        return files[deputies]

    return file_for


@pytest.fixture
def county(database_url, database_template, county_files, tmp_path):
    """county(deputies) -> the app on a fresh database holding a county of that size."""

    @contextmanager
    def open_county(deputies: int):
        if ON_POSTGRES:  # one database: emptied, then filled at this size
            empty_postgres_tables(TEST_DATABASE_URL)
            with app_on(TEST_DATABASE_URL) as app:
                build_city(deputies, PASSWORD_HASH)
                db.session.remove()
                yield app
            return
        path = tmp_path / f"county-{deputies}.db"
        shutil.copyfile(county_files(deputies, database_template), path)
        with app_on(f"sqlite:///{path}") as app:
            yield app

    return open_county


def _workspace(app, username: str) -> tuple[str, list[str], float]:
    """Sign in, then GET /workspace/ in a fresh app context, counting its statements; and its time."""
    client = app.test_client()
    with app.app_context():
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        try:
            response = client.get("/workspace/")
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
    assert response.status_code == 200
    times = []
    for _ in range(3):  # the time: the median of three more requests (the first also compiles templates)
        with app.app_context():
            start = time.perf_counter()
            assert client.get("/workspace/").status_code == 200
            times.append(time.perf_counter() - start)
    return response.get_data(as_text=True), statements, sorted(times)[1]


def _waiting(html: str) -> dict[str, tuple[int, str]]:
    found = re.findall(r'<li class="[^"]*"><a href="([^"]+)"><strong>(\d+)</strong><span>([^<]+)</span>', html)
    return {label: (int(n), href.replace("&amp;", "&")) for href, n, label in found}


def _n(sql: str, **params) -> int:
    return db.session.scalar(text(sql), params)


def _expected(role: str) -> dict[str, int | tuple[int, str]]:
    """A few of each role's counts, by direct SQL written apart from the areas' queries."""
    today = local_today()
    not_suggestion = "source <> 'suggestion'"
    if role == "staff":
        return {
            "待交办的群众诉求": _n(f"SELECT count(*) FROM cases WHERE status = 'new' AND {not_suggestion}"),
            "待预审的代表建议": _n("SELECT count(*) FROM suggestions WHERE status = 'submitted'"),
            "待交办的代表建议": _n("SELECT count(*) FROM suggestions WHERE status = 'registered'"),
            "待核实的履职活动": _n("SELECT count(*) FROM duty_activities WHERE status = 'pending'"),
            "待审查的议案": _n("SELECT count(*) FROM motions WHERE status = 'submitted'"),
            "待审批的延期申请": _n(
                f"SELECT count(*) FROM cases c WHERE c.{not_suggestion} AND EXISTS (SELECT 1 FROM "
                "case_assignments a WHERE a.case_id = c.id AND a.extension_until IS NOT NULL)"),
        }
    if role == "deputy":
        return {
            "项表决正在进行，去投票": (1, "/meetings/1/vote"),
            "份会议通知待回执": 1,
            "明天值班接待": (1, "/stations/1"),
            "被退回待修改的履职活动": _n(
                "SELECT count(*) FROM duty_activities WHERE deputy_id = 1 AND status = 'returned'"),
            "待确认的附议邀请": _n(
                "SELECT count(*) FROM suggestion_cosigners WHERE deputy_id = 1 AND state = 'invited'"),
            "已答复待评价的建议": _n(
                "SELECT count(*) FROM suggestions WHERE lead_deputy_id = 1 AND status = 'answered' "
                "AND rating IS NULL"),
        }
    if role == "unit":
        return {
            "交办本单位待答复": _n(
                "SELECT count(DISTINCT a.case_id) FROM case_assignments a JOIN cases c ON c.id = a.case_id "
                f"WHERE a.unit_id = 1 AND a.state = 'pending' AND c.{not_suggestion}"),
            "逾期未答复": _n(
                f"SELECT count(*) FROM cases c WHERE c.{not_suggestion} AND c.status = 'assigned' AND "
                "EXISTS (SELECT 1 FROM case_assignments a WHERE a.case_id = c.id AND a.unit_id = 1 AND "
                "a.state = 'pending' AND a.role = 'main' AND a.deadline < :today)", today=today),
        }
    return {  # liaison1: station 1, and the groups whose liaison account it is
        "待交办的群众诉求": _n(
            f"SELECT count(*) FROM cases WHERE status = 'new' AND {not_suggestion} AND station_id = 1"),
        "今天的接待日，登记来访": 1,
        "近 30 天未登记接待记录的接待日": _n(
            "SELECT count(*) FROM reception_days d WHERE d.station_id = 1 AND d.status = 'scheduled' "
            "AND d.day < :today AND d.day >= :since "
            "AND NOT EXISTS (SELECT 1 FROM receptions r WHERE r.reception_day_id = d.id)",
            today=today, since=today.fromordinal(today.toordinal() - 30)),
        "待核实的履职活动": _n(
            "SELECT count(*) FROM duty_activities a WHERE a.status = 'pending' AND a.deputy_id IN "
            "(SELECT id FROM deputies WHERE station_id = 1 UNION SELECT m.deputy_id FROM group_memberships m "
            "JOIN deputy_groups g ON g.id = m.group_id JOIN users u ON u.id = g.liaison_user_id "
            "WHERE u.username = 'liaison1')"),
    }


def _check(role: str, html: str, city: list[str], small: list[str]) -> None:
    assert len(city) <= QUERY_BUDGET, (role, len(city), city)
    assert len(city) == len(small), f"{role}: the query count grows with the county ({len(small)} → {len(city)})"
    waiting = _waiting(html)
    for label, value in _expected(role).items():
        number, href = waiting[label]
        if isinstance(value, tuple):
            assert (number, href) == value, (role, label)
        else:
            assert number == value, (role, label, number, value)
            assert value > 0, f"the city has nothing for {label!r}: the test would prove little"


def test_workspace_at_city_size_within_ten_queries(county):
    """Every role's /workspace/ at both sizes; each size is built once for all four roles (on PostgreSQL a
    city build is over a minute), and every role is checked before the first failure is reported."""
    small, city = {}, {}
    with county(SMALL) as app:
        for role, username in ROLES.items():
            small[role] = _workspace(app, username)
    problems = []
    with county(CITY) as app:
        for role, username in ROLES.items():
            city[role] = html, statements, seconds = _workspace(app, username)
            print(f"\n{role} ({username}): {len(small[role][1])} queries in {small[role][2] * 1000:.0f} ms with "
                  f"{SMALL} deputies, {len(statements)} queries in {seconds * 1000:.0f} ms with {CITY}")
            for statement in statements:
                print("   ", " ".join(statement.split())[:160])
            try:
                _check(role, html, statements, small[role][1])
            except AssertionError as failure:
                problems.append(f"{role}: {failure}")
    assert not problems, "\n".join(problems)


def test_counts_written_as_sql_share_one_statement(app):
    """core.areas: counts written with @count_query run in one SELECT (one column or several, an answer
    function or the first column), a plain count function is still called, None hides a count, and the
    decorated functions called directly answer as before."""
    from types import SimpleNamespace

    from sqlalchemy import literal, select

    from blueprints.core import areas

    def plain(user):
        return 7

    @areas.count_query
    def one_column(user):
        return select(literal(3))

    @areas.count_query
    def two_columns(user):
        return areas.CountQuery(select(literal(2).label("n"), literal("extension").label("status")),
                                lambda n, status: (n, {"status": status}))

    @areas.count_query
    def nothing_to_count(user):
        return None

    registry = areas.registry(app)
    registry.counts[:] = []
    for order, count in enumerate((plain, one_column, two_columns, nothing_to_count)):
        areas.workspace_count(app, count.__name__, "core.workspace", count, order=order)
    user = SimpleNamespace(is_authenticated=True)
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.test_request_context():
        event.listen(db.engine, "before_cursor_execute", before)
        try:
            shown = areas.counts_for(user)
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        assert [(w.label, w.number, w.url) for w in shown] == [
            ("plain", 7, "/workspace/"), ("one_column", 3, "/workspace/"),
            ("two_columns", 2, "/workspace/?status=extension")]
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements
        assert one_column(user) == 3
        assert two_columns(user) == (2, {"status": "extension"})
        assert nothing_to_count(user) is None
