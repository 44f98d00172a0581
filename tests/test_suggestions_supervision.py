"""督 and 评 of suggestions (issue 19): leaders and supervision records, 三考 plans, 回访 samples, 约谈问效,
跨年滚动连办 rounds, 年年提 links, the unit ranking, the 反向测评 ballot and the handling report.
Every refusal leaves the database unchanged."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core.errors import Conflict, DomainError
from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.suggestions import followups, handling, plans, rating, services, supervision
from blueprints.suggestions.models import CongressSession, Suggestion
from blueprints.suggestions.services import SuggestionForbidden
from blueprints.suggestions.supervision_models import (
    CarryRound,
    FollowupSample,
    FollowupVisit,
    HandlingPlan,
    SuggestionLink,
    SupervisionRecord,
    UnitInterview,
    UnitRatingRule,
)
from tests import suggestions_helpers
from tests.suggestions_helpers import answered, registered

env = suggestions_helpers.env

pytestmark = pytest.mark.usefixtures("env")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assigned(env, unit=0):
    item = registered(env)
    handling.assign(item, env["units"][unit], by=env["staff"])
    return item


def days(n):
    return local_today() + timedelta(days=n)


# ---- leaders and supervision records ------------------------------------------------------------

def test_a_key_suggestion_names_a_leader_account_and_the_leader_sees_it(env):
    item = registered(env)
    with pytest.raises(DomainError, match="不是常委会组成人员") as info:
        services.set_key(item, True, env["unit_users"][0], by=env["staff"])
    assert info.value.field == "key_leader" and not item.is_key
    services.set_key(item, True, env["leader"], by=env["staff"])
    assert item.key_leader_id == env["leader"].id and item.key_leader == "县人大常委会副主任 刘明"
    assert db.session.scalars(supervision.leader_suggestions_query(env["leader"].id)).all() == [item]
    assert supervision.leader_open_count(env["leader"]) == 1
    assert services.can_read(env["leader"], item)
    env["leader"].active = False
    db.session.commit()
    other = registered(env)
    with pytest.raises(DomainError, match="不是常委会组成人员"):
        services.set_key(other, True, env["leader"], by=env["staff"])


def test_supervision_records_by_the_leader_only_on_key_suggestions(env):
    item = registered(env)
    with pytest.raises(Conflict, match="不是重点督办"):
        supervision.add_record(item, days(0), "forum", "县卫健委", "年内开工", by=env["staff"])
    services.set_key(item, True, env["leader"], by=env["staff"])
    with pytest.raises(SuggestionForbidden):
        supervision.add_record(item, days(0), "forum", "县卫健委", "年内开工", by=env["unit_users"][0])
    with pytest.raises(DomainError, match="请选择督办形式"):
        supervision.add_record(item, days(0), "party", "县卫健委", "年内开工", by=env["leader"])
    with pytest.raises(DomainError, match="不能晚于今天"):
        supervision.add_record(item, days(1), "site", "县卫健委", "年内开工", by=env["leader"])
    with pytest.raises(DomainError, match="请填写议定事项"):
        supervision.add_record(item, days(0), "site", "县卫健委", " ", by=env["leader"])
    assert count(SupervisionRecord) == 0
    row = supervision.add_record(item, days(-2), "site", "刘明、县卫健委主任、领衔代表", "九月底前完成选址",
                                 by=env["leader"])
    assert row.leader_id == env["leader"].id and row.form_label == "现场视察"
    assert supervision.records_of(item) == [row]


# ---- 三考 ----------------------------------------------------------------------------------------

def test_plan_with_milestones_progress_and_refusals(env):
    item = assigned(env)
    unit = env["unit_users"][0]
    with pytest.raises(SuggestionForbidden):
        plans.file_plan(item, "方案", [("选址", days(30))], by=env["unit_users"][1])
    with pytest.raises(DomainError, match="至少填写一个时间节点"):
        plans.file_plan(item, "方案", [], by=unit)
    with pytest.raises(DomainError, match="早于交办日期"):
        plans.file_plan(item, "方案", [("选址", days(-30))], by=unit)
    assert count(HandlingPlan) == 0
    plan = plans.file_plan(item, "分三步实施", [("完成选址", days(20)), ("开工", days(60))], by=unit)
    with pytest.raises(Conflict, match="重复报送"):
        plans.file_plan(item, "再报", [("x", days(5))], by=unit)
    first = plan.milestones[0]
    plans.add_progress(item, "已完成选址论证", by=unit, milestone_id=first.id, done=True)
    assert first.done_on == local_today()
    with pytest.raises(Conflict, match="已经完成"):
        plans.add_progress(item, "再次完成", by=unit, milestone_id=first.id, done=True)
    with pytest.raises(SuggestionForbidden):
        plans.add_progress(item, "越权", by=env["unit_users"][1])
    assert len(plan.progress) == 1


def test_a_plan_after_the_answer_is_refused(env):
    item = answered(env, "A")
    with pytest.raises(Conflict, match="已经答复，不能再报送办理方案"):
        plans.file_plan(item, "补报方案", [("x", days(5))], by=env["unit_users"][0])
    assert count(HandlingPlan) == 0


def test_staff_see_missing_plans_after_15_days_and_overdue_milestones(env):
    late = assigned(env)
    fresh = assigned(env, unit=1)
    late.case.main_assignment.assigned_at -= timedelta(days=16)
    db.session.commit()
    assert [s.id for s, _at in db.session.execute(plans.missing_plans_query())] == [late.id]
    assert plans.unit_plans_due(env["unit_users"][1]) == 1  # due, not yet missing
    plan = plans.file_plan(fresh, "方案", [("开工", days(1))], by=env["unit_users"][1])
    assert plans.staff_overdue_milestones(env["staff"]) == 0
    plan.milestones[0].due_on = days(-1)
    db.session.commit()
    assert plans.staff_overdue_milestones(env["staff"]) == 1
    assert plans.unit_overdue_milestones(env["unit_users"][1]) == 1
    assert plans.unit_overdue_milestones(env["unit_users"][0]) == 0


def test_milestones_are_parsed_one_a_line(env):
    assert plans.parse_milestones("2026-06-30 完成选址\n\n2026-09-30，开工") == [
        ("完成选址", plans.date(2026, 6, 30)), ("开工", plans.date(2026, 9, 30))]
    with pytest.raises(DomainError, match="第 1 行"):
        plans.parse_milestones("六月底 选址")


# ---- 回访 ----------------------------------------------------------------------------------------

def test_sample_is_reproducible_and_a_sample_larger_than_the_pool_is_refused(env):
    items = [answered(env, "A") for _ in range(5)]
    registered(env)  # not answered: not in the pool
    with pytest.raises(DomainError, match="多于可抽取的已答复建议（5 件）"):
        followups.draw_sample(env["session"], "count", 6, by=env["staff"])
    with pytest.raises(DomainError, match="不能超过 100"):
        followups.draw_sample(env["session"], "percent", 101, by=env["staff"])
    with pytest.raises(SuggestionForbidden):
        followups.draw_sample(env["session"], "count", 2, by=env["unit_users"][0])
    assert count(FollowupSample) == 0
    sample = followups.draw_sample(env["session"], "percent", 40, by=env["staff"], seed=37)
    again = followups.draw_sample(env["session"], "count", 2, by=env["staff"], seed=37)
    chosen = sorted(v.suggestion_id for v in sample.visits)
    assert sample.size == 2 and chosen == sorted(v.suggestion_id for v in again.visits)
    assert set(chosen) <= {i.id for i in items} and followups.check_sample(sample)
    assert followups.draw([1, 2, 3, 4, 5], 2, 37) == followups.draw([5, 4, 3, 2, 1], 2, 37)


def test_unsatisfied_visit_sends_the_suggestion_to_a_second_handling(env):
    item = answered(env, "A")
    handling.rate(item, "satisfied", by=env["lead"])
    sample = followups.draw_sample(env["session"], "count", 1, by=env["staff"], seed=1)
    visit = sample.visits[0]
    with pytest.raises(Conflict, match="请先记录回访情况"):
        followups.send_to_second_handling(visit, by=env["staff"])
    with pytest.raises(DomainError, match="请选择代表和群众是否满意"):
        followups.record_visit(visit, days(0), "陈工作", "路面又出现破损", True, None, by=env["staff"])
    followups.record_visit(visit, days(0), "陈工作、王建国", "路面又出现破损，群众不满意", True, False, by=env["staff"])
    assert visit.unsatisfied
    followups.send_to_second_handling(visit, by=env["staff"])
    assert item.status == "registered" and item.round == 2 and item.case.status == "new"
    with pytest.raises(Conflict, match="已经送二次交办"):
        followups.send_to_second_handling(visit, by=env["staff"])
    handling.assign(item, env["units"][1], by=env["staff"])  # the second round runs as usual
    assert item.status == "assigned" and item.main_unit_id == env["units"][1].id


def test_a_satisfied_visit_is_not_sent_back(env):
    item = answered(env, "A")
    handling.rate(item, "satisfied", by=env["lead"])
    visit = followups.draw_sample(env["session"], "count", 1, by=env["staff"], seed=1).visits[0]
    followups.record_visit(visit, days(0), "陈工作", "已解决", True, True, by=env["staff"])
    with pytest.raises(Conflict, match="无需二次交办"):
        followups.send_to_second_handling(visit, by=env["staff"])
    assert item.status == "closed" and count(FollowupVisit) == 1


# ---- 约谈问效 ------------------------------------------------------------------------------------

def test_interview_only_for_a_unit_with_unsatisfied_or_overdue_suggestions(env):
    unit = env["units"][0]
    answered(env, "A")
    with pytest.raises(Conflict, match="无需约谈问效"):
        supervision.record_interview(unit, "interview", days(0), "张局长", "说明情况", by=env["staff"])
    item = answered(env, "C")
    handling.rate(item, "unsatisfied", "没有解决", by=env["lead"])
    with pytest.raises(SuggestionForbidden):
        supervision.record_interview(unit, "interview", days(0), "张局长", "说明情况", by=env["unit_users"][0])
    with pytest.raises(DomainError, match="请选择约谈或书面说明"):
        supervision.record_interview(unit, "phone", days(0), "张局长", "说明情况", by=env["staff"])
    assert count(UnitInterview) == 0
    row = supervision.record_interview(unit, "written", days(0), "张局长", "书面说明未解决原因", by=env["staff"],
                                       session=env["session"])
    assert row.reason == "unsatisfied" and row.outcome is None
    supervision.set_interview_outcome(row, "已提交书面说明，承诺争取上级资金", by=env["staff"])
    assert row.outcome.startswith("已提交")


# ---- 跨年滚动连办 ----------------------------------------------------------------------------------

def carried(env):
    item = answered(env, "B")
    handling.rate(item, "basically", by=env["lead"])
    services.carry_over(env["session"].year + 1, by=env["staff"])
    return item


def test_a_carried_suggestion_is_assigned_again_with_rounds_limited_within_a_year(env):
    item = carried(env)
    unit_user = env["unit_users"][1]
    with pytest.raises(DomainError, match="请填写新的办理期限"):
        supervision.assign_carried(item, env["units"][1], None, by=env["staff"])
    first = supervision.assign_carried(item, env["units"][1], days(60), by=env["staff"])
    assert first.round == 1 and item.main_unit_id == env["units"][1].id
    with pytest.raises(Conflict, match="尚未报告办理情况"):
        supervision.assign_carried(item, env["units"][1], days(90), by=env["staff"])
    with pytest.raises(SuggestionForbidden):
        supervision.report_carried(item, "越权", by=env["unit_users"][0])
    supervision.report_carried(item, "已完成一期工程", by=unit_user)
    second = supervision.assign_carried(item, env["units"][1], days(90), by=env["staff"])
    supervision.report_carried(item, "二期正在施工", by=unit_user)
    assert second.round == 2
    with pytest.raises(Conflict, match="同一年度不能再交办"):
        supervision.assign_carried(item, env["units"][1], days(120), by=env["staff"])
    assert count(CarryRound) == 2
    # the next year it is carried again and gets its own rounds
    services.carry_over(env["session"].year + 2, by=env["staff"])
    db.session.refresh(item)
    assert supervision.assign_carried(item, env["units"][1], days(60), by=env["staff"]).round == 1
    supervision.report_carried(item, "全部完工", by=unit_user)
    services.complete(item, "全线通车", by=env["staff"])
    with pytest.raises(Conflict, match="已确认落实完成"):
        supervision.assign_carried(item, env["units"][1], days(60), by=env["staff"])


def test_only_a_carried_suggestion_is_assigned_as_carry_over(env):
    item = answered(env, "A")
    with pytest.raises(Conflict, match="没有转入跨年连办"):
        supervision.assign_carried(item, env["units"][1], days(60), by=env["staff"])


# ---- 年年提 -------------------------------------------------------------------------------------

def test_links_to_earlier_suggestions_count_the_years_a_matter_was_raised(env):
    older = CongressSession(name="县十八届人大一次会议", year=env["session"].year - 1,
                            opens_on=env["session"].opens_on - timedelta(days=365), accepting=True)
    oldest = CongressSession(name="县十七届人大五次会议", year=env["session"].year - 2,
                             opens_on=env["session"].opens_on - timedelta(days=730), accepting=True)
    db.session.add_all([older, oldest])
    db.session.commit()
    first, second, now = registered(env), registered(env), registered(env)
    first.session, second.session = oldest, older
    db.session.commit()
    with pytest.raises(DomainError, match="只能关联以往会议"):
        supervision.link_earlier(second, now, by=env["staff"])
    with pytest.raises(DomainError, match="不能关联建议自身"):
        supervision.link_earlier(now, now, by=env["staff"])
    with pytest.raises(SuggestionForbidden):
        supervision.link_earlier(now, second, by=env["lead"])
    supervision.link_earlier(second, first, by=env["staff"])
    supervision.link_earlier(now, second, by=env["staff"])
    with pytest.raises(Conflict, match="已经关联过"):
        supervision.link_earlier(now, second, by=env["staff"])
    assert count(SuggestionLink) == 2
    assert supervision.years_raised([now.id, second.id, first.id]) == {now.id: 3, second.id: 2, first.id: 1}
    assert supervision.earlier_of(now) == [first, second]
    assert supervision.find_earlier(older.name, second.number) == second


# ---- 评 ------------------------------------------------------------------------------------------

def test_unit_ranking_by_the_years_weights(env):
    good = answered(env, "A")
    handling.rate(good, "satisfied", by=env["lead"])
    poor = registered(env)
    handling.assign(poor, env["units"][2], by=env["staff"])
    poor.case.main_assignment.deadline = days(-1)
    db.session.commit()
    handling.reply(poor, "迟到的答复", "C", by=env["unit_users"][2], reasons="资金不足")
    handling.rate(poor, "unsatisfied", "没有解决", by=env["lead"])
    rule, rows = rating.ranking(env["session"])
    assert [r.unit for r in rows] == ["县卫生健康委员会", "县交通运输局"]
    top, bottom = rows
    assert (top.assigned, top.on_time, top.classes["A"], top.satisfied) == (1, 1, 1, 1)
    assert top.score == 90.0  # 30 on time + 40 satisfied + 20 solved, no ballot
    assert (bottom.second, bottom.overdue, bottom.unsatisfied) == (1, 1, 1)
    assert bottom.score == -20.0
    with pytest.raises(DomainError, match="权重须在 0 到 100 之间"):
        rating.set_rule(env["session"].year, {**{k: 10 for k in rating.WEIGHTS}, "w_second": -1}, by=env["staff"])
    with pytest.raises(SuggestionForbidden):
        rating.set_rule(env["session"].year, dict.fromkeys(rating.WEIGHTS, 10), by=env["unit_users"][0])
    assert count(UnitRatingRule) == 0
    rating.set_rule(env["session"].year, {**dict.fromkeys(rating.WEIGHTS, 0), "w_on_time": 100}, by=env["staff"])
    _rule, rows = rating.ranking(env["session"])
    assert [r.score for r in rows] == [100.0, 0.0]
    assert "100 × 按时答复率" in rating.formula_text(_rule)


def test_ranking_export_and_publish(env):
    from openpyxl import load_workbook

    from blueprints.noticeboard.models import Notice

    item = answered(env, "A")
    handling.rate(item, "satisfied", by=env["lead"])
    sheet = load_workbook(__import__("io").BytesIO(rating.export_xlsx(env["session"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][:3] == ("名次", "承办单位", "交办件数") and rows[3][1] == "县卫生健康委员会"
    notice = rating.publish(env["session"], by=env["staff"])
    again = rating.publish(env["session"], by=env["staff"])
    assert notice.id == again.id and "县卫生健康委员会：得分 90.0" in notice.body
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1


def test_publishing_an_empty_ranking_is_refused(env):
    with pytest.raises(Conflict, match="还没有交办的建议"):
        rating.publish(env["session"], by=env["staff"])


def test_unit_ballot_result_joins_the_ranking(env):
    from blueprints.ballots import voting
    from blueprints.ballots.models import Meeting

    item = answered(env, "A")
    handling.rate(item, "satisfied", by=env["lead"])
    meeting = Meeting(title="县十八届人大常委会第十次会议", level="county", held_on=local_today())
    db.session.add(meeting)
    db.session.commit()
    with pytest.raises(SuggestionForbidden):
        rating.create_unit_ballot(meeting, env["session"].year, by=env["lead"])
    ballot = rating.create_unit_ballot(meeting, env["session"].year, by=env["staff"])
    assert ballot.method == "rating" and ballot.secret and [i.unit_name for i in ballot.items] == ["县卫生健康委员会"]
    with pytest.raises(Conflict, match="已经创建过"):
        rating.create_unit_ballot(meeting, env["session"].year, by=env["staff"])
    assert rating.rule_for(env["session"].year).ballot_id == ballot.id
    _rule, rows = rating.ranking(env["session"])
    assert rows[0].ballot is None  # not closed yet: no result
    ballot.status = "closed"
    db.session.commit()
    from blueprints.ballots.models import BallotChoice

    db.session.add_all([BallotChoice(ballot_id=ballot.id, item_id=ballot.items[0].id, choice=c)
                        for c in ("satisfied", "basic", "unsatisfied", "satisfied")])
    db.session.commit()
    _rule, rows = rating.ranking(env["session"])
    assert rows[0].ballot == 0.75 and rows[0].score == 97.5
    assert voting  # the ballots area's own service made it


def test_handling_report_figures(env):
    a = answered(env, "A")
    handling.rate(a, "satisfied", by=env["lead"])
    b = answered(env, "B")
    handling.rate(b, "basically", by=env["lead"])
    services.set_key(a, True, env["leader"], by=env["staff"])
    services.carry_over(env["session"].year + 1, by=env["staff"])
    figures = rating.report_figures(env["session"])
    assert (figures["total"], figures["answered"], figures["key"], figures["carried_total"]) == (2, 2, 1, 1)
    assert figures["satisfaction_rate"] == "100.0%" and figures["class_shares"]["A"] == "50.0%"
    assert figures["closed_rate"] == "100.0%"


def test_refusals_change_nothing(env):
    item = answered(env, "A")
    before = {c.name: getattr(item, c.name) for c in Suggestion.__table__.columns if c.name != "updated_at"}
    for call in (lambda: plans.file_plan(item, "x", [("x", days(1))], by=env["unit_users"][0]),
                 lambda: followups.draw_sample(env["session"], "count", 9, by=env["staff"]),
                 lambda: services.set_key(item, True, env["lead"], by=env["staff"])):
        with pytest.raises(DomainError):
            call()
    db.session.expire_all()
    fresh = db.session.get(Suggestion, item.id)
    assert {c.name: getattr(fresh, c.name) for c in Suggestion.__table__.columns if c.name != "updated_at"} == before
