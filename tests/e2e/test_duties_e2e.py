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
