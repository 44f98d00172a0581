"""Two-step verification in a browser (issue 17): an admin who signs in is led to set it up, scans (reads)
the secret, confirms a code, keeps the recovery codes, sees the signed-in browsers, and signs in again with
a code. At 390 px and 1280 px, without sideways scrolling."""
from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

from tests.conftest import PASSWORD

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def _fits(page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_admin_sets_up_two_step_verification_and_signs_in_with_a_code(browser, live_server):
    live_server.app.config["TOTP_REQUIRED_FOR_ADMINS"] = True
    for kind, viewport in WIDTHS.items():
        username = f"admin_{kind}"
        live_server.add_user("admin", username)
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="zh-CN")
        try:
            page = context.new_page()
            page.goto("/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            expect(page).to_have_url(f"{live_server.url}/account/totp")
            expect(page.locator(".flash")).to_contain_text("管理员账号必须开启两步验证")
            page.goto("/workspace/")  # nothing else opens before it is set up
            expect(page).to_have_url(f"{live_server.url}/account/totp")
            page.click("text=开始设置")
            expect(page.locator("img.qr")).to_be_visible()
            _fits(page)
            totp = pyotp.TOTP(page.locator("code.secret").inner_text().strip())
            page.fill("input[name=code]", totp.now())
            page.click("main button[type=submit]")
            expect(page.locator(".recovery-codes li")).to_have_count(10)
            _fits(page)
            page.goto("/account/sessions")
            expect(page.locator("main")).to_contain_text("本设备")
            _fits(page)
            if page.locator(".menu-button").is_visible():  # on a phone 退出 sits behind the 菜单 button
                page.click(".menu-button")
            page.click("header button:has-text('退出')")

            page.goto("/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            expect(page).to_have_url(f"{live_server.url}/login/totp")
            _fits(page)
            page.fill("input[name=code]", totp.at(time.time() + 30))  # the next code: the last one was used
            page.click("main button[type=submit]")
            expect(page).to_have_url(f"{live_server.url}/workspace/")
        finally:
            context.close()
