"""Township congresses (镇人代会): the roll is the serving township deputies of the meeting's township
(its own area or one of its villages), and the quorum, the passing rule and the results follow it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blueprints.ballots import meetings, tally, voting
from blueprints.ballots.models import Attendance, Ballot, Meeting
from blueprints.core.errors import DomainError, Forbidden
from blueprints.core.extensions import db
from blueprints.core.models import Area
from blueprints.registry.models import Deputy
from tests.ballots_helpers import form_for, make_ballot


def _county_with_two_townships():
    county = Area(name="青山县", kind="county")
    east = Area(name="城关镇", kind="township", parent=county)
    west = Area(name="临涣镇", kind="township", parent=county)
    village = Area(name="东街社区", kind="village", parent=east)
    db.session.add_all([county, east, west, village])
    db.session.flush()
    ours = [Deputy(name=f"城关{i}", level="township", term="第十九届", area_id=east.id) for i in range(5)]
    ours.append(Deputy(name="东街代表", level="township", term="第十九届", area_id=village.id))
    others = [Deputy(name=f"临涣{i}", level="township", term="第十九届", area_id=west.id) for i in range(4)]
    county_deputy = Deputy(name="县代表", level="county", term="第十八届", area_id=east.id)
    from datetime import date

    ended = Deputy(name="已终止", level="township", term="第十九届", area_id=east.id, ended_on=date(2026, 1, 1),
                   end_reason="resigned")
    db.session.add_all([*ours, *others, county_deputy, ended])
    db.session.commit()
    return east, west, ours, others


def test_the_roll_of_a_township_congress_is_its_townships_deputies(app):
    east, west, ours, others = _county_with_two_townships()
    meeting = meetings.create_meeting("城关镇第十九届人民代表大会第五次会议", "township", "第十九届", None,
                                      area_id=east.id)
    roll = set(db.session.scalars(select(Attendance.deputy_id).where(Attendance.meeting_id == meeting.id)))
    assert roll == {d.id for d in ours}  # the township and its village; not 临涣镇, not county, not ended
    assert meetings.counts(meeting.id)["total"] == 6


def test_quorum_passing_and_results_follow_the_township_roll(app):
    east, west, ours, others = _county_with_two_townships()
    meeting = meetings.create_meeting("城关镇人代会", "township", "第十九届", None, area_id=east.id)
    for deputy in ours[:3]:
        meetings.check_in(meeting, deputy.id)
    assert meetings.counts(meeting.id) == {"total": 6, "present": 3, "excused": 0, "absent": 3, "quorum": False,
                                           "quorum_needed": 4}
    meetings.check_in(meeting, ours[3].id)
    assert meetings.counts(meeting.id)["quorum"] is True
    with pytest.raises(DomainError, match="不在本次会议的名单中"):
        meetings.check_in(meeting, others[0].id)  # a deputy of another township is not on this roll
    for deputy in ours[4:]:
        meetings.check_in(meeting, deputy.id)
    ballot = make_ballot(meeting, 2)
    assert ballot.eligible_count == 6
    with pytest.raises(Forbidden, match="不在本次会议的代表名单中"):
        voting.cast_vote(ballot.id, others[0].id, form_for(ballot), meeting.id)
    # 项目1: 4 yes of 6 (more than half of ALL deputies on the roll) passes; 项目2: 3 yes does not.
    for index, deputy in enumerate(ours):
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, ["yes" if index < 4 else "no",
                                                                 "yes" if index < 3 else "no"]), meeting.id)
    voting.close_ballot(ballot.id)
    results = tally.tally(db.session.get(Ballot, ballot.id))
    assert [(r.yes, r.passed) for r in results] == [(4, True), (3, False)]


def test_a_township_congress_must_name_a_township(app):
    east, west, ours, others = _county_with_two_townships()
    with pytest.raises(DomainError, match="请选择所属乡镇") as refused:
        meetings.create_meeting("某镇人代会", "township", "第十九届", None)
    assert refused.value.field == "area_id" and refused.value.status == 422
    village = db.session.scalar(select(Area).where(Area.kind == "village"))
    with pytest.raises(DomainError, match="请选择所属乡镇"):
        meetings.create_meeting("某镇人代会", "township", "第十九届", None, area_id=village.id)
    with pytest.raises(DomainError, match="只有乡镇人代会"):
        meetings.create_meeting("县人代会", "county", "第十八届", None, area_id=east.id)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_the_database_refuses_a_township_on_a_county_meeting(app):
    east, *_ = _county_with_two_townships()
    meeting = meetings.create_meeting("县人代会", "county", "第十八届", None)
    from blueprints.core.transaction import transaction

    with pytest.raises(DomainError, match="只有乡镇人代会可以选择乡镇"), transaction():
        db.session.get(Meeting, meeting.id).area_id = east.id
    assert db.session.get(Meeting, meeting.id).area_id is None


def test_staff_create_a_township_congress_from_the_meetings_page(client, auth, users):
    east, west, ours, others = _county_with_two_townships()
    auth.login("staff")
    page = client.get("/meetings/")
    assert page.status_code == 200 and "城关镇" in page.text and 'name="area_id"' in page.text
    refused = client.post("/meetings/", data={"title": "某镇人代会", "level": "township", "area_id": "0",
                                              "term": "第十九届"})
    assert refused.status_code == 422 and "乡镇人代会请选择所属乡镇" in refused.text
    done = client.post("/meetings/", data={"title": "城关镇人代会", "level": "township", "area_id": str(east.id),
                                           "term": "第十九届"})
    assert done.status_code == 303
    meeting = db.session.scalar(select(Meeting))
    assert meeting.area_id == east.id and len(meeting.attendance) == 6
    assert "乡镇人代会：城关镇" in client.get(done.headers["Location"]).text


def test_the_demo_has_a_township_session_with_its_own_vote(demo):
    township_meetings = db.session.scalars(select(Meeting).where(Meeting.area_id.is_not(None))).all()
    assert len(township_meetings) == 1
    meeting = township_meetings[0]
    roll = db.session.scalars(select(Deputy).join(Attendance, Attendance.deputy_id == Deputy.id)
                              .where(Attendance.meeting_id == meeting.id)).all()
    area_ids = {meeting.area_id} | set(db.session.scalars(select(Area.id).where(Area.parent_id == meeting.area_id)))
    assert roll and all(d.level == "township" and d.area_id in area_ids for d in roll)
    ballot = meeting.ballots[0]
    assert ballot.status == "published" and ballot.eligible_count == len(roll)
    assert any(r.outcome == "selected" for r in tally.tally(ballot))
