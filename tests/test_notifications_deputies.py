"""A deputy learns of every step that waits for them: a co-signing invitation, a returned draft or
activity (with the reason), tomorrow's duty day, this month's 社情民意 not yet filed (from the 20th, once)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.core.extensions import db
from blueprints.core.models import User
from blueprints.core.timeutil import local_today
from blueprints.notifications import reminders
from blueprints.notifications.models import InboxItem
from tests import suggestions_helpers as sh


def subjects(user_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboxItem.subject).where(InboxItem.user_id == user_id)
                                   .order_by(InboxItem.id)))


env = sh.env  # the suggestions' fixture: a session, deputies (lead, other, reviewer), staff, units


def test_cosign_invitation_and_returned_draft(env):
    from blueprints.suggestions import services

    item = sh.draft(env)
    services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    assert subjects(env["other"].id) == [f"附议邀请：{item.title}"]
    services.submit(item, by=env["lead"])
    services.review(item, "return", "请补充数据来源。", by=env["staff"])
    [returned] = [i for i in db.session.scalars(select(InboxItem).where(InboxItem.user_id == env["lead"].id))]
    assert returned.subject == f"建议退回修改：{item.title}" and "请补充数据来源" in returned.body


def test_a_refused_invitation_notifies_nobody(env):
    from blueprints.core.errors import DomainError
    from blueprints.suggestions import services

    item = sh.draft(env)
    with pytest.raises(DomainError):
        services.invite_cosigners(item, [env["lead"].deputy], by=env["lead"])  # the lead themself
    assert subjects(env["lead"].id) == [] and subjects(env["other"].id) == []


def test_returned_activity_tells_the_deputy_why(demo):
    from blueprints.duties import services
    from blueprints.duties.models import Activity

    activity = db.session.scalar(select(Activity).where(Activity.status == "pending").order_by(Activity.id))
    staff = db.session.scalar(select(User).where(User.username == "staff"))
    deputy_user = db.session.scalar(select(User).where(User.deputy_id == activity.deputy_id))
    before = subjects(deputy_user.id)
    services.return_activity(activity, staff, "缺少活动照片")
    after = subjects(deputy_user.id)
    assert after[len(before):] == [f"履职活动被退回：{activity.title}"]


def test_tomorrows_duty_day_once(demo):
    from blueprints.stations.models import DutyAssignment

    duty = db.session.scalar(select(DutyAssignment).join(User, User.deputy_id == DutyAssignment.deputy_id)
                             .order_by(DutyAssignment.day.desc()))
    user = db.session.scalar(select(User).where(User.deputy_id == duty.deputy_id))
    day = duty.day - timedelta(days=1)
    reminders.remind(today=day)
    assert any(s.startswith("明天接待：") for s in subjects(user.id))
    count = len(subjects(user.id))
    reminders.remind(today=day)
    assert len(subjects(user.id)) == count


def test_monthly_sqmy_from_the_20th_once(env):
    from blueprints.core import cases

    today = local_today()
    cases.open_case("deputy", "村里缺少路灯", "反映群众意见。", by=env["staff"], deputy=env["other"].deputy)
    reminders.remind(today=today.replace(day=19))
    assert "本月社情民意尚未报送" not in subjects(env["lead"].id)
    reminders.remind(today=today.replace(day=20))
    assert subjects(env["lead"].id).count("本月社情民意尚未报送") == 1
    assert "本月社情民意尚未报送" not in subjects(env["other"].id)  # filed one this month
    reminders.remind(today=today.replace(day=25))
    assert subjects(env["lead"].id).count("本月社情民意尚未报送") == 1


def test_monthly_sqmy_counts_as_the_drive_does(env):
    """A merged duplicate is not a 社情民意 (as stations/drive.py counts)."""
    from blueprints.core import cases
    from blueprints.stations import drive

    first = cases.open_case("deputy", "村里缺少路灯", "反映群众意见。", by=env["staff"], deputy=env["lead"].deputy)
    duplicate = cases.open_case("deputy", "路灯", "同上。", by=env["staff"], deputy=env["other"].deputy)
    cases.merge_cases(duplicate, first, by=env["staff"])
    assert drive.filed_in_month(env["other"].deputy_id) == 0
    reminders.remind(today=local_today().replace(day=20))
    assert subjects(env["other"].id).count("本月社情民意尚未报送") == 1
    assert "本月社情民意尚未报送" not in subjects(env["lead"].id)
