"""Suggestion pages per role: the public register, detail and statistics, the deputy's drafting and
rating, the office's registration and assignment, the unit's answer, permissions and bad input."""
from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import event, func, select

from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.suggestions import handling, services
from blueprints.suggestions.models import Suggestion, SuggestionAnswer
from tests import suggestions_helpers
from tests.suggestions_helpers import TEXT, answered, draft, registered

env = suggestions_helpers.env


@contextmanager
def count_queries():
    counter = {"n": 0}

    def before(*args):
        counter["n"] += 1

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def suggestion_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Suggestion))


# ---- public ----------------------------------------------------------------------------------

def test_public_register_shows_registered_suggestions_only(client, env):
    private = draft(env, title="草稿中的建议")
    pending = draft(env, title="预审中的建议")
    services.submit(pending, by=env["lead"])
    public = registered(env)
    page = client.get(f"/suggestions/sessions/{env['session'].id}/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and public.title in text and env["lead"].deputy.name in text
    assert "草稿中的建议" not in text and "预审中的建议" not in text
    assert client.get(f"/suggestions/{private.id}").status_code == 404
    assert client.get(f"/suggestions/{pending.id}").status_code == 404
    assert client.get(f"/suggestions/{public.id}").status_code == 200


def test_register_fragment_for_htmx(client, env):
    registered(env)
    response = client.get(f"/suggestions/sessions/{env['session'].id}/?q=卫生院", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_public_detail_publishes_the_reply_unless_withheld(client, env):
    env["lead"].deputy.phone = "13900001111"
    db.session.commit()
    item = answered(env, "C")
    text = client.get(f"/suggestions/{item.id}").get_data(as_text=True)
    assert "经研究，已列入计划。" in text and "受财力所限" in text and "13900001111" not in text
    services.set_withheld(item, True, "答复含群众姓名和住址", by=env["staff"])
    text = client.get(f"/suggestions/{item.id}").get_data(as_text=True)
    assert "经研究，已列入计划。" not in text and "答复含群众姓名和住址" in text


def test_statistics_page_has_svg_charts_and_numbers(client, env):
    item = answered(env, "A")
    handling.rate(item, "satisfied", by=env["lead"])
    registered(env)
    response = client.get(f"/suggestions/sessions/{env['session'].id}/stats")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.count("<svg") == 3
    assert "县卫生健康委员会" in text and "100.0%" in text


def test_public_pages_stay_within_ten_queries(client, env):
    for _ in range(6):
        item = answered(env, "B")
        handling.rate(item, "basically", by=env["lead"])
    sid = env["session"].id
    for url in (f"/suggestions/sessions/{sid}/", f"/suggestions/sessions/{sid}/stats", "/suggestions/",
                f"/suggestions/units/{env['units'][0].id}/stats"):
        client.get(url)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        assert counter["n"] <= 10, (url, counter["n"])


# ---- the whole loop through the pages ----------------------------------------------------------

def test_unit_inbox_stays_within_ten_queries(client, auth, env):
    for _ in range(6):
        item = registered(env)
        handling.assign(item, env["units"][0], by=env["staff"])
    auth.login("unit0")
    client.get("/unit/suggestions/")
    with count_queries() as counter:
        text = client.get("/unit/suggestions/").get_data(as_text=True)
    assert counter["n"] <= 10 and text.count(TEXT["title"]) == 6


def test_draft_submit_register_assign_answer_rate_through_pages(client, auth, env):
    auth.login("lead")
    response = client.post("/my/suggestions/new", data={"session_id": env["session"].id, **TEXT})
    assert response.status_code == 303
    item = db.session.scalar(select(Suggestion))
    invited = {"invite-deputies": env["other"].deputy.name}
    assert client.post(f"/suggestions/{item.id}/invite", data=invited).status_code == 303
    assert client.post(f"/suggestions/{item.id}/submit").status_code == 303
    auth.logout()
    auth.login("other")
    assert "确认附议" in client.get(f"/suggestions/{item.id}/work").get_data(as_text=True)
    assert client.post(f"/suggestions/{item.id}/cosign", data={"answer": "confirm"}).status_code == 303
    auth.logout()
    auth.login("staff")
    assert client.post(f"/suggestions/{item.id}/register", data={"register-category": "health"}).status_code == 303
    unit = env["units"][0]
    response = client.post(f"/suggestions/{item.id}/assign", data={
        "assign-unit_id": unit.id, "assign-assisting": [env["units"][1].id],
        "assign-deadline": (local_today() + timedelta(days=60)).isoformat()})
    assert response.status_code == 303
    auth.logout()
    auth.login("unit0")
    assert item.title in client.get("/unit/suggestions/").get_data(as_text=True)
    assert client.post(f"/suggestions/{item.id}/contact", data={
        "contact-stage": "before", "contact-way": "visit", "contact-contacted_on": local_today().isoformat(),
        "contact-content": "登门听取代表意见"}).status_code == 303
    response = client.post(f"/suggestions/{item.id}/reply", data={
        "reply-reply_class": "A", "reply-text": "卫生院已列入年度计划并开工。",
        "reply-letter": (io.BytesIO(b"%PDF-1.4\n%%EOF"), "答复函.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 303
    auth.logout()
    auth.login("lead")
    assert client.post(f"/suggestions/{item.id}/rate", data={"rate-rating": "satisfied"}).status_code == 303
    db.session.expire_all()
    item = db.session.get(Suggestion, item.id)
    assert (item.status, item.number, item.reply_class, item.rating) == ("closed", 1, "A", "satisfied")
    answer = db.session.scalar(select(SuggestionAnswer))
    assert client.get(f"/suggestions/{item.id}/answers/{answer.id}/letter").data.startswith(b"%PDF")


def test_bulk_assignment_page(client, auth, env):
    items = [registered(env) for _ in range(2)]
    auth.login("staff")
    assert "交办会" in client.get("/manage/suggestions/assign").get_data(as_text=True)
    data = {"pick": [str(i.id) for i in items], f"unit_{items[0].id}": env["units"][0].id,
            f"unit_{items[1].id}": env["units"][2].id, f"assist_{items[1].id}": env["units"][1].id}
    assert client.post("/manage/suggestions/assign", data=data).status_code == 303
    db.session.expire_all()
    assert {s.status for s in db.session.scalars(select(Suggestion))} == {"assigned"}


def test_bulk_assignment_with_a_row_missing_its_unit_changes_nothing(client, auth, env):
    items = [registered(env) for _ in range(2)]
    auth.login("staff")
    data = {"pick": [str(i.id) for i in items], f"unit_{items[0].id}": env["units"][0].id}
    response = client.post("/manage/suggestions/assign", data=data)
    assert response.status_code == 422 and "第 2 号：请选择主办单位" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {s.status for s in db.session.scalars(select(Suggestion))} == {"registered"}


def test_export_xlsx(client, auth, env):
    item = answered(env, "B")
    services.invite_cosigners(draft(env), [env["other"].deputy], by=env["lead"])
    auth.login("staff")
    response = client.get(f"/manage/suggestions/export.xlsx?session_id={env['session'].id}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("会议", "编号", "案由") and len(rows) == 2
    assert rows[1][2] == item.title and rows[1][7] == "县卫生健康委员会" and rows[1][8] == "县财政局"
    assert rows[1][10].startswith("B")


def test_supervision_and_carry_over_pages(client, auth, env):
    item = answered(env, "B")
    handling.rate(item, "satisfied", by=env["lead"])
    services.set_key(item, True, env["leader"], by=env["staff"])
    auth.login("staff")
    assert "刘明" in client.get("/manage/suggestions/supervision").get_data(as_text=True)
    response = client.post("/manage/suggestions/supervision", data={"year": env["session"].year + 1})
    assert response.status_code == 303
    text = client.get("/manage/suggestions/supervision").get_data(as_text=True)
    assert str(env["session"].year + 1) in text and item.title in text


def test_sessions_page(client, auth, env):
    auth.login("staff")
    response = client.post("/manage/suggestions/sessions", data={
        "name": "县十八届人大三次会议", "year": 2027, "opens_on": "2027-01-10", "closes_on": "2027-01-12"})
    assert response.status_code == 303
    response = client.post("/manage/suggestions/sessions", data={
        "name": "县十八届人大三次会议", "year": 2027, "opens_on": "2027-01-10"})
    assert response.status_code == 409 and "已有同名的会议" in response.get_data(as_text=True)


# ---- bad input through the pages ---------------------------------------------------------------

@pytest.mark.parametrize("field,label", [("title", "案由"), ("grounds", "案据"), ("proposal", "方案")])
def test_new_suggestion_without_a_part_is_refused(client, auth, env, field, label):
    auth.login("lead")
    response = client.post("/my/suggestions/new", data={"session_id": env["session"].id, **TEXT, field: ""})
    assert response.status_code == 422 and f"请填写{label}" in response.get_data(as_text=True)
    assert suggestion_count() == 0


def test_editing_a_submitted_suggestion_through_the_page_is_refused(client, auth, env):
    item = draft(env)
    services.submit(item, by=env["lead"])
    auth.login("lead")
    response = client.post(f"/my/suggestions/{item.id}/edit",
                           data={"session_id": env["session"].id, **TEXT, "title": "改过的案由"})
    assert response.status_code == 409 and "已提交的建议不能直接修改" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Suggestion, item.id).title == TEXT["title"]


def test_a_unit_answering_another_units_suggestion_gets_403(client, auth, env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"])
    auth.login("unit2")
    assert client.get(f"/suggestions/{item.id}/work").status_code == 403
    response = client.post(f"/suggestions/{item.id}/reply", data={"reply-reply_class": "A", "reply-text": "答复"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Suggestion, item.id).status == "assigned"


def test_c_answer_without_reasons_shows_the_message(client, auth, env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"])
    auth.login("unit0")
    response = client.post(f"/suggestions/{item.id}/reply", data={"reply-reply_class": "C", "reply-text": "答复"})
    assert response.status_code == 422 and "请填写暂时无法解决的原因" in response.get_data(as_text=True)
    response = client.post(f"/suggestions/{item.id}/reply", data={"reply-text": "答复"})
    assert response.status_code == 422 and "请选择答复类别" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SuggestionAnswer)) == 0


def test_rating_by_another_deputy_is_refused_and_rating_twice_too(client, auth, env):
    item = answered(env)
    auth.login("other")
    assert client.post(f"/suggestions/{item.id}/rate", data={"rate-rating": "satisfied"}).status_code == 403
    auth.logout()
    auth.login("lead")
    assert client.post(f"/suggestions/{item.id}/rate", data={"rate-rating": "satisfied"}).status_code == 303
    response = client.post(f"/suggestions/{item.id}/rate", data={"rate-rating": "unsatisfied", "rate-note": "x"})
    assert response.status_code == 409 and "不能重复评价" in response.get_data(as_text=True)


def test_a_deadline_over_six_months_through_the_page(client, auth, env):
    item = registered(env)
    auth.login("staff")
    response = client.post(f"/suggestions/{item.id}/assign", data={
        "assign-unit_id": env["units"][0].id,
        "assign-deadline": (handling.latest_deadline() + timedelta(days=1)).isoformat()})
    assert response.status_code == 422 and "办理期限最长六个月" in response.get_data(as_text=True)
    response = client.post(f"/suggestions/{item.id}/assign", data={"assign-unit_id": 0})
    assert response.status_code == 422 and "请选择主办单位" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Suggestion, item.id).status == "registered"


def test_a_draft_is_private_on_the_work_page(client, auth, env):
    item = draft(env)
    auth.login("staff")
    assert client.get(f"/suggestions/{item.id}/work").status_code == 403
    auth.logout()
    auth.login("other")
    assert client.get(f"/suggestions/{item.id}/work").status_code == 403


# ---- permissions per role ----------------------------------------------------------------------

ROLE_USERS = {"anonymous": None, "deputy": "lead", "unit": "unit0", "staff": "staff", "admin": "admin",
              "liaison": "liaison", "clerk": "clerk"}
PAGES = {
    "/manage/suggestions/": {"staff", "admin"},
    "/manage/suggestions/assign": {"staff", "admin"},
    "/manage/suggestions/supervision": {"staff", "admin"},
    "/manage/suggestions/sessions": {"staff", "admin"},
    "/manage/suggestions/export.xlsx": {"staff", "admin"},
    "/my/suggestions/": {"deputy"},
    "/my/suggestions/new": {"deputy"},
    "/unit/suggestions/": {"unit"},
}


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_permissions_per_role(client, auth, env, make_user, role):
    if role in ("admin", "liaison", "clerk"):
        make_user(role)
    if ROLE_USERS[role]:
        auth.login(ROLE_USERS[role])
    for url, allowed in PAGES.items():
        status = client.get(url).status_code
        if role == "anonymous":
            assert status == 302, url
        elif role in allowed or role == "admin":  # the administrator may do what every role may
            assert status == 200, (url, role, status)
        else:
            assert status == 403, (url, role, status)
    item = registered(env)
    post_status = client.post(f"/suggestions/{item.id}/assign", data={"assign-unit_id": env["units"][0].id}).status_code
    assert post_status == (302 if role == "anonymous" else 303 if role in ("staff", "admin") else 403)


def test_demo_county_shows_every_stage(app, client, auth):
    from blueprints.core.demo import load_demo_county

    load_demo_county()
    statuses = set(db.session.scalars(select(Suggestion.status)))
    assert statuses == {"draft", "returned", "registered", "assigned", "answered", "closed"}
    carried = select(func.count()).select_from(Suggestion).where(Suggestion.carried_to_year.is_not(None))
    assert db.session.scalar(carried) == 1
    auth.login("staff")
    for item in db.session.scalars(select(Suggestion).where(Suggestion.status != "draft")):
        assert client.get(f"/suggestions/{item.id}/work").status_code == 200, item.status
    for url in ("/suggestions/", "/manage/suggestions/", "/manage/suggestions/assign",
                "/manage/suggestions/supervision", "/manage/suggestions/sessions"):
        assert client.get(url).status_code == 200, url
    auth.logout()
    auth.login("unit")
    assert client.get("/unit/suggestions/?state=all").status_code == 200


@pytest.mark.parametrize("username", ["staff", "unit0"])
def test_a_suggestion_is_not_handled_on_the_case_pages(client, auth, env, username):
    """Suggestions run on the shared case workflow, but only the suggestion pages act on them (they
    enforce A/B/C answers and 三沟通); the stations' case pages neither list nor open them."""
    item = answered(env, "B")
    auth.login(username)
    listing = client.get("/cases/")
    assert listing.status_code == 200 and item.title not in listing.get_data(as_text=True)
    assert client.get(f"/cases/{item.case_id}").status_code == 403
    before = db.session.get(Suggestion, item.id).status
    response = client.post(f"/cases/{item.case_id}/reply", data={"body": "绕过建议页面的答复"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Suggestion, item.id).status == before


# ---- refusals on the page they came from -------------------------------------------------------

def test_inviting_a_cosigner_twice_through_the_page_shows_the_message(client, auth, env):
    item = draft(env)
    services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    auth.login("lead")
    response = client.post(f"/suggestions/{item.id}/invite", data={"invite-deputies": env["other"].deputy.name})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "已在附议名单中，不能重复邀请" in text and 'id="form-invite"' in text
    response = client.post(f"/suggestions/{item.id}/invite", data={"invite-deputies": "查无此人"})
    assert response.status_code == 422 and "找不到代表“查无此人”" in response.get_data(as_text=True)


def test_a_form_that_does_not_validate_answers_422(client, auth, env):
    item = registered(env)
    auth.login("staff")
    response = client.post(f"/suggestions/{item.id}/assign", data={
        "assign-unit_id": env["units"][0].id, "assign-deadline": "明天"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Suggestion, item.id).status == "registered"


def test_submitting_twice_flashes_the_refusal_with_409(client, auth, env):
    item = draft(env)
    auth.login("lead")
    assert client.post(f"/suggestions/{item.id}/submit").status_code == 303
    response = client.post(f"/suggestions/{item.id}/submit")
    assert response.status_code == 409 and "当前状态为“待预审”，不能进行此操作" in response.get_data(as_text=True)


@pytest.mark.parametrize("who,url", [
    (None, "/suggestions/sessions/{session}/?page=9"),
    ("staff", "/manage/suggestions/?page=9&status=assigned"),
    ("unit0", "/unit/suggestions/?page=9"),
    (None, "/suggestions/sessions/{session}/?page=abc"),
])
def test_a_list_fragment_past_the_end_carries_the_message(client, auth, env, who, url):
    registered(env)
    if who:
        auth.login(who)
    url = url.format(session=env["session"].id)
    response = client.get(url, headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 404 and "<html" not in text
    assert "没有这一页：列表已经变化，请回到第一页。" in text and 'role="alert"' in text
    page = client.get(url)  # the page itself: the 404 page
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)
