"""The monthly 社情民意 drive (seed 000: 每名人大代表每月反映一条社情民意; "共收集……社情民意和群众诉求5423条，
办结5045条，办结率93%").

    file_public_opinion(by, category, title, body) -> Case   # /cases/new: the case and the deputy's
                                                             # 反映社情民意 activity, once per case, together
    parse_month("2026-12") -> date (the 1st)                 # DomainError with a Chinese message otherwise
    missing(month, township_id=None, group_id=None, level=None) -> dict   # who filed none yet
    filed_in_month(deputy_id, month=None) -> int             # the deputy's workspace
    statistics(year, by) -> dict                             # collected, closed, 办结率, satisfaction
    statistics_xlsx(stats) -> bytes

A 社情民意 is a case with source ``deputy`` (a merged duplicate does not count); 办结 is status closed;
办结率 = closed ÷ collected; 满意率 = (满意 + 基本满意) ÷ rated, the latest round's rating.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import cases
from ..core.cases import Case, CaseRating
from ..core.errors import DomainError, Forbidden
from ..core.extensions import db
from ..core.timeutil import LOCAL_TZ, local_today, to_local
from ..core.transaction import transactional
from ..registry.models import LEVEL_LABELS, Deputy, DeputyGroup, GroupMembership

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
BY = {"deputy": "代表", "group": "代表小组", "township": "乡镇(街道)", "level": "代表层级", "month": "月份"}


@transactional
def file_public_opinion(by, category: str | None, title: str, body: str, *, at: datetime | None = None) -> Case:
    """社情民意 from a deputy: the case enters the loop, and the deputy's 反映社情民意 duty activity is
    recorded in the same transaction (``source_ref`` case:<id>, so once per case)."""
    from ..duties.services import record_activity

    deputy = getattr(by, "deputy", None)
    if deputy is None:
        raise Forbidden(_("只有人大代表可以反映社情民意。"))
    if not deputy.serving:
        raise Forbidden(_("您的代表资格已终止，不能反映社情民意。"))
    case = cases.open_case("deputy", title, body, by=by, category=category, deputy=deputy, station=deputy.station)
    if at is not None:  # the demo's earlier months: the case and its opening step
        case.created_at = at
        for step in case.steps:
            step.at = at
    record_activity(deputy.id, "public_opinion", case.created_at, f"反映社情民意：{case.title}", source="stations",
                    source_ref=f"case:{case.id}", actor=by)
    return case


def parse_month(raw: str | None) -> date:
    """``YYYY-MM`` → the month's first day; empty → this month. Anything else is refused in Chinese."""
    raw = (raw or "").strip()
    if not raw:
        return local_today().replace(day=1)
    match = MONTH_RE.match(raw)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise DomainError(_("月份格式不正确，请按“年-月”填写，例如 %(m)s。", m=local_today().strftime("%Y-%m")),
                          field="month")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def _filed_query(start: date, end: date):
    return select(Case.deputy_id).where(Case.source == "deputy", Case.status != "merged",
                                        Case.deputy_id.is_not(None), Case.created_at >= _utc(start),
                                        Case.created_at < _utc(end))


def filed_in_month(deputy_id: int, month: date | None = None) -> int:
    month = month or local_today().replace(day=1)
    return db.session.scalar(select(func.count()).select_from(
        _filed_query(month, _next_month(month)).where(Case.deputy_id == deputy_id).subquery()))


def _townships() -> dict[int, tuple[int, str]]:
    """area id → (township id, township name): a village counts under its township."""
    from ..core.models import Area

    areas = db.session.execute(select(Area.id, Area.name, Area.kind, Area.parent_id)).all()
    by_id = {a.id: a for a in areas}
    out = {}
    for a in areas:
        if a.kind == "township":
            out[a.id] = (a.id, a.name)
        elif a.kind == "village" and a.parent_id in by_id:
            parent = by_id[a.parent_id]
            out[a.id] = (parent.id, parent.name)
    return out


def _regional_groups() -> dict[int, tuple[int, str]]:
    """deputy id → (group id, group name) of their regional group (the first one if several)."""
    rows = db.session.execute(select(GroupMembership.deputy_id, DeputyGroup.id, DeputyGroup.name)
                              .join(DeputyGroup, DeputyGroup.id == GroupMembership.group_id)
                              .where(DeputyGroup.kind == "regional").order_by(GroupMembership.id)).all()
    out = {}
    for deputy_id, group_id, name in rows:
        out.setdefault(deputy_id, (group_id, name))
    return out


def missing(month: date, *, township_id: int | None = None, group_id: int | None = None,
            level: str | None = None) -> dict:
    """Serving deputies who filed no 社情民意 in ``month``, by township (then group), with the counts."""
    end = _next_month(month)
    stmt = select(Deputy).where(Deputy.ended_on.is_(None)).order_by(Deputy.name, Deputy.id)
    if level in LEVEL_LABELS:
        stmt = stmt.where(Deputy.level == level)
    if group_id:
        stmt = stmt.where(Deputy.id.in_(select(GroupMembership.deputy_id).where(GroupMembership.group_id == group_id)))
    townships, groups = _townships(), _regional_groups()
    deputies = [d for d in db.session.scalars(stmt)
                if not township_id or townships.get(d.area_id, (None,))[0] == township_id]
    filed = dict(db.session.execute(
        select(Case.deputy_id, func.count()).where(Case.id.in_(_filed_query(month, end).with_only_columns(Case.id)))
        .group_by(Case.deputy_id)).all())
    rows = defaultdict(list)
    for d in deputies:
        if d.id not in filed:
            rows[townships.get(d.area_id, (0, _("未划分乡镇")))[1]].append(
                {"deputy": d, "group": groups.get(d.id, (None, "—"))[1]})
    total = len(deputies)
    done = sum(1 for d in deputies if d.id in filed)
    return {"month": month, "total": total, "filed": done, "missing": total - done,
            "by_township": sorted(rows.items()), "filed_items": sum(filed.get(d.id, 0) for d in deputies)}


def _rate(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.0f}%" if whole else "—"


def statistics(year: int, by: str = "township") -> dict:
    """The year's 社情民意 by ``by`` (deputy, group, township, level, month): collected, closed, 办结率,
    rated, satisfied (满意 + 基本满意), 满意率 — two queries and Python grouping."""
    if by not in BY:
        by = "township"
    if not 2000 <= year <= 2100:
        raise DomainError(_("年度不正确。"), field="year")
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    rows = db.session.execute(
        select(Case.id, Case.deputy_id, Case.created_at, Case.status, Case.round, Deputy.name, Deputy.level,
               Deputy.area_id)
        .join(Deputy, Deputy.id == Case.deputy_id)
        .where(Case.source == "deputy", Case.status != "merged", Case.created_at >= _utc(start),
               Case.created_at < _utc(end))).all()
    ratings = {}
    if rows:
        ids = select(Case.id).where(Case.source == "deputy", Case.created_at >= _utc(start),
                                    Case.created_at < _utc(end))
        for case_id, _round, rating in db.session.execute(
                select(CaseRating.case_id, CaseRating.round, CaseRating.rating).where(CaseRating.case_id.in_(ids))
                .order_by(CaseRating.round)):
            ratings[case_id] = rating
    townships = _townships() if by == "township" else {}
    groups = _regional_groups() if by == "group" else {}
    table: dict = defaultdict(lambda: {"collected": 0, "closed": 0, "rated": 0, "satisfied": 0})
    total = {"collected": 0, "closed": 0, "rated": 0, "satisfied": 0}
    for r in rows:
        if by == "deputy":
            key = r.name
        elif by == "group":
            key = groups.get(r.deputy_id, (0, _("未分组")))[1]
        elif by == "township":
            key = townships.get(r.area_id, (0, _("未划分乡镇")))[1]
        elif by == "level":
            key = LEVEL_LABELS.get(r.level, r.level)
        else:
            key = f"{to_local(r.created_at).month:02d}月"
        for bucket in (table[key], total):
            bucket["collected"] += 1
            bucket["closed"] += r.status == "closed"
            if r.id in ratings:
                bucket["rated"] += 1
                bucket["satisfied"] += ratings[r.id] in ("satisfied", "basically")
    out_rows = [{"key": k, **v, "closed_rate": _rate(v["closed"], v["collected"]),
                 "satisfaction": _rate(v["satisfied"], v["rated"])} for k, v in sorted(table.items())]
    total.update(closed_rate=_rate(total["closed"], total["collected"]),
                 satisfaction=_rate(total["satisfied"], total["rated"]))
    summary = _("%(y)d年共收集代表社情民意%(c)d条，办结%(d)d条，办结率%(r)s，办结满意率%(s)s。", y=year,
                c=total["collected"], d=total["closed"], r=total["closed_rate"], s=total["satisfaction"])
    return {"year": year, "by": by, "by_label": BY[by], "rows": out_rows, "total": total, "summary": summary}


def statistics_xlsx(stats: dict) -> bytes:
    from ..core.xlsx import ExportWorkbook  # formulas neutralised, control characters dropped

    book = ExportWorkbook()
    sheet = book.sheet("社情民意")
    sheet.append([stats["summary"]])
    sheet.append([stats["by_label"], "收集(条)", "办结(条)", "办结率", "已评价", "满意及基本满意", "满意率"])
    for row in [*stats["rows"], {"key": "合计", **stats["total"]}]:
        sheet.append([row["key"], row["collected"], row["closed"], row["closed_rate"], row["rated"],
                      row["satisfied"], row["satisfaction"]])
    return book.save()


DEMO_TOPICS = [("urban", "反映北关社区雨污管网堵塞问题", "群众反映雨季小区积水严重，希望尽快疏通管网。"),
               ("transport", "反映农村道路路灯缺失问题", "村民反映村道夜间无路灯，出行不安全。"),
               ("education", "反映学校周边交通拥堵问题", "家长反映上下学高峰时段校门口拥堵。"),
               ("health", "反映村卫生室缺少常用药问题", "老年人反映村卫生室慢性病用药不全。"),
               ("environment", "反映河道垃圾堆积问题", "群众反映河道两岸垃圾长期无人清理。")]


def demo(rng) -> None:
    """Last month and this month of 社情民意: most deputies filed one, some none (the drive page lists them);
    about half of last month's are closed and rated, so the statistics show 办结率 and 满意率."""
    import random
    from datetime import timedelta

    from ..core.demo import office_moment
    from ..core.models import User
    from ..core.transaction import transaction
    from ..registry.models import HandlingUnit

    staff = db.session.scalar(select(User).where(User.username == "staff"))
    unit_user = db.session.scalar(select(User).where(User.username == "unit"))
    deputies = db.session.scalars(select(User).where(User.role == "deputy").order_by(User.id)).all()
    if staff is None or unit_user is None or not deputies:
        return
    unit = db.session.get(HandlingUnit, unit_user.unit_id)
    times = random.Random(2026)  # the hour of each filing, apart from ``rng`` so the county stays the same
    today = local_today()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    with transaction():
        for month, share, last_day in ((last_month, 0.8, (this_month - timedelta(days=1)).day),
                                       (this_month, 0.6, today.day)):
            for user in deputies:
                if rng.random() > share or user.deputy is None or not user.deputy.serving:
                    continue
                category, title, body = rng.choice(DEMO_TOPICS)
                day = _weekday_in_month(month.replace(day=rng.randint(1, last_day)), last_day)
                at = office_moment(day, times)
                case = file_public_opinion(user, category, title, body, at=at)
                if month == last_month and rng.random() < 0.5:
                    cases.assign_case(case, unit, today + timedelta(days=30), by=staff)
                    cases.reply_case(case, "已安排专人现场核实并处理。", by=unit_user)
                    cases.send_answer(case, by=staff)
                    cases.rate_case(case, rng.choice(["satisfied", "satisfied", "basically", "unsatisfied"]),
                                    by=user, rater="deputy")


def _weekday_in_month(day: date, last_day: int) -> date:
    """The demo's filing day moved off a weekend, within its month and not after ``last_day``."""
    from datetime import timedelta

    for shift in (0, -1, 1, -2, 2):
        moved = day + timedelta(days=shift)
        if moved.month == day.month and moved.day <= last_day and moved.weekday() < 5:
            return moved
    return day
