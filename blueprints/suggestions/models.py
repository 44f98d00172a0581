"""Deputy suggestions (代表建议、批评和意见): 提 → 交办 → 办 → 评 → 督.

A suggestion belongs to a congress session, has a lead deputy (领衔) and co-signers (附议), goes
through pre-review (预审) and registration (立案, a number per session). Its handling is a core case
(blueprints.core.cases: assignment, extension, decline, reply, rating, one reopen); the suggestion keeps
what is particular to it: 主办/协办 through the case, the A/B/C answer with its reasons, promised date
and reply letter per round, the 三沟通 contacts, key supervision and the carry-over to later years.

The columns ``status``, ``round``, ``main_unit_id``, ``deadline``, ``reply_class``, ``answered_on_time``
and ``rating`` mirror the current state so that the register and the statistics are single indexed
queries; only the services in this package write them, in the same transaction as the case.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..core.cases import Case, reply_class_text
from ..core.errors import Conflict, DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, local_today, utcnow
from ..core.versioning import version_column

CATEGORIES = {
    "economy": "经济发展",
    "urban": "城乡建设",
    "transport": "交通运输",
    "agriculture": "农业农村",
    "education": "教育科技",
    "health": "医疗卫生",
    "social": "社会保障",
    "environment": "生态环境",
    "law": "政法民政",
    "other": "其他",
}
STATUSES = {
    "draft": "草稿",
    "submitted": "待预审",
    "returned": "退回修改",
    "registered": "待交办",
    "assigned": "办理中",
    "answered": "已答复待评价",
    "closed": "已办结",
}
# What the public sees: drafts and the pre-review are private.
PUBLIC_STATUSES = ("registered", "assigned", "answered", "closed")
COSIGN_STATES = {"invited": "待确认", "confirmed": "已附议", "declined": "已谢绝"}
REVIEW_DECISIONS = {"pass": "通过", "return": "退回修改"}
REVIEWER_KINDS = {"group": "代表小组/专业小组", "office": "代表工委"}
CONTACT_STAGES = {"before": "办前沟通", "during": "办中沟通", "after": "办后沟通"}
CONTACT_WAYS = {"visit": "登门走访", "meeting": "座谈交流", "site": "实地调研", "phone": "电话沟通",
                "letter": "书面沟通"}
REPLY_CLASSES = {"A": "已经解决", "B": "正在解决（列入计划）", "C": "暂时无法解决"}
RATINGS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
TIMINGS = {"session": "大会期间", "recess": "闭会期间"}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CongressSession(db.Model):
    """One session of the people's congress (e.g. 县十八届人大二次会议). Suggestions made between
    sessions (闭会期间) are filed under the session that takes them in."""

    __tablename__ = "congress_sessions"
    __table_args__ = (CheckConstraint("closes_on IS NULL OR closes_on >= opens_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    year: Mapped[int] = mapped_column(index=True)
    opens_on: Mapped[date]
    closes_on: Mapped[date | None]
    accepting: Mapped[bool] = mapped_column(default=True)  # deputies may file suggestions under it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def in_session(self, day: date | None = None) -> bool:
        day = day or local_today()
        return self.opens_on <= day <= (self.closes_on or self.opens_on)

    def __str__(self) -> str:
        return self.name


class Suggestion(db.Model):
    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("session_id", "number"),  # 第 N 号, once per session
        UniqueConstraint("case_id"),
        UniqueConstraint("from_case_id"),  # a 社情民意 case becomes one suggestion at most
        UniqueConstraint("from_motion_id"),  # a motion is converted (转为建议) once
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint("timing IS NULL OR " + _in("timing", TIMINGS), name="timing"),
        CheckConstraint("reply_class IS NULL OR " + _in("reply_class", REPLY_CLASSES), name="reply_class"),
        CheckConstraint("rating IS NULL OR " + _in("rating", RATINGS), name="rating"),
        CheckConstraint("round >= 1 AND round <= 2", name="round"),
        CheckConstraint("number IS NULL OR number >= 1", name="number"),
        CheckConstraint("(number IS NULL) = (status IN ('draft', 'submitted', 'returned'))", name="registered"),
        CheckConstraint("NOT is_key OR key_leader IS NOT NULL", name="key_leader"),
        CheckConstraint("NOT reply_withheld OR withheld_reason IS NOT NULL", name="withheld_reason"),
        Index("ix_suggestions_register", "session_id", "status", "number"),
        Index("ix_suggestions_lead_status", "lead_deputy_id", "status"),
        Index("ix_suggestions_unit_status", "main_unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # bumped on every UPDATE: a save from an older edit form is refused (core.versioning)
    row_version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": row_version}
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id", ondelete="RESTRICT"))
    number: Mapped[int | None]
    lead_deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(120))  # 案由
    grounds: Mapped[str] = mapped_column(Text)  # 案据
    proposal: Mapped[str] = mapped_column(Text)  # 方案
    category: Mapped[str] = mapped_column(String(16), default="other")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    revision: Mapped[int] = mapped_column(default=1)
    timing: Mapped[str | None] = mapped_column(String(8))  # filed during the session or in recess
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    # Mirrors of the handling state (see the module docstring).
    round: Mapped[int] = mapped_column(default=1)
    main_unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"))
    deadline: Mapped[date | None]
    reply_class: Mapped[str | None] = mapped_column(String(1))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_on_time: Mapped[bool | None]
    rating: Mapped[str | None] = mapped_column(String(16))
    # Publication of the reply (staff withhold a reply containing personal data, with a reason).
    reply_withheld: Mapped[bool] = mapped_column(default=False)
    withheld_reason: Mapped[str | None] = mapped_column(String(255))
    # 督: key supervision led by a named committee leader.
    is_key: Mapped[bool] = mapped_column(default=False)
    key_leader: Mapped[str | None] = mapped_column(String(64))  # the leader's name as shown
    key_leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # 跨年滚动连办: the latest year it was carried into; done when the follow-up is confirmed complete.
    carried_to_year: Mapped[int | None]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completion_note: Mapped[str | None] = mapped_column(Text)
    # Where it came from (migration 0016): a deputy's 社情民意 case, or a motion converted into a suggestion.
    from_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    from_motion_id: Mapped[int | None] = mapped_column(ForeignKey("motions.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    session: Mapped[CongressSession] = relationship()
    lead_deputy = relationship("Deputy")
    main_unit = relationship("HandlingUnit")
    leader = relationship("User", foreign_keys=[key_leader_id])
    case: Mapped[Case | None] = relationship(foreign_keys=[case_id])
    from_case: Mapped[Case | None] = relationship(foreign_keys=[from_case_id])
    cosigners: Mapped[list[SuggestionCosigner]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="SuggestionCosigner.id")
    reviews: Mapped[list[SuggestionReview]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="SuggestionReview.id")
    revisions: Mapped[list[SuggestionRevision]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="SuggestionRevision.revision")
    answers: Mapped[list[SuggestionAnswer]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="SuggestionAnswer.round")
    contacts: Mapped[list[SuggestionContact]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="SuggestionContact.contacted_on")
    carry_overs: Mapped[list[SuggestionCarryOver]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan", order_by="SuggestionCarryOver.year")

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def reply_class_label(self) -> str:
        return REPLY_CLASSES.get(self.reply_class or "", "")

    @property
    def reply_class_text(self) -> str:
        return reply_class_text(self.reply_class, REPLY_CLASSES)

    @property
    def rating_label(self) -> str:
        return RATINGS.get(self.rating or "", "")

    @property
    def number_label(self) -> str:
        return f"第 {self.number} 号" if self.number else "未编号"

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def needs_follow_up(self) -> bool:
        """Unfinished: a B-class answer not yet carried through, or the deputy stayed unsatisfied."""
        return (self.status == "closed" and self.completed_at is None
                and (self.reply_class == "B" or self.rating == "unsatisfied"))

    @property
    def latest_answer(self) -> SuggestionAnswer | None:
        return self.answers[-1] if self.answers else None

    def is_overdue(self, today: date | None = None) -> bool:
        return bool(self.status == "assigned" and self.deadline and self.deadline < (today or local_today()))

    def __str__(self) -> str:
        return self.title


class SuggestionCosigner(db.Model):
    """附议: invited by the lead deputy, confirmed by the co-signer in their own workspace."""

    __tablename__ = "suggestion_cosigners"
    __table_args__ = (
        UniqueConstraint("suggestion_id", "deputy_id"),
        CheckConstraint(_in("state", COSIGN_STATES), name="state"),
        CheckConstraint("(state = 'invited') = (answered_at IS NULL)", name="answered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="invited")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    suggestion: Mapped[Suggestion] = relationship(back_populates="cosigners")
    deputy = relationship("Deputy")

    @property
    def state_label(self) -> str:
        return COSIGN_STATES.get(self.state, self.state)


class SuggestionReview(db.Model):
    """预审: a group/professional-group reviewer or the office passes it or returns it with comments."""

    __tablename__ = "suggestion_reviews"
    __table_args__ = (
        CheckConstraint(_in("decision", REVIEW_DECISIONS), name="decision"),
        CheckConstraint(_in("reviewer_kind", REVIEWER_KINDS), name="reviewer_kind"),
        Index("ix_suggestion_reviews_suggestion_id", "suggestion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    revision: Mapped[int]
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_name: Mapped[str] = mapped_column(String(64))
    reviewer_kind: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    suggestion: Mapped[Suggestion] = relationship(back_populates="reviews")

    @property
    def decision_label(self) -> str:
        return REVIEW_DECISIONS.get(self.decision, self.decision)

    @property
    def reviewer_kind_label(self) -> str:
        return REVIEWER_KINDS.get(self.reviewer_kind, self.reviewer_kind)


class SuggestionRevision(db.Model):
    """The text as it stood before a revision made after submission (append-only)."""

    __tablename__ = "suggestion_revisions"
    __table_args__ = (UniqueConstraint("suggestion_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    revision: Mapped[int]
    title: Mapped[str] = mapped_column(String(120))
    grounds: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)  # why it was revised
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    suggestion: Mapped[Suggestion] = relationship(back_populates="revisions")


class SuggestionAnswer(db.Model):
    """The main unit's formal answer in one handling round; the first answer stays after 二次交办."""

    __tablename__ = "suggestion_answers"
    __table_args__ = (
        UniqueConstraint("suggestion_id", "round"),
        CheckConstraint(_in("reply_class", REPLY_CLASSES), name="reply_class"),
        CheckConstraint("reply_class <> 'B' OR promised_on IS NOT NULL", name="promised_on"),
        CheckConstraint("reply_class <> 'C' OR reasons IS NOT NULL", name="reasons"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    round: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"))
    reply_class: Mapped[str] = mapped_column(String(1))
    text: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str | None] = mapped_column(Text)  # C: why it cannot be solved now
    promised_on: Mapped[date | None]  # B: when it will be solved
    deadline: Mapped[date]
    on_time: Mapped[bool]
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    letter_filename: Mapped[str | None] = mapped_column(String(200))
    letter_content_type: Mapped[str | None] = mapped_column(String(100))
    letter_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    suggestion: Mapped[Suggestion] = relationship(back_populates="answers")
    unit = relationship("HandlingUnit")

    @property
    def reply_class_label(self) -> str:
        return REPLY_CLASSES.get(self.reply_class, self.reply_class)

    @property
    def reply_class_text(self) -> str:
        return reply_class_text(self.reply_class, REPLY_CLASSES)


class SuggestionContact(db.Model):
    """三沟通: the unit's contact with the deputy before, during and after handling."""

    __tablename__ = "suggestion_contacts"
    __table_args__ = (
        CheckConstraint(_in("stage", CONTACT_STAGES), name="stage"),
        CheckConstraint(_in("way", CONTACT_WAYS), name="way"),
        Index("ix_suggestion_contacts_suggestion_id", "suggestion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"))
    round: Mapped[int]
    stage: Mapped[str] = mapped_column(String(8))
    way: Mapped[str] = mapped_column(String(8))
    contacted_on: Mapped[date]
    content: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    suggestion: Mapped[Suggestion] = relationship(back_populates="contacts")
    unit = relationship("HandlingUnit")

    @property
    def stage_label(self) -> str:
        return CONTACT_STAGES.get(self.stage, self.stage)

    @property
    def way_label(self) -> str:
        return CONTACT_WAYS.get(self.way, self.way)


class SuggestionCarryOver(db.Model):
    """跨年滚动连办: one row per year an unfinished suggestion is carried into."""

    __tablename__ = "suggestion_carry_overs"
    __table_args__ = (
        UniqueConstraint("suggestion_id", "year"),
        CheckConstraint("reason IN ('B', 'unsatisfied')", name="reason"),
        Index("ix_suggestion_carry_overs_year", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    year: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))
    carried_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    carried_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    suggestion: Mapped[Suggestion] = relationship(back_populates="carry_overs")

    @property
    def reason_label(self) -> str:
        return {"B": "B 类正在解决", "unsatisfied": "代表不满意"}.get(self.reason, self.reason)


# What a user is told when the database has the last word (two requests at once, or a rule a service
# checks first): the constraint names of migrations/versions/0006_suggestions.py.
register_constraint_messages({
    "uq_suggestions_session_id_number": (
        _l("本次会议已有这个编号的建议（可能有人同时立案），未做任何修改，请重新立案。"), "number"),
    "uq_suggestions_case_id": _l("这件建议已经立案，不能重复立案。"),
    "uq_suggestions_from_case_id": _l("这件社情民意已经转为代表建议，不能重复转。"),
    "uq_suggestions_from_motion_id": _l("这件议案已经转为建议，不能重复转。"),
    "uq_suggestion_cosigners_suggestion_id_deputy_id": (
        _l("该代表已在附议名单中，不能重复邀请。"), "deputies"),
    "uq_congress_sessions_name": (_l("已有同名的会议。"), "name"),
    "uq_suggestion_answers_suggestion_id_round": (_l("本轮已经答复过，不能重复答复。"), "text"),
    "uq_suggestion_revisions_suggestion_id_revision": (
        _l("这件建议刚被修订过，请刷新页面后再修订。"), "note"),
    "uq_suggestion_carry_overs_suggestion_id_year": (
        _l("这件建议已转入该年度跨年连办，不能重复转入。"), "year"),
}, kind=Conflict)
register_constraint_messages({
    "ck_suggestions_number": (_l("编号必须是正整数。"), "number"),
    "ck_suggestions_key_leader": (_l("请填写牵头督办领导。"), "key_leader"),
    "ck_suggestions_withheld_reason": (_l("请填写不公开理由。"), "reason"),
    "ck_suggestion_answers_promised_on": (_l("B 类答复请填写承诺解决的日期。"), "promised_on"),
    "ck_suggestion_answers_reasons": (_l("请填写暂时无法解决的原因。"), "reasons"),
    "ck_congress_sessions_dates": (_l("闭幕日期不能早于开幕日期。"), "closes_on"),
}, kind=DomainError)

from . import supervision_models  # noqa: E402, F401  (督 and 评 tables: issue 19)
