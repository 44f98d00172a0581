"""The station kiosk in Chromium: today's duty deputies, a message typed on the kiosk yields a receipt
code, and the screen goes home (and forgets the half-typed message) after idle."""
from __future__ import annotations

import re
from datetime import time

import pytest

pytestmark = pytest.mark.e2e


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def seed_station(live_server) -> int:
    def create():
        from blueprints.core.extensions import db
        from blueprints.core.timeutil import local_today
        from blueprints.registry.models import Deputy, Station
        from blueprints.stations.models import DutyAssignment, ReceptionDay

        station = Station(name="城关镇人大代表之家", kind="home")
        deputies = [Deputy(name=n, level="county", station=station) for n in ("王芳", "李强")]
        db.session.add_all([station, *deputies])
        db.session.flush()
        today = ReceptionDay(station_id=station.id, day=local_today(), start_time=time(9), end_time=time(11))
        db.session.add(today)
        db.session.flush()
        db.session.add(DutyAssignment(reception_day_id=today.id, deputy_id=deputies[0].id, station_id=station.id,
                                      day=today.day))
        return station.id

    return live_server.seed(create)


def test_kiosk_shows_todays_duty_deputies(page, live_server, console):
    station_id = seed_station(live_server)
    page.goto(f"/kiosk/{station_id}")
    expect(page.locator("#on-duty")).to_contain_text("王芳")
    expect(page.locator("#on-duty")).not_to_contain_text("李强")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 24
    assert console.errors() == []


def test_a_message_typed_on_the_kiosk_yields_a_receipt_code(page, live_server, console):
    station_id = seed_station(live_server)
    page.goto(f"/kiosk/{station_id}")
    page.get_by_role("link", name="我要留言").click()
    page.get_by_label("留言内容").fill("东街路灯一个月不亮，晚上出行不便。")
    page.get_by_role("button", name="提交留言").click()
    expect(page.locator("#receipt-code")).to_have_text(re.compile(r"^[A-HJ-NP-Z2-9]{8}$"))
    assert console.errors() == []


def test_the_kiosk_goes_home_after_idle_and_forgets_the_message(page, live_server):
    live_server.app.config["KIOSK_IDLE_SECONDS"] = 2
    station_id = seed_station(live_server)
    page.goto(f"/kiosk/{station_id}/message")
    page.get_by_label("留言内容").fill("写了一半")
    expect(page).to_have_url(re.compile(rf"/kiosk/{station_id}$"), timeout=8_000)
    page.get_by_role("link", name="我要留言").click()
    expect(page.get_by_label("留言内容")).to_have_value("")


def test_liaison_edits_a_rota_cell_in_place(page, live_server, console):
    station_id = seed_station(live_server)
    live_server.add_user("liaison", station_id=station_id)

    def today_id():
        from sqlalchemy import select

        from blueprints.core.extensions import db
        from blueprints.stations.models import ReceptionDay

        return db.session.scalar(select(ReceptionDay.id))

    day_id = live_server.seed(today_id)
    page.goto("/login")
    page.locator("input[name=username]").fill("liaison")
    page.locator("input[name=password]").fill("demo-2026")
    page.get_by_role("button", name="登录", exact=True).click()
    page.goto(f"/station-work/{station_id}/calendar")
    cell = page.locator(f"#day-{day_id}")
    expect(cell).to_contain_text("王芳")
    cell.get_by_role("link", name="排班").click()
    page.get_by_label("李强").check()
    page.locator(f"#day-{day_id}").get_by_role("button", name="保存").click()
    expect(page.locator(f"#day-{day_id}")).to_contain_text("王芳、李强")
    assert path_of(page) == f"/station-work/{station_id}/calendar"  # swapped in place, no navigation
    assert console.errors() == []


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)
