"""Full-text search (issue 19 §5, core.search): Chinese queries over suggestions, cases and notices on the
database's index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL), who sees what, the pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from blueprints.core import search as core_search
from blueprints.core.cases import open_case
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.timeutil import utcnow
from blueprints.core.transaction import transaction
from blueprints.noticeboard import services as notices
from blueprints.suggestions import services
from tests import suggestions_helpers
from tests.conftest import ON_POSTGRES, PASSWORD
from tests.suggestions_helpers import draft, registered

env = suggestions_helpers.env

ROAD = {"title": "关于城东片区修路工程尽快开工的建议", "grounds": "城东片区道路破损，雨天积水，群众出行不便。",
        "proposal": "一、列入年度修路计划；二、落实资金。"}


@pytest.fixture
def rows(env, app):
    """A registered suggestion, a draft and a submitted one (both private), a constituent's case, a
    published and a draft notice, each about 修路."""
    public = registered(env, **ROAD)
    private = draft(env, title="关于西街修路的建议", grounds="西街修路迟迟未动。", proposal="尽快修路。")
    submitted = draft(env, title="关于南关修路的建议", grounds="南关修路。", proposal="修路。")
    services.submit(submitted, by=env["lead"])
    case = open_case("message", "北街修路噪音扰民", "北街修路工程夜间施工，噪音很大。<b>请处理</b>")
    with transaction():
        published = notices.create_notice({"category": "notice", "title": "城东修路工程交通管制公告",
                                           "body": "修路工程期间城东路段封闭施工。", "scope": "county",
                                           "publish_at": utcnow() - timedelta(hours=1)})
        hidden = notices.create_notice({"category": "notice", "title": "修路通知（草稿）", "body": "未发布的修路通知。",
                                        "scope": "county"})
    return {"public": public, "private": private, "submitted": submitted, "case": case, "published": published,
            "hidden": hidden}


@pytest.fixture(autouse=True)
def request_context(app):
    """search() builds each hit's URL."""
    with app.test_request_context():
        yield


def found(results) -> dict[str, set[int]]:
    return {kind.name: {hit.id for hit in hits} for kind, hits, _more in results.groups}


@pytest.mark.parametrize("query", ["修路", "修路工程", "城东 修路"])
def test_chinese_queries_find_what_staff_may_see(env, rows, query):
    results = core_search.search(query, user=env["staff"])
    ids = found(results)
    expected_notices = {rows["published"].id, rows["hidden"].id} if query == "修路" else {rows["published"].id}
    if query == "修路":  # 2 characters: LIKE; staff see the submitted one too, and the case
        assert ids["suggestion"] == {rows["public"].id, rows["submitted"].id} and ids["case"] == {rows["case"].id}
    assert rows["private"].id not in ids["suggestion"]  # another deputy's draft, even for staff
    assert ids["notice"] == expected_notices
    if query == "修路工程":
        assert ids["suggestion"] == {rows["public"].id} and ids["case"] == {rows["case"].id}
        assert results.indexed  # 4 characters: the FTS5 / trigram path, not a LIKE fallback
    if query == "城东 修路":  # every term: the case is in 北街
        assert ids["case"] == set() and ids["suggestion"] == {rows["public"].id}


def test_the_index_is_really_used_where_the_migrations_ran(env, rows):
    if ON_POSTGRES:
        names = set(db.session.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'"))
                    .scalars())
        assert {"ix_suggestions_title_trgm", "ix_cases_body_trgm", "ix_notices_body_trgm"} <= names
        return
    assert core_search._fts_tables() == {"suggestions_fts", "cases_fts", "notices_fts"}
    # The FTS table itself answers (not the base table's LIKE): its MATCH finds the rows.
    hits = db.session.execute(text("SELECT rowid FROM suggestions_fts WHERE suggestions_fts MATCH '\"修路工程\"'"))
    assert set(hits.scalars()) == {rows["public"].id}


def test_the_index_follows_inserts_updates_and_deletes(env, rows):
    staff = env["staff"]
    with transaction():
        rows["public"].title = "关于城东片区架桥工程的建议"
        rows["case"].body = "北街施工噪音。"
    assert rows["public"].id not in found(core_search.search("修路工程", user=staff))["suggestion"]
    assert found(core_search.search("架桥工程", user=staff))["suggestion"] == {rows["public"].id}
    assert found(core_search.search("北街修路", user=staff))["case"] == {rows["case"].id}  # still in the title
    assert found(core_search.search("修路工程", user=staff))["case"] == set()
    with transaction():
        notices.delete_draft(rows["hidden"], staff)
    assert found(core_search.search("修路通知", user=staff))["notice"] == set()
    later = open_case("kiosk", "新增一条诉求：修路扬尘", "扬尘严重。")
    assert found(core_search.search("修路扬尘", user=staff))["case"] == {later.id}


def test_public_only_never_shows_cases_drafts_submitted_or_unpublished(env, rows):
    for results in (core_search.search("修路", public_only=True, user=env["staff"]), core_search.search("修路")):
        ids = found(results)
        assert ids == {"suggestion": {rows["public"].id}, "notice": {rows["published"].id}}  # no cases at all


def test_each_role_sees_its_own(env, rows, make_user):
    lead, other, unit = env["lead"], env["other"], env["unit_users"][0]
    assert found(core_search.search("修路", user=lead))["suggestion"] == {
        rows["public"].id, rows["private"].id, rows["submitted"].id}  # the lead deputy's own drafts
    other_ids = found(core_search.search("修路", user=other))
    assert other_ids["suggestion"] == {rows["public"].id} and other_ids["case"] == set()
    assert other_ids["notice"] == {rows["published"].id}
    assert found(core_search.search("修路", user=unit))["case"] == set()  # never assigned to this unit
    liaison = make_user("liaison", "liaison1")
    assert found(core_search.search("修路", user=liaison))["case"] == set()  # no station


def test_an_empty_or_over_long_query_is_refused_in_chinese(env):
    with pytest.raises(DomainError, match="请输入要搜索的词"):
        core_search.search("   ", user=env["staff"])
    with pytest.raises(DomainError, match="搜索词太长"):
        core_search.search("修" * 65, user=env["staff"])
    with pytest.raises(DomainError, match="最多 5 个"):
        core_search.search("一 二 三 四 五 六", user=env["staff"])


def test_excerpts_mark_the_terms_and_escape_the_text(env, rows):
    hit = next(h for kind, hits, _ in core_search.search("修路工程", user=env["staff"]).groups
               if kind.name == "case" for h in hits)
    assert "<mark>修路工程</mark>" in hit.excerpt and "<b>" not in hit.excerpt and "&lt;b&gt;" in hit.excerpt


def test_the_search_page_with_and_without_htmx(env, rows, client):
    assert client.get("/search/?q=修路").status_code == 302  # signed in only
    client.post("/login", data={"username": "staff", "password": PASSWORD})
    page = client.get("/search/?q=修路工程")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<mark>修路工程</mark>" in body and "<h1>" in body
    assert f"/suggestions/{rows['public'].id}/work" in body and f"/cases/{rows['case'].id}" in body
    fragment = client.get("/search/?q=修路&kind=notice", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<h1>" not in fragment and "交通管制" in fragment and "北街" not in fragment
    refused = client.get("/search/?q=", headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "请输入要搜索的词" in refused.get_data(as_text=True)
    long = client.get("/search/?q=" + "修" * 70)
    assert long.status_code == 422 and "搜索词太长" in long.get_data(as_text=True)


def test_the_public_register_searches_through_the_index(env, rows, client):
    url = f"/suggestions/sessions/{env['session'].id}/"
    body = client.get(url + "?q=修路").get_data(as_text=True)
    assert ROAD["title"] in body and "西街修路" not in body and "南关修路" not in body
    assert ROAD["title"] in client.get(url + "?q=雨天积水").get_data(as_text=True)  # 案据 too
    assert ROAD["title"] not in client.get(url + "?q=架桥").get_data(as_text=True)
