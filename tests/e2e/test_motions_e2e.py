"""Motions and the 社情民意 drive in Chromium. A motion one signer short is refused on its page; with the
tenth it is submitted as 议案第 1 号; staff record the committee's review converting it into a suggestion;
the public register and the motion's page show it with the link. A deputy files 社情民意, the workspace
says so, staff see who filed none this month, a bad month is refused, the case becomes a draft
suggestion. Screenshots at 390 px and 1280 px go to test-artifacts/motions/ (E2E_SCREENSHOTS=1)."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from blueprints.core.timeutil import local_today
from tests.e2e.test_spine_e2e import log_in

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "motions"
WIDTHS = (390, 1280)


def shots(page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{name}: {overflow}px wide at {width}px"
        if os.environ.get("E2E_SCREENSHOTS") == "1":
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_out(page):
    page.locator("header").get_by_role("button", name="退出", exact=True).click()


def seed(live_server, signers: int):
    from blueprints.core.extensions import db
    from blueprints.core.models import User
    from blueprints.motions import services
    from blueprints.suggestions.models import CongressSession
    from tests.conftest import PASSWORD_HASH, make_deputy_record

    def create():
        from blueprints.core.transaction import transaction

        with transaction():
            today = local_today()
            session = CongressSession(name="青山县十八届人大二次会议", year=today.year, opens_on=today,
                                      closes_on=today + timedelta(days=2), accepting=True)
            db.session.add(session)
            users = []
            for index in range(signers + 2):
                deputy = make_deputy_record(name=f"代表{index}")
                user = User(username=f"d{index}", display_name=deputy.name, role="deputy", deputy=deputy,
                            password_hash=PASSWORD_HASH)
                db.session.add(user)
                users.append(user)
            db.session.add(User(username="staff", display_name="工委", role="staff", password_hash=PASSWORD_HASH))
            db.session.flush()
            lead, *rest = users
            motion = services.create_draft({"title": "关于加快推进城乡供水一体化的议案", "grounds": "部分村供水不足。",
                                            "proposal": "制定三年实施方案。"}, by=lead, session=session)
            services.invite_signers(motion, [u.deputy for u in rest], by=lead)
            for user in rest[:signers - 1]:
                services.answer_invitation(motion, True, by=user)
            return motion.id

    return live_server.seed(create)


def test_a_motion_from_signers_to_a_converted_suggestion(page, live_server):
    motion_id = seed(live_server, signers=9)
    log_in(page, "d0")
    page.goto(f"/motions/{motion_id}/work")
    page.get_by_role("button", name="提交议案").click()
    expect(page.locator(".flash-error").first).to_contain_text("还差 1 名")
    shots(page, "motion_refused")
    log_out(page)
    log_in(page, "d9")  # the tenth signer confirms on the motion's page
    page.goto(f"/motions/{motion_id}/work")
    page.get_by_role("button", name="提交").click()
    log_out(page)
    log_in(page, "d0")
    page.goto(f"/motions/{motion_id}/work")
    page.get_by_role("button", name="提交议案").click()
    expect(page.locator("#motion-status")).to_contain_text("待审查")
    log_out(page)
    log_in(page, "staff")
    page.goto(f"/motions/{motion_id}/work")
    form = page.locator("#form-review")
    form.locator("#review-reviewed_on").fill(local_today().isoformat())
    form.locator("#review-body").select_option("committee")
    form.locator("input[value=convert]").check()
    form.locator("#review-reasons").fill("属于政府日常工作，转为代表建议办理。")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#motion-status")).to_contain_text("已转为建议")
    expect(page.locator("#motion-suggestion")).to_contain_text("待预审")
    shots(page, "motion_work")
    log_out(page)
    page.goto("/motions/")
    expect(page.locator("#motion-stats")).to_contain_text("转为代表建议 1 件")
    shots(page, "motions_register")
    page.get_by_role("link", name="关于加快推进城乡供水一体化的议案").click()
    expect(page.locator("#motion-status")).to_contain_text("已转为建议")
    shots(page, "motion_public")


def test_the_monthly_drive(page, live_server):
    seed(live_server, signers=1)
    log_in(page, "d0")
    page.goto("/workspace/")
    expect(page.locator("#sqmy-month")).to_contain_text("本月尚未反映社情民意")
    page.goto("/cases/new")
    page.locator("#title").fill("反映村道路灯缺失")
    page.locator("#body").fill("村民反映村道夜间无路灯，出行不安全。")
    page.get_by_role("button", name="提交").click()
    page.get_by_role("button", name="转为代表建议").click()
    expect(page.locator("#title")).to_have_value("反映村道路灯缺失")
    page.goto("/workspace/")
    expect(page.locator("#sqmy-month")).to_contain_text("本月已反映社情民意 1 条")
    log_out(page)
    log_in(page, "staff")
    page.goto("/cases/drive/?month=2026-13")
    expect(page.locator("#month-error")).to_contain_text("月份格式不正确")
    page.goto("/cases/drive/")
    expect(page.locator("#drive-summary")).to_contain_text("已报送 1 名")
    expect(page.locator("main")).to_contain_text("代表1")
    expect(page.locator("main table")).not_to_contain_text("代表0")
    shots(page, "drive")
    page.get_by_role("link", name="社情民意统计").click()
    expect(page.locator("#drive-stats-summary")).to_contain_text("收集代表社情民意1条")
    shots(page, "drive_stats")
