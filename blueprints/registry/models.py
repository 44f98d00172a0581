"""Deputies, deputy groups, liaison stations and handling units."""
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
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.pagecache import watch_tables
from ..core.timeutil import UTCDateTime, utcnow
from ..core.versioning import version_column

# The five levels of people's congress (五级人大代表).
LEVELS = ("national", "provincial", "city", "county", "township")
LEVEL_LABELS = {
    "national": "全国",
    "provincial": "省",
    "city": "市",
    "county": "县(区)",
    "township": "乡镇",
}
GENDERS = ("男", "女")

END_REASONS = ("job_change", "illness", "absence", "violation", "death", "resigned", "other")
END_REASON_LABELS = {
    "job_change": "工作调动",
    "illness": "身体原因",
    "absence": "长期不履职",
    "violation": "违法违纪",
    "death": "去世",
    "resigned": "辞去代表职务",
    "other": "其他",
}

GROUP_KINDS = ("regional", "professional")
GROUP_KIND_LABELS = {"regional": "代表小组", "professional": "专业代表小组"}
GROUP_ROLES = ("member", "leader", "vice_leader")
GROUP_ROLE_LABELS = {"member": "组员", "leader": "组长", "vice_leader": "副组长"}

# 家、室、站、点
STATION_KINDS = ("home", "room", "station", "point")
STATION_KIND_LABELS = {
    "home": "代表之家",
    "room": "代表活动室",
    "station": "代表联络站",
    "point": "代表联络点",
}


def _sort_name_default(context) -> str:
    from .sortname import sort_key

    return sort_key(context.get_current_parameters().get("name"))


class Deputy(db.Model):
    __tablename__ = "deputies"
    __table_args__ = (
        # Matching key for roster imports without a 代表编号: the same person has one record.
        UniqueConstraint("name", "phone"),
        CheckConstraint(
            "level IN ('national', 'provincial', 'city', 'county', 'township')", name="level"
        ),
        CheckConstraint("gender IS NULL OR gender IN ('男', '女')", name="gender"),
        CheckConstraint(
            "(ended_on IS NULL AND end_reason IS NULL) OR (ended_on IS NOT NULL AND end_reason IS NOT NULL)",
            name="ended_has_reason",
        ),
        Index("ix_deputies_level_name", "level", "name"),
        Index("ix_deputies_sort_name", "sort_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # bumped on every UPDATE: a save from an older edit form is refused (core.versioning)
    row_version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": row_version}
    code: Mapped[str | None] = mapped_column(String(32), unique=True)  # 代表编号
    name: Mapped[str] = mapped_column(String(32), index=True)
    # The name's pinyin sort key (registry/sortname.py): lists sort by surname in pinyin order. Set from
    # the name on every insert (also the roster's bulk INSERT, by this default) and rename (event below).
    sort_name: Mapped[str] = mapped_column(String(160), default=_sort_name_default, server_default="")
    gender: Mapped[str | None] = mapped_column(String(2))
    level: Mapped[str] = mapped_column(String(16))
    term: Mapped[str | None] = mapped_column(String(32))  # 届次, e.g. 第十八届
    constituency: Mapped[str | None] = mapped_column(String(64))  # 选区 / 选举单位
    occupation: Mapped[str | None] = mapped_column(String(128))  # 工作单位及职务
    phone: Mapped[str | None] = mapped_column(String(20))  # private
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    ended_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(16))
    end_note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    area = relationship("Area")
    station: Mapped[Station | None] = relationship(back_populates="deputies")
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="deputy", cascade="all, delete-orphan"
    )
    user = relationship("User", back_populates="deputy", uselist=False)

    @property
    def serving(self) -> bool:
        return self.ended_on is None

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)

    @property
    def status_label(self) -> str:
        return "在任" if self.serving else "已终止"

    @property
    def end_reason_label(self) -> str:
        return END_REASON_LABELS.get(self.end_reason or "", "")

    @property
    def regional_group(self) -> DeputyGroup | None:
        for membership in self.memberships:
            if membership.group.kind == "regional":
                return membership.group
        return None

    def __str__(self) -> str:
        return self.name


class DeputyGroup(db.Model):
    __tablename__ = "deputy_groups"
    __table_args__ = (CheckConstraint("kind IN ('regional', 'professional')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="regional")
    speciality: Mapped[str | None] = mapped_column(String(32))  # 司法, 经济, 农业 ...
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    # 联络员: a user account (usually a township officer) who verifies the group's activities.
    liaison_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    description: Mapped[str | None] = mapped_column(Text)

    area = relationship("Area")
    liaison_user = relationship("User")
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        return GROUP_KIND_LABELS.get(self.kind, self.kind)

    def members_with_role(self, role: str) -> list[Deputy]:
        return [m.deputy for m in self.memberships if m.role == role]

    def __str__(self) -> str:
        return self.name


class GroupMembership(db.Model):
    __tablename__ = "group_memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "deputy_id"),
        CheckConstraint("role IN ('member', 'leader', 'vice_leader')", name="role"),
        # One 组长 per group, decided by the database.
        Index(
            "uq_group_memberships_one_leader",
            "group_id",
            unique=True,
            sqlite_where=text("role = 'leader'"),
            postgresql_where=text("role = 'leader'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("deputy_groups.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")

    group: Mapped[DeputyGroup] = relationship(back_populates="memberships")
    deputy: Mapped[Deputy] = relationship(back_populates="memberships")

    @property
    def role_label(self) -> str:
        return GROUP_ROLE_LABELS.get(self.role, self.role)


class Station(db.Model):
    __tablename__ = "stations"
    __table_args__ = (
        CheckConstraint("kind IN ('home', 'room', 'station', 'point')", name="kind"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude"),
        CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude"
        ),
        Index("uq_stations_code", "code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # bumped on every UPDATE: a save from an older edit form is refused (core.versioning)
    row_version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": row_version}
    name: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str | None] = mapped_column(String(32))  # short code: the liaison's username (unique index)
    kind: Mapped[str] = mapped_column(String(16), default="station")
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    address: Mapped[str | None] = mapped_column(String(128))
    opening_hours: Mapped[str | None] = mapped_column(String(128))
    contact_name: Mapped[str | None] = mapped_column(String(32))
    contact_phone: Mapped[str | None] = mapped_column(String(20))  # public: the station's own line
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    area = relationship("Area")
    deputies: Mapped[list[Deputy]] = relationship(back_populates="station")

    @property
    def kind_label(self) -> str:
        return STATION_KIND_LABELS.get(self.kind, self.kind)

    def __str__(self) -> str:
        return self.name


class HandlingUnit(db.Model):
    __tablename__ = "handling_units"
    __table_args__ = (Index("uq_handling_units_code", "code", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str | None] = mapped_column(String(32))  # short code: the unit account's username (unique index)
    contact_name: Mapped[str | None] = mapped_column(String(32))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return self.name


class DeputyPhoto(db.Model):
    """A deputy's public photo, kept in the database like every other file."""

    __tablename__ = "deputy_photos"

    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


@event.listens_for(Deputy.name, "set")
def _deputy_renamed(target: Deputy, value, _old, _initiator) -> None:
    from .sortname import sort_key

    target.sort_name = sort_key(value)


watch_tables("areas", Deputy.__tablename__, DeputyGroup.__tablename__, GroupMembership.__tablename__,
             Station.__tablename__, HandlingUnit.__tablename__, DeputyPhoto.__tablename__)

# What a user is told when a change breaks one of these constraints (core.errors.constraint_refusal):
# services check what they can first; the database is the final word when two people save at once.
# A taken name or code is invalid input on the form (422, shown next to its field).
register_constraint_messages({
    "uq_deputies_name_phone": (_l("已有同名且手机号相同的代表。"), "name"),
    "uq_deputies_code": (_l("代表编号重复：已被其他代表使用。"), "code"),
    "uq_stations_code": (_l("联络站简称代码已被其他联络站使用。"), "code"),
    "uq_handling_units_code": (_l("承办单位简称代码已被其他单位使用。"), "code"),
    "uq_deputy_groups_name": (_l("已有同名的代表小组。"), "name"),
    "uq_group_memberships_group_id_deputy_id": (_l("该代表已在这个小组中。"), "deputy_id"),
    "uq_group_memberships_one_leader": (_l("该小组已有组长，请先把现任组长改为组员。"), "role"),
    "uq_stations_name": (_l("已有同名的联络站。"), "name"),
    "uq_handling_units_name": (_l("已有同名的承办单位。"), "name"),
}, kind=DomainError)
