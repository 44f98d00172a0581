"""Reception rules and days, the duty rota, reception records (visits)."""
from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import Conflict, DomainError, register_constraint_messages
from ..core.extensions import db
from ..core.pagecache import watch_tables
from ..core.timeutil import UTCDateTime, utcnow

# What constituents raise (also the categories of the cases opened from stations).
CATEGORIES = {
    "urban": "城建", "transport": "交通", "education": "教育", "health": "医疗", "social": "社保",
    "environment": "环境", "security": "治安", "agriculture": "农业", "other": "其他",
}
RULE_KINDS = {"month_days": "每月固定日期", "nth_weekday": "每月第几个星期几"}
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
NTH_LABELS = {1: "第一个", 2: "第二个", 3: "第三个", 4: "第四个", -1: "最后一个"}
DAY_KINDS = {"regular": "固定接待日", "themed": "主题接待"}
DAY_STATUSES = {"scheduled": "正常", "cancelled": "取消"}


class ReceptionRule(db.Model):
    """A station's rule for its fixed reception days: e.g. the 5th and 25th, or the first Tuesday."""

    __tablename__ = "reception_rules"
    __table_args__ = (
        CheckConstraint("kind IN ('month_days', 'nth_weekday')", name="kind"),
        CheckConstraint("end_time > start_time", name="hours"),
        CheckConstraint("deputies_per_day >= 1 AND deputies_per_day <= 10", name="per_day"),
        CheckConstraint("kind <> 'nth_weekday' OR (weekday BETWEEN 0 AND 6 AND nth IN (1, 2, 3, 4, -1))",
                        name="nth_weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="month_days")
    month_days: Mapped[str | None] = mapped_column(String(64))  # "5,25"
    nth: Mapped[int | None]
    weekday: Mapped[int | None]  # 0 = Monday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    deputies_per_day: Mapped[int] = mapped_column(default=2)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    station = relationship("Station")

    @property
    def days(self) -> list[int]:
        return [int(x) for x in (self.month_days or "").split(",") if x.strip().isdigit()]

    @property
    def description(self) -> str:
        """The rule in Chinese: the one text every page shows (see ``describe_rule``)."""
        return describe_rule(self)


HOLIDAY_NOTE = "逢法定节假日顺延至下一个工作日"


def describe_rule(rule: ReceptionRule | None, *, holidays: bool = False) -> str:
    """The one description of a station's reception-day rule, as the calendar generated from it has it
    (``calendar.rule_dates``): "每月5日、25日 09:00–11:30" or "每月第一个星期二 09:00–11:30". A month day
    past the month's end is that month's last day. With ``holidays`` the moving rule is added.
    Every page (home, /stations/, /stations/<id>, the kiosk, the liaison's pages) uses this."""
    if rule is None:
        return ""
    hours = f"{rule.start_time:%H:%M}–{rule.end_time:%H:%M}"
    if rule.kind == "nth_weekday":
        text = f"每月{NTH_LABELS.get(rule.nth, '')}{WEEKDAYS[rule.weekday or 0]} {hours}"
    else:
        days = rule.days
        text = "每月" + "、".join("最后一天" if d >= 31 else f"{d}日" for d in days) + f" {hours}"
        if any(28 < d < 31 for d in days):
            text += "（当月没有该日时为当月最后一天）"
    return f"{text}（{HOLIDAY_NOTE}）" if holidays else text


class ReceptionDay(db.Model):
    __tablename__ = "reception_days"
    __table_args__ = (
        UniqueConstraint("station_id", "day", "start_time"),
        CheckConstraint("kind IN ('regular', 'themed')", name="kind"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status"),
        CheckConstraint("end_time > start_time", name="hours"),
        CheckConstraint("kind <> 'themed' OR theme IS NOT NULL", name="theme"),
        Index("ix_reception_days_day_station", "day", "station_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    day: Mapped[date]
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(16), default="regular")
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    theme: Mapped[str | None] = mapped_column(String(64))  # 主题接待: 局长进站, 法官进站 ...
    invited: Mapped[str | None] = mapped_column(String(255))  # invited officials, public
    public_note: Mapped[str | None] = mapped_column(String(255))  # e.g. 因国庆假期顺延
    moved_from: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    station = relationship("Station")
    duties: Mapped[list[DutyAssignment]] = relationship(
        back_populates="reception_day", cascade="all, delete-orphan", order_by="DutyAssignment.id")

    @property
    def kind_label(self) -> str:
        return DAY_KINDS.get(self.kind, self.kind)

    @property
    def hours(self) -> str:
        return f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"

    @property
    def weekday_label(self) -> str:
        return WEEKDAYS[self.day.weekday()]


class DutyAssignment(db.Model):
    """A deputy on duty at a reception day. UNIQUE(deputy, day): nobody is rostered at two stations
    on the same day (reception days are half-day sessions; one a day keeps the rule simple and sure)."""

    __tablename__ = "duty_assignments"
    __table_args__ = (
        UniqueConstraint("deputy_id", "day"),
        Index("ix_duty_assignments_station_day", "station_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reception_day_id: Mapped[int] = mapped_column(ForeignKey("reception_days.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    day: Mapped[date]  # copied from the reception day so the database can refuse a double booking

    reception_day: Mapped[ReceptionDay] = relationship(back_populates="duties")
    deputy = relationship("Deputy")


reception_deputies = Table(
    "reception_deputies", db.metadata,
    Column("reception_id", ForeignKey("receptions.id", ondelete="CASCADE"), primary_key=True),
    Column("deputy_id", ForeignKey("deputies.id", ondelete="RESTRICT"), primary_key=True),
)


class Reception(db.Model):
    """One visit recorded by the liaison. The constituent's name and phone only with their consent,
    never shown publicly."""

    __tablename__ = "receptions"
    __table_args__ = (
        CheckConstraint("category IN ('urban', 'transport', 'education', 'health', 'social', 'environment', "
                        "'security', 'agriculture', 'other')", name="category"),
        CheckConstraint("consent OR (visitor_name IS NULL AND visitor_phone IS NULL)", name="consent"),
        Index("ix_receptions_station_visited", "station_id", "visited_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    reception_day_id: Mapped[int | None] = mapped_column(ForeignKey("reception_days.id", ondelete="SET NULL"),
                                                         index=True)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    category: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(default=False)
    visitor_name: Mapped[str | None] = mapped_column(String(32))  # private
    visitor_phone: Mapped[str | None] = mapped_column(String(20))  # private
    answered_on_spot: Mapped[bool] = mapped_column(default=False)
    spot_answer: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    station = relationship("Station")
    reception_day = relationship("ReceptionDay")
    case = relationship("Case")
    deputies = relationship("Deputy", secondary=reception_deputies, order_by="Deputy.name")

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)


# Reception days and the rota are on the public station pages and the home page: staff changes (a
# day moved for a holiday, a deputy swapped) show at once. Receptions and cases only feed counts,
# which may lag by PUBLIC_PAGE_CACHE_SECONDS.
watch_tables(ReceptionDay.__tablename__, DutyAssignment.__tablename__)

# What the stations' constraints mean to a user (names as in migrations/versions/0003_stations.py). The
# services check these rules first with a more precise message; the database has the last word when two
# edits race (two liaisons rostering one deputy at two stations at the same moment).
register_constraint_messages({
    "uq_duty_assignments_deputy_id_day": (
        _l("保存失败：该代表当天已在其他联络站值班（同一代表同一天只能在一个联络站值班），未做任何修改。"),
        "deputy_ids"),
    "uq_reception_days_station_id_day_start_time": (_l("本站这一天的这个时间已有接待安排。"), "day"),
    "uq_reception_rules_station_id": (_l("本站已有接待日规则（可能刚被他人设置），请刷新页面后修改。"), "kind"),
    "uq_receptions_case_id": _l("此待办件已关联另一条接待记录，未做任何修改。"),
}, kind=Conflict)
register_constraint_messages({
    "ck_reception_rules_hours": (_l("结束时间必须晚于开始时间。"), "end_time"),
    "ck_reception_rules_per_day": (_l("每天值班代表人数应在 1–10 之间。"), "deputies_per_day"),
    "ck_reception_rules_nth_weekday": (_l("请选择第几个星期几。"), "nth"),
    "ck_reception_days_hours": (_l("结束时间必须晚于开始时间。"), "end_time"),
    "ck_reception_days_theme": (_l("请填写接待主题。"), "theme"),
    "ck_receptions_consent": (_l("记录群众姓名或电话须经本人同意，请勾选“本人同意留下联系方式”。"), "consent"),
    "ck_receptions_category": (_l("请选择反映问题的类别。"), "category"),
}, kind=DomainError)
