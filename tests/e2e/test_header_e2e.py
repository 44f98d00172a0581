"""The staff header at a desktop's 1280 px fits one row (rarely used entries fold under 更多, a <details>
that needs no JavaScript); on a phone (390 px) the menu button still opens the whole menu."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

ONE_ROW = 70  # px: one 48 px row, 2 × 8 px padding and the 3 px gold rule make 67; two rows make 115
PHONE_MAX = 64  # as tests/e2e/test_layout_e2e.py: the phone's closed header


def sign_in(page, username):
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_staff_header_is_one_row_at_1280_and_the_phone_menu_still_opens(page, live_server, role):
    live_server.add_user(role, username="chief", display_name="欧阳建国")
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "chief")
    page.goto("/workspace/")
    header = page.locator(".site-header")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"header-{role}-1280.png"))
    assert header.bounding_box()["height"] <= ONE_ROW, header.bounding_box()
    tops = page.eval_on_selector_all(".main-nav > a, .main-nav > details, .main-nav > form",
                                     "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops  # every entry on one line
    # 更多 opens without JavaScript and holds the management pages.
    more = page.locator(".main-nav details.more")
    more.locator("summary").click()
    page.screenshot(path=str(ARTIFACTS / f"header-{role}-1280-more.png"))
    more.get_by_role("link", name="操作日志").click()
    page.wait_for_url("**/audit/**")

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/workspace/")
    assert page.locator(".site-header").bounding_box()["height"] <= PHONE_MAX
    page.locator(".menu-button").click()
    nav = page.locator("#main-nav")
    assert nav.get_by_role("link", name="工作台").is_visible()
    nav.locator("details.more summary").click()
    assert nav.get_by_role("link", name="操作日志").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"header-{role}-390.png"), full_page=True)
    box = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert box[0] <= box[1] + 1, box
