"""A suggestion from draft to rated answer in Chromium: the deputy drafts and submits, staff register and
assign, the unit answers B-class, the deputy is unsatisfied, staff reassign, the unit answers A-class,
the deputy is satisfied, and the public page shows the reply."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from blueprints.core.timeutil import local_today
from tests.e2e.test_spine_e2e import expect, log_in

pytestmark = pytest.mark.e2e


def log_out(page):
    page.locator("header").get_by_role("button", name="退出", exact=True).click()


def seed(live_server):
    from blueprints.core.extensions import db
    from blueprints.registry.models import HandlingUnit
    from blueprints.suggestions.models import CongressSession

    def create():
        today = local_today()
        session = CongressSession(name="县十八届人大二次会议", year=today.year, opens_on=today,
                                  closes_on=today + timedelta(days=2), accepting=True)
        unit = HandlingUnit(name="县卫生健康委员会")
        db.session.add_all([session, unit])
        db.session.flush()
        return unit.id

    unit_id = live_server.seed(create)
    deputy_id = live_server.add_deputy(name="王建国")
    live_server.add_user("deputy", "deputy", display_name="王建国", deputy_id=deputy_id)
    live_server.add_user("staff", "staff")
    live_server.add_user("unit", "unit", display_name="卫健委办理员", unit_id=unit_id)


def answer(page, reply_class: str, text: str):
    log_in(page, "unit")
    page.goto("/unit/suggestions/")
    page.get_by_role("link", name="关于加快推进柏庄镇卫生院建设的建议").click()
    form = page.locator("#form-reply")
    form.locator(f"input[value={reply_class}]").check()
    form.locator("#reply-text").fill(text)
    if reply_class == "B":
        form.locator("#reply-promised_on").fill((local_today() + timedelta(days=120)).isoformat())
    form.get_by_role("button", name="提交答复").click()
    expect(page.locator("#status")).to_contain_text("已答复待评价")
    log_out(page)


def rate(page, rating: str, note: str):
    log_in(page, "deputy")
    page.goto("/my/suggestions/")
    page.get_by_role("link", name="关于加快推进柏庄镇卫生院建设的建议").click()
    form = page.locator("#form-rate")
    form.get_by_label(rating, exact=True).check()
    form.locator("#rate-note").fill(note)
    form.get_by_role("button", name="提交评价").click()
    log_out(page)


def assign(page, heading: str):
    log_in(page, "staff")
    page.goto("/manage/suggestions/")
    page.get_by_role("link", name="关于加快推进柏庄镇卫生院建设的建议").click()
    form = page.locator("#form-assign")
    expect(form.locator("h3")).to_have_text(heading)
    form.locator("#assign-unit_id").select_option(label="县卫生健康委员会")
    form.get_by_role("button", name="交办").click()
    expect(page.locator("#status")).to_contain_text("办理中")
    log_out(page)


def test_a_suggestion_from_draft_to_satisfied_second_answer(page, live_server):
    seed(live_server)

    log_in(page, "deputy")
    page.goto("/my/suggestions/new")
    page.get_by_label("案由").fill("关于加快推进柏庄镇卫生院建设的建议")
    page.get_by_label("类别").select_option(label="医疗卫生")
    page.get_by_label("案据（问题和理由）").fill("柏庄镇卫生院用房老旧，群众就医不便。")
    page.get_by_label("方案（具体建议）").fill("列入年度计划，落实建设资金，年内开工。")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#status")).to_have_text("草稿")
    page.once("dialog", lambda dialog: dialog.accept())  # 提交建议 asks once (hx-confirm)
    page.get_by_role("link", name="提交建议").click()
    expect(page.locator("#status")).to_have_text("待预审")
    log_out(page)

    log_in(page, "staff")
    page.goto("/manage/suggestions/")
    page.get_by_role("link", name="关于加快推进柏庄镇卫生院建设的建议").click()
    page.locator("#form-register").get_by_role("button", name="立案").click()
    expect(page.locator("#status")).to_have_text("待交办")
    log_out(page)

    assign(page, "交办")
    answer(page, "B", "已列入明年卫生基础设施建设计划。")
    rate(page, "不满意", "进度太慢，希望今年开工。")
    assign(page, "二次交办")
    answer(page, "A", "卫生院改扩建工程已开工建设。")
    rate(page, "满意", "办理认真。")

    page.goto("/suggestions/")
    page.get_by_role("link", name="县十八届人大二次会议").click()
    expect(page.locator("#register-rows")).to_contain_text("已办结")
    page.get_by_role("link", name="关于加快推进柏庄镇卫生院建设的建议").click()
    expect(page.locator("article")).to_contain_text("卫生院改扩建工程已开工建设。")
    expect(page.locator("article")).to_contain_text("已列入明年卫生基础设施建设计划。")
    expect(page.locator("article")).to_contain_text("代表评价：满意")
    expect(page).to_have_url(re.compile(r"/suggestions/\d+$"))


# ---- refusals people see -------------------------------------------------------------------------

def seed_draft(live_server) -> int:
    """The seed above, a second deputy (李秀英) and a draft of 王建国's; returns the draft's id."""
    seed(live_server)
    live_server.add_deputy(name="李秀英")

    def create():
        from sqlalchemy import select

        from blueprints.core.extensions import db
        from blueprints.core.models import User
        from blueprints.suggestions import services
        from blueprints.suggestions.models import CongressSession

        lead = db.session.scalar(select(User).where(User.username == "deputy"))
        session = db.session.scalar(select(CongressSession))
        item = services.create_draft({"title": "关于加快推进柏庄镇卫生院建设的建议", "category": "health",
                                      "grounds": "柏庄镇卫生院用房老旧，群众就医不便。",
                                      "proposal": "列入年度计划，落实建设资金，年内开工。"}, by=lead, session=session)
        return item.id

    return live_server.seed(create)


def test_inviting_a_cosigner_twice_shows_the_refusal_next_to_the_field(page, live_server, console):
    item_id = seed_draft(live_server)

    log_in(page, "deputy")
    page.goto(f"/suggestions/{item_id}/work")
    form = page.locator("#form-invite")
    form.locator("#invite-deputies").fill("李秀英")
    form.get_by_role("button", name="发出邀请").click()
    expect(page.locator("#flashes")).to_contain_text("已发出附议邀请")

    form = page.locator("#form-invite")
    form.locator("#invite-deputies").fill("李秀英")
    with page.expect_response(lambda r: r.url.endswith(f"/suggestions/{item_id}/invite")) as answer:
        form.get_by_role("button", name="发出邀请").click()
    assert answer.value.status == 409
    message = "李秀英 已在附议名单中，不能重复邀请。"
    expect(page.locator("#form-invite .field-error")).to_have_text(message)
    expect(page.locator("#form-invite .field-error")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text=message)).to_be_visible()
    expect(page.locator("#invite-deputies")).to_have_value("李秀英")  # what was typed is kept
    assert console.errors("pageerror") == []


def test_a_register_fragment_refusal_is_swapped_into_the_page(page, live_server, console):
    """The register's filters are HTMX: a refusal (404, a page past the end of a list that changed)
    comes back as the rows fragment with the message, and htmx swaps it in like a success."""
    item_id = seed_draft(live_server)

    def register():
        from sqlalchemy import select

        from blueprints.core.extensions import db
        from blueprints.core.models import User
        from blueprints.suggestions import services
        from blueprints.suggestions.models import Suggestion

        lead = db.session.scalar(select(User).where(User.username == "deputy"))
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        item = db.session.get(Suggestion, item_id)
        services.submit(item, by=lead)
        services.register(item, by=staff)
        return item.session_id

    session_id = live_server.seed(register)
    page.goto(f"/suggestions/sessions/{session_id}/")
    rows = page.locator("#register-rows")
    expect(rows).to_contain_text("关于加快推进柏庄镇卫生院建设的建议")
    with page.expect_response(lambda r: "q=" in r.url) as answer:
        page.get_by_label("关键词").fill("卫生院")  # the register searches 案由、案据 and 方案 (core.search)
    assert answer.value.status == 200 and answer.value.request.headers.get("hx-request") == "true"
    expect(rows).to_contain_text("关于加快推进柏庄镇卫生院建设的建议")

    with page.expect_response(lambda r: "page=9" in r.url) as answer:
        page.evaluate("url => htmx.ajax('GET', url, {target: '#register-rows'})",
                      f"/suggestions/sessions/{session_id}/?q=卫生院&page=9")
    assert answer.value.status == 404
    expect(rows.get_by_role("alert")).to_have_text(re.compile("没有这一页：列表已经变化，请回到第一页。"))
    expect(rows.get_by_role("alert")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("县十八届人大二次会议")  # the page around it stays
    rows.get_by_role("link", name="回到第一页").click()
    expect(page.locator("#register-rows")).to_contain_text("关于加快推进柏庄镇卫生院建设的建议")
    assert console.errors("pageerror") == []
