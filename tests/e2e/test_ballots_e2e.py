"""Meeting day in a real browser: a deputy checks in by QR link and votes on a phone viewport, the
projector shows turnout by polling, the clerk closes and publishes, the noticeboard shows the result."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.e2e.test_spine_e2e import expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", tempfile.gettempdir())) / "ballots-e2e"
SHOTS.mkdir(parents=True, exist_ok=True)


def log_in(page, username):
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(r"/workspace/$"))


def seed_meeting(live_server):
    def build():
        from blueprints.ballots import meetings, passes, voting
        from blueprints.core.extensions import db
        from blueprints.core.models import User
        from blueprints.core.timeutil import local_today
        from blueprints.registry.models import Deputy
        from tests.conftest import PASSWORD_HASH

        names = ("王秀英", "李建国", "陈桂兰", "张志强", "刘淑珍", "杨明", "赵丽华")
        deputies = [Deputy(name=n, level="county", term="第十八届") for n in names]
        db.session.add_all(deputies)
        db.session.flush()
        db.session.add(User(username="wangxy", display_name="王秀英", role="deputy", deputy_id=deputies[0].id,
                            password_hash=PASSWORD_HASH))
        db.session.commit()
        meeting = meetings.create_meeting("青山县第十八届人民代表大会第二次会议", "county", "第十八届", local_today())
        for deputy in deputies[1:2] + deputies[3:]:  # 5 of 7 present: the quorum
            meetings.check_in(meeting, deputy.id)
        code = next(c.code for c in passes.issue_passes(meeting) if c.deputy.name == "王秀英")
        ballot = voting.create_ballot(meeting, "2026年度民生实事项目票决", "approve", True, None, 1)
        voting.add_item(ballot, "城关镇老旧小区改造", "县住房和城乡建设局", 800, "2026年12月")
        voting.add_item(ballot, "临涣镇中心小学食堂", "县教育局", 300, "2026年9月")
        return {"meeting": meeting.id, "pass": code, "ballot": ballot.id, "others": [d.id for d in deputies[3:]]}

    return live_server.seed(build)


def test_meeting_day_check_in_vote_screen_close_publish(page, browser, live_server, console):
    live_server.add_user("staff", display_name="工委张敏")
    ids = seed_meeting(live_server)
    meeting, ballot = ids["meeting"], ids["ballot"]

    phone_context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="zh-CN",
                                        is_mobile=True, has_touch=True)
    phone_context.set_default_timeout(10_000)
    phone = phone_context.new_page()
    phone.on("console", lambda msg: console.messages.append(f"phone {msg.type}: {msg.text}")
             if msg.type == "error" else None)
    try:
        # The deputy scans their personal pass (its QR code's link) on their own phone: signed in for
        # this meeting and checked in, with no password typed; the code never stays in the address.
        phone.goto(f"/pass#{ids['pass']}")
        expect(phone.locator("body")).to_contain_text("签到成功")
        expect(phone.locator("body")).to_contain_text("现在没有正在进行的表决")
        assert "#" not in phone.url and ids["pass"] not in phone.url

        # Staff open the ballot; the projector shows turnout.
        log_in(page, "staff")
        page.goto(f"/ballots/{ballot}")
        page.get_by_role("button", name="开始投票").click()
        expect(page.locator("h1")).to_contain_text("投票中")
        screen = page.context.new_page()
        screen.goto(f"/meetings/{meeting}/screen")
        expect(screen.locator(".screen-figure strong")).to_have_text("0")

        def four_votes():  # a secret ballot closes with 5 electronic votes or more
            from blueprints.ballots import voting
            from blueprints.ballots.models import Ballot
            from blueprints.core.extensions import db

            form = {f"item-{item.id}": "no" for item in db.session.get(Ballot, ballot).items}
            for deputy_id in ids["others"]:
                voting.cast_vote(ballot, deputy_id, form, meeting)

        live_server.seed(four_votes)
        expect(screen.locator(".screen-figure strong")).to_have_text("4", timeout=8_000)

        # The deputy votes on the phone, confirms, and sees 已投票.
        phone.goto(f"/meetings/{meeting}/vote")
        items = phone.locator("fieldset.ballot-item")
        expect(items).to_have_count(2)
        items.nth(0).get_by_text("赞成", exact=True).click()
        items.nth(1).get_by_text("反对", exact=True).click()
        phone.get_by_role("button", name="下一步：确认").click()
        expect(phone.locator(".confirm-list")).to_contain_text("城关镇老旧小区改造 赞成")
        phone.get_by_role("button", name="确认投票").click()
        expect(phone.locator(".vote-status")).to_have_text("已投票")
        # The done page gives the deputy their tracker (选票核验码), a hash of the sealed vote.
        tracker_line = phone.locator(".vote-tracker")
        expect(tracker_line).to_have_text(re.compile(r"^选票核验码：[A-Z2-7]{4}-[A-Z2-7]{4}$"))
        tracker = tracker_line.locator("strong").inner_text()
        phone.screenshot(path=str(SHOTS / "vote_done_390.png"), full_page=True)

        # The projector polls (every 2 s) and shows 5 voted, never partial results.
        expect(screen.locator(".screen-figure strong")).to_have_text("5", timeout=8_000)
        expect(screen.locator("#screen")).not_to_contain_text("城关镇老旧小区改造")

        # Close and publish; the projector shows the results; the noticeboard has them.
        # Irreversible steps ask once (hx-confirm; without JavaScript a confirmation page).
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("link", name="截止投票").click()
        expect(page.locator("h1")).to_contain_text("已截止")
        expect(screen.locator(".screen-results")).to_contain_text("城关镇老旧小区改造", timeout=8_000)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("link", name="公布结果").click()
        expect(page.locator("h1")).to_contain_text("已公布")
        page.goto("/notices/?category=ballot_result")
        page.get_by_role("link", name=re.compile("2026年度民生实事项目票决表决结果")).click()
        expect(page.locator("main")).to_contain_text("赞成 1")

        # On the phone, the deputy finds their tracker among the published ones (5 = electronic voters).
        phone.goto(f"/livelihood/results/{ballot}")
        expect(phone.locator(".tracker-list code")).to_have_count(5)
        expect(phone.locator(".tracker-list")).to_contain_text(tracker)
        phone.locator("input[name=code]").fill(tracker.lower())
        phone.get_by_role("button", name="查找").click()
        expect(phone.locator("#trackers [role=status]")).to_have_text(f"核验码 {tracker} 在本次计票中。")
        expect(phone.locator(".tracker-list code.found")).to_have_text(tracker)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
        phone.screenshot(path=str(SHOTS / "result_trackers_390.png"), full_page=True)
        page.goto(f"/livelihood/results/{ballot}?code={tracker}")
        page.screenshot(path=str(SHOTS / "result_trackers_1280.png"), full_page=True)
    finally:
        phone_context.close()
    assert console.errors() == [], console.messages


def seed_refusals(live_server):
    """Three deputies, two checked in (the quorum), a ballot open with at most one yes vote."""
    def build():
        from blueprints.ballots import meetings, voting
        from blueprints.core.extensions import db
        from blueprints.core.models import User
        from blueprints.registry.models import Deputy
        from tests.conftest import PASSWORD_HASH

        deputies = [Deputy(name=n, level="county", term="第十八届") for n in ("王秀英", "李建国", "陈桂兰")]
        db.session.add_all(deputies)
        db.session.flush()
        db.session.add(User(username="wangxy", display_name="王秀英", role="deputy", deputy_id=deputies[0].id,
                            password_hash=PASSWORD_HASH))
        db.session.commit()
        meeting = meetings.create_meeting("青山县第十八届人民代表大会第二次会议", "county", "第十八届", None)
        meetings.check_in(meeting, deputies[0].id)
        meetings.check_in(meeting, deputies[1].id)
        ballot = voting.create_ballot(meeting, "2026年度民生实事项目票决", "approve", True, 1, 1)
        voting.add_item(ballot, "城关镇老旧小区改造", "县住房和城乡建设局", 800, "2026年12月")
        voting.add_item(ballot, "临涣镇中心小学食堂", "县教育局", 300, "2026年9月")
        voting.open_ballot(ballot.id)
        return {"meeting": meeting.id, "ballot": ballot.id}

    return live_server.seed(build)


def unexpected(console) -> list[str]:
    """Console errors other than the browser's own note that a refused request answered 4xx."""
    return [m for m in console.errors() if not re.search(r"status of 4\d\d", m)]


def test_refusals_show_their_message_on_the_page(page, browser, live_server, console):
    """Two clerks' desks check in the same deputy (HTMX): the second sees 该代表已签到 in the rows; a
    deputy choosing too many yes votes sees the rule on the phone page."""
    live_server.add_user("clerk", display_name="会务组刘洋")
    ids = seed_refusals(live_server)
    meeting = ids["meeting"]

    log_in(page, "clerk")
    other_desk = page.context.new_page()
    for desk in (page, other_desk):
        desk.goto(f"/meetings/{meeting}/checkin")
        desk.locator("#q").fill("陈桂兰")  # the live search (HTMX) narrows the roll
        expect(desk.locator("#checkin-rows tbody tr")).to_have_count(1)
        expect(desk.locator("#checkin-rows")).to_contain_text("未签到")

    page.locator("#checkin-rows").get_by_role("button", name="签到").click()
    expect(page.locator("#checkin-rows")).to_contain_text("已签到 3 / 应到 3")
    expect(page.locator("#checkin-rows tbody")).not_to_contain_text("未签到")

    # The other desk still shows the button; its click is refused, and the refusal is on the page.
    other_desk.locator("#checkin-rows").get_by_role("button", name="签到").click()
    refusal = other_desk.locator("#checkin-rows [role=alert]")
    expect(refusal).to_be_visible()
    expect(refusal).to_have_text("该代表已签到。")
    expect(other_desk.locator("#checkin-rows")).to_contain_text("已签到 3 / 应到 3")  # the rows are fresh
    expect(other_desk.locator("#checkin-rows tbody")).not_to_contain_text("未签到")
    other_desk.close()

    phone_context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="zh-CN",
                                        is_mobile=True, has_touch=True)
    phone_context.set_default_timeout(10_000)
    phone = phone_context.new_page()
    phone.on("console", lambda msg: console.messages.append(f"phone {msg.type}: {msg.text}")
             if msg.type == "error" else None)
    try:
        log_in(phone, "wangxy")
        phone.goto(f"/meetings/{meeting}/vote")
        items = phone.locator("fieldset.ballot-item")
        expect(items).to_have_count(2)
        items.nth(0).get_by_text("赞成", exact=True).click()
        items.nth(1).get_by_text("赞成", exact=True).click()
        phone.get_by_role("button", name="下一步：确认").click()
        error = phone.locator(".vote-error")
        expect(error).to_be_visible()
        expect(error).to_have_text("赞成票不能超过 1 个（您选了 2 个）。")
        # The ballot is still there with the choices made, to correct and go on.
        expect(phone.locator("fieldset.ballot-item input:checked")).to_have_count(2)
        items.nth(1).get_by_text("反对", exact=True).click()
        phone.get_by_role("button", name="下一步：确认").click()
        phone.get_by_role("button", name="确认投票").click()
        expect(phone.locator(".vote-status")).to_have_text("已投票")
    finally:
        phone_context.close()
    assert unexpected(console) == [], console.messages
