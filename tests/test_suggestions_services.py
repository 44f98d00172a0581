"""Suggestion rules: drafting, co-signing, pre-review, registration, assignment, handling, rating,
key supervision, carry-over and statistics. Every refusal leaves the database unchanged."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core.cases import Case, CaseAssignment, CaseRating
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.suggestions import handling, services, stats
from blueprints.suggestions.models import (
    Suggestion,
    SuggestionAnswer,
    SuggestionCarryOver,
    SuggestionContact,
    SuggestionCosigner,
    SuggestionRevision,
)
from blueprints.suggestions.services import SuggestionForbidden
from tests import suggestions_helpers
from tests.suggestions_helpers import TEXT, answered, draft, registered

env = suggestions_helpers.env

pytestmark = pytest.mark.usefixtures("env")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot(item: Suggestion) -> dict:
    db.session.expire_all()
    fresh = db.session.get(Suggestion, item.id)
    return {c.name: getattr(fresh, c.name) for c in Suggestion.__table__.columns if c.name != "updated_at"}


# ---- 提 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field,label", [("title", "案由"), ("grounds", "案据"), ("proposal", "方案")])
def test_a_suggestion_needs_subject_grounds_and_proposal(env, field, label):
    with pytest.raises(DomainError, match=f"请填写{label}"):
        draft(env, **{field: "  "})
    assert count(Suggestion) == 0


def test_draft_submit_and_timing(env):
    item = draft(env)
    assert item.status == "draft" and item.number is None
    services.submit(item, by=env["lead"])
    assert item.status == "submitted" and item.timing == "session" and item.submitted_at


def test_submitted_in_recess(env):
    env["session"].opens_on = local_today() + timedelta(days=30)
    env["session"].closes_on = local_today() + timedelta(days=33)
    db.session.commit()
    item = draft(env)
    services.submit(item, by=env["lead"])
    assert item.timing == "recess"


def test_drafts_are_private(env):
    item = draft(env)
    assert services.can_read(env["lead"], item)
    assert not services.can_read(env["staff"], item)
    assert not services.can_read(env["other"], item)
    services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    assert services.can_read(env["other"], item)


def test_only_the_lead_edits_a_draft(env):
    item = draft(env)
    before = snapshot(item)
    with pytest.raises(SuggestionForbidden):
        services.update_draft(item, {**TEXT, "title": "改"}, by=env["other"])
    assert snapshot(item) == before


def test_editing_a_submitted_suggestion_is_refused(env):
    item = draft(env)
    services.submit(item, by=env["lead"])
    before = snapshot(item)
    with pytest.raises(DomainError, match="已提交的建议不能直接修改"):
        services.update_draft(item, {**TEXT, "title": "悄悄改"}, by=env["lead"])
    assert snapshot(item) == before
    with pytest.raises(DomainError, match="不能进行此操作"):
        services.revise(item, {**TEXT, "title": "悄悄改"}, "说明", by=env["lead"])
    assert snapshot(item) == before and count(SuggestionRevision) == 0


def test_return_revise_and_resubmit_keeps_the_earlier_text(env):
    item = draft(env)
    services.submit(item, by=env["lead"])
    with pytest.raises(DomainError, match="请填写预审意见"):
        services.review(item, "return", "", by=env["reviewer"])
    services.review(item, "return", "请补充卫生院现状数据。", by=env["reviewer"])
    assert item.status == "returned" and item.reviews[0].reviewer_kind == "group"
    services.revise(item, {**TEXT, "grounds": "卫生院建于 1985 年，危房面积 800 平方米。"}, "补充数据", by=env["lead"])
    assert item.revision == 2 and item.revisions[0].grounds == TEXT["grounds"]
    services.submit(item, by=env["lead"])
    services.review(item, "pass", None, by=env["staff"])
    assert item.status == "submitted" and item.reviews[-1].reviewer_kind == "office"


def test_a_deputy_outside_the_groups_cannot_review(env, make_user):
    item = draft(env)
    services.submit(item, by=env["lead"])
    with pytest.raises(SuggestionForbidden):
        services.review(item, "return", "意见", by=env["other"])
    assert item.status == "submitted"


def test_cosigning(env):
    item = draft(env)
    services.invite_cosigners(item, [env["other"].deputy, env["reviewer"].deputy], by=env["lead"])
    services.answer_cosign(item, True, by=env["other"])
    services.answer_cosign(item, False, by=env["reviewer"])
    states = {c.deputy_id: c.state for c in item.cosigners}
    assert states == {env["other"].deputy_id: "confirmed", env["reviewer"].deputy_id: "declined"}


def test_cosigning_twice_is_refused(env):
    item = draft(env)
    services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    services.answer_cosign(item, True, by=env["other"])
    with pytest.raises(DomainError, match="不能重复附议"):
        services.answer_cosign(item, True, by=env["other"])
    with pytest.raises(DomainError, match="不能重复邀请"):
        services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    assert count(SuggestionCosigner) == 1


def test_a_cosigner_must_be_a_serving_deputy(env):
    item = draft(env)
    with pytest.raises(DomainError, match="不是在任代表"):
        services.invite_cosigners(item, [env["other"].deputy, env["ended"]], by=env["lead"])
    assert count(SuggestionCosigner) == 0


def test_an_uninvited_deputy_cannot_cosign(env):
    item = draft(env)
    with pytest.raises(SuggestionForbidden):
        services.answer_cosign(item, True, by=env["other"])


# ---- 立案 --------------------------------------------------------------------------------------

def test_registration_numbers_per_session_and_opens_a_case(env):
    first, second = registered(env), registered(env)
    assert (first.number, second.number) == (1, 2)
    assert first.status == "registered" and first.case.source == "suggestion"
    assert first.case.deputy_id == env["lead"].deputy_id


def test_a_number_is_used_once_per_session(env):
    registered(env)
    item = draft(env)
    services.submit(item, by=env["lead"])
    before = snapshot(item)
    with pytest.raises(DomainError, match="已有第 1 号"):
        services.register(item, by=env["staff"], number=1)
    assert snapshot(item) == before and count(Case) == 1


def test_only_staff_register(env):
    item = draft(env)
    services.submit(item, by=env["lead"])
    with pytest.raises(SuggestionForbidden):
        services.register(item, by=env["lead"])
    assert item.status == "submitted"


# ---- 交办 --------------------------------------------------------------------------------------

def test_assignment_defaults_to_three_months(env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    assert item.status == "assigned" and item.main_unit_id == env["units"][0].id
    assert item.deadline == handling.default_deadline()
    roles = sorted((a.role, a.unit_id) for a in item.case.assignments)
    assert roles == [("assist", env["units"][1].id), ("main", env["units"][0].id)]


def test_assignment_needs_a_main_unit(env):
    item = registered(env)
    before = snapshot(item)
    with pytest.raises(DomainError, match="请选择主办单位"):
        handling.assign(item, None, by=env["staff"])
    assert snapshot(item) == before and count(CaseAssignment) == 0


def test_a_deadline_over_six_months_is_refused(env):
    item = registered(env)
    before = snapshot(item)
    with pytest.raises(DomainError, match="最长六个月"):
        handling.assign(item, env["units"][0], handling.latest_deadline() + timedelta(days=1), by=env["staff"])
    assert snapshot(item) == before and count(CaseAssignment) == 0


def test_bulk_assignment_is_all_or_nothing(env):
    items = [registered(env) for _ in range(3)]
    rows = [(items[0], env["units"][0], []), (items[1], None, []), (items[2], env["units"][2], [])]
    with pytest.raises(DomainError, match="第 2 号：请选择主办单位"):
        handling.assign_many(rows, by=env["staff"])
    assert count(CaseAssignment) == 0
    assert {i.status for i in db.session.scalars(select(Suggestion))} == {"registered"}
    rows[1] = (items[1], env["units"][1], [env["units"][2]])
    assert handling.assign_many(rows, local_today() + timedelta(days=60), by=env["staff"]) == 3
    assert {i.status for i in items} == {"assigned"}


# ---- 办 ----------------------------------------------------------------------------------------

def test_contacts_extension_and_decline(env):
    item = registered(env)
    unit = env["unit_users"][0]
    handling.assign(item, env["units"][0], local_today() + timedelta(days=30), by=env["staff"])
    handling.add_contact(item, "before", "visit", local_today(), "登门了解代表意图。", by=unit)
    with pytest.raises(DomainError, match="不能晚于今天"):
        handling.add_contact(item, "during", "phone", local_today() + timedelta(days=1), "x", by=unit)
    with pytest.raises(SuggestionForbidden):
        handling.add_contact(item, "during", "phone", local_today(), "x", by=env["unit_users"][2])
    assert count(SuggestionContact) == 1
    handling.request_extension(item, local_today() + timedelta(days=60), "需要现场勘查", by=unit)
    handling.decide_extension(item, True, by=env["staff"])
    assert item.deadline == local_today() + timedelta(days=60)
    handling.decline(item, "不属于本单位职责", by=unit)
    assert item.status == "registered" and item.main_unit_id is None
    handling.assign(item, env["units"][2], by=env["staff"])
    assert item.main_unit_id == env["units"][2].id


def test_another_unit_cannot_answer(env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"])
    before = snapshot(item)
    with pytest.raises(DomainError) as info:
        handling.reply(item, "答复", "A", by=env["unit_users"][2])
    assert getattr(info.value, "status", None) == 403
    assert snapshot(item) == before and count(SuggestionAnswer) == 0


def test_an_answer_needs_a_class_and_c_needs_reasons_and_b_a_date(env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"])
    unit = env["unit_users"][0]
    before = snapshot(item)
    with pytest.raises(DomainError, match="请选择答复类别"):
        handling.reply(item, "答复", None, by=unit)
    with pytest.raises(DomainError, match="请填写暂时无法解决的原因"):
        handling.reply(item, "答复", "C", by=unit)
    with pytest.raises(DomainError, match="承诺解决的日期"):
        handling.reply(item, "答复", "B", by=unit)
    assert snapshot(item) == before and count(SuggestionAnswer) == 0
    assert item.case.main_assignment.state == "pending"


def test_an_assisting_unit_replies_without_class(env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    handling.reply(item, "协办意见：财政资金可予支持。", None, by=env["unit_users"][1])
    assert item.status == "assigned" and count(SuggestionAnswer) == 0


def test_a_b_answer_carries_a_promised_date_and_goes_to_the_deputy(env):
    item = answered(env, "B")
    assert item.status == "answered" and item.reply_class == "B" and item.answered_on_time
    assert item.answers[0].promised_on == local_today() + timedelta(days=90)
    assert item.case.status == "sent"


def test_a_reply_letter_is_checked_by_content(env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"])
    with pytest.raises(DomainError, match="文件内容与扩展名不符"):
        handling.reply(item, "答复", "A", by=env["unit_users"][0], letter=("答复函.pdf", b"not a pdf"))
    handling.reply(item, "答复", "A", by=env["unit_users"][0], letter=("答复函.pdf", b"%PDF-1.4\n%%EOF"))
    assert item.answers[0].letter_content_type == "application/pdf"


# ---- 评 ----------------------------------------------------------------------------------------

def test_rating_only_by_the_lead_deputy_and_once(env):
    item = answered(env)
    before = snapshot(item)
    with pytest.raises(SuggestionForbidden, match="只有领衔代表"):
        handling.rate(item, "satisfied", by=env["other"])
    with pytest.raises(SuggestionForbidden):
        handling.rate(item, "satisfied", by=env["staff"])
    assert snapshot(item) == before and count(CaseRating) == 0
    handling.rate(item, "satisfied", "满意", by=env["lead"])
    assert item.status == "closed" and item.rating == "satisfied"
    with pytest.raises(DomainError, match="不能重复评价"):
        handling.rate(item, "unsatisfied", "再评", by=env["lead"])
    assert count(CaseRating) == 1


def test_unsatisfied_gives_one_second_handling_keeping_the_first_answer(env):
    item = answered(env, "B")
    handling.rate(item, "unsatisfied", "进度太慢", by=env["lead"])
    assert item.status == "registered" and item.round == 2 and item.deadline is None
    handling.assign(item, env["units"][0], by=env["staff"])
    handling.reply(item, "已全部解决。", "A", by=env["unit_users"][0])
    assert [a.reply_class for a in item.answers] == ["B", "A"]
    handling.rate(item, "unsatisfied", "仍不满意", by=env["lead"])
    assert item.status == "closed" and item.needs_follow_up
    before = snapshot(item)
    with pytest.raises(DomainError, match="不能第三次交办"):
        handling.assign(item, env["units"][0], by=env["staff"])
    assert snapshot(item) == before


# ---- 督 ----------------------------------------------------------------------------------------

def test_key_rule_fifteen_percent(env):
    assert [services.key_required(n) for n in (0, 1, 6, 7, 20, 100, 129)] == [0, 1, 1, 2, 3, 15, 20]
    items = [registered(env) for _ in range(7)]
    for item in items[:3]:
        services.set_key(item, True, env["leader"], by=env["staff"])
    assert services.key_counts(env["session"]) == (7, 3)
    services.set_key(items[0], False, by=env["staff"])  # 2 of 7 left: still at least 15%
    with pytest.raises(DomainError, match="不得少于本次会议建议总数的 15%（至少 2 件）"):
        services.set_key(items[1], False, by=env["staff"])
    assert items[1].is_key and services.key_counts(env["session"]) == (7, 2)
    with pytest.raises(DomainError, match="请选择牵头督办领导"):
        services.set_key(items[3], True, None, by=env["staff"])
    with pytest.raises(DomainError, match="不是常委会组成人员"):
        services.set_key(items[3], True, env["staff"], by=env["staff"])
    assert not items[3].is_key


def test_overdue_shows_in_the_key_and_overdue_list(env):
    item = registered(env)
    handling.assign(item, env["units"][0], local_today(), by=env["staff"])
    item.deadline = item.case.main_assignment.deadline = local_today() - timedelta(days=1)
    db.session.commit()
    assert item.is_overdue()
    assert item.id in [s.id for s in db.session.scalars(stats.supervision_query(env["session"].id))]


def test_carry_over_at_year_end(env):
    year = env["session"].year
    b_item = answered(env, "B")
    handling.rate(b_item, "satisfied", by=env["lead"])
    a_item = answered(env, "A")
    handling.rate(a_item, "satisfied", by=env["lead"])
    unhappy = answered(env, "C")
    handling.rate(unhappy, "unsatisfied", "不满意", by=env["lead"])
    handling.assign(unhappy, env["units"][0], by=env["staff"])
    handling.reply(unhappy, "仍无法解决", "C", by=env["unit_users"][0], reasons="无资金")
    handling.rate(unhappy, "unsatisfied", "仍不满意", by=env["lead"])
    open_item = registered(env)  # not answered yet: not carried, it is still being handled
    assert services.carry_over(year + 1, by=env["staff"]) == 2
    carried = {c.suggestion_id: c.reason for c in db.session.scalars(select(SuggestionCarryOver))}
    assert carried == {b_item.id: "B", unhappy.id: "unsatisfied"}
    assert services.carry_over(year + 1, by=env["staff"]) == 0  # once per year
    services.complete(b_item, "卫生院已竣工投用。", by=env["staff"])
    assert services.carry_over(year + 2, by=env["staff"]) == 1  # still unfinished: carried again
    assert unhappy.carried_to_year == year + 2 and len(unhappy.carry_overs) == 2
    assert open_item.carried_to_year is None and a_item.carried_to_year is None


# ---- statistics ----------------------------------------------------------------------------------

def test_statistics_against_hand_computed_numbers(env):
    a1 = answered(env, "A")
    handling.rate(a1, "satisfied", by=env["lead"])
    b1 = answered(env, "B")
    handling.rate(b1, "basically", by=env["lead"])
    c1 = answered(env, "C")
    handling.rate(c1, "unsatisfied", "不满意", by=env["lead"])
    late = registered(env)
    handling.assign(late, env["units"][2], by=env["staff"])
    late.case.main_assignment.deadline = local_today() - timedelta(days=1)
    db.session.commit()
    handling.reply(late, "迟到的答复", "A", by=env["unit_users"][2])
    registered(env)  # not yet assigned
    services.set_key(a1, True, env["leader"], by=env["staff"])
    services.carry_over(env["session"].year + 1, by=env["staff"])
    totals = stats.session_totals(env["session"].id)
    assert totals == {"total": 5, "assigned": 4, "answered": 4, "on_time": 3, "A": 2, "B": 1, "C": 1,
                      "satisfied": 1, "basically": 1, "unsatisfied": 1, "carried": 1, "key": 1, "closed": 2,
                      "overdue": 0}
    by_unit = {row["unit"]: row for row in stats.unit_rows(env["session"].id)}
    assert by_unit["县卫生健康委员会"]["answered"] == 3  # c1 counts for its unit while awaiting round 2
    assert by_unit["县交通运输局"]["on_time"] == 0 and by_unit["县交通运输局"]["A"] == 1


# ---- forbidden transitions ------------------------------------------------------------------------

def test_forbidden_transitions_change_nothing(env):
    item = draft(env)
    before = snapshot(item)
    with pytest.raises(DomainError, match="不能进行此操作"):
        services.register(item, by=env["staff"])  # a draft is not registered
    with pytest.raises(DomainError, match="不能进行此操作"):
        services.review(item, "pass", None, by=env["staff"])
    with pytest.raises(DomainError, match="不能进行此操作"):
        handling.assign(item, env["units"][0], by=env["staff"])
    with pytest.raises(SuggestionForbidden):
        services.submit(item, by=env["other"])
    assert snapshot(item) == before
    services.submit(item, by=env["lead"])
    with pytest.raises(DomainError, match="不能进行此操作"):
        services.submit(item, by=env["lead"])
    with pytest.raises(DomainError, match="不能进行此操作"):
        services.delete_draft(item, by=env["lead"])
    services.register(item, by=env["staff"])
    with pytest.raises(DomainError, match="不能进行此操作"):
        handling.rate(item, "satisfied", by=env["lead"])  # nothing answered yet
    with pytest.raises(SuggestionForbidden):
        handling.reply(item, "答复", "A", by=env["unit_users"][0])  # not assigned yet
    with pytest.raises(DomainError, match="不能进行此操作"):
        services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])  # registered: list closed
    assert item.status == "registered" and count(CaseAssignment) == 0


def test_extension_rules(env):
    item = registered(env)
    unit = env["unit_users"][0]
    handling.assign(item, env["units"][0], local_today() + timedelta(days=30), by=env["staff"])
    with pytest.raises(DomainError, match="不能超过交办之日起六个月"):
        handling.request_extension(item, handling.latest_deadline() + timedelta(days=1), "理由", by=unit)
    with pytest.raises(DomainError, match="必须晚于原期限"):
        handling.request_extension(item, local_today() + timedelta(days=10), "理由", by=unit)
    with pytest.raises(DomainError) as info:
        handling.request_extension(item, local_today() + timedelta(days=60), "理由", by=env["unit_users"][1])
    assert getattr(info.value, "status", None) == 403
    handling.request_extension(item, local_today() + timedelta(days=60), "需要现场勘查", by=unit)
    with pytest.raises(DomainError, match="等待审批"):
        handling.request_extension(item, local_today() + timedelta(days=70), "再申请", by=unit)
    handling.decide_extension(item, False, by=env["staff"], note="期限内完成")
    assert item.deadline == local_today() + timedelta(days=30)
    with pytest.raises(DomainError, match="没有待审批的延期申请"):
        handling.decide_extension(item, True, by=env["staff"])


def test_a_declining_unit_must_give_a_reason_and_be_the_main_unit(env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    with pytest.raises(DomainError, match="请填写退回理由"):
        handling.decline(item, " ", by=env["unit_users"][0])
    with pytest.raises(DomainError) as info:
        handling.decline(item, "不是我们的", by=env["unit_users"][1])  # the assisting unit cannot decline
    assert getattr(info.value, "status", None) == 403
    assert item.status == "assigned" and item.main_unit_id == env["units"][0].id


def test_unit_figures_per_session(env):
    a1 = answered(env, "A")
    handling.rate(a1, "satisfied", by=env["lead"])
    answered(env, "C")
    rows = stats.unit_session_rows(env["units"][0].id)
    assert len(rows) == 1 and (rows[0]["total"], rows[0]["A"], rows[0]["C"], rows[0]["satisfied"]) == (2, 1, 1, 1)
    assert stats.unit_session_rows(env["units"][2].id) == []


def test_unit_inbox_lists_open_work_only(env):
    item = registered(env)
    handling.assign(item, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    inbox = lambda unit, state="open": [s.id for s in db.session.scalars(  # noqa: E731
        handling.unit_inbox_query(env["units"][unit].id, state))]
    assert inbox(0) == [item.id] and inbox(1) == [item.id] and inbox(2) == []
    handling.reply(item, "已解决", "A", by=env["unit_users"][0])
    assert inbox(0) == [] and inbox(1) == [] and inbox(0, "all") == [item.id]


def test_submitting_and_cosigning_are_recorded_as_duty_activities(env):
    from blueprints.duties.models import Activity

    item = draft(env)
    services.invite_cosigners(item, [env["other"].deputy, env["reviewer"].deputy], by=env["lead"])
    services.answer_cosign(item, True, by=env["other"])
    assert count(Activity) == 0  # a draft is private: nothing counts yet
    services.submit(item, by=env["lead"])
    services.answer_cosign(item, True, by=env["reviewer"])  # co-signed after submission
    rows = {(a.deputy_id, a.type_code, a.status) for a in db.session.scalars(select(Activity))}
    assert rows == {(env["lead"].deputy_id, "suggestion_lead", "verified"),
                    (env["other"].deputy_id, "suggestion_cosign", "verified"),
                    (env["reviewer"].deputy_id, "suggestion_cosign", "verified")}
    assert all(a.source == "suggestions" and a.source_ref == f"suggestion:{item.id}"
               for a in db.session.scalars(select(Activity)))


# ---- one unit of work, refusals by kind, constraint messages --------------------------------------

def test_a_service_inside_a_callers_transaction_commits_with_it_or_not_at_all(env):
    from blueprints.core.transaction import transaction

    with pytest.raises(RuntimeError), transaction():
        item = draft(env)
        services.submit(item, by=env["lead"])
        raise RuntimeError("the caller fails after the services ran")
    assert count(Suggestion) == 0
    with transaction():
        item = draft(env)
        services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    db.session.expire_all()
    assert count(Suggestion) == 1 and count(SuggestionCosigner) == 1


def test_refusals_carry_their_kind(env):
    from blueprints.core.errors import Conflict, Forbidden

    item = draft(env)
    services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    with pytest.raises(Conflict, match="不能重复邀请"):
        services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    with pytest.raises(Forbidden):
        services.register(item, by=env["lead"])
    assert issubclass(SuggestionForbidden, Forbidden) and SuggestionForbidden.status == 403
    with pytest.raises(Conflict, match="不能进行此操作"):
        services.register(item, by=env["staff"])
    with pytest.raises(DomainError) as info:
        draft(env, title="")
    assert info.value.status == 422


def test_a_refusal_in_one_row_of_a_bulk_assignment_keeps_its_kind(env):
    item = registered(env)
    with pytest.raises(SuggestionForbidden, match="第 1 号：只有代表工委工作人员"):
        handling.assign_many([(item, env["units"][0], [])], by=env["lead"])
    assert count(CaseAssignment) == 0


def test_a_number_taken_at_the_same_moment_gets_the_constraints_message(env, monkeypatch):
    from blueprints.core.errors import Conflict

    registered(env)
    item = draft(env)
    services.submit(item, by=env["lead"])
    before = snapshot(item)
    # Two registrations at once both see 1 as the highest number: the UNIQUE has the last word.
    monkeypatch.setattr(services, "next_number", lambda session: 1)
    with pytest.raises(Conflict, match="本次会议已有这个编号的建议") as info:
        services.register(item, by=env["staff"])
    assert info.value.field == "number"
    assert snapshot(item) == before and count(Case) == 1


@pytest.mark.parametrize("kind", ["cosigner", "session", "carry_over"])
def test_duplicates_the_database_refuses_name_their_rule(env, kind):
    from blueprints.core.errors import Conflict
    from blueprints.core.transaction import transaction
    from blueprints.suggestions.models import CongressSession

    item = draft(env)
    services.invite_cosigners(item, [env["other"].deputy], by=env["lead"])
    rows = {
        "cosigner": (lambda: SuggestionCosigner(suggestion_id=item.id, deputy_id=env["other"].deputy_id),
                     "该代表已在附议名单中"),
        "session": (lambda: CongressSession(name=env["session"].name, year=2026, opens_on=local_today()),
                    "已有同名的会议"),
        "carry_over": (lambda: SuggestionCarryOver(suggestion_id=item.id, year=2030, reason="B"),
                       "不能重复转入"),
    }
    make, message = rows[kind]
    if kind == "carry_over":
        with transaction():
            db.session.add(make())
    before = (count(SuggestionCosigner), count(CongressSession), count(SuggestionCarryOver))
    with pytest.raises(Conflict, match=message), transaction():
        db.session.add(make())
    assert (count(SuggestionCosigner), count(CongressSession), count(SuggestionCarryOver)) == before


def test_the_reply_letter_reaches_the_deputy_through_the_case(env):
    from blueprints.core import cases

    item = answered(env, "A")
    case = item.case
    assert case.status == "sent" and case.answer == "经研究，已列入计划。" and case.sent_at is not None
    step = case.steps[-1]
    assert (step.action, step.unit_id, step.note) == ("send", env["units"][0].id, "答复函送达领衔代表")
    with pytest.raises(DomainError, match="不能进行此操作"):
        cases.forward_reply(case, by=env["unit_users"][0])  # already sent
    other = registered(env)
    handling.assign(other, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    from blueprints.core.transaction import transaction

    with pytest.raises(cases.CaseForbidden), transaction():
        cases.reply_case(other.case, "答复", by=env["unit_users"][0], reply_class="A")
        cases.forward_reply(other.case, by=env["unit_users"][1])  # only the main unit that replied
    db.session.expire_all()
    assert db.session.get(Case, other.case_id).status == "assigned"


def test_a_check_the_database_refuses_names_its_rule(env):
    from blueprints.core.transaction import transaction

    item = registered(env)
    with pytest.raises(DomainError, match="请填写牵头督办领导") as info, transaction():
        item.is_key, item.key_leader = True, None  # past the service, the CHECK has the last word
    assert info.value.status == 422 and info.value.field == "key_leader"
    db.session.expire_all()
    assert not db.session.get(Suggestion, item.id).is_key
