"""Remembered list totals and filter choices never show what the database no longer says
(blueprints/core/publicfacts.py)."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert

from blueprints.core import publicfacts
from blueprints.core.extensions import db
from blueprints.core.models import Area
from blueprints.core.timeutil import utcnow
from blueprints.noticeboard import services
from blueprints.noticeboard.models import Notice

TOTAL = re.compile(r"共 (\d+) 条")


@pytest.fixture
def remembering(app, content_counter):
    """The app as in production (PUBLIC_FACTS_SECONDS=30), the counter row present."""
    app.config["PUBLIC_FACTS_SECONDS"] = 30
    publicfacts.clear()
    yield app
    publicfacts.clear()


def publish(title, **values):
    values = {"category": "notice", "title": title, "body": "正文", "scope": "county",
              "publish_at": utcnow() - timedelta(minutes=1), **values}
    return services.create_notice(values)


def total(client, path="/notices/") -> int:
    db.session.remove()
    return int(TOTAL.search(client.get(path).get_data(as_text=True)).group(1))


def test_the_total_is_remembered_and_follows_every_committed_change(remembering, client, statements):
    for i in range(3):
        publish(f"公告{i}")
    db.session.commit()
    assert total(client) == 3
    with statements() as seen:
        assert total(client) == 3
    assert not any("count(" in s.lower() for s in seen), "the second visit counted again"

    publish("第四份公告")
    db.session.commit()
    assert total(client) == 4
    # A bulk INSERT (as an import or another worker would write) bumps the counter too.
    now = utcnow()
    db.session.execute(insert(Notice), [{"category": "notice", "title": "批量", "body": "正文", "scope": "county",
                                         "publish_at": now - timedelta(minutes=1), "version": 1, "pinned": False,
                                         "created_at": now, "updated_at": now}])
    db.session.commit()
    assert total(client) == 5
    notice_id = publish("撤下的公告").id
    db.session.commit()
    assert total(client) == 6
    services.take_down(db.session.get(Notice, notice_id), reason="发布有误")
    db.session.commit()
    assert total(client) == 5


def test_a_notice_whose_time_comes_is_counted_at_that_time(remembering, client):
    publish("已发布")
    publish("稍后发布", publish_at=utcnow() + timedelta(seconds=1.5))
    db.session.commit()
    assert total(client) == 1
    time.sleep(1.7)
    assert total(client) == 2


def test_each_filter_has_its_own_total(remembering, client):
    publish("关于民生实事的公示")
    publish("关于代表接待的公示")
    db.session.commit()
    assert total(client, "/notices/?q=民生") == 1
    assert total(client, "/notices/") == 2
    assert total(client, "/notices/?q=接待") == 1


def test_a_new_township_shows_in_the_filters_at_once(remembering, client):
    assert "新设镇" not in client.get("/deputies/").get_data(as_text=True)
    db.session.add(Area(name="新设镇", kind="township"))
    db.session.commit()
    db.session.remove()
    assert "新设镇" in client.get("/deputies/").get_data(as_text=True)
    assert "新设镇" in client.get("/notices/").get_data(as_text=True)


def test_nothing_is_remembered_for_another_app(remembering, client, app, statements):
    publish("公告")
    db.session.commit()
    assert total(client) == 1
    app.extensions["counter_memo_key"] = "another app"  # as a new app (and database) would start
    with statements() as seen:
        assert total(client) == 1
    assert any("count(" in s.lower() for s in seen)


def test_the_home_pages_registry_counts_follow_a_new_and_an_ended_deputy(remembering, client, make_deputy):
    serving = re.compile(r"<strong>(\d+)</strong><span>在任代表")

    def shown():
        db.session.remove()
        return int(serving.search(client.get("/").get_data(as_text=True)).group(1))

    first_id = make_deputy(name="李一").id
    db.session.commit()
    assert shown() == shown() == 1
    make_deputy(name="李二")
    db.session.commit()
    assert shown() == 2
    from blueprints.registry.models import Deputy

    ended = db.session.get(Deputy, first_id)
    ended.ended_on, ended.end_reason = utcnow().date(), "resigned"
    db.session.commit()
    assert shown() == 1


def test_a_stations_notices_follow_a_new_notice_and_a_take_down(remembering, client, app):
    from blueprints.registry.models import Station

    town = Area(name="临涣镇", kind="township")
    db.session.add(town)
    db.session.flush()
    station = Station(name="临涣镇人大代表之家", area_id=town.id, active=True)
    db.session.add(station)
    db.session.flush()
    station_id = station.id
    db.session.commit()
    publish("站点公告一", scope="station", station_id=station_id)
    db.session.commit()

    def page():
        db.session.remove()
        return client.get(f"/stations/{station_id}").get_data(as_text=True)

    assert "站点公告一" in page() and "站点公告一" in page()
    second_id = publish("站点公告二", scope="station", station_id=station_id).id
    db.session.commit()
    assert "站点公告二" in page()
    services.take_down(db.session.get(Notice, second_id), reason="发布有误")
    db.session.commit()
    assert "站点公告二" not in page()
