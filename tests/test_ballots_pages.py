"""Pages of the ballots area: the vote contract of /meetings/<id>/vote, confirmation, the projector
screen, staff and clerk pages, public pages, and who may use what."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blueprints.ballots import voting
from blueprints.ballots.models import Ballot, BallotChoice, BallotReceipt, PaperCount, Project, Proposal, SealedVote
from blueprints.core.extensions import db
from tests.ballots_helpers import (
    few_secret_votes_close,  # noqa: F401 (a fixture)
    form_for,
    make_ballot,
    make_meeting,
)

pytestmark = pytest.mark.usefixtures("few_secret_votes_close")


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def hall(app, make_user):
    """A meeting of 6 deputies (5 checked in), an open secret ballot of 3 items, deputy accounts."""
    meeting, deputies = make_meeting(6, checked_in=5)
    ballot = make_ballot(meeting, 3, max_yes=2, places=2)
    accounts = {i: make_user("deputy", f"d{i}", deputy=deputies[i]) for i in (0, 1, 5)}
    return {"meeting": meeting, "deputies": deputies, "ballot": ballot, "accounts": accounts}


def vote_data(ballot, choices):
    return {"ballot_id": str(ballot.id), **form_for(ballot, choices)}


def test_vote_contract_success_then_409(client, auth, hall):
    meeting, ballot = hall["meeting"], hall["ballot"]
    auth.login("d0")
    page = client.get(f"/meetings/{meeting.id}/vote")
    assert page.status_code == 200 and f'name="item-{ballot.items[0].id}"' in page.text and "赞成" in page.text
    response = client.post(f"/meetings/{meeting.id}/vote", data=vote_data(ballot, ["yes", "no", "abstain"]))
    assert response.status_code in (200, 303)
    assert count(BallotReceipt) == 1 and count(SealedVote) == 1 and count(BallotChoice) == 0
    done = client.get(response.headers["Location"])
    assert "已投票" in done.text
    again = client.post(f"/meetings/{meeting.id}/vote", data=vote_data(ballot, ["no", "no", "no"]))
    assert again.status_code == 409 and "您已投票" in again.text
    assert count(BallotReceipt) == 1 and count(SealedVote) == 1
    assert "已投票" in client.get(f"/meetings/{meeting.id}/vote").text


def test_confirmation_repeats_choices_and_records_nothing(client, auth, hall):
    meeting, ballot = hall["meeting"], hall["ballot"]
    auth.login("d0")
    page = client.post(f"/meetings/{meeting.id}/vote/confirm", data=vote_data(ballot, ["yes", "no", "abstain"]))
    assert page.status_code == 200 and "请确认您的选择" in page.text
    assert page.text.index("赞成") < page.text.index("反对") < page.text.index("弃权")
    assert f'name="item-{ballot.items[2].id}" value="abstain"' in page.text
    assert count(BallotReceipt) == 0


@pytest.mark.parametrize("who, mutate, status, message", [
    ("d5", None, 403, "您尚未签到"),
    ("d0", lambda d, b: d.pop(f"item-{b.items[1].id}"), 422, "请对每个项目作出选择"),
    ("d0", lambda d, b: d.update({"item-99999": "yes"}), 422, "不属于本次表决"),
    ("d0", lambda d, b: d.update({f"item-{b.items[0].id}": "maybe"}), 422, "选项无效"),
    ("d0", lambda d, b: d.update({f"item-{b.items[2].id}": "yes"}), 422, "赞成票不能超过 2 个"),
    ("d0", lambda d, b: d.update({"ballot_id": "abc"}), 422, "选票不属于本次会议"),
])
def test_bad_votes_answer_with_message_and_record_nothing(client, auth, hall, who, mutate, status, message):
    meeting, ballot = hall["meeting"], hall["ballot"]
    auth.login(who)
    data = vote_data(ballot, ["yes", "yes", "no"])
    if mutate:
        mutate(data, ballot)
    response = client.post(f"/meetings/{meeting.id}/vote", data=data)
    assert response.status_code == status
    assert message in response.text
    assert count(BallotReceipt) == 0 and count(BallotChoice) == 0


def test_vote_before_open_and_after_close_is_409(client, auth, hall):
    meeting, ballot = hall["meeting"], hall["ballot"]
    draft = make_ballot(meeting, 1, open_it=False)
    auth.login("d0")
    response = client.post(f"/meetings/{meeting.id}/vote", data=vote_data(draft, ["yes"]))
    assert response.status_code == 409 and "投票尚未开始" in response.text
    voting.close_ballot(ballot.id)
    response = client.post(f"/meetings/{meeting.id}/vote", data=vote_data(ballot, ["yes", "no", "no"]))
    assert response.status_code == 409 and "投票已截止" in response.text
    assert count(BallotReceipt) == 0


def test_self_check_in_needs_the_deputys_own_pass(client, auth, hall):
    """The meeting-wide QR token is gone (tests/test_passes.py covers check-in by personal pass)."""
    meeting = hall["meeting"]
    auth.login("d5")
    bad = client.post(f"/meetings/{meeting.id}/checkin/self", data={"t": "anything"})
    assert bad.status_code == 422 and "请扫描您本人的签到证二维码签到" in bad.text
    assert "请用手机扫描您本人签到证" in client.get(f"/meetings/{meeting.id}/checkin/self").text


def test_screen_shows_turnout_while_open_and_results_after_close(client, auth, users, hall):
    meeting, ballot, deputies = hall["meeting"], hall["ballot"], hall["deputies"]
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, ["yes", "yes", "no"]), meeting.id)
    auth.login("clerk")
    page = client.get(f"/meetings/{meeting.id}/screen")
    assert page.status_code == 200 and 'hx-trigger="every 2s"' in page.text and "<script>" not in page.text
    assert "已投票" in page.text and "<strong>1</strong> / 5" in page.text
    assert "项目1" not in page.text  # never partial results
    fragment = client.get(f"/meetings/{meeting.id}/screen", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<main id="screen"') and "Vary" in fragment.headers
    voting.close_ballot(ballot.id)
    results = client.get(f"/meetings/{meeting.id}/screen", headers={"HX-Request": "true"})
    assert "项目1" in results.text and "赞成 1" in results.text and "<meter" in results.text


def test_staff_runs_a_ballot_through_the_pages(client, auth, users, hall):
    from blueprints.noticeboard.models import Notice

    meeting, deputies = hall["meeting"], hall["deputies"]
    auth.login("staff")
    response = client.post(f"/meetings/{meeting.id}/ballots", data={"title": "补充票决", "method": "approve",
                                                                     "secret": "y", "places": "1"})
    assert response.status_code == 303
    ballot = db.session.scalar(select(Ballot).where(Ballot.title == "补充票决"))
    assert client.post(f"/ballots/{ballot.id}/items", data={"title": "老旧小区改造", "unit_name": "县住建局",
                                                            "budget": "500", "timeline": "年底"}).status_code == 303
    bad = client.post(f"/ballots/{ballot.id}/items", data={"title": "x", "budget": "很多"})
    assert bad.status_code == 422 and "预算必须是数字" in bad.text
    assert client.post(f"/ballots/{ballot.id}/candidates").status_code == 303
    assert client.post(f"/ballots/{ballot.id}/open").status_code == 303
    assert client.post(f"/ballots/{ballot.id}/paper-voters", data={"deputy_id": deputies[4].id}).status_code == 303
    for deputy in deputies[:4]:
        voting.cast_vote(ballot.id, deputy.id, {f"item-{ballot.items[0].id}": "yes"}, meeting.id)
    early = client.post(f"/ballots/{ballot.id}/publish")
    assert early.status_code == 409 and "只有已截止" in early.text
    assert client.post(f"/ballots/{ballot.id}/close").status_code == 303
    missing = client.post(f"/ballots/{ballot.id}/publish")
    assert missing.status_code == 422 and "未录入纸质票" in missing.text
    too_many = client.post(f"/ballots/{ballot.id}/paper-counts", data={
        "item_id": ballot.items[0].id, "count_yes": "2", "count_no": "0", "count_abstain": "0"})
    assert too_many.status_code == 422 and "超过纸质投票代表人数 1" in too_many.text
    negative = client.post(f"/ballots/{ballot.id}/paper-counts",
                           data={"item_id": ballot.items[0].id, "count_yes": "-1", "count_no": "0",
                                 "count_abstain": "0"})
    assert negative.status_code == 422 and "不能为负数" in negative.text
    assert count(PaperCount) == 0
    assert client.post(f"/ballots/{ballot.id}/paper-counts", data={
        "item_id": ballot.items[0].id, "count_yes": "1", "count_no": "0", "count_abstain": "0"}).status_code == 303
    page = client.get(f"/ballots/{ballot.id}")
    assert "含纸质 1" in page.text
    assert client.post(f"/ballots/{ballot.id}/publish").status_code == 303
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot.id)
    assert ballot.status == "published"
    notice = db.session.get(Notice, ballot.notice_id)
    assert "老旧小区改造" in notice.body and "赞成 5" in notice.body
    assert db.session.scalar(select(Project.title)) == "老旧小区改造"
    xlsx = client.get(f"/ballots/{ballot.id}/result.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert "计票人签名" in client.get(f"/ballots/{ballot.id}/sheet").text
    assert "□" in client.get(f"/ballots/{ballot.id}/print").text
    public = client.get(f"/livelihood/results/{ballot.id}")
    assert public.status_code == 200 and "纸质选票" in public.text


def test_clerk_checks_in_with_htmx(client, auth, users, hall):
    meeting, deputies = hall["meeting"], hall["deputies"]
    auth.login("clerk")
    page = client.get(f"/meetings/{meeting.id}/checkin", query_string={"q": deputies[5].name},
                      headers={"HX-Request": "true"})
    assert page.text.startswith('<div id="checkin-rows">') and "未签到" in page.text
    response = client.post(f"/meetings/{meeting.id}/checkin", data={"deputy_id": deputies[5].id},
                           headers={"HX-Request": "true"})
    assert "已签到 6 / 应到 6" in response.text
    no_deputy = client.post(f"/meetings/{meeting.id}/checkin", data={"deputy_id": "x"})
    assert no_deputy.status_code == 422 and "请选择代表" in no_deputy.text


def test_clerk_check_in_refusals_answer_the_fragment_with_the_message(client, auth, users, hall):
    """htmx swaps 4xx answers: a refused check-in comes back as the rows fragment carrying the message."""
    from blueprints.ballots.models import Attendance
    from blueprints.duties.models import Activity

    meeting, deputies = hall["meeting"], hall["deputies"]
    auth.login("clerk")
    htmx = {"HX-Request": "true"}
    first = client.post(f"/meetings/{meeting.id}/checkin", data={"deputy_id": deputies[5].id}, headers=htmx)
    assert first.status_code == 200 and "已签到 6 / 应到 6" in first.text
    checked_at = db.session.scalar(select(Attendance.checked_in_at).where(Attendance.deputy_id == deputies[5].id))
    activities = count(Activity)
    twice = client.post(f"/meetings/{meeting.id}/checkin", data={"deputy_id": deputies[5].id}, headers=htmx)
    assert twice.status_code == 409
    assert twice.text.lstrip().startswith('<div id="checkin-rows">') and "<html" not in twice.text
    assert "该代表已签到" in twice.text and "已签到 6 / 应到 6" in twice.text
    db.session.expire_all()
    assert db.session.scalar(select(Attendance.checked_in_at)
                             .where(Attendance.deputy_id == deputies[5].id)) == checked_at
    assert count(Activity) == activities
    from blueprints.registry.models import Deputy

    ended = db.session.scalar(select(Deputy.id).where(Deputy.ended_on.is_not(None)))
    stranger = client.post(f"/meetings/{meeting.id}/checkin", data={"deputy_id": ended}, headers=htmx)
    assert stranger.status_code == 422 and "该代表不在本次会议的名单中" in stranger.text
    assert stranger.text.lstrip().startswith('<div id="checkin-rows">')
    empty = client.post(f"/meetings/{meeting.id}/checkin", data={"deputy_id": ""}, headers=htmx)
    assert empty.status_code == 422 and "请选择代表" in empty.text and 'id="checkin-rows"' in empty.text
    page = client.post(f"/meetings/{meeting.id}/checkin", data={"deputy_id": deputies[5].id})
    assert page.status_code == 409 and "该代表已签到" in page.text and "<html" in page.text


def test_public_proposal_and_screening(client, auth, users):
    from datetime import timedelta

    from blueprints.ballots import proposals
    from blueprints.core.timeutil import local_today

    call = proposals.create_call("2027年民生实事项目征集", local_today() + timedelta(days=30))
    empty = client.post(f"/livelihood/calls/{call.id}/propose", data={"title": "", "content": ""})
    assert empty.status_code == 422 and count(Proposal) == 0
    response = client.post(f"/livelihood/calls/{call.id}/propose",
                           data={"title": "东街增设公厕", "content": "东街菜市场旁", "contact": "13800001111"})
    assert response.status_code == 303
    proposal = db.session.scalar(select(Proposal))
    auth.login("staff")
    reject = client.post(f"/ballots/proposals/{proposal.id}", data={"decision": "rejected", "public_reason": "",
                                                                    "merged_into_id": "0"})
    assert reject.status_code == 422 and "请填写公开说明的理由" in reject.text
    assert client.post(f"/ballots/proposals/{proposal.id}", data={"decision": "rejected", "merged_into_id": "0",
                                                                  "public_reason": "已列入城建计划"}).status_code == 303
    auth.logout()
    public = client.get(f"/livelihood/calls/{call.id}")
    assert "已列入城建计划" in public.text and "13800001111" not in public.text


def test_unit_posts_progress_only_for_its_own_project(client, auth, make_user, county):
    unit = county["unit"]
    own = Project(year=2026, title="城区道路改造", unit_id=unit.id, unit_name=unit.name)
    other = Project(year=2026, title="乡村学校食堂", unit_id=None)
    db.session.add_all([own, other])
    db.session.commit()
    make_user("unit", "unit1", unit=unit)
    auth.login("unit1")
    update = {"progress": "30", "note": "开工"}
    assert client.post(f"/livelihood/projects/{own.id}/updates", data=update).status_code == 303
    assert client.post(f"/livelihood/projects/{other.id}/updates", data=update).status_code == 403
    bad = client.post(f"/livelihood/projects/{own.id}/updates", data={"progress": "130", "note": "x"})
    assert bad.status_code == 422 and "0 到 100" in bad.text
    page = client.get(f"/livelihood/projects/{own.id}")
    assert '<progress max="100" value="30">' in page.text
    assert "城区道路改造" in client.get("/livelihood/").text


STAFF_ONLY = ["POST /meetings/{m}/ballots", "POST /ballots/{b}/open", "POST /ballots/{b}/close",
              "POST /ballots/{b}/publish", "GET /ballots/proposals/"]
CLERK_PAGES = ["GET /meetings/", "GET /meetings/{m}", "GET /meetings/{m}/checkin", "GET /ballots/{b}",
               "POST /ballots/{b}/paper-voters"]


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit", "clerk"])
@pytest.mark.parametrize("route", STAFF_ONLY)
def test_staff_routes_refuse_other_roles(client, auth, users, hall, role, route):
    method, path = route.split()
    path = path.format(m=hall["meeting"].id, b=hall["ballot"].id)
    auth.login(role)
    assert client.open(path, method=method).status_code == 403


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit"])
@pytest.mark.parametrize("route", CLERK_PAGES)
def test_clerk_routes_refuse_other_roles(client, auth, users, hall, role, route):
    method, path = route.split()
    path = path.format(m=hall["meeting"].id, b=hall["ballot"].id)
    auth.login(role)
    assert client.open(path, method=method).status_code == 403


@pytest.mark.parametrize("role", ["staff", "clerk", "liaison", "unit"])
def test_only_deputies_vote(client, auth, users, hall, role):
    auth.login(role)
    response = client.post(f"/meetings/{hall['meeting'].id}/vote", data=vote_data(hall["ballot"], ["no"] * 3))
    assert response.status_code == 403
    assert count(BallotReceipt) == 0


def test_anonymous_is_sent_to_login(client, hall):
    for path in (f"/meetings/{hall['meeting'].id}/vote", f"/meetings/{hall['meeting'].id}/screen",
                 f"/ballots/{hall['ballot'].id}"):
        assert client.get(path).status_code == 302
    assert client.get(f"/livelihood/results/{hall['ballot'].id}").status_code == 404  # not published yet


def test_year_end_rating_ballot_from_the_meeting_page(client, auth, users, hall):
    meeting = hall["meeting"]
    project = Project(year=2026, title="城区道路改造")
    db.session.add(project)
    db.session.commit()
    auth.login("staff")
    bad_year = client.post(f"/meetings/{meeting.id}/rating-ballot", data={"year": "20x6"})
    assert bad_year.status_code == 422 and "请填写年度" in bad_year.text
    empty = client.post(f"/meetings/{meeting.id}/rating-ballot", data={"year": "2019"}, follow_redirects=True)
    assert "2019 年没有民生实事项目" in empty.text
    response = client.post(f"/meetings/{meeting.id}/rating-ballot", data={"year": "2026"})
    assert response.status_code == 303
    rating = db.session.scalar(select(Ballot).where(Ballot.method == "rating"))
    assert [i.project_id for i in rating.items] == [project.id]
    voting.open_ballot(rating.id)
    for deputy, choice in zip(hall["deputies"][:4], ["satisfied", "basic", "basic", "unsatisfied"], strict=True):
        voting.cast_vote(rating.id, deputy.id, {f"item-{rating.items[0].id}": choice}, meeting.id)
    voting.close_ballot(rating.id)
    from blueprints.ballots import tally

    tally.publish(rating.id)
    page = client.get(f"/livelihood/projects/{project.id}")
    assert "满意率 75.0%" in page.text


def test_refusals_of_the_ballot_page_show_their_message_even_when_the_form_is_gone(client, auth, users, hall):
    """The ballot moved on (opened, not closed yet): the item and paper-count forms are no longer on the
    page, so their refusal is shown above it, with the conflict's status; nothing is written."""
    from blueprints.ballots.models import BallotItem

    ballot = hall["ballot"]
    auth.login("staff")
    items = count(BallotItem)
    late = client.post(f"/ballots/{ballot.id}/items", data={"title": "晚到的项目"})
    assert late.status_code == 409 and "表决已开始，项目、方式和名单不能再修改。" in late.text
    assert 'role="alert">表决已开始' in late.text and count(BallotItem) == items
    early = client.post(f"/ballots/{ballot.id}/paper-counts",
                        data={"item_id": ballot.items[0].id, "count_yes": "0", "count_no": "0", "count_abstain": "0"})
    assert early.status_code == 409 and "只有截止后、公布前可以录入纸质票。" in early.text
    assert count(PaperCount) == 0
    again = client.post(f"/ballots/{ballot.id}/open")
    assert again.status_code == 409 and "只有草稿状态的表决可以开始投票。" in again.text
    nobody = client.post(f"/ballots/{ballot.id}/paper-voters", data={"deputy_id": ""})
    assert nobody.status_code == 422 and "请选择代表。" in nobody.text
    absent = client.post(f"/ballots/{ballot.id}/paper-voters", data={"deputy_id": hall["deputies"][5].id})
    assert absent.status_code == 409 and "该代表尚未签到。" in absent.text
    assert count(BallotReceipt) == 0
    assert client.get("/ballots/999999").status_code == 404
