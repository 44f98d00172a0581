"""Occasion notices in a real browser: a deputy on a 390 px phone asks for leave from a group activity's
notice, staff approve it, and the deputy sees 已准假 and their archive 请假（已批准）."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.e2e.test_spine_e2e import expect, log_in

pytestmark = pytest.mark.e2e


def _group_notice(deputy_ids, staff_id):
    from blueprints.ballots import occasions
    from blueprints.core.extensions import db
    from blueprints.core.models import User
    from blueprints.core.timeutil import local_today
    from blueprints.core.transaction import transaction
    from blueprints.registry.models import DeputyGroup, GroupMembership

    with transaction():
        group = DeputyGroup(name="城关镇代表小组")
        db.session.add(group)
        db.session.flush()
        db.session.add_all(GroupMembership(group_id=group.id, deputy_id=d) for d in deputy_ids)
        db.session.flush()
        notice, *_ = occasions.send_occasion("group", "三季度集中视察", local_today() + timedelta(days=5),
                                             "请到镇政府门前集合。", "镇政府", "9:00",
                                             db.session.get(User, staff_id), group_id=group.id)
    return notice.id


def test_a_deputy_asks_for_leave_on_a_phone_and_staff_approve(page, browser, live_server, console):
    deputy_id = live_server.add_deputy(name="王秀英", level="county")
    other_id = live_server.add_deputy(name="李建国", level="county")
    live_server.add_user("deputy", "wangxy", deputy_id=deputy_id, display_name="王秀英")
    staff_id = live_server.add_user("staff", display_name="工委张敏")
    notice_id = live_server.seed(lambda: _group_notice([deputy_id, other_id], staff_id))

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "wangxy")
    page.goto("/meeting-notices/")
    page.get_by_role("link", name="三季度集中视察").click()
    expect(page).to_have_url(re.compile(rf"/occasion-notices/{notice_id}$"))
    page.get_by_label("请假理由（请假必填）").fill("参加市里培训")
    page.get_by_role("button", name="请假", exact=True).click()
    expect(page.locator("#flashes")).to_contain_text("请假申请已提交")
    expect(page.locator("main")).to_contain_text("待审批")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    staff_context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    staff = staff_context.new_page()
    try:
        log_in(staff)
        staff.goto("/occasion-notices/")
        staff.get_by_role("link", name="三季度集中视察").click()
        expect(staff.locator("main")).to_contain_text("参加市里培训")
        expect(staff.locator("main")).to_contain_text("未回执")  # 李建国
        staff.get_by_role("button", name="准假", exact=True).click()
        expect(staff.locator("#flashes")).to_contain_text("王秀英：已准假")
        staff.set_viewport_size({"width": 390, "height": 844})  # staff pages do not scroll sideways either
        for path in ("/occasion-notices/", f"/occasion-notices/{notice_id}/roll", "/occasion-notices/new"):
            staff.goto(path)
            assert staff.evaluate("document.documentElement.scrollWidth") <= 390 + 1, path
    finally:
        staff_context.close()

    page.reload()
    expect(page.locator("main")).to_contain_text("已准假")
    page.goto("/me/")
    expect(page.locator("#archive")).to_contain_text("请假（已批准）")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert console.errors() == []
