"""Motions (议案): a deputy's bill or motion to the congress, not a suggestion.

A motion needs a delegation (代表团) or at least ``MOTION_MIN_SIGNERS`` deputies (the lead deputy and
confirmed co-signers; 10 for a county congress, 5 for a township: a setting) before it is submitted; it
is numbered per session (议案第 N 号) when submitted; the presidium (大会主席团) or the motion review
committee (议案审查委员会) reviews it once (date, body, decision, reasons) and either puts it on the agenda
(列入议程, then its decision is recorded: 审议通过 / 未通过 / 交常委会审议 / 撤回) or converts it into a
suggestion (转为建议: the suggestion, in the suggestion workflow, points back with
``suggestions.from_motion_id``, UNIQUE, so a motion is converted once).
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import Conflict, DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, utcnow

STATUSES = {"draft": "草稿", "submitted": "待审查", "agenda": "列入议程", "converted": "已转为建议",
            "decided": "已作出决定"}
PUBLIC_STATUSES = ("submitted", "agenda", "converted", "decided")
DECISIONS = {"passed": "审议通过", "failed": "未通过", "referred": "交常委会审议", "withdrawn": "提案人撤回"}
REVIEW_BODIES = {"presidium": "大会主席团", "committee": "议案审查委员会"}
REVIEW_DECISIONS = {"agenda": "列入会议议程", "convert": "不列入议程，转为建议"}
SIGN_STATES = {"invited": "待确认", "confirmed": "已联名", "declined": "已谢绝"}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Motion(db.Model):
    __tablename__ = "motions"
    __table_args__ = (
        UniqueConstraint("session_id", "number"),  # 议案第 N 号, once per session
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("decision IS NULL OR " + _in("decision", DECISIONS), name="decision"),
        CheckConstraint("(number IS NULL) = (status = 'draft')", name="numbered"),
        CheckConstraint("(decision IS NULL) = (status <> 'decided')", name="decided"),
        CheckConstraint("number IS NULL OR number >= 1", name="number"),
        Index("ix_motions_register", "session_id", "status", "number"),
        Index("ix_motions_lead_deputy_id", "lead_deputy_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id", ondelete="RESTRICT"))
    number: Mapped[int | None]
    lead_deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"))
    delegation: Mapped[str | None] = mapped_column(String(64))  # 以代表团名义提出
    title: Mapped[str] = mapped_column(String(120))  # 案由
    grounds: Mapped[str] = mapped_column(Text)  # 理由
    proposal: Mapped[str] = mapped_column(Text)  # 办法（或法规草案要点）
    status: Mapped[str] = mapped_column(String(16), default="draft")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_on: Mapped[date | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    session = relationship("CongressSession")
    lead_deputy = relationship("Deputy")
    signers: Mapped[list[MotionSigner]] = relationship(
        back_populates="motion", cascade="all, delete-orphan", order_by="MotionSigner.id")
    review: Mapped[MotionReview | None] = relationship(back_populates="motion", cascade="all, delete-orphan",
                                                       uselist=False)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def decision_label(self) -> str:
        return DECISIONS.get(self.decision or "", "")

    @property
    def number_label(self) -> str:
        return f"议案第 {self.number} 号" if self.number else "未编号"

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def confirmed_signers(self) -> list[MotionSigner]:
        return [s for s in self.signers if s.state == "confirmed"]

    @property
    def signer_count(self) -> int:
        """The lead deputy and the confirmed co-signers (联名人数)."""
        return 1 + len(self.confirmed_signers)

    def __str__(self) -> str:
        return self.title


class MotionSigner(db.Model):
    """联名: invited by the lead deputy, confirmed by the deputy in their own workspace."""

    __tablename__ = "motion_signers"
    __table_args__ = (
        UniqueConstraint("motion_id", "deputy_id"),
        CheckConstraint(_in("state", SIGN_STATES), name="state"),
        CheckConstraint("(state = 'invited') = (answered_at IS NULL)", name="answered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="invited")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    motion: Mapped[Motion] = relationship(back_populates="signers")
    deputy = relationship("Deputy")

    @property
    def state_label(self) -> str:
        return SIGN_STATES.get(self.state, self.state)


class MotionReview(db.Model):
    """The review by the presidium or the 议案审查委员会: once per motion."""

    __tablename__ = "motion_reviews"
    __table_args__ = (
        UniqueConstraint("motion_id"),
        CheckConstraint(_in("body", REVIEW_BODIES), name="body"),
        CheckConstraint(_in("decision", REVIEW_DECISIONS), name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id", ondelete="CASCADE"))
    reviewed_on: Mapped[date]
    body: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    motion: Mapped[Motion] = relationship(back_populates="review")

    @property
    def body_label(self) -> str:
        return REVIEW_BODIES.get(self.body, self.body)

    @property
    def decision_label(self) -> str:
        return REVIEW_DECISIONS.get(self.decision, self.decision)


register_constraint_messages({
    "uq_motions_session_id_number": _l("本次会议已有这个编号的议案（可能有人同时提交），未做任何修改，请重新提交。"),
    "uq_motion_signers_motion_id_deputy_id": (_l("该代表已在联名名单中，不能重复邀请。"), "deputies"),
    "uq_motion_reviews_motion_id": _l("这件议案已经审查过，不能重复审查。"),
}, kind=Conflict)
register_constraint_messages({
    "ck_motions_decided": _l("议案的决定与状态不一致。"),
}, kind=DomainError)
