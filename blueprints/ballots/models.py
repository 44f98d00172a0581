"""Tables of the livelihood-project ballots.

Integrity (DESIGN.md "Integrity of votes and records"): a deputy's vote is a receipt (UNIQUE ballot,
deputy) plus choices written in the same transaction. Choices carry no deputy, no time and a random
text id, so in a secret ballot nothing links a choice to a voter; named ballots also keep a named copy.
Paper counts and project progress are append-only (a correction is a new row).
"""
from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.cases import new_receipt_code
from ..core.errors import Conflict, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, utcnow
from . import methods
from .errors import VoteRefused

PROPOSAL_STATUSES = {"pending": "待审查", "accepted": "列入候选", "merged": "已合并", "rejected": "未采纳"}
PROPOSAL_SOURCES = {"public": "群众", "department": "部门"}
# Derived from the methods' registry (methods.py): their keys, choices and labels.
METHODS = {key: method.label for key, method in methods.REGISTRY.items()}


class _FromRegistry(dict):
    """A method's choices or a choice's label, also for a method registered after import (a test's)."""

    def __init__(self, build):
        self._build = build
        super().__init__(build())

    def __missing__(self, key):
        found = self._build()
        if key in found:
            return found[key]
        raise KeyError(key)


METHOD_CHOICES = _FromRegistry(lambda: {key: m.choices for key, m in methods.REGISTRY.items()})
CHOICE_LABELS = _FromRegistry(lambda: {c: label for m in methods.REGISTRY.values() for c, label in m.labels.items()})
BALLOT_STATUSES = {"draft": "草稿", "open": "投票中", "closed": "已截止", "published": "已公布"}
PROJECT_STATUSES = {"planned": "未开工", "in_progress": "实施中", "done": "已完成"}


def random_id() -> str:
    return secrets.token_hex(16)


class ProposalCall(db.Model):
    """一次征集: a call for proposals with a deadline."""

    __tablename__ = "proposal_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    scope_in: Mapped[str | None] = mapped_column(Text)  # published list of project types in scope
    scope_out: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposals: Mapped[list[Proposal]] = relationship(back_populates="call", order_by="Proposal.id")


class Proposal(db.Model):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'merged', 'rejected')", name="status"),
        CheckConstraint("source IN ('public', 'department')", name="source"),
        CheckConstraint("status <> 'merged' OR merged_into_id IS NOT NULL", name="merged_has_target"),
        CheckConstraint("cost_estimate IS NULL OR cost_estimate >= 0", name="cost_estimate"),
        Index("ix_proposals_receipt_code", "receipt_code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("proposal_calls.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="public")
    title: Mapped[str] = mapped_column(String(120))
    content: Mapped[str] = mapped_column(Text)  # what and where
    reason: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(64))  # private: never shown publicly
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id", ondelete="SET NULL"))
    cost_estimate: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    timeline: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    public_reason: Mapped[str | None] = mapped_column(String(255))
    # The proposer tracks it by this code on /messages/track, like a message (migration 0014).
    receipt_code: Mapped[str | None] = mapped_column(String(8), default=new_receipt_code)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[ProposalCall] = relationship(back_populates="proposals")
    unit = relationship("HandlingUnit")
    merged_into = relationship("Proposal", remote_side=[id])

    @property
    def status_label(self) -> str:
        return PROPOSAL_STATUSES.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        return PROPOSAL_SOURCES.get(self.source, self.source)


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (CheckConstraint("area_id IS NULL OR level = 'township'", name="township_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(16), default="county")
    term: Mapped[str | None] = mapped_column(String(32))  # 届次; empty: every serving deputy of the level
    # A township congress (乡镇人代会): its township; the roll is that township's deputies only.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    held_on: Mapped[date | None]
    checkin_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_urlsafe(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    area = relationship("Area")
    attendance: Mapped[list[Attendance]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    ballots: Mapped[list[Ballot]] = relationship(back_populates="meeting", order_by="Ballot.id")


class Attendance(db.Model):
    """The roll of a meeting (one row per deputy), and their check-in."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    deputy = relationship("Deputy")


class Ballot(db.Model):
    __tablename__ = "ballots"
    __table_args__ = (
        CheckConstraint(methods.sql_in("method", methods.REGISTRY), name="method"),
        CheckConstraint("status IN ('draft', 'open', 'closed', 'published')", name="status"),
        CheckConstraint("max_yes IS NULL OR max_yes > 0", name="max_yes"),
        CheckConstraint("places IS NULL OR places > 0", name="places"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(16), default="approve")
    secret: Mapped[bool] = mapped_column(Boolean, default=True)
    max_yes: Mapped[int | None] = mapped_column(Integer)  # 差额: at most N yes votes
    places: Mapped[int | None] = mapped_column(Integer)  # projects to be selected
    status: Mapped[str] = mapped_column(String(16), default="draft")
    eligible_count: Mapped[int | None] = mapped_column(Integer)  # all deputies on the roll, fixed at open
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The ballot box (sealing.py): made at the open; the wrapped private key is erased at the close.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)

    meeting: Mapped[Meeting] = relationship(back_populates="ballots")
    items: Mapped[list[BallotItem]] = relationship(back_populates="ballot", order_by="BallotItem.position",
                                                   cascade="all, delete-orphan")

    @property
    def rules(self) -> methods.BallotMethod:
        """The ballot's method (methods.py): choices, validation, passing rule, result columns."""
        return methods.get(self.method)

    @property
    def choices(self) -> tuple[str, ...]:
        return methods.get(self.method).choices

    @property
    def status_label(self) -> str:
        return BALLOT_STATUSES.get(self.status, self.status)

    @property
    def method_label(self) -> str:
        method = methods.REGISTRY.get(self.method)
        return method.label if method else self.method


class BallotItem(db.Model):
    __tablename__ = "ballot_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(120))
    unit_name: Mapped[str | None] = mapped_column(String(64))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    timeline: Mapped[str | None] = mapped_column(String(64))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("livelihood_projects.id", ondelete="SET NULL"))

    ballot: Mapped[Ballot] = relationship(back_populates="items")


class BallotReceipt(db.Model):
    """THAT a deputy voted (electronically or on paper). One per ballot and deputy, by constraint."""

    __tablename__ = "ballot_receipts"
    __table_args__ = (
        UniqueConstraint("ballot_id", "deputy_id"),
        CheckConstraint("channel IN ('electronic', 'paper')", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="RESTRICT"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="electronic")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # 选票核验码 of an electronic vote: a hash of its sealed box (never of the choices themselves).
    tracker: Mapped[str | None] = mapped_column(String(16))


class SealedVote(db.Model):
    """One electronic vote while the ballot is open: the whole ballot paper in one sealed box
    (sealing.py). No deputy, no item, no choice; a random id (SQLite: no rowid). Opened, checked and
    deleted when the ballot closes, which writes the plaintext choices (BallotChoice) instead."""

    __tablename__ = "ballot_sealed_votes"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="RESTRICT"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class BallotChoice(db.Model):
    """WHAT was chosen, written only when the ballot closes (voting.close_ballot), in shuffled order
    and in one statement, from the sealed votes: no deputy, no timestamp, a random id, no rowid on
    SQLite. While the ballot is open this table holds nothing of it."""

    __tablename__ = "ballot_choices"
    __table_args__ = (
        CheckConstraint(methods.sql_in("choice", methods.all_choices()), name="choice"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="RESTRICT"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ballot_items.id", ondelete="RESTRICT"))
    choice: Mapped[str] = mapped_column(String(16))


class NamedVote(db.Model):
    """记名 ballots only: who chose what, besides the anonymous choice used for the tally."""

    __tablename__ = "ballot_named_votes"
    __table_args__ = (UniqueConstraint("item_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="RESTRICT"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ballot_items.id", ondelete="RESTRICT"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"))
    choice: Mapped[str] = mapped_column(String(16))


class PaperCount(db.Model):
    """Tellers' count of paper ballots for one item; append-only, a correction refers to the row it
    replaces (each row can be replaced once, so the current count is the row nobody replaced). Its
    numbers are one PaperCountValue row per choice of the ballot's method."""

    __tablename__ = "ballot_paper_counts"
    __table_args__ = (UniqueConstraint("corrects_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="RESTRICT"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ballot_items.id", ondelete="RESTRICT"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("ballot_paper_counts.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(String(255))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entered_by_name: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item = relationship("BallotItem")
    values: Mapped[list[PaperCountValue]] = relationship(back_populates="entry", cascade="all",
                                                         order_by="PaperCountValue.id")

    @property
    def counts(self) -> dict[str, int]:
        return {v.choice: v.count for v in self.values}


class PaperCountValue(db.Model):
    """(item, choice, count): one number of a paper-count entry (the entry names the item)."""

    __tablename__ = "ballot_paper_count_values"
    __table_args__ = (
        UniqueConstraint("count_id", "choice"),
        CheckConstraint("count >= 0", name="non_negative"),
        CheckConstraint(methods.sql_in("choice", methods.all_choices()), name="choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("ballot_paper_counts.id", ondelete="RESTRICT"), index=True)
    choice: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)

    entry: Mapped[PaperCount] = relationship(back_populates="values")


class Project(db.Model):
    """A selected 民生实事 project, tracked to completion."""

    __tablename__ = "livelihood_projects"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress"),
        CheckConstraint("status IN ('planned', 'in_progress', 'done')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id", ondelete="SET NULL"), index=True)
    unit_name: Mapped[str | None] = mapped_column(String(64))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    timeline: Mapped[str | None] = mapped_column(String(64))
    source_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("ballot_items.id", ondelete="SET NULL", use_alter=True), unique=True
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit = relationship("HandlingUnit")
    updates: Mapped[list[ProjectUpdate]] = relationship(back_populates="project",
                                                        order_by="ProjectUpdate.id.desc()")

    @property
    def status_label(self) -> str:
        return PROJECT_STATUSES.get(self.status, self.status)


class ProjectUpdate(db.Model):
    """Progress posted by the responsible unit; append-only."""

    __tablename__ = "livelihood_project_updates"
    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 100", name="progress"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("livelihood_projects.id", ondelete="CASCADE"), index=True)
    progress: Mapped[int] = mapped_column(Integer)
    milestone: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    posted_by_name: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="updates")


class ProjectInspection(db.Model):
    """A deputy's verified inspection or survey (a duty activity) linked to the project it looked at,
    so the project's public page shows that deputies went to see it (代表视察)."""

    __tablename__ = "livelihood_project_inspections"
    __table_args__ = (UniqueConstraint("project_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("livelihood_projects.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("duty_activities.id", ondelete="CASCADE"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# What the constraints a user can run into mean to them (core.errors.constraint_refusal). The receipt's
# UNIQUE(ballot, deputy) is the final word on "one vote per deputy": two votes (or a vote and a paper
# mark) arriving in the same instant both pass the check, and the database refuses the second.
# Any other violation says which rule it broke; it never claims the deputy has voted.
register_constraint_messages({"uq_ballot_receipts_ballot_id_deputy_id": _l("您已投票")}, kind=VoteRefused)
register_constraint_messages({"ck_meetings_township_area": (_l("只有乡镇人代会可以选择乡镇。"), "area_id")})
register_constraint_messages({
    "uq_livelihood_project_inspections_project_id_activity_id": (_l("所选活动已经关联到本项目。"), "activity_ids"),
}, kind=Conflict)
