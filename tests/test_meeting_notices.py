"""Meeting notices (会议通知) with 回执 and 请假 (blueprints/ballots/notices.py): sent to every deputy on the
roll, answered from the notice page, leave approved or refused, reminders to those who have not answered,
an approved leave an excused absence (check-in figures, no points deduction)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core.errors import Conflict, DomainError, Forbidden
from blueprints.core.extensions import db
from blueprints.core.models import User
from blueprints.core.timeutil import local_today
from tests.conftest import PASSWORD_HASH


def inbox(user_id: int) -> list[str]:
    from blueprints.notifications.models import InboxItem

    db.session.expire_all()
    return list(db.session.scalars(select(InboxItem.subject).where(InboxItem.user_id == user_id)
                                   .order_by(InboxItem.id)))


@pytest.fixture
def env(app, make_user):
    """A county meeting in 5 days, 4 deputies on the roll (3 with accounts, 1 without), staff."""
    from blueprints.ballots import meetings
    from blueprints.registry.models import Deputy

    deputies = [Deputy(name=f"代表{i}", level="county", term="第十八届") for i in range(4)]
    db.session.add_all(deputies)
    db.session.flush()
    accounts = [User(username=f"d{i}", display_name=d.name, role="deputy", password_hash=PASSWORD_HASH,
                     deputy_id=d.id) for i, d in enumerate(deputies[:3])]
    db.session.add_all(accounts)
    db.session.commit()
    staff = make_user("staff")
    meeting = meetings.create_meeting("青山县第十八届人民代表大会第三次会议", "county", "第十八届",
                                      local_today() + timedelta(days=5))
    return {"meeting": meeting, "deputies": deputies, "accounts": accounts, "staff": staff}


def send(env, **kw):
    from blueprints.ballots import notices

    notice, sent, missing = notices.send_notice(env["meeting"], "定于下周召开人代会，请准时报到。", "县会议中心",
                                                "8:30", env["staff"], **kw)
    return notice, sent, missing


def test_sent_to_every_deputy_on_the_roll(env):
    notice, sent, missing = send(env)
    assert (sent, missing) == (3, 1)
    for user in env["accounts"]:
        assert inbox(user.id) == [f"会议通知：{env['meeting'].title}"]
    assert inbox(env["staff"].id) == []


def test_refusals_when_sending(env):
    from blueprints.ballots import notices
    from blueprints.ballots.notice_models import MeetingNotice

    with pytest.raises(DomainError, match="请填写通知内容"):
        notices.send_notice(env["meeting"], "  ", None, None, env["staff"])
    with pytest.raises(DomainError, match="会议已经结束"):
        send(env, today=local_today() + timedelta(days=6))
    send(env)
    with pytest.raises(Conflict, match="已经发出会议通知"):
        send(env)
    assert db.session.scalar(select(func.count()).select_from(MeetingNotice)) == 1
    assert inbox(env["accounts"][0].id) == [f"会议通知：{env['meeting'].title}"]


def test_reply_attend_and_leave(env):
    from blueprints.ballots import notices

    notice, *_ = send(env)
    a, b, _c = env["accounts"]
    assert notices.reply(notice, a, "attend").answer == "attend"
    row = notices.reply(notice, b, "leave", "住院治疗")
    assert (row.answer, row.leave_status, row.reason) == ("leave", "pending", "住院治疗")
    assert inbox(env["staff"].id) == [f"请假申请：代表1（{env['meeting'].title}）"]
    s = notices.summary(notices.roll_with_replies(notice))
    assert s == {"total": 4, "none": 2, "attend": 1, "pending": 1, "approved": 0, "refused": 0}
    # changing one's mind before the meeting: the leave becomes attend
    assert notices.reply(notice, b, "attend").leave_status is None


def test_reply_refusals_change_nothing(env, make_user):
    from blueprints.ballots import notices
    from blueprints.ballots.notice_models import NoticeReply

    notice, *_ = send(env)
    a = env["accounts"][0]
    outsider = make_user("deputy", "outsider")
    with pytest.raises(Forbidden):
        notices.reply(notice, outsider, "attend")
    with pytest.raises(Forbidden):
        notices.reply(notice, env["staff"], "attend")
    with pytest.raises(DomainError, match="请选择参加或请假"):
        notices.reply(notice, a, "maybe")
    with pytest.raises(DomainError, match="请假请填写理由"):
        notices.reply(notice, a, "leave", "   ")
    with pytest.raises(DomainError, match="不能超过 255"):
        notices.reply(notice, a, "leave", "病" * 256)
    with pytest.raises(DomainError, match="会议已经结束"):
        notices.reply(notice, a, "attend", today=local_today() + timedelta(days=6))
    assert db.session.scalar(select(func.count()).select_from(NoticeReply)) == 0
    notices.reply(notice, a, "attend")
    with pytest.raises(Conflict, match="同样的回执"):
        notices.reply(notice, a, "attend")


def test_leave_approved_or_refused(env):
    from blueprints.ballots import notices

    notice, *_ = send(env)
    a, b, c = env["accounts"]
    leave_a = notices.reply(notice, a, "leave", "出差")
    leave_b = notices.reply(notice, b, "leave", "家中有事")
    attend_c = notices.reply(notice, c, "attend")
    with pytest.raises(DomainError, match="不准假请说明原因"):
        notices.decide_leave(leave_b, False, "", env["staff"])
    with pytest.raises(DomainError, match="没有请假申请"):
        notices.decide_leave(attend_c, True, None, env["staff"])
    assert notices.decide_leave(leave_a, True, None, env["staff"]).leave_status == "approved"
    assert notices.decide_leave(leave_b, False, "会议需要表决，请安排出席", env["staff"]).leave_status == "refused"
    with pytest.raises(Conflict, match="已经审批过了"):
        notices.decide_leave(leave_a, False, "改变主意", env["staff"])
    assert inbox(a.id)[-1] == f"请假已准假：{env['meeting'].title}"
    assert inbox(b.id)[-1] == f"请假未准假：{env['meeting'].title}"
    # a new leave request after a refusal waits for a decision again
    assert notices.reply(notice, b, "leave", "住院").leave_status == "pending"


def test_approved_leave_is_an_excused_absence(env):
    """The check-in figures count it; the quorum stays two thirds of ALL deputies; after the meeting only
    the unexcused are recorded as absences (deducted), and an absence by hand on leave is refused."""
    from blueprints.ballots import meetings, notices
    from blueprints.duties import scoring
    from blueprints.duties.models import Absence

    notice, *_ = send(env)
    a, b, c = env["accounts"]
    notices.decide_leave(notices.reply(notice, a, "leave", "出差"), True, None, env["staff"])
    notices.reply(notice, b, "leave", "家中有事")  # pending: not excused
    meeting = env["meeting"]
    meetings.check_in(meeting, c.deputy_id, env["staff"])
    figures = meetings.counts(meeting.id)
    assert (figures["total"], figures["present"], figures["excused"], figures["absent"]) == (4, 1, 1, 2)
    assert figures["quorum_needed"] == 3 and not figures["quorum"]

    with pytest.raises(DomainError, match="会议举行后"):
        notices.record_unexcused_absences(meeting, env["staff"])
    meeting.held_on = day = local_today()  # the meeting day has come
    db.session.commit()
    assert notices.record_unexcused_absences(meeting, env["staff"]) == 2
    absent = set(db.session.scalars(select(Absence.deputy_id).where(Absence.occurred_on == day)))
    assert absent == {b.deputy_id, env["deputies"][3].id}
    with pytest.raises(Conflict, match="没有需要登记"):
        notices.record_unexcused_absences(meeting, env["staff"])
    assert notices.excused_on(a.deputy_id, day) and not notices.excused_on(b.deputy_id, day)
    with pytest.raises(DomainError, match="已经准假"):
        scoring.record_absence(a.deputy, day, "", env["staff"])
    assert a.deputy_id not in set(db.session.scalars(select(Absence.deputy_id)))


def test_points_deduct_the_unexcused_only(env):
    from blueprints.ballots import notices
    from blueprints.duties import scoring

    notice, *_ = send(env)
    a, b, _c = env["accounts"]
    notices.decide_leave(notices.reply(notice, a, "leave", "出差"), True, None, env["staff"])
    env["meeting"].held_on = day = local_today()
    db.session.commit()
    notices.record_unexcused_absences(env["meeting"], env["staff"])
    scoring.ensure_year(day.year, env["staff"])
    db.session.commit()
    excused, unexcused = scoring.archive(a.deputy, day.year), scoring.archive(b.deputy, day.year)
    assert (excused.absences, unexcused.absences) == (0, 1)
    assert excused.total - unexcused.total == scoring.get_year(day.year).absence_deduction > 0


def test_reminders_to_those_who_have_not_answered(env):
    from blueprints.ballots import notices
    from blueprints.notifications import reminders

    notice, *_ = send(env)
    a, b, c = env["accounts"]
    notices.reply(notice, a, "attend")
    assert notices.remind_unanswered(notice, env["staff"]) == 2
    subject = f"请回执会议通知：{env['meeting'].title}"
    assert inbox(a.id).count(subject) == 0 and inbox(b.id).count(subject) == 1
    with pytest.raises(Conflict, match="今天已经提醒过"):
        notices.remind_unanswered(notice, env["staff"])
    # notify remind: two days before the meeting, once, to who still has not answered
    notices.reply(notice, b, "attend")
    held = env["meeting"].held_on
    reminders.remind(today=held - timedelta(days=3))
    assert inbox(c.id).count(subject) == 1  # three days before: not yet
    reminders.remind(today=held - timedelta(days=2))
    reminders.remind(today=held - timedelta(days=1))
    assert inbox(c.id).count(subject) == 2 and inbox(b.id).count(subject) == 1
    notices.reply(notice, c, "attend")
    with pytest.raises(DomainError, match="都已回执"):
        notices.remind_unanswered(notice, env["staff"])


def test_pages(env, client, auth):
    from blueprints.ballots.notice_models import MeetingNotice, NoticeReply

    meeting = env["meeting"]
    auth.login("staff")
    assert client.get(f"/meetings/{meeting.id}/notice").status_code == 200
    empty = client.post(f"/meetings/{meeting.id}/notice", data={"body": ""})
    assert empty.status_code == 422 and "请填写通知内容" in empty.get_data(as_text=True)
    sent = client.post(f"/meetings/{meeting.id}/notice", data={"body": "请准时参加。", "place": "会议中心"},
                       follow_redirects=True)
    assert "已发给 3 个账号" in sent.get_data(as_text=True) and "1 名代表没有账号" in sent.get_data(as_text=True)
    auth.logout()

    login = auth.login("d0")
    assert login.status_code == 302
    page = client.get("/meeting-notices/")
    assert meeting.title in page.get_data(as_text=True)
    notice_id = db.session.scalar(select(MeetingNotice.id))
    refused = client.post(f"/meeting-notices/{notice_id}", data={"answer": "leave", "reason": ""})
    assert refused.status_code == 422 and "请假请填写理由" in refused.get_data(as_text=True)
    ok = client.post(f"/meeting-notices/{notice_id}", data={"answer": "leave", "reason": "出差"}, follow_redirects=True)
    assert "请假申请已提交" in ok.get_data(as_text=True)
    auth.logout()

    auth.login("staff")
    row = db.session.scalar(select(NoticeReply))
    page = client.get(f"/meetings/{meeting.id}/notice").get_data(as_text=True)
    assert "出差" in page and "未回执" in page
    bad = client.post(f"/meetings/{meeting.id}/notice/replies/{row.id}", data={"decision": "refuse"})
    assert bad.status_code == 422 and "不准假请说明原因" in bad.get_data(as_text=True)
    client.post(f"/meetings/{meeting.id}/notice/replies/{row.id}", data={"decision": "approve"})
    db.session.expire_all()
    assert db.session.get(NoticeReply, row.id).leave_status == "approved"
    assert client.post(f"/meetings/{meeting.id}/notice/absences").status_code == 422  # not held yet


def test_outsiders_cannot_open_a_notice(env, client, auth, make_user):
    notice, *_ = send(env)
    make_user("deputy", "outsider")
    auth.login("outsider")
    assert client.get(f"/meeting-notices/{notice.id}").status_code == 403
    assert client.post(f"/meeting-notices/{notice.id}", data={"answer": "attend"}).status_code == 403
    auth.logout()
    auth.login("d1")
    assert client.get(f"/meetings/{env['meeting'].id}/notice").status_code == 403


def test_workspace_count(env):
    from blueprints.ballots import notices

    notice, *_ = send(env)
    a = env["accounts"][0]
    assert notices.notices_waiting_for(a) == 1
    notices.reply(notice, a, "attend")
    assert notices.notices_waiting_for(a) == 0


def test_voter_report_scheduled_and_tomorrow(env):
    from blueprints.duties import reports
    from blueprints.notifications import reminders

    a = env["accounts"][0]
    when = local_today() + timedelta(days=10)
    reports.schedule(a.deputy, when, "城关镇文化站", None, env["staff"])
    assert inbox(a.id) == [f"已安排向选民述职：{when.isoformat()}"]
    reminders.remind(today=when - timedelta(days=1))
    reminders.remind(today=when - timedelta(days=1))
    assert inbox(a.id).count("明天向选民述职") == 1


def test_approved_leave_listed_in_the_archive_its_print_and_workbook(env, client, auth):
    """A congress meeting's approved leave is listed beside an occasion's, by date, on the archive page,
    the printed archive (一人一册) and its workbook; a pending leave is not listed."""
    import io

    import openpyxl

    from blueprints.ballots import notices, occasions

    notice, *_ = send(env)
    a, b, _c = env["accounts"]
    meeting_day = env["meeting"].held_on
    other_day = meeting_day - timedelta(days=1)
    if other_day.year != meeting_day.year:
        other_day = meeting_day + timedelta(days=1)
    report, *_ = occasions.send_occasion("report", "向选民述职会", other_day, "请准时参加。", None, None, env["staff"],
                                         deputy_ids=[a.deputy_id, b.deputy_id])
    notices.decide_leave(notices.reply(notice, a, "leave", "出差"), True, None, env["staff"])
    occasions.decide_leave(occasions.reply(report, a, "leave", "外出学习"), True, None, env["staff"])
    notices.reply(notice, b, "leave", "家中有事")  # pending: not excused
    expected = sorted([(meeting_day, "人民代表大会会议", env["meeting"].title),
                       (other_day, "向选民述职", "向选民述职会")])
    year = meeting_day.year

    auth.login("staff")
    page = client.get(f"/duties/deputies/{a.deputy_id}?year={year}").get_data(as_text=True)
    printed = client.get(f"/duties/deputies/{a.deputy_id}?year={year}&print=1").get_data(as_text=True)
    for text in (page, printed):
        positions = [text.index(title) for _day, _kind, title in expected]
        assert positions == sorted(positions) and "人民代表大会会议" in text
    assert "请假（已批准）2 次" in printed and "未请假缺席 0 次" in printed
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/duties/deputies/{a.deputy_id}/archive.xlsx?year={year}")
                                             .data))
    rows = list(book["请假（已批准）"].values)
    assert rows[0] == ("日期", "类别", "名称", "状态")
    assert [(r[0].date(), r[1], r[2], r[3]) for r in rows[1:]] == [(*e, "请假（已批准）") for e in expected]
    pending = client.get(f"/duties/deputies/{b.deputy_id}?year={year}&print=1").get_data(as_text=True)
    assert env["meeting"].title not in pending and "请假（已批准）0 次" in pending
