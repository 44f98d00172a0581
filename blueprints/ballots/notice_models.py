"""Meeting notices (会议通知) with 回执 and 请假 (blueprints/ballots/notices.py).

One notice per meeting, sent to every deputy on the meeting's roll; each deputy's answer is one row
(UNIQUE notice + deputy): 参加 (attend) or 请假 (leave, with a reason), and for a leave request the
staff's decision (pending → approved | refused). An approved leave is an excused absence.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import Conflict, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, utcnow

ANSWERS = {"attend": _l("参加"), "leave": _l("请假")}
LEAVE_STATUSES = {"pending": _l("待审批"), "approved": _l("已准假"), "refused": _l("未准假")}


class MeetingNotice(db.Model):
    __tablename__ = "meeting_notices"
    __table_args__ = (UniqueConstraint("meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(128))
    starts: Mapped[str | None] = mapped_column(String(64))  # 报到时间, free text ("1月10日 8:30")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    meeting = relationship("Meeting")
    replies: Mapped[list[NoticeReply]] = relationship(back_populates="notice", cascade="all, delete-orphan",
                                                      order_by="NoticeReply.id")


class NoticeReply(db.Model):
    __tablename__ = "meeting_notice_replies"
    __table_args__ = (
        UniqueConstraint("notice_id", "deputy_id"),
        CheckConstraint("answer IN ('attend', 'leave')", name="answer"),
        CheckConstraint("leave_status IS NULL OR leave_status IN ('pending', 'approved', 'refused')",
                        name="leave_status"),
        CheckConstraint("(answer = 'leave' AND reason IS NOT NULL AND leave_status IS NOT NULL)"
                        " OR (answer = 'attend' AND leave_status IS NULL)", name="leave_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("meeting_notices.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    answer: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(255))
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    leave_status: Mapped[str | None] = mapped_column(String(16))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(String(255))

    notice: Mapped[MeetingNotice] = relationship(back_populates="replies")
    deputy = relationship("Deputy")

    @property
    def answer_label(self) -> str:
        return str(ANSWERS.get(self.answer, self.answer))

    @property
    def leave_label(self) -> str:
        return str(LEAVE_STATUSES.get(self.leave_status, "")) if self.leave_status else ""


register_constraint_messages({
    "uq_meeting_notices_meeting_id": _l("本次会议已经发出会议通知。"),
    "uq_meeting_notice_replies_notice_id_deputy_id": _l("您的回执刚刚已经提交，请刷新页面。"),
}, kind=Conflict)


# ---- notices of occasions without a congress meeting (blueprints/ballots/occasions.py) ----------------

OCCASION_KINDS = {"standing": _l("常委会会议"), "group": _l("代表小组活动"), "report": _l("向选民述职")}


class OccasionNotice(db.Model):
    """A notice of a standing committee sitting, a deputy group's activity or a report to voters: no
    congress Meeting (no quorum, ballots or check-in); its roll is its own recipient rows."""

    __tablename__ = "occasion_notices"
    __table_args__ = (
        CheckConstraint("kind IN ('standing', 'group', 'report')", name="kind"),
        CheckConstraint("(kind = 'group' AND group_id IS NOT NULL) OR (kind <> 'group' AND group_id IS NULL)",
                        name="group_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    held_on: Mapped[date]
    group_id: Mapped[int | None] = mapped_column(ForeignKey("deputy_groups.id", ondelete="RESTRICT"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))  # 述职: the township
    body: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(128))
    starts: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    group = relationship("DeputyGroup")
    area = relationship("Area")
    recipients: Mapped[list[OccasionRecipient]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="OccasionRecipient.id")

    @property
    def kind_label(self) -> str:
        return str(OCCASION_KINDS.get(self.kind, self.kind))


class OccasionRecipient(db.Model):
    """One deputy on an occasion notice's roll and their one answer (NULL: not answered yet)."""

    __tablename__ = "occasion_notice_recipients"
    __table_args__ = (
        UniqueConstraint("notice_id", "deputy_id"),
        CheckConstraint("answer IS NULL OR answer IN ('attend', 'leave')", name="answer"),
        CheckConstraint("leave_status IS NULL OR leave_status IN ('pending', 'approved', 'refused')",
                        name="leave_status"),
        CheckConstraint("(answer = 'leave' AND reason IS NOT NULL AND leave_status IS NOT NULL)"
                        " OR (answer = 'attend' AND leave_status IS NULL)"
                        " OR (answer IS NULL AND reason IS NULL AND leave_status IS NULL)", name="leave_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("occasion_notices.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    answer: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(255))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leave_status: Mapped[str | None] = mapped_column(String(16))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(String(255))

    notice: Mapped[OccasionNotice] = relationship(back_populates="recipients")
    deputy = relationship("Deputy")

    @property
    def answer_label(self) -> str:
        return str(ANSWERS.get(self.answer, "")) if self.answer else ""

    @property
    def leave_label(self) -> str:
        return str(LEAVE_STATUSES.get(self.leave_status, "")) if self.leave_status else ""


register_constraint_messages({
    "uq_occasion_notice_recipients_notice_id_deputy_id": _l("名单中有重复的代表。"),
}, kind=Conflict)
