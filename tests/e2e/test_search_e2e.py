"""The search page in Chromium: typing 修路 shows the matching case and notice live (HTMX), the terms
marked; an over-long query gets the Chinese message. Screenshots at 390 px and 1280 px go to
test-artifacts/search/ (E2E_SCREENSHOTS=1)."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_spine_e2e import log_in

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "search"


def test_live_search_results_with_marks(page, live_server):
    from blueprints.core.cases import Case
    from blueprints.core.extensions import db
    from blueprints.core.timeutil import utcnow
    from blueprints.noticeboard.models import Notice

    live_server.add_user("staff")

    def create():
        db.session.add(Case(source="message", title="北街修路噪音扰民", body="北街修路工程夜间施工，噪音很大，"
                            "影响附近居民休息，请有关部门协调施工时间。", status="new"))
        db.session.add(Notice(category="notice", title="城东修路工程交通管制公告", scope="county",
                              body="修路工程期间城东路段封闭施工，请绕行。", publish_at=utcnow() - timedelta(hours=1)))

    live_server.seed(create)
    log_in(page)
    page.goto("/search/")
    page.locator("input[name=q]").fill("修路")
    results = page.locator("#search-results")
    expect(results.get_by_role("link", name="北街修路噪音扰民")).to_be_visible()
    expect(results.locator("mark").first).to_have_text("修路")
    expect(results.get_by_role("link", name="城东修路工程交通管制公告")).to_be_visible()
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if os.environ.get("E2E_SCREENSHOTS") == "1":
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"search-{width}.png"), full_page=True)
    page.goto("/search/?q=" + "修" * 70)
    expect(page.get_by_role("alert")).to_contain_text("搜索词太长")
