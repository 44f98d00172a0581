"""Duty registration services: logging, verification, bulk logging, record_activity, scoring with
caps, deductions and year-versioned rules, archives, reminders and reports to voters."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from blueprints.core.errors import DomainError, Forbidden
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from blueprints.core.timeutil import local_today
from blueprints.duties import reports, scoring, services
from blueprints.duties.models import (
    ACTIVITY_TYPES,
    Activity,
    ActivityCorrection,
    CongressTerm,
    PointsRule,
    ReportAssessment,
    ScoringYear,
)
from blueprints.registry.models import GroupMembership

TODAY = local_today()
YEAR = TODAY.year
# Stands for "tomorrow" in parameters; resolved when the test runs, because a run that starts before
# midnight (Asia/Shanghai) and reaches the test after it would otherwise test "today".
TOMORROW = "tomorrow"


def values(**extra):
    return {"type_code": "survey", "occurred_on": TODAY - timedelta(days=1), "title": "农村饮水安全调研",
            "place": "临涣镇", "duration_minutes": 180, "description": "走访三个村", **extra}


def count(model=Activity):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def deputy_user(make_user, make_deputy):
    deputy = make_deputy(name="李明", level="county", term="第十八届")
    return make_user("deputy", "liming", deputy=deputy)


# ---- logging -------------------------------------------------------------------------------------

def test_a_deputy_logs_an_activity_that_waits_for_verification(deputy_user):
    activity = services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1",
                                     files=[("现场.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)])
    assert activity.status == "pending" and activity.year == (TODAY - timedelta(days=1)).year
    assert activity.attachments[0].content_type == "image/png"


@pytest.mark.parametrize(("change", "message"), [
    ({"occurred_on": TOMORROW}, "活动日期不能晚于今天"),
    ({"occurred_on": date(2020, 1, 1)}, "早于该代表本届任期的开始"),
    ({"duration_minutes": 0}, "活动时长应大于 0"),
    ({"duration_minutes": 30 * 24 * 60}, "不超过 7 天"),
    ({"title": "  "}, "请填写活动名称"),
    ({"type_code": "picnic"}, "请选择活动类型"),
])
def test_bad_activity_input_is_refused_and_nothing_is_written(deputy_user, change, message):
    change = {k: local_today() + timedelta(days=1) if v == TOMORROW else v for k, v in change.items()}
    db.session.add(CongressTerm(level="county", name="第十八届", starts_on=date(2021, 10, 1)))
    db.session.commit()
    with pytest.raises(DomainError, match=message):
        services.log_activity(deputy_user.deputy, values(**change), deputy_user, nonce="n1")
    assert count() == 0 and count(AuditEntry) == 0


def test_an_attachment_whose_content_does_not_match_is_refused(deputy_user):
    with pytest.raises(DomainError, match="内容与扩展名不符"):
        services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1", files=[("照片.jpg", b"MZ..")])
    with pytest.raises(DomainError, match="只能是 JPG、PNG 图片或 PDF"):
        services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1", files=[("a.exe", b"MZ")])
    assert count() == 0


def test_a_deputy_cannot_log_for_someone_else(deputy_user, make_deputy):
    other = make_deputy(name="王芳")
    with pytest.raises(Forbidden):
        services.log_activity(other, values(), deputy_user, nonce="n1")
    assert count() == 0


def test_a_double_click_submits_once(deputy_user):
    services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="same-token")
    with pytest.raises(DomainError, match="请勿重复提交"):
        services.log_activity(deputy_user.deputy, values(title="另一个标题"), deputy_user, nonce="same-token")
    with pytest.raises(DomainError, match="请勿重复登记"):
        services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="other-token")
    assert count() == 1


def test_an_activity_after_the_deputy_ended_is_refused(deputy_user):
    deputy = deputy_user.deputy
    deputy.ended_on, deputy.end_reason = TODAY - timedelta(days=10), "job_change"
    db.session.commit()
    with pytest.raises(DomainError, match="晚于该代表资格终止的日期"):
        services.log_activity(deputy, values(), deputy_user, nonce="n1")
    assert count() == 0


# ---- verification --------------------------------------------------------------------------------

def test_verification_transitions(deputy_user, users):
    staff = users["staff"]
    activity = services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1")
    with pytest.raises(DomainError, match="退回时请写明原因"):
        services.return_activity(activity, staff, " ")
    services.return_activity(activity, staff, "请补充照片")
    assert (activity.status, activity.return_reason) == ("returned", "请补充照片")
    with pytest.raises(DomainError, match="只能核实待核实的活动"):
        services.verify(activity, staff)
    services.resubmit(activity, values(description="补充了照片"), deputy_user)
    assert activity.status == "pending" and activity.return_reason is None
    services.verify(activity, staff)
    assert activity.status == "verified" and activity.verified_by_id == staff.id
    with pytest.raises(DomainError, match="已核实的活动不能直接修改"):
        services.resubmit(activity, values(title="改名"), deputy_user)
    assert db.session.get(Activity, activity.id).title == "农村饮水安全调研"


def test_nobody_verifies_their_own_activity(make_user, make_deputy):
    deputy = make_deputy(name="赵强")
    # A staff member who is also a deputy (a 常委会 member) logs and may not verify their own.
    staff_deputy = make_user("staff", "zhaoqiang", deputy=deputy)
    activity = services.record_activity(deputy.id, "survey", TODAY, "调研", source="t", source_ref="1",
                                        verified=False)
    db.session.commit()
    with pytest.raises(DomainError, match="不能核实本人的履职活动"):
        services.verify(activity, staff_deputy)
    assert db.session.get(Activity, activity.id).status == "pending"


def test_a_liaison_verifies_only_their_groups_deputies(deputy_user, make_user, county):
    liaison = make_user("liaison", "lianluo")
    group = county["groups"][0]
    group.liaison_user_id = liaison.id
    db.session.commit()
    activity = services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1")
    with pytest.raises(Forbidden):
        services.verify(activity, liaison)
    assert services.pending_queue.__call__(liaison) is not None
    assert db.session.scalars(services.pending_queue(liaison)).all() == []
    db.session.add(GroupMembership(group=group, deputy=deputy_user.deputy))
    db.session.commit()
    assert db.session.scalars(services.pending_queue(liaison)).all() == [activity]
    services.verify(activity, liaison)
    assert activity.status == "verified"


def test_a_verified_activity_changes_only_through_a_recorded_correction(deputy_user, users):
    activity = services.record_activity(deputy_user.deputy.id, "survey", TODAY, "调研", source="t", source_ref="1")
    db.session.commit()
    with pytest.raises(Forbidden):
        services.correct(activity, values(), deputy_user, "改")
    with pytest.raises(DomainError, match="请写明更正原因"):
        services.correct(activity, values(), users["staff"], "")
    services.correct(activity, values(type_code="inspection"), users["staff"], "类型登记错误")
    correction = db.session.scalar(select(ActivityCorrection))
    assert "type_code: survey → inspection" in correction.changes and correction.reason == "类型登记错误"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "correct")) is not None


# ---- bulk logging --------------------------------------------------------------------------------

def test_staff_log_one_group_activity_for_many_deputies(users, make_deputy):
    deputies = [make_deputy(name=f"代表{i}") for i in range(12)]
    created = services.log_for_many([d.id for d in deputies], values(type_code="inspection"), users["staff"],
                                    nonce="batch-1")
    assert len(created) == 12 and {a.status for a in created} == {"verified"}
    with pytest.raises(DomainError, match="请勿重复提交"):
        services.log_for_many([d.id for d in deputies], values(type_code="inspection"), users["staff"],
                              nonce="batch-1")
    assert count() == 12


def test_a_group_activity_naming_an_ended_deputy_is_refused(users, make_deputy):
    serving = make_deputy(name="在任代表")
    ended = make_deputy(name="终止代表", ended_on=TODAY - timedelta(days=30), end_reason="illness")
    with pytest.raises(DomainError, match="代表资格已终止.*终止代表"):
        services.log_for_many([serving.id, ended.id], values(), users["staff"], nonce="b")
    assert count() == 0


def test_a_liaison_logs_only_for_their_deputies(make_user, make_deputy, county):
    liaison = make_user("liaison", "lianluo", station=county["stations"][0])
    mine = make_deputy(name="站内代表", station=county["stations"][0])
    other = make_deputy(name="站外代表", station=county["stations"][1])
    with pytest.raises(Forbidden):
        services.log_for_many([mine.id, other.id], values(), liaison, nonce="b")
    assert count() == 0
    assert len(services.log_for_many([mine.id], values(), liaison, nonce="b")) == 1


# ---- record_activity -----------------------------------------------------------------------------

def test_record_activity_once_is_one_insert_idempotent_and_leaves_the_commit_to_the_caller(make_deputy):
    deputy = make_deputy()
    services.record_activity_once(deputy.id, "congress_session", TODAY, "县人代会", source="ballots",
                                  source_ref="meeting:3")
    services.record_activity_once(deputy.id, "congress_session", TODAY, "县人代会（重复）", source="ballots",
                                  source_ref="meeting:3")  # the UNIQUE key: nothing more, no error
    assert count() == 1
    db.session.rollback()
    assert count() == 0
    services.record_activity_once(deputy.id, "congress_session", TODAY, "县人代会", source="ballots",
                                  source_ref="meeting:3")
    db.session.commit()
    row = db.session.scalar(select(Activity))
    assert (row.title, row.status, row.year, row.verified_at is not None) == ("县人代会", "verified", TODAY.year, True)
    # the same record the general service finds: it returns it unchanged
    assert services.record_activity(deputy.id, "congress_session", TODAY, "x", source="ballots",
                                    source_ref="meeting:3").id == row.id
    with pytest.raises(DomainError, match="未知的履职活动类型"):
        services.record_activity_once(deputy.id, "vote", TODAY, "投票", source="ballots", source_ref="1")


def test_record_activity_once_stores_what_the_orm_stores(make_deputy, users):
    """Its INSERT is text with the columns' types bound: every stored value, read back raw, has the same
    form as the ORM's row for the same activity (dates, times, the account)."""
    deputy = make_deputy()
    services.record_activity(deputy.id, "congress_session", TODAY, "县人代会", source="ballots", source_ref="orm",
                             actor=users["staff"])
    services.record_activity_once(deputy.id, "congress_session", TODAY, "县人代会", source="ballots",
                                  source_ref="text", actor=users["staff"])
    db.session.commit()
    columns = ("deputy_id", "type_code", "occurred_on", "year", "title", "place", "duration_minutes", "status",
               "created_by_id", "verified_by_id", "return_reason")
    raw = {ref: row for ref, *row in db.session.execute(text(
        f"SELECT source_ref, {', '.join(columns)}, CAST(created_at AS TEXT), CAST(verified_at AS TEXT) "
        "FROM duty_activities"))}
    assert raw["orm"][:len(columns)] == raw["text"][:len(columns)]
    def shape(value):  # digits as 0, the fraction of a second dropped (PostgreSQL trims its zeros)
        return re.sub(r"\d", "0", re.sub(r"\.\d+", "", value))

    assert [shape(v) for v in raw["orm"][len(columns):]] == [shape(v) for v in raw["text"][len(columns):]]
    orm, once = (db.session.scalar(select(Activity).where(Activity.source_ref == ref)) for ref in ("orm", "text"))
    assert abs(orm.created_at - once.created_at).total_seconds() < 60 and once.verified_at is not None


def test_record_activity_is_idempotent_and_leaves_the_commit_to_the_caller(make_deputy):
    deputy = make_deputy()
    first = services.record_activity(deputy.id, "reception", TODAY, "接待日值班", source="stations",
                                     source_ref="duty:7")
    again = services.record_activity(deputy.id, "reception", TODAY, "接待日值班", source="stations",
                                     source_ref="duty:7")
    assert first is again and first.status == "verified"
    db.session.rollback()  # the caller's transaction failed: nothing of it stays
    assert count() == 0
    services.record_activity(deputy.id, "reception", TODAY, "接待日值班", source="stations", source_ref="duty:7")
    db.session.commit()
    assert count() == 1
    with pytest.raises(DomainError, match="未知的履职活动类型"):
        services.record_activity(deputy.id, "vote", TODAY, "投票", source="ballots", source_ref="1")


# ---- scoring -------------------------------------------------------------------------------------

def _add(deputy_id, type_code, n, year=YEAR, status="verified"):
    for i in range(n):
        db.session.add(Activity(deputy_id=deputy_id, type_code=type_code, occurred_on=date(year, 3, 1 + i % 28),
                                year=year, title="活动", status=status, source="test",
                                source_ref=f"{type_code}:{year}:{status}:{i}"))
    db.session.flush()


def test_scores_apply_caps_deductions_and_only_verified(make_deputy, users):
    a, b = make_deputy(name="甲"), make_deputy(name="乙")
    scoring.ensure_year(YEAR)
    scoring.save_rules(YEAR, {"survey": ("4", "10"), "reception": ("3", None)}, absence_deduction="5",
                       minimums={}, actor=users["staff"])
    _add(a.id, "survey", 5)          # 20 → capped at 10
    _add(a.id, "reception", 2)       # 6
    _add(a.id, "reception", 3, status="pending")  # not counted
    _add(b.id, "reception", 1)       # 3
    db.session.commit()
    scoring.record_absence(b, date(YEAR, 1, 5) if date(YEAR, 1, 5) <= TODAY else TODAY, "未请假", users["staff"])
    rows, total = scoring.ranking_page(YEAR, "county", 1)
    assert total == 3  # with the users fixture's deputy, who scores 0
    by_id = {r["deputy_id"]: r for r in rows}
    assert Decimal(str(by_id[a.id]["total"])) == 16 and by_id[a.id]["rank"] == 1
    assert Decimal(str(by_id[a.id]["survey"])) == 10
    assert Decimal(str(by_id[b.id]["total"])) == -2 and by_id[b.id]["absences"] == 1
    archive = scoring.archive(a, YEAR)
    assert archive.total == 16 and {t["code"]: t["pending"] for t in archive.by_type}["reception"] == 3


def test_changing_next_years_rules_never_changes_this_years_scores(make_deputy, users):
    deputy = make_deputy()
    scoring.ensure_year(YEAR)
    _add(deputy.id, "survey", 2)
    _add(deputy.id, "survey", 2, year=YEAR + 1)
    db.session.commit()
    before = scoring.deputy_standing(YEAR, deputy)["total"]
    scoring.save_rules(YEAR + 1, {"survey": ("50", None)}, absence_deduction="0", minimums={}, actor=users["staff"])
    assert scoring.deputy_standing(YEAR, deputy)["total"] == before
    assert Decimal(str(scoring.deputy_standing(YEAR + 1, deputy)["total"])) == 100
    # The next year started as a copy: both years keep their own rows.
    assert db.session.scalar(select(func.count()).select_from(PointsRule).where(PointsRule.year == YEAR + 1)) == len(
        ACTIVITY_TYPES)


def test_a_negative_cap_or_points_is_refused_and_nothing_changes(users):
    scoring.ensure_year(YEAR)
    with pytest.raises(DomainError, match="年度上限不能为负数"):
        scoring.save_rules(YEAR, {"survey": ("4", "-1")}, absence_deduction="5", minimums={}, actor=users["staff"])
    with pytest.raises(DomainError, match="分值不能为负数"):
        scoring.save_rules(YEAR, {"survey": ("-4", "1")}, absence_deduction="5", minimums={}, actor=users["staff"])
    rule = db.session.scalar(select(PointsRule).where(PointsRule.year == YEAR, PointsRule.type_code == "survey"))
    assert (rule.points, rule.annual_cap) == (Decimal("4"), Decimal("20"))


def test_published_results_freeze_the_years_rules(users, make_deputy):
    make_deputy()
    scoring.ensure_year(YEAR)
    notice = scoring.publish_results(YEAR, "county", users["staff"])
    assert notice.category == "duty_record" and "履职评价结果" in notice.title
    with pytest.raises(DomainError, match="评价结果已发布"):
        scoring.save_rules(YEAR, {"survey": ("9", None)}, absence_deduction="5", minimums={}, actor=users["staff"])
    rules_notice = scoring.publish_rules(YEAR, users["staff"])
    assert rules_notice.category == "rules" and "不设上限" in rules_notice.body


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(list(ACTIVITY_TYPES)),
                            st.tuples(st.integers(0, 6), st.integers(0, 8), st.one_of(st.none(), st.integers(0, 20))),
                            min_size=1, max_size=6))
def test_property_total_is_the_sum_of_capped_points_per_type(app, data):
    """For any counts and rules: total == Σ min(n × points, cap) over types."""
    from blueprints.registry.models import Deputy

    deputy = Deputy(name="性质测试", level="township")
    year = ScoringYear(year=2030, absence_deduction=Decimal("0"))
    db.session.add_all([deputy, year])
    db.session.flush()
    expected = Decimal("0")
    for code, (n, points, cap) in data.items():
        year.rules.append(PointsRule(type_code=code, points=Decimal(points) / 2,
                                     annual_cap=Decimal(cap) if cap is not None else None))
        _add(deputy.id, code, n, year=2030)
        raw = n * Decimal(points) / 2
        expected += min(raw, Decimal(cap)) if cap is not None else raw
    db.session.flush()
    try:
        assert Decimal(str(scoring.deputy_standing(2030, deputy)["total"])) == expected
    finally:
        db.session.rollback()


def test_archive_lists_missing_term_minimums(make_deputy):
    deputy = make_deputy()
    scoring.ensure_year(YEAR)
    _add(deputy.id, "survey", 1)
    db.session.commit()
    missing = {label for label, _done, _required in scoring.archive(deputy, YEAR).missing}
    assert missing == {"列席常委会会议", "视察"}


def test_reminder_is_recorded_once_per_year(make_deputy, users):
    deputy = make_deputy()
    scoring.record_reminder(deputy, YEAR, TODAY, "主任约谈，提醒按时参加小组活动", users["staff"])
    with pytest.raises(DomainError, match="已经记录过"):
        scoring.record_reminder(deputy, YEAR, TODAY, "再次", users["staff"])
    scoring.ensure_year(YEAR)
    flagged = {row["deputy_id"]: row for row in scoring.lowest(YEAR, "county", 5)}
    assert flagged[deputy.id]["note"] == "主任约谈，提醒按时参加小组活动"


# ---- reports to voters ---------------------------------------------------------------------------

def test_a_report_to_voters_is_held_assessed_and_counted_as_an_activity(make_deputy, users):
    deputy = make_deputy(constituency="第三选区")
    report = reports.schedule(deputy, TODAY, "城关镇代表之家", None, users["staff"])
    assert report.constituency == "第三选区"
    reports.set_qr_open(report, True, users["staff"])
    reports.submit_assessment(report, "phone-1", "satisfied")
    with pytest.raises(DomainError, match="已经提交过本次测评"):
        reports.submit_assessment(report, "phone-1", "unsatisfied")
    reports.submit_assessment(report, "phone-2", "basic")
    assert reports.qr_counts(report.id) == {"satisfied": 1, "basic": 1, "unsatisfied": 0}
    with pytest.raises(DomainError, match="不能超过到会人数"):
        reports.record_meeting(report, attendance=5, questions=None, satisfied=4, basic=2, unsatisfied=0,
                               actor=users["staff"])
    reports.record_meeting(report, attendance=40, questions="道路何时修好？", satisfied=30, basic=8, unsatisfied=2,
                           actor=users["staff"])
    reports.record_meeting(report, attendance=41, questions="道路何时修好？", satisfied=30, basic=8, unsatisfied=2,
                           actor=users["staff"])
    assert db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.type_code == "voter_report", Activity.status == "verified")) == 1
    reports.set_qr_open(report, False, users["staff"])
    with pytest.raises(DomainError, match="未开放或已结束"):
        reports.submit_assessment(report, "phone-3", "satisfied")
    assert count(ReportAssessment) == 2
    due = db.session.scalars(reports.tracking("county", None, reported=False)).all()
    assert deputy not in due


def test_attachments_are_limited_in_size_and_number(deputy_user):
    big = b"%PDF-" + b"0" * services.ATTACHMENT_MAX_BYTES
    with pytest.raises(DomainError, match="每个附件不能超过 5 MB"):
        services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1", files=[("大.pdf", big)])
    six = [(f"{i}.pdf", b"%PDF-1.4") for i in range(6)]
    with pytest.raises(DomainError, match="最多上传 5 个附件"):
        services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1", files=six)
    assert count() == 0


def test_rules_are_published_on_the_noticeboard_and_republishing_revises_the_same_notice(users):
    first = scoring.publish_rules(YEAR, users["staff"])
    scoring.save_rules(YEAR, {"survey": ("6", "30")}, absence_deduction="5", minimums={}, actor=users["staff"])
    second = scoring.publish_rules(YEAR, users["staff"])
    assert first.id == second.id and "| 调研 | 6 | 30 |" in second.body
