"""The year's duty ranking remembered per worker (duties/scoring.py, core/counters.py) never shows what
the database no longer says: every kind of committed change it is computed from shows at once, from
this worker or another; uncommitted changes are neither served nor stored; without the counter's row
nothing is remembered."""
from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from blueprints.core.extensions import db
from blueprints.core.models import ContentVersion, User
from blueprints.core.timeutil import local_today
from blueprints.core.transaction import transaction
from blueprints.duties import scoring, services
from blueprints.duties.models import Activity, ScoringYear
from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership
from tests.conftest import app_on

TODAY = local_today()
YEAR = TODAY.year


@pytest.fixture
def remembering(app, content_counter, users, make_deputy):
    """The app as in production (STANDINGS_MEMO_SECONDS=300), the counter's row present, two deputies
    with verified activities under this year's rules."""
    app.config["STANDINGS_MEMO_SECONDS"] = 300
    scoring.ensure_year(YEAR)
    scoring.save_rules(YEAR, {"survey": ("4", None), "reception": ("3", None)}, absence_deduction="5",
                       minimums={}, actor=users["staff"])
    first, second = make_deputy(name="甲代表"), make_deputy(name="乙代表")
    record(first, 3)
    record(second, 1)
    scoring.remembered.clear()
    yield {"first": first.id, "second": second.id, "staff": users["staff"].id}
    scoring.remembered.clear()


def record(deputy, n, type_code="survey", ref="r"):
    deputy_id = deputy if isinstance(deputy, int) else deputy.id
    for i in range(n):
        services.record_activity(deputy_id, type_code, TODAY, "调研", source="test", source_ref=f"{ref}{deputy_id}:{i}")
    db.session.commit()


def deputy(ctx, which) -> Deputy:
    return db.session.get(Deputy, ctx[which])


def staff(ctx) -> User:
    return db.session.get(User, ctx["staff"])


@pytest.fixture
def aggregates(statements):
    """aggregates() -> the ranking aggregate's runs while open (its statement is the only one joining the
    per-deputy absence counts)."""
    @contextmanager
    def runs():
        with statements() as seen:
            yield seen
        seen[:] = [s for s in seen if "join (select duty_absences.deputy_id" in " ".join(s.lower().split())]

    return runs


def ranking(app) -> dict[str, Decimal]:
    """name -> total, as one request of this worker gets it (remembered or not); without the deputy of
    the ``users`` fixture's deputy account (代表), who has no activities."""
    db.session.remove()
    with app.test_request_context("/duties/evaluation/"):
        return {r["name"]: Decimal(str(r["total"])) for r in scoring.standings_full(YEAR, "county")
                if r["name"] != "代表"}


def computed(app) -> dict[str, Decimal]:
    """The same, computed afresh."""
    app.config["STANDINGS_MEMO_SECONDS"] = 0
    try:
        return ranking(app)
    finally:
        app.config["STANDINGS_MEMO_SECONDS"] = 300


def test_the_ranking_is_remembered_between_requests(remembering, app, aggregates):
    with aggregates() as runs:
        assert ranking(app) == {"甲代表": 12, "乙代表": 4}
        assert ranking(app) == {"甲代表": 12, "乙代表": 4}
        assert ranking(app) == {"甲代表": 12, "乙代表": 4}
    assert len(runs) == 1


def _new_activity(ctx):
    record(ctx["second"], 3, ref="new")


def _returned_activity(ctx):
    activity = db.session.scalars(select(Activity).where(Activity.deputy_id == ctx["first"])).first()
    activity.status = "returned"
    db.session.commit()


def _bulk_update(ctx):
    db.session.execute(update(Activity).where(Activity.deputy_id == ctx["first"]).values(status="pending"))
    db.session.commit()


def _rule_changed(ctx):
    scoring.save_rules(YEAR, {"survey": ("1", None), "reception": ("3", None)}, absence_deduction="5",
                       minimums={}, actor=staff(ctx))
    db.session.commit()


def _absence(ctx):
    scoring.record_absence(deputy(ctx, "first"), TODAY, "未请假", staff(ctx))
    db.session.commit()


def _deduction_changed(ctx):
    scoring.record_absence(deputy(ctx, "second"), TODAY, "未请假", staff(ctx))
    db.session.commit()
    db.session.get(ScoringYear, YEAR).absence_deduction = Decimal("2")
    db.session.commit()


def _renamed(ctx):
    deputy(ctx, "second").name = "乙代表（更名）"
    db.session.commit()


def _joined_a_group(ctx):
    group = DeputyGroup(name="城关代表小组", kind="regional")
    db.session.add(group)
    db.session.flush()
    db.session.add(GroupMembership(group_id=group.id, deputy_id=ctx["first"], role="member"))
    db.session.commit()


def _ended_last_year(ctx):
    ended = deputy(ctx, "second")
    ended.ended_on, ended.end_reason = TODAY.replace(month=1, day=1) - timedelta(days=1), "辞职"
    db.session.commit()


@pytest.mark.parametrize("change", [_new_activity, _returned_activity, _bulk_update, _rule_changed, _absence,
                                    _deduction_changed, _renamed, _joined_a_group, _ended_last_year])
def test_every_committed_change_shows_at_once(remembering, app, change):
    before = ranking(app)
    assert ranking(app) == before
    change(remembering)
    after = ranking(app)
    assert after == computed(app)
    if change is _joined_a_group:  # the group rank is the change here, not the totals
        db.session.remove()
        with app.test_request_context("/"):
            row = next(r for r in scoring.standings_full(YEAR, "county") if r["name"] == "甲代表")
        assert row["group_id"] is not None and row["group_size"] == 1
    else:
        assert after != before


def test_a_change_committed_by_another_worker_shows(remembering, app, database_url):
    assert ranking(app) == {"甲代表": 12, "乙代表": 4}
    with app_on(database_url):  # another app object: another worker's memory, the same database
        record(remembering["second"], 5, ref="other")
    assert ranking(app) == {"甲代表": 12, "乙代表": 24}


def test_uncommitted_changes_are_neither_served_nor_stored(remembering, app):
    assert ranking(app) == {"甲代表": 12, "乙代表": 4}
    with app.test_request_context("/"):
        services.record_activity(remembering["second"], "survey", TODAY, "调研", source="test",
                                 source_ref="uncommitted")
        assert scoring.STANDINGS.changed_in(db.session)  # flushed, not committed
        shown = {r["name"]: Decimal(str(r["total"])) for r in scoring.standings_full(YEAR, "county")}
        assert shown["乙代表"] == 8  # the pending activity counts in this session's own view
        db.session.rollback()
    assert ranking(app) == {"甲代表": 12, "乙代表": 4}


def test_without_the_counter_row_nothing_is_remembered(remembering, app, aggregates):
    db.session.delete(db.session.get(ContentVersion, "duty_standings"))
    db.session.commit()
    with aggregates() as runs:
        ranking(app)
        ranking(app)
    assert len(runs) == 2


def test_the_evaluation_page_and_export_follow_a_change(remembering, client, auth, app, aggregates):
    auth.login("staff")
    url = f"/duties/evaluation/?year={YEAR}&level=county"
    with aggregates() as runs:
        assert "甲代表" in client.get(url).get_data(as_text=True)
        assert "甲代表" in client.get(url).get_data(as_text=True)
    assert len(runs) == 1

    def exported():
        db.session.remove()
        book = openpyxl.load_workbook(io.BytesIO(client.get(f"/duties/evaluation/export.xlsx?year={YEAR}").data))
        return {row[1]: row[2] for row in list(book.active.values)[1:] if row[1] != "代表"}

    assert exported() == {"甲代表": 12, "乙代表": 4}
    _renamed(remembering)
    db.session.remove()
    assert "乙代表（更名）" in client.get(url).get_data(as_text=True)
    _new_activity(remembering)
    assert exported() == {"甲代表": 12, "乙代表（更名）": 16}


def counter() -> int:
    db.session.remove()
    return db.session.get(ContentVersion, "duty_standings").version


def test_a_savepoint_neither_bumps_early_nor_drops_the_transactions_note(remembering, app):
    """SQLAlchemy calls the commit and rollback hooks for SAVEPOINTs too: a change followed by a savepoint
    whose INSERT fails (a concurrent twin in services.record_activity) must still bump on COMMIT, and a
    released savepoint must not bump before it."""
    before = counter()
    ranking(app)
    with app.test_request_context("/"), transaction():
        deputy(remembering, "second").name = "乙代表（更名）"
        db.session.flush()
        with pytest.raises(IntegrityError), db.session.begin_nested():  # a twin of an existing activity
            db.session.add(Activity(deputy_id=remembering["first"], type_code="survey", occurred_on=TODAY,
                                    year=YEAR, title="调研", status="verified", source="test",
                                    source_ref=f"r{remembering['first']}:0"))
        assert scoring.STANDINGS.changed_in(db.session)
        services.record_activity(remembering["first"], "survey", TODAY, "调研", source="test",
                                 source_ref="released")  # its own savepoint, released
        assert scoring.STANDINGS.changed_in(db.session)
    assert counter() == before + 1
    assert ranking(app) == computed(app) == {"甲代表": 16, "乙代表（更名）": 4}


def test_a_rolled_back_transaction_leaves_the_counter_and_the_ranking(remembering, app):
    before, shown = counter(), ranking(app)
    with app.test_request_context("/"), pytest.raises(RuntimeError), transaction():
        services.record_activity(remembering["second"], "survey", TODAY, "调研", source="test", source_ref="lost")
        raise RuntimeError("refused")
    assert counter() == before and ranking(app) == shown == computed(app)


def test_an_activity_recorded_on_the_connection_still_bumps_the_counter(remembering, app):
    """record_activity_once (a meeting pass's check-in) writes with Core on the session's connection, which
    the session's events do not see; it tells the counters itself."""
    before = counter()
    ranking(app)
    with app.test_request_context("/"), transaction():
        services.record_activity_once(remembering["second"], "survey", TODAY, "调研", source="test",
                                      source_ref="by-pass")
    assert counter() == before + 1
    assert ranking(app) == computed(app) == {"甲代表": 12, "乙代表": 8}


def test_a_request_sees_its_own_committed_change(remembering, app):
    """The counter is read once per request; a request that commits a watched change and asks again gets
    the new ranking, not the one it remembered before its own write."""
    with app.test_request_context("/"):
        assert {r["name"]: r["total"] for r in scoring.standings_full(YEAR, "county")}["乙代表"] == 4
        with transaction():
            services.record_activity(remembering["second"], "survey", TODAY, "调研", source="test", source_ref="own")
        assert {r["name"]: r["total"] for r in scoring.standings_full(YEAR, "county")}["乙代表"] == 8


def test_the_deduction_is_read_with_the_ranking_not_from_the_session(remembering, app, database_url):
    """On PostgreSQL (READ COMMITTED) a ScoringYear already in the session can predate a change committed
    since; the deduction comes from the ranking's own statement, so the remembered ranking and its counter
    agree."""
    _absence(remembering)
    db.session.remove()
    with app.test_request_context("/"):
        db.session.get(ScoringYear, YEAR)  # the evaluation page loads the year first
        with app_on(database_url):  # another worker changes the deduction
            db.session.get(ScoringYear, YEAR).absence_deduction = Decimal("1")
            db.session.commit()
        scoring.standings_full(YEAR, "county")
    assert ranking(app) == computed(app) == {"甲代表": 11, "乙代表": 4}


def test_few_rankings_are_kept(remembering, app, aggregates):
    for year in range(YEAR - 20, YEAR + 1):
        db.session.remove()
        with app.test_request_context("/"):
            scoring.standings_full(year, "county")
    assert len(scoring.remembered.entries) == scoring.remembered.max_entries == 12
    with aggregates() as runs:
        ranking(app)  # this year's, the most recent: still kept
    assert runs == []


def test_the_page_s_groups_distribution_and_month_chart_follow_the_ranking(remembering, app, statements):
    """The 先进代表小组, the distribution and the activities-per-month chart are remembered beside the ranking
    under the same counter: each shows a committed change at once, and is read once while nothing changes."""
    def figures():
        db.session.remove()
        with app.test_request_context("/duties/evaluation/"):
            return ([(g["name"], g["members"]) for g in scoring.group_standings(YEAR, "county")],
                    scoring.distribution(YEAR, "county"), scoring.activity_by_month(YEAR, "county"))

    groups, spread, months = figures()
    assert groups == [] and sum(months) == 4 and sum(spread[1]) == 3  # 甲, 乙 and the users fixture's 代表
    with statements() as seen:
        assert figures() == (groups, spread, months)
    read = [s for s in seen if s != "BEGIN"]
    assert len(read) == 1 and read[0].startswith("SELECT version FROM content_versions")  # only the counter
    group = DeputyGroup(name="东区代表小组", kind="regional")
    db.session.add(group)
    db.session.flush()
    db.session.add(GroupMembership(group_id=group.id, deputy_id=remembering["first"]))
    db.session.commit()
    record(remembering["second"], 2, ref="more")
    groups, spread, months = figures()
    assert groups == [("东区代表小组", 1)] and sum(months) == 6
    assert spread == computed_distribution(app)


def computed_distribution(app):
    app.config["STANDINGS_MEMO_SECONDS"] = 0
    try:
        db.session.remove()
        with app.test_request_context("/duties/evaluation/"):
            return scoring.distribution(YEAR, "county")
    finally:
        app.config["STANDINGS_MEMO_SECONDS"] = 300
