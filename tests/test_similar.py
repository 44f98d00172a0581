"""The drafting hint: similar public suggestions of earlier sessions (issue 19 §5), never drafts or the
current session's own."""
from __future__ import annotations

from datetime import timedelta

from blueprints.core.extensions import db
from blueprints.suggestions import services
from blueprints.suggestions.models import CongressSession
from blueprints.suggestions.similar import bigrams, similar
from tests import suggestions_helpers
from tests.conftest import PASSWORD
from tests.suggestions_helpers import TEXT, draft, registered

env = suggestions_helpers.env


def test_bigrams_drop_the_boilerplate():
    assert bigrams("关于加快推进柏庄镇卫生院建设的建议")[:3] == ["柏庄", "庄镇", "镇卫"]


def test_similar_finds_earlier_public_suggestions_only(env, client):
    earlier = registered(env)  # 柏庄镇卫生院, registered in the env's session
    hidden = draft(env, title="关于柏庄镇卫生院增加床位的建议")  # a draft is never shown
    now = env["session"].opens_on + timedelta(days=365)
    current = CongressSession(name="县十八届人大三次会议", year=now.year, opens_on=now, accepting=True)
    db.session.add(current)
    db.session.commit()
    found = [s.id for s, _score in similar("关于改善柏庄镇卫生院就医条件的建议", session_id=current.id)]
    assert found == [earlier.id] and hidden.id not in found
    assert similar("关于改善柏庄镇卫生院就医条件的建议", session_id=env["session"].id) == []  # not its own session
    assert similar("路灯", session_id=current.id) == []
    client.post("/login", data={"username": "lead", "password": PASSWORD})
    page = client.get(f"/my/suggestions/similar?title=柏庄镇卫生院改造&session_id={current.id}").get_data(as_text=True)
    assert TEXT["title"] in page
    item = services.create_draft({**TEXT, "title": "关于柏庄镇卫生院改造的建议"}, by=env["lead"], session=current)
    db.session.commit()
    assert "往届会议的相似建议" in client.get(f"/suggestions/{item.id}/work").get_data(as_text=True)
