"""The public site as a constituent sees it on a phone: home → find a deputy → a notice → a station."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def seed_county(live_server):
    def create():
        from blueprints.core.extensions import db
        from blueprints.core.models import Area
        from blueprints.core.transaction import transaction
        from blueprints.noticeboard.services import publish_notice
        from blueprints.registry.models import Station
        from tests.conftest import make_deputy_record

        # One unit of work: publish_notice joins it (a service's own outermost transaction would
        # start afresh and drop rows only flushed before it).
        with transaction():
            county = Area(name="青山县", kind="county")
            town = Area(name="城关镇", kind="township", parent=county)
            station = Station(name="城关镇人大代表之家", kind="home", area=town, address="城关镇人民路 8 号",
                              opening_hours="每月 5 日、25 日 9:00–11:30")
            db.session.add_all([county, town, station])
            db.session.flush()
            make_deputy_record(name="李建国", level="county", constituency="城关镇第1选区", station=station,
                               phone="13905610001")
            make_deputy_record(name="王海燕", level="township", constituency="城关镇第2选区", station=station)
            publish_notice("reception", "城关镇人大代表之家十二月接待安排", "12 月 5 日上午由**李建国**代表接待选民。",
                           scope="station", station=station)
            publish_notice("notice", "关于征集 2027 年民生实事候选项目的公告", "欢迎群众提出建议。", pinned=True)
        return station.id

    return live_server.seed(create)


def test_constituent_finds_a_deputy_a_notice_and_the_station(page, live_server, console):
    station_id = seed_county(live_server)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/")
    expect(page.locator("h1")).to_have_text("代表履职服务平台")
    expect(page.locator("main")).to_contain_text("关于征集 2027 年民生实事候选项目的公告")

    # The home search is a plain GET form into the directory.
    page.locator("#home-q").fill("李建")
    page.get_by_role("button", name="找代表", exact=True).click()
    expect(page).to_have_url(re.compile(r"/deputies/\?q="))
    rows = page.locator("#deputy-rows")
    expect(rows).to_contain_text("李建国")
    expect(rows).not_to_contain_text("王海燕")

    # Live search in the directory swaps the rows without a reload.
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__e2eNoReload = 'still-here'; }")
    search = page.locator("input[name=q]").first
    search.fill("")
    search.press_sequentially("王", delay=60)
    expect(rows).to_contain_text("王海燕")
    expect(rows).not_to_contain_text("李建国")
    assert page.evaluate("() => window.__e2eNoReload") == "still-here", "the search reloaded the page"

    # The public profile never shows a phone number.
    search.fill("")
    search.press_sequentially("李建国", delay=60)
    expect(rows).to_contain_text("李建国")
    rows.get_by_role("link", name="李建国").click()
    expect(page.locator("h1")).to_have_text("李建国")
    expect(page.locator("main")).not_to_contain_text("13905610001")

    # The notices list, then a notice with its Markdown rendered.
    page.goto("/notices/")
    page.get_by_role("link", name="城关镇人大代表之家十二月接待安排").click()
    expect(page.locator("h1")).to_have_text("城关镇人大代表之家十二月接待安排")
    expect(page.locator("main strong")).to_have_text("李建国")

    # The station page lists its deputies and its notices and offers a printable QR code.
    page.goto(f"/stations/{station_id}")
    expect(page.locator("h1")).to_contain_text("城关镇人大代表之家")
    expect(page.locator("main")).to_contain_text("城关镇人民路 8 号")
    expect(page.locator("main")).to_contain_text("王海燕")
    expect(page.locator("main")).to_contain_text("城关镇人大代表之家十二月接待安排")
    qr = page.request.get(f"/stations/{station_id}/qr.svg")
    assert qr.status == 200 and qr.headers["content-type"].startswith("image/svg+xml")

    assert not console.errors(r"Content.Security.Policy"), console.messages
    assert not console.errors(r"^pageerror"), console.messages
