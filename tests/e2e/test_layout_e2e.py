"""Every page of the demo walk in Chromium, as each role opens it, at a phone's width (390 px) and a desktop's
(1280 px): the page does not scroll sideways, the header is at most 64 px high on the phone, and axe-core
(vendored under tests/e2e/vendor, injected with the page's CSP bypassed) finds no serious or critical
violation.

The pages are the demo crawl's (tests/test_demo_crawl.py): one page per URL shape, found by following the
links each role sees, capped per role so the test stays in minutes.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS
from tests.test_demo_crawl import walk

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
WIDTHS = (390, 1280)
HEADER_MAX = 64
# (username or None, extra start pages, at most this many pages); the kiosk is the public without a header
ROLES = [
    (None, ["/"], 24),
    ("kiosk", ["/kiosk/1", "/kiosk/1/message"], 6),
    ("deputy1", ["/workspace/", "/me/"], 24),
    ("clerk", ["/workspace/"], 14),
    ("unit", ["/workspace/"], 14),
    ("liaison", ["/workspace/", "/station-work/1/calendar"], 24),
    ("staff", ["/workspace/", "/duties/evaluation/", "/suggestions/sessions/2/stats",
               "/manage/suggestions/rating", "/manage/suggestions/plans", "/manage/suggestions/followups",
               "/cases/drive/", "/cases/drive/stats", "/manage/motions/", "/audit/security", "/account/sessions"], 45),
    ("leader1", ["/workspace/", "/leader/suggestions/"], 10),
]
SKIP = (".csv", ".xlsx", ".svg", ".atom", ".pdf", ".png", ".txt", "/download", "/export", "/qr")
PAGE_LIMIT = int(os.environ.get("LAYOUT_PAGES", "0"))  # a smaller cap while fixing (0: the caps above)


def pages_of(app, username, starts, cap):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False  # the walk signs in with the test client; the browser with CSRF
    try:
        if username and username != "kiosk":
            assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    found = []
    for url, _parent, response in walk(client, starts):
        if username == "kiosk" and not url.startswith("/kiosk/"):
            continue
        if (response.status_code == 200 and (response.content_type or "").startswith("text/html")
                and not url.split("?")[0].endswith(SKIP) and "<html" in response.get_data(as_text=True)[:500]):
            found.append(url)
        if len(found) >= (PAGE_LIMIT or cap):
            break
    return found


CHECK = """(axeResult) => ({
  scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
  header: (document.querySelector('.site-header') || {offsetHeight: 0}).offsetHeight,
})"""


def audit(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    box = page.evaluate(CHECK)
    return result, box


@pytest.mark.parametrize(("username", "starts", "cap"), ROLES, ids=[r[0] or "public" for r in ROLES])
def test_demo_pages_fit_a_phone_and_pass_axe(browser, demo_live_server, username, starts, cap):
    urls = pages_of(demo_live_server.app, username, starts, cap)
    assert len(urls) >= min(cap, 5) if username != "kiosk" else len(urls) >= 2
    context = browser.new_context(base_url=demo_live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  bypass_csp=True, viewport={"width": 390, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    if username and username != "kiosk":
        page.goto("/login")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form [type=submit]").last.click()
        page.wait_for_load_state()
    problems = []
    try:
        for url in urls:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(url)
                violations, box = audit(page, width)
                if box["scroll"] > box["inner"] + 1:
                    problems.append(f"{width}px {url}: scrolls sideways ({box['scroll']} > {box['inner']})")
                if width < 600 and box["header"] > HEADER_MAX:
                    problems.append(f"{width}px {url}: header {box['header']} px high")
                problems.extend(f"{width}px {url}: {v}" for v in violations)
    finally:
        context.close()
    if problems:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"layout-{username or 'public'}.txt").write_text("\n".join(problems) + "\n", encoding="utf-8")
    assert problems == [], "\n".join(problems)
