"""Notices of occasions without a congress meeting (blueprints/ballots/occasions.py): 常委会会议, 代表小组活动,
向选民述职, each with its own roll; 回执 or 请假 on the notice page, leave approved or refused, approved leave
listed in the deputy's archive as 请假（已批准） (the points rules deduct nothing for these occasions)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core.errors import Conflict, DomainError, Forbidden
from blueprints.core.extensions import db
from blueprints.core.models import Area, User
from blueprints.core.timeutil import local_today
from tests.conftest import PASSWORD, PASSWORD_HASH


def inbox(user_id: int) -> list[str]:
    from blueprints.notifications.models import InboxItem

    db.session.expire_all()
    return list(db.session.scalars(select(InboxItem.subject).where(InboxItem.user_id == user_id)
                                   .order_by(InboxItem.id)))


def counts() -> tuple[int, int]:
    from blueprints.ballots.notice_models import OccasionNotice, OccasionRecipient

    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(OccasionNotice)),
            db.session.scalar(select(func.count()).select_from(OccasionRecipient)))


@pytest.fixture
def env(app, make_user):
    """Township 城关镇 with a village; a group of 4 deputies (3 serving: 2 with accounts, 1 without; 1 ended);
    an empty group; a deputy outside the group; staff."""
    from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership

    town = Area(name="城关镇", kind="township")
    db.session.add(town)
    db.session.flush()
    village = Area(name="东村", kind="village", parent_id=town.id)
    db.session.add(village)
    db.session.flush()
    deputies = [Deputy(name=f"组员{i}", level="county", area_id=village.id if i == 0 else town.id)
                for i in range(4)]
    deputies[3].ended_on, deputies[3].end_reason = date(2026, 1, 1), "resigned"
    other = Deputy(name="组外代表", level="county")
    db.session.add_all([*deputies, other])
    group, empty = DeputyGroup(name="城关镇代表小组"), DeputyGroup(name="空小组")
    db.session.add_all([group, empty])
    db.session.flush()
    db.session.add_all(GroupMembership(group_id=group.id, deputy_id=d.id) for d in deputies)
    accounts = [User(username=f"g{i}", display_name=d.name, role="deputy", password_hash=PASSWORD_HASH,
                     deputy_id=d.id) for i, d in enumerate(deputies[:2])]
    outsider = User(username="other", display_name=other.name, role="deputy", password_hash=PASSWORD_HASH,
                    deputy_id=other.id)
    db.session.add_all([*accounts, outsider])
    db.session.commit()
    return {"group": group, "empty": empty, "deputies": deputies, "other": other, "accounts": accounts,
            "outsider": outsider, "town": town, "staff": make_user("staff"), "day": local_today() + timedelta(days=3)}


def send_group(env, **kw):
    from blueprints.ballots import occasions

    return occasions.send_occasion("group", "三季度集中视察", env["day"], "请到镇政府集合。", "镇政府", "9:00",
                                   env["staff"], group_id=env["group"].id, **kw)


def test_group_activity_roll_is_the_serving_members(env):
    notice, sent, missing = send_group(env)
    assert (sent, missing) == (2, 1)
    assert sorted(r.deputy.name for r in notice.recipients) == ["组员0", "组员1", "组员2"]
    for user in env["accounts"]:
        assert inbox(user.id) == ["代表小组活动通知：三季度集中视察"]
    assert inbox(env["outsider"].id) == []


def test_standing_committee_and_report_rolls(env):
    from blueprints.ballots import occasions

    a, b = env["deputies"][:2]
    notice, *_ = occasions.send_occasion("standing", "常委会第十二次会议", env["day"], "审议议题。", None, None,
                                         env["staff"], deputy_ids=[str(a.id), str(env["other"].id)])
    assert {r.deputy_id for r in notice.recipients} == {a.id, env["other"].id}
    assert inbox(env["outsider"].id) == ["常委会会议通知：常委会第十二次会议"]
    # report to voters: the township's serving deputies (its own area or a village), plus the one picked
    notice, *_ = occasions.send_occasion("report", "向选民述职", env["day"], "述职。", None, None, env["staff"],
                                         area_id=env["town"].id, deputy_ids=[env["other"].id])
    assert sorted(r.deputy.name for r in notice.recipients) == ["组员0", "组员1", "组员2", "组外代表"]


def test_refusals_when_sending_write_nothing(env):
    from blueprints.ballots import occasions

    staff, day, ended = env["staff"], env["day"], env["deputies"][3]
    cases = [
        (dict(kind="standing", deputy_ids=[]), "请选择通知对象"),
        (dict(kind="report", deputy_ids=[]), "请选择述职的代表"),
        (dict(kind="standing", deputy_ids=[ended.id]), "组员3已不在任"),
        (dict(kind="standing", deputy_ids=[999999]), "所选代表不存在"),
        (dict(kind="standing", deputy_ids=["x"]), "所选代表不存在"),
        (dict(kind="group", group_id=env["empty"].id), "没有在任代表"),
        (dict(kind="group", group_id=None), "请选择代表小组"),
        (dict(kind="party"), "请选择通知类别"),
        (dict(kind="group", group_id=env["group"].id, body=" "), "请填写通知内容"),
        (dict(kind="group", group_id=env["group"].id, held_on=local_today() - timedelta(days=1)), "日期已经过去"),
        (dict(kind="group", group_id=env["group"].id, title=""), "请填写名称"),
    ]
    for kw, message in cases:
        args = {"title": "活动", "held_on": day, "body": "内容", **kw}
        with pytest.raises(DomainError, match=message):
            occasions.send_occasion(args.pop("kind"), args.pop("title"), args.pop("held_on"), args.pop("body"),
                                    None, None, staff, **args)
    assert counts() == (0, 0)
    assert inbox(env["accounts"][0].id) == []


def test_answers_and_leave_decisions(env):
    from blueprints.ballots import notices, occasions

    notice, *_ = send_group(env)
    a, b = env["accounts"]
    assert occasions.reply(notice, a, "attend").answer == "attend"
    row = occasions.reply(notice, b, "leave", "外出学习")
    assert (row.answer, row.leave_status) == ("leave", "pending")
    assert inbox(env["staff"].id) == ["请假申请：组员1（三季度集中视察）"]
    s = notices.summary(occasions.roll_with_answers(notice))
    assert s == {"total": 3, "none": 1, "attend": 1, "pending": 1, "approved": 0, "refused": 0}
    # who has not answered comes first
    assert occasions.roll_with_answers(notice)[0][0].name == "组员2"
    with pytest.raises(DomainError, match="不准假请说明原因"):
        occasions.decide_leave(row, False, " ", env["staff"])
    attend = occasions.recipient_of(notice.id, a.deputy_id)
    with pytest.raises(DomainError, match="组员0没有请假申请"):
        occasions.decide_leave(attend, True, None, env["staff"])
    unanswered = occasions.recipient_of(notice.id, env["deputies"][2].id)
    with pytest.raises(DomainError, match="没有请假申请"):
        occasions.decide_leave(unanswered, True, None, env["staff"])
    db.session.expire_all()
    assert occasions.recipient_of(notice.id, a.deputy_id).leave_status is None
    assert occasions.decide_leave(row, True, None, env["staff"]).leave_status == "approved"
    assert inbox(b.id)[-1] == "请假已准假：三季度集中视察"
    with pytest.raises(Conflict, match="已经审批过了"):
        occasions.decide_leave(row, False, "不行", env["staff"])


def test_reply_refusals_change_nothing(env):
    from blueprints.ballots import occasions
    from blueprints.ballots.notice_models import OccasionRecipient

    notice, *_ = send_group(env)
    a = env["accounts"][0]
    with pytest.raises(Forbidden):
        occasions.reply(notice, env["outsider"], "attend")
    with pytest.raises(Forbidden):
        occasions.reply(notice, env["staff"], "attend")
    with pytest.raises(DomainError, match="请选择参加或请假"):
        occasions.reply(notice, a, "maybe")
    with pytest.raises(DomainError, match="请假请填写理由"):
        occasions.reply(notice, a, "leave", "  ")
    with pytest.raises(DomainError, match="活动已经结束"):
        occasions.reply(notice, a, "attend", today=env["day"] + timedelta(days=1))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OccasionRecipient)
                             .where(OccasionRecipient.answer.is_not(None))) == 0
    occasions.reply(notice, a, "leave", "出差")
    with pytest.raises(Conflict, match="同样的回执"):
        occasions.reply(notice, a, "leave", "出差")


def test_one_row_per_recipient_in_the_database(env):
    from sqlalchemy.exc import IntegrityError

    from blueprints.ballots.notice_models import OccasionRecipient

    notice, *_ = send_group(env)
    db.session.add(OccasionRecipient(notice_id=notice.id, deputy_id=env["deputies"][0].id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # an answer 请假 without a reason is refused by the database too
    row = db.session.scalar(select(OccasionRecipient).limit(1))
    row.answer, row.leave_status = "leave", "pending"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_approved_leave_in_the_archive_without_deduction(env):
    from blueprints.ballots import occasions
    from blueprints.duties import scoring

    notice, *_ = send_group(env)
    a, b = env["accounts"]
    occasions.decide_leave(occasions.reply(notice, b, "leave", "外出学习"), True, None, env["staff"])
    occasions.reply(notice, a, "leave", "家中有事")
    year = env["day"].year
    assert [n.title for n in scoring.excused_leaves(b.deputy_id, year)] == ["三季度集中视察"]
    assert scoring.excused_leaves(a.deputy_id, year) == []  # pending is not excused
    scoring.ensure_year(year, env["staff"])
    db.session.commit()
    assert scoring.archive(db.session.get(User, b.id).deputy, year).absences == 0


def test_workspace_count_and_inbox_list(env, client, auth):
    from blueprints.ballots import notices, occasions

    notice, *_ = send_group(env)
    a = env["accounts"][0]
    assert notices.notices_waiting_for(a) == 1
    auth.login("g0")
    page = client.get("/meeting-notices/").get_data(as_text=True)
    assert "三季度集中视察" in page and "代表小组活动" in page and f"/occasion-notices/{notice.id}" in page
    occasions.reply(notice, a, "attend")
    assert notices.notices_waiting_for(a) == 0


def test_pages(env, client, auth):
    from blueprints.ballots.notice_models import OccasionNotice, OccasionRecipient

    auth.login("staff")
    assert client.get("/occasion-notices/").status_code == 200
    assert client.get("/occasion-notices/new").status_code == 200
    empty = client.post("/occasion-notices/new", data={"kind": "standing", "title": "常委会", "body": "议题",
                                                       "held_on": env["day"].isoformat()})
    assert empty.status_code == 422 and "请选择通知对象" in empty.get_data(as_text=True)
    none = client.post("/occasion-notices/new", data={"kind": "group", "title": "活动", "body": "内容",
                                                      "held_on": env["day"].isoformat(),
                                                      "group_id": env["empty"].id})
    assert none.status_code == 422 and "没有在任代表" in none.get_data(as_text=True)
    assert counts() == (0, 0)
    sent = client.post("/occasion-notices/new", data={"kind": "group", "title": "三季度集中视察", "body": "集合",
                                                      "held_on": env["day"].isoformat(),
                                                      "group_id": env["group"].id}, follow_redirects=True)
    text = sent.get_data(as_text=True)
    assert "已发给 2 个账号" in text and "1 名代表没有账号" in text and "未回执" in text
    auth.logout()

    notice_id = db.session.scalar(select(OccasionNotice.id))
    auth.login("g1")
    assert "请假" in client.get(f"/occasion-notices/{notice_id}").get_data(as_text=True)
    bad = client.post(f"/occasion-notices/{notice_id}", data={"answer": "leave", "reason": ""})
    assert bad.status_code == 422 and "请假请填写理由" in bad.get_data(as_text=True)
    ok = client.post(f"/occasion-notices/{notice_id}", data={"answer": "leave", "reason": "外出学习"},
                     follow_redirects=True)
    assert "请假申请已提交" in ok.get_data(as_text=True)
    twice = client.post(f"/occasion-notices/{notice_id}", data={"answer": "leave", "reason": "外出学习"})
    assert twice.status_code == 409 and "同样的回执" in twice.get_data(as_text=True)
    auth.logout()

    auth.login("staff")
    row = db.session.scalar(select(OccasionRecipient).where(OccasionRecipient.answer == "leave"))
    page = client.get(f"/occasion-notices/{notice_id}/roll").get_data(as_text=True)
    assert "外出学习" in page and "未回执" in page
    refuse = client.post(f"/occasion-notices/{notice_id}/roll/{row.id}", data={"decision": "refuse"})
    assert refuse.status_code == 422 and "不准假请说明原因" in refuse.get_data(as_text=True)
    other = db.session.scalar(select(OccasionRecipient).where(OccasionRecipient.answer.is_(None)).limit(1))
    not_asked = client.post(f"/occasion-notices/{notice_id}/roll/{other.id}", data={"decision": "approve"})
    assert not_asked.status_code == 422 and "没有请假申请" in not_asked.get_data(as_text=True)
    client.post(f"/occasion-notices/{notice_id}/roll/{row.id}", data={"decision": "approve"})
    db.session.expire_all()
    assert db.session.get(OccasionRecipient, row.id).leave_status == "approved"
    assert db.session.get(OccasionRecipient, other.id).answer is None
    auth.logout()

    auth.login("g1")
    archive = client.get("/me/").get_data(as_text=True)
    assert "请假（已批准）" in archive and "三季度集中视察" in archive


def test_staff_pages_refused_to_others(env, client, auth):
    notice, *_ = send_group(env)
    auth.login("other")
    assert client.get(f"/occasion-notices/{notice.id}").status_code == 403
    assert client.post(f"/occasion-notices/{notice.id}", data={"answer": "attend"}).status_code == 403
    auth.logout()
    auth.login("g0")
    assert client.get("/occasion-notices/").status_code == 403
    assert client.get("/occasion-notices/new").status_code == 403
    assert client.post("/occasion-notices/new", data={"kind": "group"}).status_code == 403
    assert client.get(f"/occasion-notices/{notice.id}/roll").status_code == 403
    row = notice.recipients[0]
    assert client.post(f"/occasion-notices/{notice.id}/roll/{row.id}", data={"decision": "approve"}).status_code == 403
    assert counts() == (1, 3)


def test_demo_has_a_group_activity_notice_with_answers(demo):
    from blueprints.ballots import notices, occasions
    from blueprints.ballots.notice_models import OccasionNotice

    notice = db.session.scalar(select(OccasionNotice))
    assert notice.kind == "group"
    s = notices.summary(occasions.roll_with_answers(notice))
    assert (s["attend"], s["approved"], s["pending"]) == (1, 1, 1)
    client = demo.test_client()
    client.post("/login", data={"username": "staff", "password": PASSWORD})
    page = client.get(f"/occasion-notices/{notice.id}/roll").get_data(as_text=True)
    assert "参加市里培训" in page and "家中有事" in page


def test_reminders_to_those_who_have_not_answered(env, client, auth):
    from blueprints.ballots import occasions

    notice, *_ = send_group(env)
    a, b = env["accounts"]
    occasions.reply(notice, a, "attend")
    assert occasions.remind_unanswered(notice, env["staff"]) == 1
    subject = "请回执通知：三季度集中视察"
    assert inbox(a.id).count(subject) == 0 and inbox(b.id).count(subject) == 1
    with pytest.raises(Conflict, match="今天已经提醒过"):
        occasions.remind_unanswered(notice, env["staff"])
    with pytest.raises(DomainError, match="活动已经结束"):
        occasions.remind_unanswered(notice, env["staff"], today=env["day"] + timedelta(days=1))
    occasions.reply(notice, b, "attend")
    auth.login("staff")
    done = client.post(f"/occasion-notices/{notice.id}/remind")
    assert done.status_code == 422 and "都已回执" in done.get_data(as_text=True)
    assert inbox(b.id).count(subject) == 1


def test_notify_remind_two_days_before_once(env):
    """``notify remind`` (daily from cron) reminds each recipient who has not answered, once, from two days
    before the occasion up to its day; nothing earlier, nothing again, nothing for those who answered."""
    from blueprints.ballots import occasions
    from blueprints.notifications import reminders

    notice, *_ = send_group(env)
    a, b = env["accounts"]
    occasions.reply(notice, a, "attend")
    subject = "请回执通知：三季度集中视察"
    held = env["day"]
    reminders.remind(today=held - timedelta(days=3))
    assert inbox(b.id).count(subject) == 0
    reminders.remind(today=held - timedelta(days=2))
    reminders.remind(today=held - timedelta(days=1))
    reminders.remind(today=held)
    assert inbox(b.id).count(subject) == 1 and inbox(a.id).count(subject) == 0
    reminders.remind(today=held + timedelta(days=1))
    assert inbox(b.id).count(subject) == 1
    # the staff's reminder by hand is keyed by the day, so it still reaches b once that day
    assert occasions.remind_unanswered(notice, env["staff"], today=held) == 1
    assert inbox(b.id).count(subject) == 2
