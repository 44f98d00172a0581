"""The stations' rota in Chromium: a refused rota edit shows its Chinese message in the cell.

A liaison puts 王芳 on duty at her station on a day she is already on duty at another station. The
HTMX cell answers 409 with the cell's form and the message; htmx swaps 4xx refusals like successes
(core.web HTMX_CONFIG), so the message is visible where the liaison clicked, and nothing is stored.
"""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def seed_double_booking(live_server) -> dict:
    """Two stations with a reception day on the same date; 王芳 (of the first) is on duty at the second."""
    def create():
        from blueprints.core.extensions import db
        from blueprints.core.timeutil import local_today
        from blueprints.registry.models import Deputy, Station
        from blueprints.stations.models import DutyAssignment, ReceptionDay

        home = Station(name="城关镇人大代表之家", kind="home")
        other = Station(name="临涣镇人大代表联络站", kind="station")
        wang, li = (Deputy(name=n, level="county", station=home) for n in ("王芳", "李强"))
        db.session.add_all([home, other, wang, li])
        db.session.flush()
        day = local_today() + timedelta(days=2)
        here = ReceptionDay(station_id=home.id, day=day, start_time=time(9), end_time=time(11))
        there = ReceptionDay(station_id=other.id, day=day, start_time=time(14), end_time=time(16))
        db.session.add_all([here, there])
        db.session.flush()
        db.session.add(DutyAssignment(reception_day_id=there.id, deputy_id=wang.id, station_id=other.id, day=day))
        return {"station": home.id, "day": here.id, "month": f"{day:%Y-%m}"}

    return live_server.seed(create)


def duties_of(live_server, day_id: int) -> list[str]:
    def read():
        from sqlalchemy import select

        from blueprints.core.extensions import db
        from blueprints.registry.models import Deputy
        from blueprints.stations.models import DutyAssignment

        return db.session.scalars(select(Deputy.name).join(DutyAssignment, DutyAssignment.deputy_id == Deputy.id)
                                  .where(DutyAssignment.reception_day_id == day_id)).all()

    return live_server.seed(read)


def test_a_double_booked_rota_cell_shows_the_refusal_in_the_page(page, live_server, console):
    ids = seed_double_booking(live_server)
    live_server.add_user("liaison", station_id=ids["station"])
    page.goto("/login")
    page.locator("input[name=username]").fill("liaison")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    calendar = f"/station-work/{ids['station']}/calendar?month={ids['month']}"
    page.goto(calendar)
    cell = page.locator(f"#day-{ids['day']}")
    expect(cell).to_contain_text("未排班")

    cell.get_by_role("link", name="排班").click()
    page.get_by_label("王芳").check()
    with page.expect_response(re.compile(rf"/days/{ids['day']}/duty$")) as answer:
        page.locator(f"#day-{ids['day']}").get_by_role("button", name="保存").click()
    assert answer.value.status == 409

    refusal = page.locator(f"#day-{ids['day']}").get_by_role("alert")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("王芳当天已在临涣镇人大代表联络站值班，同一代表同一天不能在两个联络站值班。")
    assert path_of(page) == calendar  # swapped into the cell, no navigation
    expect(page.get_by_label("王芳")).to_be_checked()  # the form stays as the liaison left it, to correct
    assert duties_of(live_server, ids["day"]) == []  # nothing stored

    # Corrected in the same cell: 李强 instead, and the cell shows the rota again.
    page.get_by_label("王芳").uncheck()
    page.get_by_label("李强").check()
    page.locator(f"#day-{ids['day']}").get_by_role("button", name="保存").click()
    expect(page.locator(f"#day-{ids['day']}")).to_contain_text("李强")
    expect(page.locator(f"#day-{ids['day']}")).not_to_contain_text("同一代表同一天")
    assert duties_of(live_server, ids["day"]) == ["李强"]
    # The browser logs the 409 resource itself; no script error and no "server error" note.
    assert console.errors("pageerror") == []
    expect(page.locator("#flashes")).not_to_contain_text("出错")
