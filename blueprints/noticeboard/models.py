"""Notices, their earlier versions and attachments. A published notice is a public record: an edit
after publication keeps the earlier text as a NoticeVersion row."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..core.errors import DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.pagecache import watch_tables
from ..core.timeutil import UTCDateTime, utcnow
from ..core.versioning import version_column

CATEGORIES = {
    "notice": "通知公告",
    "deputy_info": "代表信息",
    "group_plan": "小组计划",
    "reception": "接待安排",
    "duty_record": "履职情况",
    "suggestion_result": "建议办理结果",
    "ballot_result": "票决结果",
    "project_progress": "民生实事进展",
    "rules": "制度规定",
}
SCOPES = {"county": "全县", "township": "乡镇(街道)", "station": "联络站"}


class Notice(db.Model):
    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(
            "category IN ('notice', 'deputy_info', 'group_plan', 'reception', 'duty_record', "
            "'suggestion_result', 'ballot_result', 'project_progress', 'rules')",
            name="category",
        ),
        CheckConstraint(
            "(scope = 'county' AND area_id IS NULL AND station_id IS NULL) OR "
            "(scope = 'township' AND area_id IS NOT NULL AND station_id IS NULL) OR "
            "(scope = 'station' AND station_id IS NOT NULL)",
            name="scope",
        ),
        CheckConstraint("take_down_at IS NULL OR publish_at IS NULL OR take_down_at > publish_at",
                        name="window"),
        CheckConstraint("version >= 1", name="version"),
        # publish_notice() from other areas updates its own notice instead of adding a second one.
        UniqueConstraint("source", "source_ref"),
        # Title included: counting a title search reads only the index, not every body.
        Index("ix_notices_public", "publish_at", "take_down_at", "title"),
        Index("ix_notices_category_publish_at", "category", "publish_at", "id"),
        Index("ix_notices_listing", "pinned", "publish_at", "id", "title"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    # bumped on every UPDATE: a save from an older edit form is refused (core.versioning)
    row_version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": row_version}
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(String(16), default="county")
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"), index=True)
    pinned: Mapped[bool] = mapped_column(default=False)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: a draft
    take_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last edit after publication
    version: Mapped[int] = mapped_column(default=1)
    source: Mapped[str | None] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    area = relationship("Area")
    station = relationship("Station")
    created_by = relationship("User")
    attachments: Mapped[list[NoticeAttachment]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeAttachment.id"
    )
    versions: Mapped[list[NoticeVersion]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeVersion.version.desc()"
    )

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def scope_label(self) -> str:
        if self.scope == "township" and self.area:
            return self.area.name
        if self.scope == "station" and self.station:
            return self.station.name
        return SCOPES.get(self.scope, self.scope)

    def status(self, now: datetime | None = None) -> str:
        now = now or utcnow()
        if self.publish_at is None:
            return "draft"
        if self.take_down_at is not None and self.take_down_at <= now:
            return "taken_down"
        if self.publish_at > now:
            return "scheduled"
        return "published"

    def is_public(self, now: datetime | None = None) -> bool:
        return self.status(now) == "published"


STATUS_LABELS = {"draft": "草稿", "scheduled": "待发布", "published": "已发布", "taken_down": "已撤下"}


class NoticeVersion(db.Model):
    """The text of a notice as it stood before an edit made after publication (append-only)."""

    __tablename__ = "notice_versions"
    __table_args__ = (UniqueConstraint("notice_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    version: Mapped[int]
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())  # when this text went public
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    notice: Mapped[Notice] = relationship(back_populates="versions")
    replaced_by = relationship("User")


class NoticeAttachment(db.Model):
    __tablename__ = "notice_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    # Files live in the database so that every worker and machine sees them (no local state).
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notice: Mapped[Notice] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


watch_tables(Notice.__tablename__, NoticeVersion.__tablename__, NoticeAttachment.__tablename__)

# What a user is told when a change breaks one of these constraints (core.errors.constraint_refusal).
register_constraint_messages({
    "uq_notices_source_source_ref": _l("这项内容已有公示，请刷新页面后修改原公示。"),
    "uq_notice_versions_notice_id_version": _l("这条公示刚被他人修改过，请刷新页面后重试。"),
})
register_constraint_messages({
    "ck_notices_window": (_l("撤下时间必须晚于发布时间。"), "take_down_at"),
    "ck_notices_scope": (_l("公示范围与所选乡镇或联络站不符。"), "scope"),
    "ck_notices_category": (_l("请选择公示栏目。"), "category"),
}, kind=DomainError)
