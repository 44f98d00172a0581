"""The public page cache never shows what the database no longer says (blueprints/core/pagecache.py)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text

from blueprints.core import pagecache
from blueprints.core.extensions import db
from blueprints.core.timeutil import utcnow
from blueprints.noticeboard import services
from blueprints.registry.models import Deputy


@pytest.fixture
def cached(app, content_counter):
    """The app with the cache on, as in production, and the counter row present."""
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 30
    pagecache.clear()
    yield app
    pagecache.clear()


def publish(title, **values):
    now = utcnow()
    return services.create_notice({"category": "notice", "title": title, "body": "正文", "scope": "county",
                                   "publish_at": now - timedelta(minutes=1), **values})


def version():
    db.session.remove()
    return pagecache.current_version()


def test_a_second_visit_is_served_from_memory_with_the_same_page(cached, client):
    publish("关于召开代表座谈会的通知")
    first = client.get("/notices/")
    second = client.get("/notices/")
    assert (first.headers["X-Page-Cache"], second.headers["X-Page-Cache"]) == ("miss", "hit")
    assert second.get_data() == first.get_data()
    assert "关于召开代表座谈会的通知" in second.get_data(as_text=True)
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert "HX-Request" in second.headers["Vary"]
    assert "Content-Security-Policy" in second.headers


def test_publishing_and_taking_down_show_at_once(cached, client):
    client.get("/notices/")
    assert client.get("/notices/").headers["X-Page-Cache"] == "hit"

    notice = publish("新发布的公告")
    page = client.get("/notices/")
    assert page.headers["X-Page-Cache"] == "miss"
    assert "新发布的公告" in page.get_data(as_text=True)

    client.get(f"/notices/{notice.id}")
    services.take_down(db.session.get(type(notice), notice.id))
    assert "新发布的公告" not in client.get("/notices/").get_data(as_text=True)
    assert client.get(f"/notices/{notice.id}").status_code == 404


def test_a_scheduled_notice_appears_on_time(cached, client):
    client.get("/")  # templates compiled before the clock starts: on a busy CI machine that took over a second
    publish_at = utcnow() + timedelta(seconds=3)
    services.create_notice({"category": "notice", "title": "定时发布的公告", "body": "正文", "scope": "county",
                            "publish_at": publish_at})
    assert "定时发布的公告" not in client.get("/").get_data(as_text=True)
    assert client.get("/").headers["X-Page-Cache"] == "hit"
    time.sleep(max(0.0, (publish_at - utcnow()).total_seconds()) + 0.1)
    page = client.get("/")
    assert page.headers["X-Page-Cache"] == "miss"
    assert "定时发布的公告" in page.get_data(as_text=True)


def test_registry_changes_and_bulk_statements_bump_the_counter(cached, client):
    before = version()
    db.session.execute(insert(Deputy), [{"name": "批量导入代表", "level": "county"}])
    db.session.commit()
    after_bulk = version()
    assert after_bulk == before + 1

    deputy = db.session.scalar(select(Deputy).where(Deputy.name == "批量导入代表"))
    deputy.constituency = "城关镇第1选区"
    db.session.commit()
    assert version() == after_bulk + 1


def test_one_transaction_bumps_once_and_a_rollback_not_at_all(cached):
    before = version()
    publish("一")
    assert version() == before + 1

    db.session.add(Deputy(name="未提交的代表", level="county"))
    db.session.flush()
    db.session.rollback()
    assert version() == before + 1

    for name in ("甲", "乙", "丙"):
        db.session.add(Deputy(name=name, level="county"))
        db.session.flush()
    db.session.commit()
    assert version() == before + 2


def test_changes_to_other_tables_keep_the_cache(cached, make_user, client):
    client.get("/")
    make_user("staff")  # accounts are not shown on public pages
    assert client.get("/").headers["X-Page-Cache"] == "hit"


def test_signed_in_users_and_visitors_with_a_session_bypass_the_cache(cached, client, make_user, auth):
    make_user("staff", display_name="工委张敏")
    client.get("/")
    assert client.get("/").headers["X-Page-Cache"] == "hit"
    auth.login()
    page = client.get("/")
    assert "X-Page-Cache" not in page.headers
    assert "工委张敏" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_fragments_and_full_pages_are_kept_apart(cached, client):
    publish("关于召开代表座谈会的通知")
    full = client.get("/deputies/?q=王")
    fragment = client.get("/deputies/?q=王", headers={"HX-Request": "true"})
    assert fragment.headers["X-Page-Cache"] == "miss"
    assert "<html" in full.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    restore = client.get("/deputies/?q=王", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_errors_are_not_stored(cached, client):
    assert client.get("/notices/999").status_code == 404
    assert client.get("/notices/999").headers.get("X-Page-Cache") != "hit"


def test_without_the_counter_row_nothing_is_cached(cached, client):
    db.session.execute(text("DELETE FROM content_versions"))
    db.session.commit()
    client.get("/")
    assert "X-Page-Cache" not in client.get("/").headers


def test_turned_off_by_zero_seconds(app, client):
    client.get("/")
    assert "X-Page-Cache" not in client.get("/").headers


def test_cancelling_a_reception_day_shows_on_the_station_page_at_once(cached, client):
    from datetime import time as clock

    from blueprints.core.timeutil import local_today
    from blueprints.registry.models import Station
    from blueprints.stations.models import ReceptionDay

    station = Station(name="城关镇中心联络站", kind="station")
    db.session.add(station)
    db.session.flush()
    day = ReceptionDay(station_id=station.id, day=local_today() + timedelta(days=3), start_time=clock(9),
                       end_time=clock(11, 30))
    db.session.add(day)
    db.session.commit()
    url = f"/stations/{station.id}"
    client.get(url)
    assert client.get(url).headers["X-Page-Cache"] == "hit"
    day.status = "cancelled"
    day.public_note = "国庆假期，本次接待取消"
    db.session.commit()
    page = client.get(url)
    assert page.headers["X-Page-Cache"] == "miss" and "国庆假期，本次接待取消" in page.get_data(as_text=True)
