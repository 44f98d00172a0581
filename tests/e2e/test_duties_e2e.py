"""Duty registration in a real browser: a deputy logs an activity on a phone-sized screen,
staff verify it, and the deputy's archive shows it verified."""
from __future__ import annotations

import re

import pytest

from tests.e2e.test_spine_e2e import expect, log_in

pytestmark = pytest.mark.e2e


def test_a_deputy_logs_on_a_phone_and_staff_verify(page, browser, live_server, console):
    deputy_id = live_server.add_deputy(name="王秀英", level="county")
    live_server.add_user("deputy", "wangxy", deputy_id=deputy_id, display_name="王秀英")
    live_server.add_user("staff", display_name="工委张敏")

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "wangxy")
    page.goto("/me/")
    page.get_by_role("link", name="登记履职活动").first.click()
    page.get_by_label("活动类型").select_option("reception")
    page.get_by_label("活动名称").fill("城关镇代表之家接待选民")
    page.get_by_label("地点").fill("城关镇人大代表之家")
    page.get_by_label("时长（小时）").fill("3")
    page.get_by_role("button", name="提交核实").click()
    expect(page).to_have_url(re.compile(r"/me/\?year=\d{4}$"))  # the archive of the year it counts in
    expect(page.locator("#flashes")).to_contain_text("等待联络员或代表工委核实")
    expect(page.locator("#archive")).to_contain_text("待核实")
    # Nothing on the phone screen is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    staff_context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    staff = staff_context.new_page()
    try:
        log_in(staff)
        staff.goto("/duties/verify")
        expect(staff.locator("#queue-rows")).to_contain_text("城关镇代表之家接待选民")
        staff.get_by_role("button", name="核实通过").first.click()
        expect(staff.locator("#flashes")).to_contain_text("已核实通过")
        expect(staff.locator("#queue-rows")).to_contain_text("没有待核实的履职活动")
    finally:
        staff_context.close()

    page.reload()
    expect(page.locator("#archive")).to_contain_text("已核实")
    page.goto(f"/deputies/{deputy_id}")
    expect(page.get_by_role("region", name="履职情况")).to_contain_text("接待选民 1 次")
    assert console.errors() == []


def test_an_activity_dated_tomorrow_is_refused_on_the_page(page, live_server, console):
    """The refusal (422) is drawn on the form, next to the date, in Chinese; nothing is stored."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from blueprints.core.timeutil import local_today
    from blueprints.duties.models import Activity

    deputy_id = live_server.add_deputy(name="王秀英", level="county")
    live_server.add_user("deputy", "wangxy", deputy_id=deputy_id, display_name="王秀英")

    log_in(page, "wangxy")
    page.goto("/me/activities/new")
    page.get_by_label("活动类型").select_option("survey")
    page.get_by_label("活动日期").fill((local_today() + timedelta(days=1)).isoformat())
    page.get_by_label("活动名称").fill("明天的调研")
    with page.expect_response(lambda r: r.request.method == "POST" and "/me/activities/new" in r.url) as answer:
        page.get_by_role("button", name="提交核实").click()
    assert answer.value.status == 422
    expect(page.locator("#occurred_on-error")).to_be_visible()
    expect(page.locator("#occurred_on-error")).to_have_text("活动日期不能晚于今天。")
    expect(page.get_by_role("alert")).to_contain_text("请修改下面标出的内容后再提交")
    expect(page.get_by_label("活动名称")).to_have_value("明天的调研")  # what was typed is kept

    def stored():
        from blueprints.core.extensions import db

        return db.session.scalar(select(func.count()).select_from(Activity))

    assert live_server.seed(stored) == 0
    # The browser reports the 422 document load as a failed resource; nothing else may go wrong.
    assert console.errors(r"^(?!.*(422|Unprocessable)).*$") == []
