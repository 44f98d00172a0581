"""Personal meeting passes (扫码签到): one per deputy and meeting (blueprints/ballots/passes.py)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import Conflict, register_constraint_messages
from ..core.extensions import db
from ..core.timeutil import UTCDateTime, utcnow


class MeetingPass(db.Model):
    """The pass's code is never stored: only its SHA-256 (the code carries 128 random bits, so a fast
    hash is enough). ``device_hash`` is the SHA-256 of the random cookie of the phone that first used
    it: another phone is refused until the clerk reissues the pass (new code, no device)."""

    __tablename__ = "meeting_passes"
    __table_args__ = (UniqueConstraint("meeting_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device_hash: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    deputy = relationship("Deputy")
    meeting = relationship("Meeting")


register_constraint_messages({
    "uq_meeting_passes_meeting_id_deputy_id": _l("这位代表的签到证刚由另一位工作人员发放，请刷新页面。"),
    "uq_meeting_passes_code_hash": _l("签到证编码冲突，请重新发放。"),
}, kind=Conflict)
