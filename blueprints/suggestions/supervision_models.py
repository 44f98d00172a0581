"""督 and 评 of suggestions (issue 19): supervision records of a key suggestion's leader, the unit's
handling plan with milestones and progress (三考), follow-up samples and visits (回访), interviews of a
unit's head (约谈问效), the carried-over suggestion's handling rounds in a later year (跨年滚动连办), links
to earlier suggestions on the same matter (年年提) and the yearly weights of the unit ranking.

The tables are in migrations/versions/0015_supervision_and_rating.py; the rules are in supervision.py,
plans.py, followups.py and rating.py of this package."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.cases import MAX_ROUNDS
from ..core.errors import Conflict, DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, utcnow

SUPERVISION_FORMS = {"forum": "座谈会", "site": "现场视察", "dispatch": "调度会", "interview": "约谈"}
INTERVIEW_KINDS = {"interview": "约谈", "written": "书面说明"}
INTERVIEW_REASONS = {"unsatisfied": "代表不满意", "overdue": "超期未答复", "both": "不满意且超期"}
SAMPLE_MODES = {"percent": "按比例", "count": "按件数"}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SupervisionRecord(db.Model):
    """督办记录: what the leader of a key suggestion did about it, shown to its deputies."""

    __tablename__ = "suggestion_supervisions"
    __table_args__ = (
        CheckConstraint(_in("form", SUPERVISION_FORMS), name="form"),
        Index("ix_suggestion_supervisions_suggestion_id", "suggestion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    held_on: Mapped[date]
    form: Mapped[str] = mapped_column(String(16))
    participants: Mapped[str] = mapped_column(Text)
    agreed: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    leader = relationship("User", foreign_keys=[leader_id])

    @property
    def form_label(self) -> str:
        return SUPERVISION_FORMS.get(self.form, self.form)


class HandlingPlan(db.Model):
    """一考方案: the main unit's handling plan of one round, with its milestones (二考 progress against them;
    the answer is 三考 the result)."""

    __tablename__ = "suggestion_plans"
    __table_args__ = (UniqueConstraint("suggestion_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    round: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"))
    summary: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    milestones: Mapped[list[PlanMilestone]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanMilestone.due_on")
    progress: Mapped[list[PlanProgress]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanProgress.id")
    unit = relationship("HandlingUnit")


class PlanMilestone(db.Model):
    __tablename__ = "suggestion_plan_milestones"
    __table_args__ = (Index("ix_suggestion_plan_milestones_due", "done_on", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("suggestion_plans.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    done_on: Mapped[date | None]

    plan: Mapped[HandlingPlan] = relationship(back_populates="milestones")

    def is_late(self, today: date) -> bool:
        return self.done_on is None and self.due_on < today


class PlanProgress(db.Model):
    """二考进度: one progress entry, against a milestone or the plan as a whole."""

    __tablename__ = "suggestion_plan_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("suggestion_plans.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(
        ForeignKey("suggestion_plan_milestones.id", ondelete="SET NULL"))
    reported_on: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(default=False)  # the milestone was reached with this entry
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    plan: Mapped[HandlingPlan] = relationship(back_populates="progress")
    milestone = relationship("PlanMilestone")


class FollowupSample(db.Model):
    """回访: a reproducible random sample of a session's answered suggestions (the seed is stored)."""

    __tablename__ = "suggestion_followup_samples"
    __table_args__ = (
        CheckConstraint(_in("mode", SAMPLE_MODES), name="mode"),
        CheckConstraint("size >= 1 AND size <= pool", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id", ondelete="RESTRICT"), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    value: Mapped[int]  # the percentage or the count asked for
    seed: Mapped[int]
    pool: Mapped[int]
    size: Mapped[int]
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    session = relationship("CongressSession")
    visits: Mapped[list[FollowupVisit]] = relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="FollowupVisit.id")


class FollowupVisit(db.Model):
    """One sampled suggestion's follow-up visit; unsatisfied ones are sent to a second handling."""

    __tablename__ = "suggestion_followup_visits"
    __table_args__ = (
        UniqueConstraint("sample_id", "suggestion_id"),
        CheckConstraint("(visited_on IS NULL) = (findings IS NULL)", name="recorded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("suggestion_followup_samples.id", ondelete="CASCADE"))
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"), index=True)
    visited_on: Mapped[date | None]
    visitors: Mapped[str | None] = mapped_column(String(200))
    findings: Mapped[str | None] = mapped_column(Text)
    deputy_satisfied: Mapped[bool | None]
    public_satisfied: Mapped[bool | None]
    second_handling_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    sample: Mapped[FollowupSample] = relationship(back_populates="visits")
    suggestion = relationship("Suggestion")

    @property
    def unsatisfied(self) -> bool:
        return self.visited_on is not None and not (self.deputy_satisfied and self.public_satisfied)


class UnitInterview(db.Model):
    """约谈问效: an interview of a unit's head, or a written explanation demanded of them, and its outcome."""

    __tablename__ = "suggestion_unit_interviews"
    __table_args__ = (
        CheckConstraint(_in("kind", INTERVIEW_KINDS), name="kind"),
        CheckConstraint(_in("reason", INTERVIEW_REASONS), name="reason"),
        Index("ix_suggestion_unit_interviews_unit_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("congress_sessions.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date]
    head_name: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit = relationship("HandlingUnit")
    session = relationship("CongressSession")

    @property
    def kind_label(self) -> str:
        return INTERVIEW_KINDS.get(self.kind, self.kind)

    @property
    def reason_label(self) -> str:
        return INTERVIEW_REASONS.get(self.reason, self.reason)


class CarryRound(db.Model):
    """跨年滚动连办: a carried-over suggestion assigned again in the year it was carried into, with a new
    deadline; at most MAX_ROUNDS rounds a year, until staff confirm it complete."""

    __tablename__ = "suggestion_carry_rounds"
    __table_args__ = (
        UniqueConstraint("carry_over_id", "round"),
        CheckConstraint(f"round >= 1 AND round <= {MAX_ROUNDS}", name="round"),
        CheckConstraint("(reported_at IS NULL) = (report IS NULL)", name="reported"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carry_over_id: Mapped[int] = mapped_column(ForeignKey("suggestion_carry_overs.id", ondelete="CASCADE"))
    round: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"), index=True)
    deadline: Mapped[date]
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    report: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit = relationship("HandlingUnit")
    carry_over = relationship("SuggestionCarryOver")


class SuggestionLink(db.Model):
    """年年提: this suggestion raises again the matter of an earlier one."""

    __tablename__ = "suggestion_links"
    __table_args__ = (
        UniqueConstraint("suggestion_id", "earlier_id"),
        CheckConstraint("suggestion_id <> earlier_id", name="not_self"),
        Index("ix_suggestion_links_earlier_id", "earlier_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    earlier_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    earlier = relationship("Suggestion", foreign_keys=[earlier_id])


class UnitRatingRule(db.Model):
    """The unit ranking's published formula of one year (staff set the weights, in points):
    score = on_time × 按时答复率 + satisfied × 满意率 + solved × A 类占比 + ballot × 反向测评满意率
            − second × 二次交办率 − overdue × 超期率 (each rate between 0 and 1)."""

    __tablename__ = "suggestion_unit_rating_rules"
    __table_args__ = (
        CheckConstraint("year >= 2000 AND year <= 2100", name="year"),
        CheckConstraint("w_on_time >= 0 AND w_satisfied >= 0 AND w_solved >= 0 AND w_ballot >= 0 "
                        "AND w_second >= 0 AND w_overdue >= 0", name="weights"),
    )

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    w_on_time: Mapped[int] = mapped_column(default=30)
    w_satisfied: Mapped[int] = mapped_column(default=40)
    w_solved: Mapped[int] = mapped_column(default=20)
    w_ballot: Mapped[int] = mapped_column(default=10)
    w_second: Mapped[int] = mapped_column(default=10)
    w_overdue: Mapped[int] = mapped_column(default=10)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


register_constraint_messages({
    "uq_suggestion_plans_suggestion_id_round": (_l("本轮已经报送过办理方案，不能重复报送。"), "summary"),
    "uq_suggestion_followup_visits_sample_id_suggestion_id": _l("这件建议已在本次回访样本中。"),
    "uq_suggestion_carry_rounds_carry_over_id_round": (_l("本年度这一轮已经交办过。"), "unit_id"),
    "uq_suggestion_links_suggestion_id_earlier_id": (_l("已经关联过这件建议。"), "earlier"),
}, kind=Conflict)
register_constraint_messages({
    "ck_suggestion_supervisions_form": (_l("请选择督办形式。"), "form"),
    "ck_suggestion_followup_samples_size": (_l("抽取件数必须在 1 和可抽取的件数之间。"), "value"),
    "ck_suggestion_carry_rounds_round": (_l("本年度连办已达两轮，不能再交办。"), "unit_id"),
    "ck_suggestion_links_not_self": (_l("不能关联建议自身。"), "earlier"),
    "ck_suggestion_unit_rating_rules_weights": (_l("权重不能为负数。"), "w_on_time"),
}, kind=DomainError)
