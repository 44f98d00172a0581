"""督 and 评 pages on the demo county: the leader's page and records, the unit's plan, the office's
pages (plans, follow-ups, interviews, ranking, report, export, publishing) and who may open them."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blueprints.core.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")

STAFF_PAGES = ["/manage/suggestions/plans", "/manage/suggestions/followups", "/manage/suggestions/interviews",
               "/manage/suggestions/rating", "/manage/suggestions/rating/export.xlsx"]


def _login(demo, username):
    client = demo.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _key_items(username):
    from blueprints.core.models import User
    from blueprints.suggestions.models import Suggestion

    leader = db.session.scalar(select(User).where(User.username == username))
    return leader, db.session.scalars(select(Suggestion).where(Suggestion.key_leader_id == leader.id)
                                      .order_by(Suggestion.number)).all()


@pytest.mark.parametrize(("username", "expected"), [
    ("staff", 200), ("admin", 200), ("leader1", 403), ("unit", 403), ("deputy1", 403), ("clerk", 403),
    ("liaison", 403)])
def test_who_may_open_the_office_pages(demo, username, expected):
    client = _login(demo, username)
    for url in STAFF_PAGES:
        assert client.get(url).status_code == expected, (username, url)
    assert client.get("/leader/suggestions/").status_code == (200 if username in ("staff", "admin", "leader1")
                                                             else 403)


def test_anonymous_is_sent_to_login(demo):
    client = demo.test_client()
    for url in [*STAFF_PAGES, "/leader/suggestions/"]:
        assert client.get(url).headers["Location"].startswith("/login"), url


def test_leader_sees_their_key_suggestions_and_records_supervision(demo):
    from blueprints.suggestions.supervision_models import SupervisionRecord

    leader, items = _key_items("leader1")
    assert len(items) == 2
    client = _login(demo, "leader1")
    workspace = client.get("/workspace/").get_data(as_text=True)
    assert "我牵头督办的建议" in workspace and "督办中的重点建议" in workspace
    page = client.get("/leader/suggestions/").get_data(as_text=True)
    assert all(item.title in page for item in items)
    work = client.get(f"/suggestions/{items[0].id}/work").get_data(as_text=True)
    assert "督办记录" in work and "落实首期建设资金" in work
    before = db.session.scalar(select(func.count(SupervisionRecord.id)))
    bad = client.post(f"/suggestions/{items[0].id}/supervise",
                      data={"supervise-held_on": "", "supervise-form": "forum", "supervise-participants": "刘明",
                            "supervise-agreed": "按期办结"})
    assert bad.status_code == 422 and "请填写督办日期" in bad.get_data(as_text=True)
    ok = client.post(f"/suggestions/{items[0].id}/supervise",
                     data={"supervise-held_on": "2026-01-05", "supervise-form": "forum",
                           "supervise-participants": "刘明、县卫健委", "supervise-agreed": "按期办结"})
    assert ok.status_code == 303
    assert db.session.scalar(select(func.count(SupervisionRecord.id))) == before + 1
    # another leader's key suggestion: public, so readable, but no record form and no recording
    _other, theirs = _key_items("leader2")
    assert "保存督办记录" not in client.get(f"/suggestions/{theirs[0].id}/work").get_data(as_text=True)
    assert client.post(f"/suggestions/{theirs[0].id}/supervise",
                       data={"supervise-held_on": "2026-01-05", "supervise-form": "forum",
                             "supervise-participants": "x", "supervise-agreed": "y"}).status_code == 403


def test_the_lead_deputy_sees_the_supervision_records(demo):
    from blueprints.core.models import User

    _leader, items = _key_items("leader1")
    lead = db.session.scalar(select(User).where(User.deputy_id == items[0].lead_deputy_id))
    text = _login(demo, lead.username).get(f"/suggestions/{items[0].id}/work").get_data(as_text=True)
    assert "督办记录" in text and "九月底前完成卫生院改扩建选址" in text


def test_staff_pages_show_the_demo_and_publish_the_ranking(demo):
    from blueprints.noticeboard.models import Notice

    client = _login(demo, "staff")
    plans_page = client.get("/manage/suggestions/plans").get_data(as_text=True)
    assert "完成新建小区出行需求调研" not in plans_page  # done
    assert "公布线路调整方案征求意见" in plans_page and "逾期" in plans_page
    assert "交办超过 15 天未报送办理方案" in plans_page
    followups = client.get("/manage/suggestions/followups").get_data(as_text=True)
    assert "2 / " in followups and "37" in followups
    assert "单位主要负责人" in client.get("/manage/suggestions/interviews").get_data(as_text=True)
    rating = client.get("/manage/suggestions/rating").get_data(as_text=True)
    assert "得分 = 30 × 按时答复率" in rating
    assert client.post("/manage/suggestions/rating/publish").status_code == 303
    assert db.session.scalar(select(func.count(Notice.id)).where(Notice.source == "suggestions.unit_rating")) == 1
    export = client.get("/manage/suggestions/rating/export.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    session_id = db.session.scalar(select(Notice.source_ref).where(Notice.source == "suggestions.unit_rating"))
    report = client.get(f"/manage/suggestions/sessions/{session_id}/report").get_data(as_text=True)
    assert "代表建议办理情况的报告" in report and "重点督办" in report and "跨年滚动连办" in report


def test_weights_are_refused_with_a_message_and_change_nothing(demo):
    from blueprints.suggestions.supervision_models import UnitRatingRule

    client = _login(demo, "staff")
    data = {"w_on_time": 30, "w_satisfied": 40, "w_solved": 20, "w_ballot": 10, "w_second": 10, "w_overdue": 101}
    response = client.post("/manage/suggestions/rating/weights", data=data)
    assert response.status_code == 422 and "超期率的权重须在 0 到 100 之间" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UnitRatingRule)) == 0
    assert client.post("/manage/suggestions/rating/weights", data={**data, "w_overdue": 5}).status_code == 303


def test_unit_files_a_plan_from_the_work_page(demo):
    from blueprints.core.models import User
    from blueprints.suggestions import plans
    from blueprints.suggestions.supervision_models import HandlingPlan

    row = db.session.execute(plans.missing_plans_query()).first()
    item = row[0]
    unit_user = db.session.scalar(select(User).where(User.role == "unit", User.unit_id == item.main_unit_id))
    client = _login(demo, unit_user.username)
    assert "待报送的办理方案" in client.get("/workspace/").get_data(as_text=True)
    assert "报送办理方案（一考）" in client.get(f"/suggestions/{item.id}/work").get_data(as_text=True)
    bad = client.post(f"/suggestions/{item.id}/plan", data={"plan-summary": "方案", "plan-milestones": "六月 选址"})
    assert bad.status_code == 422 and "请以日期开头" in bad.get_data(as_text=True)
    ok = client.post(f"/suggestions/{item.id}/plan",
                     data={"plan-summary": "分两步实施", "plan-milestones": "2099-06-30 完成选址\n2099-09-30 开工"})
    assert ok.status_code == 303
    assert db.session.scalar(select(func.count(HandlingPlan.id)).where(HandlingPlan.suggestion_id == item.id)) == 1


def test_key_form_offers_leader_accounts_only(demo):
    from blueprints.suggestions.models import Suggestion

    item = db.session.scalar(select(Suggestion).where(Suggestion.number.is_not(None), ~Suggestion.is_key).limit(1))
    client = _login(demo, "staff")
    page = client.get(f"/suggestions/{item.id}/work").get_data(as_text=True)
    assert "县人大常委会副主任 刘明" in page and "县人大常委会委员 周红" in page
    from blueprints.core.models import User

    staff = db.session.scalar(select(User).where(User.username == "staff"))
    response = client.post(f"/suggestions/{item.id}/key", data={"set": "1", "key-key_leader": staff.id})
    assert response.status_code in (409, 422)
    db.session.expire_all()
    assert not db.session.get(Suggestion, item.id).is_key


def test_unit_ballot_from_the_meeting_page(demo):
    from blueprints.ballots.models import Ballot, Meeting
    from blueprints.suggestions import rating
    from blueprints.suggestions.models import CongressSession

    meeting = db.session.scalar(select(Meeting).order_by(Meeting.id).limit(1))
    client = _login(demo, "staff")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "反向测评" in page
    year = db.session.scalar(select(func.max(CongressSession.year)))
    before = db.session.scalar(select(func.count(Ballot.id)))
    response = client.post("/manage/suggestions/rating/ballot", data={"meeting_id": meeting.id, "year": year})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/meetings/{meeting.id}")
    ballot = db.session.scalar(select(Ballot).order_by(Ballot.id.desc()).limit(1))
    assert db.session.scalar(select(func.count(Ballot.id))) == before + 1
    assert ballot.method == "rating" and ballot.secret and rating.rule_for(year).ballot_id == ballot.id
    again = client.post("/manage/suggestions/rating/ballot", data={"meeting_id": meeting.id, "year": year})
    assert again.status_code == 409 and "已经创建过" in again.get_data(as_text=True)
    none = client.post("/manage/suggestions/rating/ballot", data={"meeting_id": 0, "year": year})
    assert none.status_code in (409, 422)
    assert db.session.scalar(select(func.count(Ballot.id))) == before + 1
