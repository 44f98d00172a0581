"""Duty activities, the points rules of each year, absences, reminders and reports to voters.

An activity counts only once verified; it is scored under the rules of its own year (``year`` is
stored so that the ranking groups and filters on an index, never on a date function)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..core.errors import Conflict, DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, utcnow

# Activity types (code → label) in the order the forms list them.
ACTIVITY_TYPES = {
    "congress_session": "出席人代会",
    "standing_committee": "列席常委会会议",
    "inspection": "视察",
    "survey": "调研",
    "law_check": "执法检查",
    "reception": "接待选民",
    "contact": "联系选民",
    "group_activity": "代表小组活动",
    "training": "学习培训",
    "suggestion_lead": "提出建议（领衔）",
    "suggestion_cosign": "提出建议（附议）",
    "public_opinion": "反映社情民意",
    "voter_report": "向选民述职",
    "other": "其他",
}
_TYPE_LIST = ", ".join(f"'{code}'" for code in ACTIVITY_TYPES)

STATUSES = {"pending": "待核实", "verified": "已核实", "returned": "已退回"}
# The per-term minimums ("三个一") name these types.
MINIMUM_TYPES = ("standing_committee", "survey", "inspection")
MAX_DURATION_MINUTES = 7 * 24 * 60  # a congress session lasts days, never a month


class Activity(db.Model):
    __tablename__ = "duty_activities"
    __table_args__ = (
        CheckConstraint(f"type_code IN ({_TYPE_LIST})", name="type_code"),
        CheckConstraint("status IN ('pending', 'verified', 'returned')", name="status"),
        CheckConstraint(f"duration_minutes IS NULL OR (duration_minutes > 0 AND duration_minutes <= "
                        f"{MAX_DURATION_MINUTES})", name="duration"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year"),
        # record_activity() from other areas and a double-clicked form both land on this key.
        UniqueConstraint("source", "source_ref", "deputy_id"),
        # The annual ranking: one index range per year, grouped by deputy and type; with the date, the
        # activities per month are read from the index alone too.
        Index("ix_duty_activities_ranking", "year", "status", "deputy_id", "type_code", "occurred_on"),
        Index("ix_duty_activities_deputy_date", "deputy_id", "occurred_on", "id"),
        Index("ix_duty_activities_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"))
    type_code: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date]
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(120))
    place: Mapped[str | None] = mapped_column(String(128))
    duration_minutes: Mapped[int | None]
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    return_reason: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32), default="self")
    source_ref: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    deputy = relationship("Deputy")
    created_by = relationship("User", foreign_keys=[created_by_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    attachments: Mapped[list[ActivityAttachment]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityAttachment.id"
    )
    corrections: Mapped[list[ActivityCorrection]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityCorrection.id"
    )

    @property
    def type_label(self) -> str:
        return ACTIVITY_TYPES.get(self.type_code, self.type_code)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def duration_hours(self) -> Decimal | None:
        if self.duration_minutes is None:
            return None
        return (Decimal(self.duration_minutes) / 60).quantize(Decimal("0.1"))


class ActivityAttachment(db.Model):
    """A photo or document kept in the database (no worker keeps local files)."""

    __tablename__ = "duty_activity_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("duty_activities.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="attachments")


class ActivityCorrection(db.Model):
    """A verified activity changes only through a correction that says who changed what and why."""

    __tablename__ = "duty_activity_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("duty_activities.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(255))
    changes: Mapped[str] = mapped_column(Text)  # "field: old → new" lines

    activity: Mapped[Activity] = relationship(back_populates="corrections")
    by = relationship("User")


class ScoringYear(db.Model):
    """One year's published scoring rules: deductions and the per-term minimums (三个一)."""

    __tablename__ = "duty_scoring_years"
    __table_args__ = (
        CheckConstraint("absence_deduction >= 0", name="absence_deduction"),
        CheckConstraint("min_standing_committee >= 0 AND min_survey >= 0 AND min_inspection >= 0",
                        name="minimums"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year"),
    )

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    absence_deduction: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal("5"))
    min_standing_committee: Mapped[int] = mapped_column(default=1)
    min_survey: Mapped[int] = mapped_column(default=1)
    min_inspection: Mapped[int] = mapped_column(default=1)
    rules_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    rules: Mapped[list[PointsRule]] = relationship(
        back_populates="scoring_year", cascade="all, delete-orphan", order_by="PointsRule.id"
    )

    def minimums(self) -> dict[str, int]:
        return {"standing_committee": self.min_standing_committee, "survey": self.min_survey,
                "inspection": self.min_inspection}


class PointsRule(db.Model):
    __tablename__ = "duty_points_rules"
    __table_args__ = (
        UniqueConstraint("year", "type_code"),
        CheckConstraint(f"type_code IN ({_TYPE_LIST})", name="type_code"),
        CheckConstraint("points >= 0", name="points"),
        CheckConstraint("annual_cap IS NULL OR annual_cap >= 0", name="annual_cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("duty_scoring_years.year", ondelete="CASCADE"))
    type_code: Mapped[str] = mapped_column(String(32))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    annual_cap: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))  # None: no cap

    scoring_year: Mapped[ScoringYear] = relationship(back_populates="rules")

    @property
    def type_label(self) -> str:
        return ACTIVITY_TYPES.get(self.type_code, self.type_code)


class Absence(db.Model):
    """Absence from the congress session without leave (未请假缺席人代会): a deduction."""

    __tablename__ = "duty_absences"
    __table_args__ = (UniqueConstraint("deputy_id", "occurred_on"), Index("ix_duty_absences_year", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"))
    occurred_on: Mapped[date]
    year: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(255))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deputy = relationship("Deputy")


class Reminder(db.Model):
    """A reminder conversation (谈话提醒) held with a low-scoring deputy."""

    __tablename__ = "duty_reminders"
    __table_args__ = (UniqueConstraint("deputy_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"))
    year: Mapped[int]
    held_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(255))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deputy = relationship("Deputy")


class VoterReport(db.Model):
    """A deputy's report to voters (述职评议): scheduled, then held with attendance and 民主测评."""

    __tablename__ = "duty_voter_reports"
    __table_args__ = (
        CheckConstraint("attendance IS NULL OR attendance >= 0", name="attendance"),
        CheckConstraint("paper_satisfied >= 0 AND paper_basic >= 0 AND paper_unsatisfied >= 0", name="paper"),
        Index("ix_duty_voter_reports_deputy", "deputy_id", "scheduled_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"))
    scheduled_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(128))
    constituency: Mapped[str | None] = mapped_column(String(64))
    held: Mapped[bool] = mapped_column(default=False)
    attendance: Mapped[int | None]
    questions: Mapped[str | None] = mapped_column(Text)
    paper_satisfied: Mapped[int] = mapped_column(default=0)
    paper_basic: Mapped[int] = mapped_column(default=0)
    paper_unsatisfied: Mapped[int] = mapped_column(default=0)
    qr_token: Mapped[str] = mapped_column(String(32), unique=True)
    qr_open: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deputy = relationship("Deputy")


ASSESSMENT_CHOICES = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}


class ReportAssessment(db.Model):
    """One QR submission per phone per event: the phone's random cookie id, hashed, is unique per report."""

    __tablename__ = "duty_report_assessments"
    __table_args__ = (
        UniqueConstraint("report_id", "device_hash"),
        CheckConstraint("choice IN ('satisfied', 'basic', 'unsatisfied')", name="choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("duty_voter_reports.id", ondelete="CASCADE"))
    device_hash: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CongressTerm(db.Model):
    """The dates of a congress term (届) of one level: activities before it are refused, and the
    per-term minimums are counted inside it. Deputy.term names the term (e.g. 第十八届)."""

    __tablename__ = "duty_congress_terms"
    __table_args__ = (
        UniqueConstraint("level", "name"),
        CheckConstraint("ends_on IS NULL OR ends_on > starts_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]


# ---- what the constraints mean to a user (core.transaction turns their IntegrityError into these) --
# The services check the same rules first and say so field by field; these are the final word when
# two requests race past the checks (a double click, two staff at once), named as in 0004_duties.

register_constraint_messages({
    # The form's one-time token (source "self" or "batch", source_ref = the nonce) per deputy.
    "uq_duty_activities_source_source_ref_deputy_id": _l("该活动已经提交过，请勿重复提交。"),
    "ck_duty_activities_duration": (_l("活动时长应大于 0，且不超过 7 天（168 小时）。"), "duration_minutes"),
    "ck_duty_activities_year": (_l("活动日期的年度超出范围。"), "occurred_on"),
    "ck_duty_activities_type_code": (_l("请选择活动类型。"), "type_code"),
    "ck_duty_scoring_years_absence_deduction": (_l("缺席扣分不能为负数（填写要扣除的分数）。"), "absence_deduction"),
    "ck_duty_scoring_years_minimums": (_l("届内最低次数应为 0 到 100 之间的整数。"), "min_standing_committee"),
    "ck_duty_scoring_years_year": (_l("年度超出范围。"), "year"),
    "ck_duty_points_rules_points": _l("计分规则的分值不能为负数。"),
    "ck_duty_points_rules_annual_cap": _l("计分规则的年度上限不能为负数。"),
    "ck_duty_voter_reports_attendance": (_l("人数应为 0 或正整数。"), "attendance"),
    "ck_duty_voter_reports_paper": (_l("人数应为 0 或正整数。"), "satisfied"),
    "ck_duty_congress_terms_dates": (_l("结束日期必须晚于开始日期。"), "ends_on"),
}, kind=DomainError)
register_constraint_messages({
    "uq_duty_report_assessments_report_id_device_hash": _l("这部手机已经提交过本次测评，感谢参与。"),
    "uq_duty_absences_deputy_id_occurred_on": (_l("该代表当天的缺席已经登记过。"), "occurred_on"),
    "uq_duty_reminders_deputy_id_year": (_l("该代表本年度的谈话提醒已经记录过。"), "note"),
    "uq_duty_congress_terms_level_name": (_l("该届次已经登记过，请刷新后修改。"), "name"),
    "pk_duty_scoring_years": _l("该年度的计分规则刚刚由他人建立，请刷新后再保存。"),
    "uq_duty_points_rules_year_type_code": _l("该年度的计分规则刚刚由他人修改，请刷新后再保存。"),
}, kind=Conflict)
