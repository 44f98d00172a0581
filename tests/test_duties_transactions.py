"""Duties on the one unit of work: services commit once (or only flush inside a caller's
transaction), record_activity joins its caller's transaction, and a duplicate that gets past the
services' own checks is refused by its constraint, with the message registered for that name."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blueprints.core.errors import Conflict, DomainError, constraint_message, violation
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from blueprints.core.timeutil import local_today
from blueprints.core.transaction import transaction
from blueprints.duties import reports, scoring, services
from blueprints.duties.models import ACTIVITY_TYPES, Absence, Activity, CongressTerm, ReportAssessment, ScoringYear

TODAY = local_today()
YEAR = TODAY.year
NONCE_UNIQUE = "uq_duty_activities_source_source_ref_deputy_id"
DEVICE_UNIQUE = "uq_duty_report_assessments_report_id_device_hash"


def values(**extra):
    return {"type_code": "survey", "occurred_on": TODAY - timedelta(days=1), "title": "农村饮水安全调研",
            "place": "临涣镇", "duration_minutes": 180, "description": "走访三个村", **extra}


def count(model=Activity):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def deputy_user(make_user, make_deputy):
    deputy = make_deputy(name="李明", level="county")
    return make_user("deputy", "liming", deputy=deputy)


def _self_activity(deputy_id: int, nonce: str, title: str = "调研") -> Activity:
    return Activity(deputy_id=deputy_id, type_code="survey", occurred_on=TODAY, year=YEAR, title=title,
                    status="pending", source="self", source_ref=nonce)


# ---- the messages come from the constraint names --------------------------------------------------

def test_the_one_time_token_unique_says_the_activity_was_already_submitted(deputy_user):
    """The form's token is checked first; a twin that slips past the check (a double click racing
    on another worker) meets the UNIQUE, whose name picks the message."""
    db.session.add(_self_activity(deputy_user.deputy_id, "nonce-1"))
    db.session.commit()
    db.session.add(_self_activity(deputy_user.deputy_id, "nonce-1", title="另一个标题"))
    with pytest.raises(IntegrityError) as caught:
        db.session.flush()
    db.session.rollback()
    assert violation(caught.value)[:2] == ("unique", NONCE_UNIQUE)

    with pytest.raises(DomainError) as refused, transaction():
        db.session.add(_self_activity(deputy_user.deputy_id, "nonce-1", title="另一个标题"))
    assert refused.value.message == "该活动已经提交过，请勿重复提交。" == constraint_message(NONCE_UNIQUE)
    assert refused.value.status == 422
    assert count() == 1


def test_a_phone_assessing_twice_is_refused_by_the_device_unique(make_deputy, users):
    """submit_assessment has no check of its own: the message is the one registered for the
    (report, device) UNIQUE, and the refusal is a conflict (409)."""
    deputy = make_deputy()
    report = reports.schedule(deputy, TODAY, "城关镇代表之家", None, users["staff"])
    reports.set_qr_open(report, True, users["staff"])
    reports.submit_assessment(report, "phone-1", "satisfied")
    with pytest.raises(Conflict) as refused:
        reports.submit_assessment(report, "phone-1", "unsatisfied")
    assert refused.value.message == "这部手机已经提交过本次测评，感谢参与。" == constraint_message(DEVICE_UNIQUE)
    assert refused.value.status == 409
    assert count(ReportAssessment) == 1
    assert reports.qr_counts(report.id)["satisfied"] == 1  # the first answer stands

    db.session.add(ReportAssessment(report_id=report.id, device_hash=reports.device_hash("phone-1", report),
                                    choice="basic"))
    with pytest.raises(IntegrityError) as caught:
        db.session.flush()
    db.session.rollback()
    assert violation(caught.value)[:2] == ("unique", DEVICE_UNIQUE)


def test_an_absence_recorded_twice_names_the_field_of_its_constraint(make_deputy, users):
    deputy = make_deputy()
    scoring.record_absence(deputy, TODAY, "未请假", users["staff"])
    with pytest.raises(Conflict, match="该代表当天的缺席已经登记过") as refused:
        scoring.record_absence(deputy, TODAY, "再次", users["staff"])
    assert refused.value.field == "occurred_on"
    assert count(Absence) == 1


def test_a_check_constraint_gives_its_own_message(deputy_user):
    with pytest.raises(DomainError, match="活动时长应大于 0") as refused, transaction():
        activity = _self_activity(deputy_user.deputy_id, "nonce-2")
        activity.duration_minutes = 0
        db.session.add(activity)
    assert refused.value.field == "duration_minutes"
    assert count() == 0


# ---- one commit, or only a flush inside the caller's transaction ---------------------------------

def test_record_activity_joins_the_callers_transaction(make_deputy):
    deputy = make_deputy()
    with pytest.raises(RuntimeError), transaction():
        services.record_activity(deputy.id, "reception", TODAY, "接待日值班", source="stations",
                                 source_ref="duty:8")
        raise RuntimeError("the caller's own change failed")
    assert count() == 0  # nothing of the failed transaction stays

    with transaction():
        first = services.record_activity(deputy.id, "reception", TODAY, "接待日值班", source="stations",
                                         source_ref="duty:8")
        again = services.record_activity(deputy.id, "reception", TODAY, "接待日值班", source="stations",
                                         source_ref="duty:8")
        assert first is again
    assert count() == 1


def test_a_service_called_in_a_callers_transaction_only_flushes(deputy_user):
    with pytest.raises(RuntimeError), transaction():
        activity = services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n-outer")
        assert activity.id is not None  # flushed
        raise RuntimeError("the caller changed its mind")
    assert count() == 0 and count(AuditEntry) == 0
    services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n-outer")
    db.session.rollback()  # called alone it has committed: a later rollback takes nothing away
    assert count() == 1


def test_a_refused_attachment_leaves_nothing_even_inside_a_callers_transaction(deputy_user):
    with transaction():
        with pytest.raises(DomainError, match="内容与扩展名不符"):
            services.log_activity(deputy_user.deputy, values(), deputy_user, nonce="n1",
                                  files=[("照片.jpg", b"MZ..")])
        assert not db.session.new  # the refusal came before anything was added
    assert count() == 0


def test_ensure_year_without_commit_flag_nests_in_save_rules(users):
    with pytest.raises(DomainError, match="分值不能为负数"):
        scoring.save_rules(YEAR, {"survey": ("-1", None)}, absence_deduction="5", minimums={},
                           actor=users["staff"])
    assert db.session.get(ScoringYear, YEAR) is None  # a refusal leaves no year behind
    with pytest.raises(RuntimeError), transaction():
        scoring.ensure_year(YEAR, users["staff"])
        raise RuntimeError("the caller failed")
    assert db.session.scalar(select(func.count()).select_from(ScoringYear)) == 0
    year = scoring.ensure_year(YEAR, users["staff"])
    assert year.year == YEAR and scoring.ensure_year(YEAR) is year


def test_a_term_is_saved_once_and_its_dates_are_checked(users):
    starts = TODAY.replace(month=1, day=1)
    with pytest.raises(DomainError, match="结束日期必须晚于开始日期"):
        scoring.save_term("county", "第十八届", starts, starts, users["staff"])
    scoring.save_term("county", " 第十八届 ", starts, None, users["staff"])
    scoring.save_term("county", "第十八届", starts - timedelta(days=1), None, users["staff"])
    terms = db.session.scalars(select(CongressTerm)).all()
    assert [(t.name, t.starts_on) for t in terms] == [("第十八届", starts - timedelta(days=1))]


# ---- what other areas read -------------------------------------------------------------------------

def test_read_functions_for_other_areas(make_deputy, users):
    deputy = make_deputy()
    created = services.log_for_many([deputy.id], values(type_code="inspection"), users["staff"], nonce="b1")
    services.record_activity(deputy.id, "reception", TODAY, "接待选民", source="stations", source_ref="r:1")
    db.session.commit()
    [inspection] = created
    picked = services.activities_for_project_picker(("inspection",), YEAR - 1, [], 10)
    assert [a.id for a in picked] == [inspection.id] and picked[0].deputy.name == deputy.name
    assert services.activities_for_project_picker(("inspection",), YEAR - 1, [inspection.id], 10) == []
    assert [a.id for a in services.verified_activities_among([inspection.id])] == [inspection.id]
    assert [a.id for a in services.activities_by_ids([inspection.id, 99999])] == [inspection.id]
    assert services.recorded_deputy_ids("stations", "r:1") == {deputy.id}
    summary = services.public_summary(deputy.id)
    assert sum(total for _year, _types, total in summary) == 2
    assert {label for _year, types, _total in summary for label, _n in types} == {
        ACTIVITY_TYPES["inspection"], ACTIVITY_TYPES["reception"]}
