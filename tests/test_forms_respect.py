"""Forms that respect people's work (issue 18): a refused activity says which files must be chosen again;
check-in tells two deputies of the same name apart; the reception record pre-ticks today's duty deputies
and takes the time of a visit entered afterwards from paper."""
from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta

from sqlalchemy import select

from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today, to_local

JPEG = b"\xff\xd8\xff\xe0 photo"


def _activity(title: str, **extra) -> dict:
    return {"type_code": "survey", "occurred_on": local_today().isoformat(), "title": title, "place": "东街社区",
            "duration_hours": "2", "description": "", **extra}


def test_a_refused_activity_keeps_its_photo_and_names_a_file_it_cannot_keep(client, auth, users):
    auth.login("deputy")
    response = client.post("/me/activities/new", data=_activity("", nonce="tok-1", files=[
        (io.BytesIO(JPEG), "现场照片.jpg"), (io.BytesIO(b"MZ not a photo"), "程序.exe")]),
        content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写活动名称" in html
    assert 'id="files-kept"' in html and "现场照片.jpg" in html and "无需重新选择" in html
    assert 'id="files-dropped"' in html and "程序.exe" in html and "需要重新选择" in html
    assert 'value="东街社区"' in html  # the rest is kept


def test_a_kept_photo_is_stored_with_the_activity_on_the_next_submit(app, client, auth, users):
    from pathlib import Path

    from blueprints.duties.models import Activity, ActivityAttachment

    auth.login("deputy")
    html = client.post("/me/activities/new", data=_activity("", nonce="tok-2", files=[
        (io.BytesIO(JPEG), "现场照片.jpg")]), content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="kept"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="kept"', html)
    assert token, "the form carries the kept files' token"
    token = token.group(1)
    folder = Path(app.config["PROVISIONAL_DIR"]) / token
    assert folder.is_dir() and db.session.scalar(select(Activity.id)) is None  # kept, nothing stored yet
    response = client.post("/me/activities/new", data=_activity("调研东街社区养老服务", nonce="tok-2", kept=token),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    attachment = db.session.scalars(select(ActivityAttachment)).one()
    assert attachment.filename == "现场照片.jpg" and attachment.data == JPEG
    assert not folder.exists()  # used: removed


def test_kept_files_are_only_the_choosers_and_go_after_a_day(app, client, auth, users, make_user):
    import os
    import time
    from pathlib import Path

    from blueprints.duties import provisional
    from blueprints.duties.models import ActivityAttachment

    with app.test_request_context():
        token = provisional.keep([("照片.jpg", JPEG)], owner_id=users["deputy"].id)
        assert provisional.take(token, users["deputy"].id + 1000) == []  # someone else's token gives nothing
        assert provisional.take("../../etc", users["deputy"].id) == []
        folder = Path(app.config["PROVISIONAL_DIR"]) / token
        old = time.time() - 2 * 24 * 3600
        os.utime(folder, (old, old))
        assert provisional.clean() >= 1 and not folder.exists()
    token = None
    with app.test_request_context():
        token = provisional.keep([("照片.jpg", JPEG)], owner_id=users["deputy"].id)
    make_user("deputy", username="deputy2")
    auth.login("deputy2")  # not the deputy who chose it: the token is worth nothing to another account
    response = client.post("/me/activities/new", data=_activity("调研", nonce="tok-3", kept=token))
    assert response.status_code == 303
    assert db.session.scalar(select(ActivityAttachment.id)) is None


def test_check_in_shows_code_constituency_and_photo(demo):
    from blueprints.ballots.models import Attendance, Meeting
    from blueprints.registry.models import Deputy

    meeting = db.session.scalars(select(Meeting).order_by(Meeting.id)).first()
    deputy = db.session.scalars(select(Deputy).join(Attendance, Attendance.deputy_id == Deputy.id)
                                .where(Attendance.meeting_id == meeting.id)).first()
    client = demo.test_client()
    client.post("/login", data={"username": "clerk", "password": "demo-2026"})
    page = client.get(f"/meetings/{meeting.id}/checkin?q={deputy.code}").get_data(as_text=True)
    assert "代表编号" in page and "选区" in page
    assert deputy.code in page and deputy.constituency in page and f"/deputies/{deputy.id}/photo" in page


def test_reception_record_ticks_todays_duty_and_takes_a_later_time(client, auth, county, make_user):
    from blueprints.registry.models import Deputy
    from blueprints.stations.models import DutyAssignment, Reception, ReceptionDay

    station = county["stations"][0]
    on_duty, other = Deputy(name="王芳", level="county", station=station), Deputy(name="李强", level="county",
                                                                                 station=station)
    db.session.add_all([on_duty, other])
    db.session.flush()
    today = local_today()
    rday = ReceptionDay(station_id=station.id, day=today, start_time=time(9), end_time=time(11, 30))
    db.session.add(rday)
    db.session.flush()
    db.session.add(DutyAssignment(reception_day_id=rday.id, deputy_id=on_duty.id, station_id=station.id, day=today))
    db.session.commit()
    make_user("liaison", station=station)
    auth.login("liaison")
    page = client.get(f"/station-work/{station.id}/receptions").get_data(as_text=True)
    ticked = {int(v) for v in re.findall(r'<input checked [^>]*name="deputy_ids"[^>]*value="(\d+)"', page)}
    assert ticked == {on_duty.id} and 'type="datetime-local"' in page
    assert '<ul class="check-list"' in page
    earlier = datetime.combine(today - timedelta(days=3), time(10, 15))
    base = {"category": "urban", "summary": "路灯不亮", "deputy_ids": [str(on_duty.id)]}
    future = client.post(f"/station-work/{station.id}/receptions",
                         data={**base, "visited_at": (earlier + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")})
    assert future.status_code == 422 and "接待时间不能晚于现在" in future.get_data(as_text=True)
    assert db.session.scalar(select(Reception.id)) is None
    done = client.post(f"/station-work/{station.id}/receptions",
                       data={**base, "visited_at": earlier.strftime("%Y-%m-%dT%H:%M")})
    assert done.status_code == 303
    visit = db.session.scalars(select(Reception)).one()
    assert to_local(visit.visited_at).replace(tzinfo=None) == earlier
