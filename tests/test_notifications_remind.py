"""`notify remind` with the clock moved (deadline −7, −1, +1 day, weekly after; two months after
assignment), idempotent; the case events (交办, 延期, 答复) notify at once in the step's transaction; 催办
weighted by who sent it, on the item's history and the supervision list sorted by pressure."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.core import cases
from blueprints.core.errors import Conflict, Forbidden
from blueprints.core.extensions import db
from blueprints.core.timeutil import add_months, local_today, utcnow
from blueprints.core.transaction import transaction
from blueprints.notifications import chases, reminders
from blueprints.notifications.models import Chase, InboxItem, Reminder
from blueprints.registry.models import HandlingUnit

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")


@pytest.fixture
def assigned(users, make_user):
    with transaction():
        unit = HandlingUnit(name="县住房和城乡建设局")
        db.session.add(unit)
    unit_user = make_user("unit", "zjj", unit_id=unit.id)
    case = cases.open_case("deputy", "关于修缮村道的建议", "村道破损严重。", by=users["staff"],
                           deputy=users["deputy"].deputy)
    deadline = local_today() + timedelta(days=30)
    cases.assign_case(case, unit, deadline, by=users["staff"])
    return {"case": case, "unit": unit, "unit_user": unit_user, "deadline": deadline, "users": users}


def inbox_subjects(user) -> list[str]:
    db.session.expire_all()
    return [i.subject for i in db.session.scalars(select(InboxItem).where(InboxItem.user_id == user.id)
                                                  .order_by(InboxItem.id))]


def keys() -> set[str]:
    return set(db.session.scalars(select(Reminder.key).where(Reminder.about_type == "case_assignment")))


def test_assignment_notifies_the_unit_at_once(assigned):
    assert inbox_subjects(assigned["unit_user"]) == ["新交办：关于修缮村道的建议"]


def test_a_refused_assignment_notifies_nobody(users, make_user):
    with transaction():
        unit = HandlingUnit(name="县交通运输局")
        db.session.add(unit)
    unit_user = make_user("unit", "jtj", unit_id=unit.id)
    case = cases.open_case("deputy", "路灯", "不亮。", by=users["staff"])
    with pytest.raises(Exception, match="办理期限"):
        cases.assign_case(case, unit, local_today() - timedelta(days=1), by=users["staff"])
    assert inbox_subjects(unit_user) == []


def test_deadline_reminders_with_the_clock_moved(assigned):
    deadline, unit_user = assigned["deadline"], assigned["unit_user"]
    units = reminders.remind_units
    assert units(deadline - timedelta(days=8)) == 0
    assert units(deadline - timedelta(days=7)) == 1
    assert units(deadline - timedelta(days=7)) == 0  # twice: nothing more
    assert units(deadline - timedelta(days=5)) == 0  # the 7-day one is already sent
    assert units(deadline - timedelta(days=1)) == 1
    assert units(deadline) == 0
    assert "明天到期：关于修缮村道的建议" in inbox_subjects(unit_user)
    assert units(deadline + timedelta(days=1)) == 1  # overdue
    assert units(deadline + timedelta(days=1)) == 0
    assert units(deadline + timedelta(days=5)) == 0
    assert units(deadline + timedelta(days=8)) == 1  # a week later, again
    assert reminders.staff_overdue_digest(deadline - timedelta(days=1), utcnow()) == 0  # nothing overdue yet
    assert reminders.staff_overdue_digest(deadline + timedelta(days=1), utcnow()) == 1
    assert reminders.staff_overdue_digest(deadline + timedelta(days=1), utcnow()) == 0  # once a day
    assert reminders.remind(today=deadline + timedelta(days=2)) >= 1  # the whole run: that day's digest
    assert keys() == {f"due7:{deadline}", f"due1:{deadline}", f"overdue:{deadline}:0", f"overdue:{deadline}:1"}
    staff = assigned["users"]["staff"]
    assert any(s.startswith("超期件日报：共 1 件") for s in inbox_subjects(staff))


def test_a_missed_cron_day_is_caught_up(assigned):
    assert reminders.remind_units(assigned["deadline"] - timedelta(days=6)) == 1  # the 7-day reminder, late


def test_progress_reminder_every_two_months_until_answered(assigned):
    start = local_today()
    assert reminders.remind_units(add_months(start, 2) - timedelta(days=1)) == 1  # overdue
    assert "progress:1" not in keys()
    reminders.remind(today=add_months(start, 2))
    assert "progress:1" in keys()
    assert any(s.startswith("进度通报提醒") for s in inbox_subjects(assigned["unit_user"]))
    cases.reply_case(assigned["case"], "已安排施工。", by=assigned["unit_user"])
    assert reminders.remind_units(add_months(start, 4)) == 0  # answered: no more reminders


def test_an_extension_request_and_decision(assigned):
    case, unit_user, staff = assigned["case"], assigned["unit_user"], assigned["users"]["staff"]
    cases.request_extension(case, assigned["deadline"] + timedelta(days=30), "需要招标。", by=unit_user)
    assert "延期申请：关于修缮村道的建议" in inbox_subjects(staff)
    cases.decide_extension(case, True, by=staff)
    assert "延期已同意：关于修缮村道的建议" in inbox_subjects(unit_user)
    new_deadline = assigned["deadline"] + timedelta(days=30)
    assert reminders.remind_units(new_deadline - timedelta(days=7)) == 1
    assert f"due7:{new_deadline}" in keys()


def test_the_answer_reaches_the_deputy_with_a_rating_reminder(assigned, client, auth):
    cases.reply_case(assigned["case"], "已安排施工。", by=assigned["unit_user"])
    deputy = assigned["users"]["deputy"]
    assert "已答复：关于修缮村道的建议" in inbox_subjects(deputy)
    item = db.session.scalar(select(InboxItem).where(InboxItem.user_id == deputy.id,
                                                     InboxItem.subject.like("已答复%")))
    assert "请查看答复并对办理结果进行评价" in item.body


def test_chases_are_weighted_logged_and_sorted_by_pressure(assigned, users, make_user):
    other = cases.open_case("message", "噪音扰民", "夜间施工。", by=users["staff"])
    cases.assign_case(other, assigned["unit"], local_today() + timedelta(days=10), by=users["staff"])
    chases.chase(assigned["case"].id, by=users["deputy"], note="请加快")
    chases.chase(other.id, by=users["staff"])
    db.session.expire_all()
    order = [row[0].title for row in db.session.execute(chases.supervision())]
    assert order == ["噪音扰民", "关于修缮村道的建议"]  # 2 > 1
    chases.chase(assigned["case"].id, by=users["staff"])
    chases.chase(assigned["case"].id, by=users["admin"])
    db.session.expire_all()
    rows = db.session.execute(chases.supervision()).all()
    assert [(r[0].title, r[2], r[3]) for r in rows] == [("关于修缮村道的建议", 5, 3), ("噪音扰民", 2, 1)]
    assert [r[0].title for r in db.session.execute(chases.supervision(sort="deadline"))][0] == "噪音扰民"
    steps = [s.note for s in assigned["case"].steps if s.action == "chase"]
    assert steps == ["代表催办：请加快", "代表工委催办", "代表工委催办"]
    assert inbox_subjects(assigned["unit_user"]).count("催办：关于修缮村道的建议") == 3


def test_who_may_chase(assigned, users, make_user):
    stranger = make_user("deputy", "lisi")
    with pytest.raises(Forbidden):
        chases.chase(assigned["case"].id, by=stranger)
    with pytest.raises(Forbidden):
        chases.chase(assigned["case"].id, by=make_user("leader", "liuming"))  # leads no key suggestion here
    with pytest.raises(Forbidden):
        chases.chase(assigned["case"].id, by=assigned["unit_user"])
    cases.reply_case(assigned["case"], "已办。", by=assigned["unit_user"])
    with pytest.raises(Conflict):
        chases.chase(assigned["case"].id, by=users["staff"])
    assert db.session.scalar(select(Chase.id)) is None


def test_supervision_page_and_chase_button(assigned, client, auth):
    auth.login("staff")
    page = client.get("/inbox/supervision").get_data(as_text=True)
    assert "关于修缮村道的建议" in page and "催办 0 次" in page
    answer = client.post(f"/inbox/supervision/{assigned['case'].id}/chase", data={"note": "尽快", "sort": "deadline"})
    assert answer.status_code == 303
    assert "催办 1 次，压力 2" in client.get("/inbox/supervision?sort=deadline").get_data(as_text=True)
    auth.logout()
    auth.login("unit")
    assert client.get("/inbox/supervision").status_code == 403
