"""A county's first day in a browser: staff issue accounts and print the slips, a deputy signs in on a
phone with the slip and must choose a password first, the clerk prints passes, a phone scans one.
Screenshots at 390 px and 1280 px go to test-artifacts/accounts/ (set by E2E_SCREENSHOTS=1)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounts"
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def shot(page, name: str) -> None:
    width = page.viewport_size["width"]
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{name}: {overflow}px wide at {width}px"
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def seed(live_server):
    def build():
        from blueprints.ballots import meetings
        from blueprints.core.extensions import db
        from blueprints.core.models import Area
        from blueprints.core.timeutil import local_today
        from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership

        town = Area(name="城关镇", kind="township")
        group = DeputyGroup(name="城关镇代表小组", kind="regional", area=town)
        people = [Deputy(name=n, level="county", term="第十八届", area=town, phone=f"1380000000{i}", code=f"D00{i}")
                  for i, n in enumerate(("王秀英", "李建国", "陈桂兰", "张志强", "刘淑珍", "杨卫东", "赵丽华", "黄明"))]
        db.session.add_all([town, group, *people])
        db.session.flush()
        db.session.add_all(GroupMembership(group=group, deputy=d, role="member") for d in people)
        db.session.commit()
        meeting = meetings.create_meeting("青山县第十八届人民代表大会第二次会议", "county", "第十八届", local_today())
        return meeting.id

    return live_server.seed(build)


def test_first_day_slips_password_passes(browser, live_server):
    live_server.add_user("staff", display_name="工委张敏")
    live_server.add_user("clerk", display_name="会务李娜")
    meeting = seed(live_server)
    contexts = {k: browser.new_context(base_url=live_server.url, viewport=v, locale="zh-CN") for k, v in WIDTHS.items()}
    try:
        for kind, context in contexts.items():
            page = context.new_page()
            page.goto("/login")
            shot(page, "login")
            page.goto("/login/forgot")
            shot(page, "forgot")
            page.goto("/login")
            page.locator("input[name=username]").fill("staff")
            page.locator("input[name=password]").fill(PASSWORD)
            page.get_by_role("button", name="登录", exact=True).click()
            page.goto("/registry/accounts/issue")
            shot(page, "issue")
            if kind == "phone":
                page.locator("select[name=township]").select_option("城关镇")
                page.get_by_role("button", name="开通账号").click()
                expect(page.locator("h1")).to_contain_text("账号凭条")
                slip = {"username": page.locator(".slip .mono").nth(0).inner_text(),
                        "password": page.locator(".slip .secret").nth(0).inner_text()}
            else:
                page.locator("input[name=reset]").check()
                page.get_by_role("button", name="开通账号").click()
                expect(page.locator("h1")).to_contain_text("账号凭条")
            shot(page, "slips")
            page.close()
        # The deputy signs in on a phone with the slip (first slip of the reset batch is newer: use it).
        desktop = contexts["desktop"].new_page()
        desktop.goto("/registry/accounts/issue")
        desktop.locator("input[name=reset]").check()
        desktop.get_by_role("button", name="开通账号").click()
        slip = {"username": desktop.locator(".slip .mono").nth(0).inner_text(),
                "password": desktop.locator(".slip .secret").nth(0).inner_text()}
        desktop.close()
        def sign_in(size):
            ctx = browser.new_context(base_url=live_server.url, viewport=size, locale="zh-CN")
            page = ctx.new_page()
            page.goto("/login")
            page.locator("input[name=username]").fill(slip["username"])
            page.locator("input[name=password]").fill(slip["password"])
            page.get_by_role("button", name="登录", exact=True).click()
            return ctx, page

        phone_ctx, phone = sign_in(WIDTHS["phone"])
        expect(phone.locator("h1")).to_have_text("设置新密码")
        phone.goto("/workspace/")
        expect(phone.locator("h1")).to_have_text("设置新密码")
        shot(phone, "first-password")
        other_ctx, other = sign_in(WIDTHS["desktop"])  # the same slip on a second device
        expect(other.locator("body")).to_contain_text("这个初始密码已经用过一次")
        shot(other, "one-time-used")
        other_ctx.close()
        phone.locator("input[name=current]").fill(slip["password"])
        phone.locator("input[name=new]").fill("我家门口的老槐树")
        phone.locator("input[name=confirm]").fill("我家门口的老槐树")
        phone.get_by_role("button", name="保存新密码").click()
        expect(phone.locator("h1")).to_have_text("工作台")
        shot(phone, "workspace-deputy")
        phone_ctx.close()
        # The clerk prints the passes; a phone scans one.
        codes = []
        for kind, context in contexts.items():
            page = context.new_page()
            page.goto("/logout")
            page.get_by_role("button", name="退出").first.click()
            page.goto("/login")
            page.locator("input[name=username]").fill("clerk")
            page.locator("input[name=password]").fill(PASSWORD)
            page.get_by_role("button", name="登录", exact=True).click()
            page.goto(f"/meetings/{meeting}/passes")
            shot(page, "passes-list")
            if kind == "phone":
                page.get_by_role("button", name="打印尚未发放的签到证").click()
            else:
                page.get_by_role("button", name="重新发放").first.click()
            expect(page.locator(".slip.pass").first).to_be_visible()
            codes.append(page.locator(".slip-code").first.inner_text())
            shot(page, "passes-print")
            page.close()
        phone_ctx = browser.new_context(base_url=live_server.url, viewport=WIDTHS["phone"], locale="zh-CN")
        phone = phone_ctx.new_page()
        phone.goto("/pass")
        shot(phone, "pass-scan")
        phone.close()
        phone = phone_ctx.new_page()  # as the camera app opens the QR's link
        phone.goto(f"/pass#{codes[-1]}")
        expect(phone.locator("body")).to_contain_text("签到成功")
        assert not re.search(r"#.", phone.url)
        shot(phone, "pass-signed-in")
        phone_ctx.close()
    finally:
        for context in contexts.values():
            context.close()
