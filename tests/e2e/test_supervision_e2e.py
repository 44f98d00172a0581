"""督 and 评 in Chromium (issue 19). 督: staff make a suggestion a key one under a leader's account, the
leader finds it on their page and records a site inspection, the unit files its handling plan (一考)
and the lead deputy sees both. 评: staff set the year's weights, see the ranking and publish it to the
noticeboard. Pages are checked for sideways scrolling at 390 px; screenshots with E2E_SCREENSHOTS=1
go to test-artifacts/supervision/."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from blueprints.core.timeutil import local_today
from tests.e2e.test_spine_e2e import expect, log_in
from tests.e2e.test_suggestions_e2e import log_out

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "supervision"
TITLE = "关于加快推进柏庄镇卫生院建设的建议"


def shot(page, name: str) -> None:
    width = page.viewport_size["width"]
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{name}: {overflow}px wide at {width}px"
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def seed(live_server, *, answer: bool = False):
    from sqlalchemy import select

    from blueprints.core.extensions import db
    from blueprints.core.models import User
    from blueprints.core.transaction import transaction
    from blueprints.registry.models import HandlingUnit
    from blueprints.suggestions import handling, services
    from blueprints.suggestions.models import CongressSession

    deputy_id = live_server.add_deputy(name="王建国")
    live_server.add_user("deputy", "deputy", display_name="王建国", deputy_id=deputy_id)
    live_server.add_user("staff", "staff", display_name="陈工作")
    live_server.add_user("leader", "leader1", display_name="县人大常委会副主任 刘明")

    def create():
        with transaction():
            return build()

    def build():
        today = local_today()
        session = CongressSession(name="县十八届人大二次会议", year=today.year, opens_on=today,
                                  closes_on=today + timedelta(days=2), accepting=True)
        unit = HandlingUnit(name="县卫生健康委员会")
        db.session.add_all([session, unit])
        db.session.flush()
        password_hash = db.session.scalar(select(User.password_hash).where(User.username == "staff"))
        db.session.add(User(username="unit", display_name="卫健委办理员", role="unit", unit_id=unit.id,
                            password_hash=password_hash))
        db.session.flush()
        lead = db.session.scalar(select(User).where(User.username == "deputy"))
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        item = services.create_draft({"title": TITLE, "category": "health", "grounds": "卫生院用房老旧。",
                                      "proposal": "列入年度计划，年内开工。"}, by=lead, session=session)
        services.submit(item, by=lead)
        services.register(item, by=staff)
        handling.assign(item, unit, by=staff)
        if answer:
            unit_user = db.session.scalar(select(User).where(User.username == "unit"))
            handling.reply(item, "已开工建设。", "A", by=unit_user)
            handling.rate(item, "satisfied", by=lead)
        return item.id

    return live_server.seed(create)


def test_key_suggestion_leader_record_and_unit_plan(page, live_server):
    item_id = seed(live_server)

    log_in(page, "staff")
    page.goto(f"/suggestions/{item_id}/work")
    form = page.locator("#form-key")
    form.locator("#key-key_leader").select_option(label="县人大常委会副主任 刘明")
    form.get_by_role("button", name="列为重点督办").click()
    expect(page.locator(".flash-success")).to_contain_text("已列为重点督办")
    log_out(page)

    log_in(page, "leader1")
    page.get_by_role("link", name="我牵头督办的建议").first.click()
    page.get_by_role("link", name=TITLE).click()
    form = page.locator("#form-supervise")
    form.locator("#supervise-held_on").fill(local_today().isoformat())
    form.locator("#supervise-form").select_option(label="现场视察")
    form.locator("#supervise-participants").fill("刘明、县卫健委主任、领衔代表")
    form.locator("#supervise-agreed").fill("九月底前完成选址，年内开工。")
    form.get_by_role("button", name="保存督办记录").click()
    expect(page.locator("#supervision")).to_contain_text("九月底前完成选址")
    log_out(page)

    log_in(page, "unit")
    page.goto(f"/suggestions/{item_id}/work")
    form = page.locator("#form-plan")
    form.locator("#plan-summary").fill("成立专班，分两步实施。")
    form.locator("#plan-milestones").fill(f"{(local_today() + timedelta(days=30)).isoformat()} 完成选址")
    form.get_by_role("button", name="报送").click()
    expect(page.locator("#plan")).to_contain_text("完成选址")
    log_out(page)

    log_in(page, "deputy")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/suggestions/{item_id}/work")
    expect(page.locator("#supervision")).to_contain_text("现场视察")
    expect(page.locator("#plan")).to_contain_text("成立专班")
    shot(page, "work-deputy")


def test_weights_ranking_and_publishing(page, live_server):
    seed(live_server, answer=True)

    log_in(page, "staff")
    page.goto("/manage/suggestions/rating")
    expect(page.locator("table.table")).to_contain_text("县卫生健康委员会")
    form = page.locator("#weights")
    form.locator("#w_overdue").fill("20")
    form.get_by_role("button", name="保存权重").click()
    expect(page.locator(".flash-success")).to_contain_text("测评权重已保存")
    expect(page.locator("main")).to_contain_text("20 × 超期率")
    page.get_by_role("button", name="在公示栏发布").click()
    expect(page.locator(".flash-success")).to_contain_text("测评结果已在公示栏发布")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/manage/suggestions/rating")
        shot(page, "rating")
    log_out(page)
    page.goto("/notices/")
    page.get_by_role("link", name="县十八届人大二次会议承办单位办理代表建议测评结果").click()
    expect(page.locator("article")).to_contain_text("县卫生健康委员会：得分 90.0")
