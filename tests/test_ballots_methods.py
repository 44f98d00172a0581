"""Ballot methods as classes (blueprints/ballots/methods.py): the registry gives the choices, labels,
validation, passing rule and result columns; the CHECK constraints are generated from it."""
from __future__ import annotations

import pytest

from blueprints.ballots import methods, tally, voting
from blueprints.ballots.models import CHOICE_LABELS, METHOD_CHOICES, METHODS, Ballot, BallotChoice
from blueprints.core.extensions import db
from tests.ballots_helpers import (
    few_secret_votes_close,  # noqa: F401 (a fixture)
    form_for,
    make_ballot,
    make_meeting,
)

pytestmark = pytest.mark.usefixtures("few_secret_votes_close")


def test_the_registry_holds_each_method_and_the_old_names_derive_from_it(app):
    assert list(methods.REGISTRY) == ["approve", "rating"]
    assert METHODS == {"approve": "赞成/反对/弃权", "rating": "满意度测评"}
    assert METHOD_CHOICES == {"approve": ("yes", "no", "abstain"), "rating": ("satisfied", "basic", "unsatisfied")}
    assert CHOICE_LABELS["abstain"] == "弃权" and CHOICE_LABELS["basic"] == "基本满意"


def test_the_check_constraints_are_generated_from_the_registry(app):
    checks = {c.name: str(c.sqltext) for c in Ballot.__table__.constraints if c.name and "method" in str(c.name)}
    assert checks == {"ck_ballots_method": "method IN ('approve', 'rating')"}
    choice = next(str(c.sqltext) for c in BallotChoice.__table__.constraints if str(c.name).endswith("_choice"))
    assert choice == "choice IN ('yes', 'no', 'abstain', 'satisfied', 'basic', 'unsatisfied')"


def test_approve_validates_the_yes_limit_and_selects_by_majority_of_all(app):
    meeting, deputies = make_meeting(5)
    ballot = make_ballot(meeting, 3, max_yes=1, places=1)
    with pytest.raises(voting.BadVote, match="赞成票不能超过 1 个"):
        ballot.rules.validate(ballot, {item.id: "yes" for item in ballot.items})
    for deputy in deputies[:3]:
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, ["yes", "no", "no"]), meeting.id)
    voting.close_ballot(ballot.id)
    results = tally.tally(db.session.get(Ballot, ballot.id))
    assert [(r.yes, r.passed, r.outcome) for r in results] == [(3, True, "selected"), (0, False, "failed"),
                                                               (0, False, "failed")]
    assert ballot.rules.creates_projects and ballot.rules.template == "ballots/methods/approve.html"


def test_rating_has_no_yes_limit_and_no_passing_rule(app):
    meeting, deputies = make_meeting(3)
    ballot = voting.create_ballot(meeting, "测评", "rating", True, max_yes=2, places=2)
    assert (ballot.max_yes, ballot.places) == (None, None)  # Rating.settings drops them
    voting.add_item(ballot, "项目")
    voting.open_ballot(ballot.id)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(db.session.get(Ballot, ballot.id), "basic"), meeting.id)
    voting.close_ballot(ballot.id)
    results = tally.tally(db.session.get(Ballot, ballot.id))
    assert results[0].satisfaction == 1.0 and results[0].outcome == "" and not ballot.rules.creates_projects


def test_a_new_method_is_one_registered_class(app, monkeypatch):
    """What README promises: a class (plus its template, migration and tests) is the whole method."""
    monkeypatch.setattr(methods, "REGISTRY", dict(methods.REGISTRY))

    @methods.register
    class TwoWay(methods.BallotMethod):
        key = "twoway"
        label = "同意/不同意"
        choices = ("agree", "disagree")
        labels = {"agree": "同意", "disagree": "不同意"}

    assert methods.get("twoway").choices == ("agree", "disagree")
    assert methods.all_choices()[-2:] == ("agree", "disagree")
    assert methods.sql_in("method", methods.REGISTRY).endswith("'twoway')")


def test_the_upgrade_keeps_every_paper_count(tmp_path):
    """0008 moves each entry's count_a/b/c into (entry, choice, count) rows named by the ballot's
    method; every other column of ballot_paper_counts is unchanged."""
    from flask_migrate import upgrade
    from sqlalchemy import inspect, text

    from app import create_app
    from tests.conftest import BASE_CONFIG
    from tests.data.demo_dump import insert_rows, read
    from tests.test_upgrade import DUMP, close_open_ballots, empty_database

    dump = read(DUMP)
    tables = close_open_ballots(dump["tables"])
    counts, ballots = tables["ballot_paper_counts"], tables["ballots"]
    col = {name: i for i, name in enumerate(counts["columns"])}
    method_of = {row[0]: row[ballots["columns"].index("method")] for row in ballots["rows"]}
    expected = {}
    for row in counts["rows"]:
        names = methods.get(method_of[row[col["ballot_id"]]]).choices
        for name, column in zip(names, ("count_a", "count_b", "count_c"), strict=True):
            expected[row[col["id"]], name] = row[col[column]]
    assert expected  # the dump has paper counts to carry
    kept = [c for c in counts["columns"] if c not in ("count_a", "count_b", "count_c")]
    with empty_database(tmp_path) as url:
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision=dump["revision"])
            with db.engine.begin() as conn:
                insert_rows(conn, tables)
            upgrade()
            with db.engine.connect() as conn:
                moved = {(r.count_id, r.choice): r.count for r in conn.execute(
                    text("SELECT count_id, choice, count FROM ballot_paper_count_values"))}
                assert moved == expected
                rows = conn.execute(text(f"SELECT {', '.join(kept)} FROM ballot_paper_counts ORDER BY id")).all()
                assert [tuple(r)[:7] for r in rows] == [tuple(row[col[c]] for c in kept)[:7]  # all but entered_at
                                                        for row in sorted(counts["rows"], key=lambda r: r[0])]
                columns = {c["name"] for c in inspect(conn).get_columns("ballot_paper_counts")}
                assert not columns & {"count_a", "count_b", "count_c"}
            db.engine.dispose()


@pytest.fixture
def extra_methods(monkeypatch):
    """A 2-choice and a 4-choice method, registered for this test only."""
    monkeypatch.setattr(methods, "REGISTRY", dict(methods.REGISTRY))

    @methods.register
    class TwoWay(methods.BallotMethod):
        key, label = "twoway", "同意/不同意"
        choices = ("agree", "disagree")
        labels = {"agree": "同意", "disagree": "不同意"}

    @methods.register
    class FourWay(methods.BallotMethod):
        key, label = "fourway", "四档测评"
        choices = ("excellent", "good", "fair", "poor")
        labels = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}

    return methods.get("twoway"), methods.get("fourway")


def test_forms_follow_the_methods_choices(app, extra_methods):
    """The tellers' paper-count form and the phone's vote form are built from the method's choices: a
    method with 2 or 4 choices needs no change to forms.py or the templates."""
    from types import SimpleNamespace

    from flask import render_template
    from werkzeug.datastructures import MultiDict

    from blueprints.ballots.forms import paper_count_form
    from blueprints.ballots.models import CHOICE_LABELS, Ballot

    for method in extra_methods:
        names = [f"count_{c}" for c in method.choices]
        with app.test_request_context("/", method="POST"):
            app.config["WTF_CSRF_ENABLED"] = False
            form = paper_count_form(method, formdata=MultiDict({"item_id": "7", **{n: "1" for n in names}}))
            form.item_id.choices = [(7, "项目")]
            assert [f.name for f in form.count_fields()] == names
            assert [str(f.label.text) for f in form.count_fields()] == [method.labels[c] for c in method.choices]
            assert form.validate() and form.counts() == ["1"] * len(names)
            html = render_template("ballots/_paper_count_form.html", paper_form=form, ballot=SimpleNamespace(id=1))
            for name in names:
                assert f'name="{name}"' in html
            assert html.count('inputmode="numeric"') == len(names)

            ballot = Ballot(id=3, method=method.key, title="测评", secret=True, status="open")
            assert ballot.choices == method.choices and ballot.method_label == method.label
            item = SimpleNamespace(id=11, position=1, title="项目一", unit_name=None, budget=None)
            page = render_template("ballots/vote.html", meeting=SimpleNamespace(id=1, title="会议"),
                                   attendance=SimpleNamespace(checked_in_at=1), ballots=[ballot], voted=set(),
                                   ballot=SimpleNamespace(id=3, title="测评", secret=True, max_yes=None,
                                                          items=[item], choices=ballot.choices),
                                   error=None, chosen={}, CHOICE_LABELS=CHOICE_LABELS)
            assert page.count('name="item-11"') == len(method.choices)
            for c in method.choices:
                assert f'value="{c}"' in page and method.labels[c] in page
            app.config.pop("WTF_CSRF_ENABLED", None)
