"""The shared case workflow (blueprints/core/cases.py): every transition, the forbidden ones, and that
a refusal changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core import cases
from blueprints.core.cases import Case, CaseAssignment, CaseForbidden, CaseRating, CaseStep
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from blueprints.core.timeutil import local_today
from blueprints.core.transaction import transaction
from blueprints.registry.models import HandlingUnit


@pytest.fixture
def world(county, make_user):
    """Staff, a liaison of station 0, a clerk of the county's unit, a clerk of a second unit, a deputy."""
    other_unit = HandlingUnit(name="县交通运输局")
    db.session.add(other_unit)
    db.session.commit()
    station = county["stations"][0]
    return {
        "station": station,
        "other_station": county["stations"][1],
        "unit": county["unit"],
        "other_unit": other_unit,
        "staff": make_user("staff"),
        "liaison": make_user("liaison", station=station),
        "other_liaison": make_user("liaison", "liaison2", station=county["stations"][1]),
        "unit_user": make_user("unit", unit=county["unit"]),
        "other_unit_user": make_user("unit", "unit2", unit=other_unit),
        "deputy": make_user("deputy"),
    }


def new_case(world, **extra):
    values = {"station": world["station"], "by": world["liaison"], "contact_phone": "13800000000"}
    values.update(extra)
    return cases.open_case("reception", "东街路灯不亮", "东街 3 号到 9 号路灯一个月不亮。", **values)


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Case, CaseAssignment, CaseRating, CaseStep, AuditEntry))


def state(case):
    db.session.refresh(case)
    return (case.status, case.round, case.answer, case.merged_into_id,
            [(a.unit_id, a.state, a.deadline, a.extension_until) for a in case.assignments])


def assigned(world, **extra):
    case = new_case(world, **extra)
    cases.assign_case(case, world["unit"], local_today() + timedelta(days=15), by=world["staff"])
    return case


def answered(world, **extra):
    case = assigned(world, **extra)
    cases.reply_case(case, "已更换灯具，恢复照明。", by=world["unit_user"], reply_class="A")
    return case


def sent(world, **extra):
    case = answered(world, **extra)
    cases.send_answer(case, by=world["staff"])
    return case


# ---- the happy path --------------------------------------------------------------------------

def test_a_case_goes_round_the_loop_with_every_step_logged(world):
    case = new_case(world)
    assert case.status == "new" and case.round == 1
    assert cases.RECEIPT_RE.match(case.receipt_code)
    assert not set(case.receipt_code) & set("0O1I")
    cases.sort_case(case, by=world["liaison"], category="城建")
    deadline = local_today() + timedelta(days=10)
    main = cases.assign_case(case, world["unit"], deadline, by=world["staff"], assisting=[world["other_unit"]])
    assert case.status == "assigned" and case.deadline == deadline and main.role == "main"
    assert [a.role for a in case.assignments] == ["main", "assist"]
    cases.reply_case(case, "协办意见：配合施工。", by=world["other_unit_user"])
    assert case.status == "assigned"  # an assisting unit's reply does not answer the case
    cases.reply_case(case, "已更换灯具。", by=world["unit_user"], reply_class="A")
    assert case.status == "answered" and case.answered_at is not None and main.on_time is True
    cases.send_answer(case, by=world["liaison"], text="路灯已修复，感谢监督。")
    assert case.status == "sent" and case.answer == "路灯已修复，感谢监督。"
    rating = cases.rate_case(case, "satisfied")
    assert rating.rater == "constituent" and rating.rated_by_id is None
    assert case.status == "closed" and case.closed_at is not None
    assert [s.action for s in case.steps] == ["open", "sort", "assign", "reply", "reply", "send", "rate", "close"]
    assert case.steps[2].actor_name == "staff" and case.steps[2].unit_id == world["unit"].id
    # staff writes are audited; the anonymous rating is on the step log only
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "case")).all()
    assert actions == ["case_open", "case_sort", "case_assign", "case_reply", "case_reply", "case_send"]


def test_send_answer_defaults_to_the_main_units_reply(world):
    case = sent(world)
    assert case.answer == "已更换灯具，恢复照明。"


def test_unsatisfied_reopens_once_for_a_second_handling(world):
    case = sent(world)
    cases.rate_case(case, "unsatisfied", note="只修了一盏")
    assert case.status == "new" and case.round == 2
    assert [s.action for s in case.steps][-2:] == ["rate", "reopen"]
    cases.assign_case(case, world["unit"], local_today() + timedelta(days=5), by=world["staff"])
    assert case.main_assignment.round == 2
    cases.reply_case(case, "已全部修复。", by=world["unit_user"])
    cases.send_answer(case, by=world["staff"])
    cases.rate_case(case, "unsatisfied")
    # the second 不满意 closes it: a case reopens only once
    assert case.status == "closed" and case.round == 2
    assert [(r.round, r.rating) for r in case.ratings] == [(1, "unsatisfied"), (2, "unsatisfied")]


def test_decline_sends_the_case_back_for_reassignment(world):
    case = assigned(world)
    cases.decline_case(case, "路灯属供电公司管理，不属本单位职责。", by=world["unit_user"])
    assert case.status == "new" and case.main_assignment is None
    assert case.assignments[0].state == "declined"
    cases.assign_case(case, world["other_unit"], local_today() + timedelta(days=3), by=world["staff"])
    assert case.main_assignment.unit_id == world["other_unit"].id
    # the declining unit may no longer reply
    with pytest.raises(CaseForbidden):
        cases.reply_case(case, "x", by=world["unit_user"])


def test_extension_requested_then_approved_or_refused(world):
    case = assigned(world)
    old = case.deadline
    cases.request_extension(case, old + timedelta(days=20), "需协调供电公司", by=world["unit_user"])
    with pytest.raises(DomainError, match="已有一项延期申请"):
        cases.request_extension(case, old + timedelta(days=30), "再延", by=world["unit_user"])
    cases.decide_extension(case, True, by=world["staff"])
    assert case.deadline == old + timedelta(days=20) and case.main_assignment.extended
    cases.request_extension(case, old + timedelta(days=40), "还需时间", by=world["unit_user"])
    cases.decide_extension(case, False, by=world["staff"], note="请按期办结")
    assert case.deadline == old + timedelta(days=20) and case.main_assignment.extension_until is None
    assert [s.action for s in case.steps][-4:] == ["extension_request", "extension_approve",
                                                   "extension_request", "extension_refuse"]


def test_extension_must_be_later_than_the_deadline(world):
    case = assigned(world)
    before = counts()
    with pytest.raises(DomainError, match="必须晚于原期限"):
        cases.request_extension(case, case.deadline, "理由", by=world["unit_user"])
    with pytest.raises(DomainError, match="没有待审批的延期申请"):
        cases.decide_extension(case, True, by=world["staff"])
    assert counts() == before


def test_merge_duplicates_folds_the_receipt_code_into_the_other_case(world):
    first = assigned(world)
    dup = new_case(world)
    cases.merge_cases(dup, first, by=world["liaison"])
    assert dup.status == "merged" and dup.merged_into_id == first.id
    assert cases.find_by_receipt(dup.receipt_code).id == first.id
    assert [s.action for s in first.steps][-1] == "merged_from"
    with pytest.raises(DomainError, match="不能进行此操作"):
        cases.merge_cases(dup, first, by=world["liaison"])
    with pytest.raises(DomainError, match="不能与自身合并"):
        cases.merge_cases(first, first, by=world["liaison"])


def test_overdue_query_lists_only_late_unanswered_cases(world):
    late = assigned(world)
    on_time = assigned(world)
    done = answered(world)
    future = local_today() + timedelta(days=15)
    assert db.session.scalars(cases.overdue_query()).all() == []
    later = future + timedelta(days=1)
    assert [c.id for c in db.session.scalars(cases.overdue_query(later))] == [late.id, on_time.id]
    assert late.is_overdue(later) and not done.is_overdue(later)


def test_find_by_receipt_is_lenient_about_format_and_silent_about_bad_codes(world):
    case = new_case(world)
    code = case.receipt_code
    assert cases.find_by_receipt(f" {code[:4].lower()}-{code[4:]} ").id == case.id
    for bad in ("", "ABC", "0OOOOOOO", "ABCDEFGHJ", None, "'; DROP", "ＡＢＣＤＥＦＧＨ"):
        assert cases.find_by_receipt(bad) is None
    assert cases.find_by_receipt("ZZZZZZZZ" if code != "ZZZZZZZZ" else "YYYYYYYY") is None


def test_receipt_codes_are_unique_in_the_database(world):
    from sqlalchemy.exc import IntegrityError

    case = new_case(world)
    db.session.add(Case(source="message", title="t", body="b", receipt_code=case.receipt_code))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_deputy_rates_only_their_own_case(world):
    deputy = world["deputy"]
    case = sent(world, deputy=deputy.deputy, station=None, by=world["staff"], contact_phone=None)
    before = counts()
    with pytest.raises(CaseForbidden):
        cases.rate_case(case, "satisfied", by=world["staff"], rater="deputy")
    assert counts() == before
    cases.rate_case(case, "basically", by=deputy, rater="deputy")
    assert case.status == "closed" and case.rating.label == "基本满意"


def test_close_an_unrated_sent_case(world):
    case = sent(world)
    cases.close_case(case, by=world["staff"], note="多次联系未接")
    assert case.status == "closed"


# ---- refusals: a clear Chinese message and nothing changed -----------------------------------

@pytest.mark.parametrize("unit, deadline, message", [
    (None, 5, "请选择承办单位"),
    ("unit", None, "请填写办理期限"),
    ("unit", -1, "办理期限不能早于今天"),
])
def test_assignment_needs_a_unit_and_a_deadline_from_today(world, unit, deadline, message):
    case = new_case(world)
    before, snapshot = counts(), state(case)
    when = None if deadline is None else local_today() + timedelta(days=deadline)
    with pytest.raises(DomainError, match=message):
        cases.assign_case(case, world[unit] if unit else None, when, by=world["staff"])
    assert counts() == before and state(case) == snapshot


def test_a_deadline_of_today_is_accepted(world):
    case = new_case(world)
    cases.assign_case(case, world["unit"], local_today(), by=world["staff"])
    assert not case.is_overdue()


@pytest.mark.parametrize("who", ["other_unit_user", "staff", "liaison", "deputy"])
def test_only_the_assigned_unit_may_reply_decline_or_ask_for_time(world, who):
    case = assigned(world)
    before, snapshot = counts(), state(case)
    for action in (lambda: cases.reply_case(case, "答复", by=world[who]),
                   lambda: cases.decline_case(case, "理由", by=world[who]),
                   lambda: cases.request_extension(case, case.deadline + timedelta(days=9), "理由", by=world[who])):
        with pytest.raises(CaseForbidden, match="未交办给您的单位") as info:
            action()
        assert info.value.status == 403
    assert counts() == before and state(case) == snapshot


def test_an_assisting_unit_cannot_decline_or_extend(world):
    case = new_case(world)
    cases.assign_case(case, world["unit"], local_today() + timedelta(days=5), by=world["staff"],
                      assisting=[world["other_unit"]])
    with pytest.raises(CaseForbidden):
        cases.decline_case(case, "理由", by=world["other_unit_user"])


@pytest.mark.parametrize("who", ["other_liaison", "unit_user", "deputy", None])
def test_only_staff_or_the_stations_liaison_manage_a_case(world, who):
    case = new_case(world)
    before, snapshot = counts(), state(case)
    user = world[who] if who else None
    with pytest.raises(CaseForbidden, match="无权处理"):
        cases.assign_case(case, world["unit"], local_today() + timedelta(days=5), by=user)
    with pytest.raises(CaseForbidden):
        cases.sort_case(case, by=user, category="交通")
    assert counts() == before and state(case) == snapshot


def test_rating_twice_is_refused(world):
    case = sent(world)
    cases.rate_case(case, "satisfied")
    before, snapshot = counts(), state(case)
    with pytest.raises(DomainError, match="已评价过，不能重复评价"):
        cases.rate_case(case, "unsatisfied")
    assert counts() == before and state(case) == snapshot


def test_the_database_refuses_a_second_rating_of_the_same_round(world):
    from sqlalchemy.exc import IntegrityError

    case = sent(world)
    cases.rate_case(case, "satisfied")
    db.session.add(CaseRating(case_id=case.id, round=1, rating="satisfied", rater="constituent"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("step, action, message", [
    ("new", lambda w, c: cases.reply_case(c, "x", by=w["unit_user"]), "未交办给您的单位"),
    ("new", lambda w, c: cases.send_answer(c, by=w["staff"]), "不能进行此操作"),
    ("new", lambda w, c: cases.rate_case(c, "satisfied"), "不能进行此操作"),
    ("assigned", lambda w, c: cases.assign_case(c, w["unit"], local_today(), by=w["staff"]), "不能进行此操作"),
    ("assigned", lambda w, c: cases.rate_case(c, "satisfied"), "不能进行此操作"),
    ("assigned", lambda w, c: cases.close_case(c, by=w["staff"]), "不能进行此操作"),
    ("answered", lambda w, c: cases.reply_case(c, "x", by=w["unit_user"]), "未交办给您的单位"),
    ("answered", lambda w, c: cases.rate_case(c, "satisfied"), "不能进行此操作"),
    ("answered", lambda w, c: cases.decline_case(c, "x", by=w["unit_user"]), "未交办给您的单位"),
    ("sent", lambda w, c: cases.send_answer(c, by=w["staff"]), "不能进行此操作"),
    ("sent", lambda w, c: cases.assign_case(c, w["unit"], local_today(), by=w["staff"]), "不能进行此操作"),
    ("sent", lambda w, c: cases.sort_case(c, by=w["staff"], category="x"), "不能进行此操作"),
])
def test_forbidden_transitions(world, step, action, message):
    case = {"new": new_case, "assigned": assigned, "answered": answered, "sent": sent}[step](world)
    before, snapshot = counts(), state(case)
    with pytest.raises(DomainError, match=message):
        action(world, case)
    assert counts() == before and state(case) == snapshot


@pytest.mark.parametrize("title, body, message", [
    ("", "内容", "请填写标题"),
    ("标题", "   ", "请填写内容"),
    ("标题", "字" * 5001, "内容不能超过 5000 个字符"),
])
def test_open_case_checks_its_text(world, title, body, message):
    before = counts()
    with pytest.raises(DomainError, match=message):
        cases.open_case("message", title, body)
    assert counts() == before


def test_bad_rating_value_and_empty_reasons(world):
    case = sent(world)
    with pytest.raises(DomainError, match="请选择评价"):
        cases.rate_case(case, "great")
    other = assigned(world)
    with pytest.raises(DomainError, match="请填写退回理由"):
        cases.decline_case(other, " ", by=world["unit_user"])
    with pytest.raises(DomainError, match="请填写答复内容"):
        cases.reply_case(other, "", by=world["unit_user"])
    assert other.status == "assigned" and case.status == "sent"


def test_inside_the_callers_transaction_a_case_step_commits_with_the_callers_rows_or_not_at_all(world):
    with pytest.raises(DomainError, match="调用方"), transaction():
        case = cases.open_case("suggestion", "关于增设公交线路的建议", "案由……", by=world["staff"],
                               source_ref="suggestion:1")
        assert case.id is not None  # flushed, not committed
        raise DomainError("调用方的规则拒绝了")
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    with transaction():
        cases.open_case("suggestion", "关于增设公交线路的建议", "案由……", by=world["staff"], source_ref="suggestion:1")
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
