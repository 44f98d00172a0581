"""Irreversible steps ask once (issue 18): without JavaScript a GET of the step shows what will happen
and one POST button; with htmx the button posts after hx-confirm and the redirect becomes HX-Redirect."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.core.extensions import db

from .suggestions_helpers import draft, env  # noqa: F401  (env is a fixture)


def _confirm_form(html: str, action: str) -> bool:
    return f'<form method="post" action="{action}"' in html and 'name="confirmed" value="1"' in html


def test_closing_and_publishing_a_ballot_ask_first(demo):
    from blueprints.ballots.models import Ballot

    ballot = db.session.scalars(select(Ballot).where(Ballot.status == "open")).first()
    client = demo.test_client()
    client.post("/login", data={"username": "staff", "password": "demo-2026"})
    page = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert f'href="/ballots/{ballot.id}/close" hx-post="/ballots/{ballot.id}/close"' in page
    assert 'hx-confirm="确定截止投票？' in page
    asked = client.get(f"/ballots/{ballot.id}/close")
    assert asked.status_code == 200 and _confirm_form(asked.get_data(as_text=True), f"/ballots/{ballot.id}/close")
    assert "这一步不能撤销" in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).status == "open"  # asking changed nothing
    done = client.post(f"/ballots/{ballot.id}/close", data={"confirmed": "1"}, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Redirect"] == f"/ballots/{ballot.id}"
    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).status == "closed"
    asked = client.get(f"/ballots/{ballot.id}/publish").get_data(as_text=True)
    assert _confirm_form(asked, f"/ballots/{ballot.id}/publish") and "确认公布结果" in asked


def test_submitting_a_suggestion_asks_first(env, client, auth):  # noqa: F811
    from blueprints.suggestions.models import Suggestion

    item = draft(env)
    db.session.commit()
    auth.login("lead")
    page = client.get(f"/suggestions/{item.id}/work").get_data(as_text=True)
    assert f'hx-post="/suggestions/{item.id}/submit"' in page and "hx-confirm=" in page
    asked = client.get(f"/suggestions/{item.id}/submit").get_data(as_text=True)
    assert _confirm_form(asked, f"/suggestions/{item.id}/submit") and "不能再修改" in asked
    db.session.expire_all()
    assert db.session.get(Suggestion, item.id).status == "draft"  # asking changed nothing
    assert client.post(f"/suggestions/{item.id}/submit", data={"confirmed": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Suggestion, item.id).status == "submitted"
