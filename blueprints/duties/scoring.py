"""Points rules by year, scores, rankings, the archive's figures, absences, reminders and
publication of the rules and the year's results.

Scores are never stored: a deputy's year is computed from the verified activities of that year
under the rules of that year, so a published ranking can be recomputed from the published rules,
and editing next year's rules cannot move this year's scores. Every aggregate is one GROUP BY
query (the city: 11,000 deputies, 100,000 activities a year)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from math import ceil
from types import MappingProxyType

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..core import audit, counters
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from ..registry.models import LEVEL_LABELS, Deputy, DeputyGroup, GroupMembership
from .models import (
    ACTIVITY_TYPES,
    MINIMUM_TYPES,
    Absence,
    Activity,
    CongressTerm,
    PointsRule,
    Reminder,
    ScoringYear,
)
from .services import term_window

# The office's starting point for a first year (points, annual cap or None); staff edit them.
DEFAULT_RULES = {
    "congress_session": ("10", None),
    "standing_committee": ("5", "20"),
    "inspection": ("4", "20"),
    "survey": ("4", "20"),
    "law_check": ("4", "20"),
    "reception": ("3", "36"),
    "contact": ("1", "12"),
    "group_activity": ("2", "20"),
    "training": ("2", "10"),
    "suggestion_lead": ("5", "25"),
    "suggestion_cosign": ("1", "5"),
    "public_opinion": ("1", "12"),
    "voter_report": ("10", "10"),
    "other": ("1", "5"),
}
# The year's whole ranking costs 0.3-0.6 s at city size (11,000 deputies, 100,000 activities); a worker
# keeps it while nothing it is computed from has changed (core/counters.py): any committed change to
# these tables bumps the counter. STANDINGS_MEMO_SECONDS (default 300) bounds it; 0 turns it off.
STANDINGS = counters.ChangeCounter("duty_standings")
STANDINGS.watch(Activity.__tablename__, PointsRule.__tablename__, ScoringYear.__tablename__, Absence.__tablename__,
                Deputy.__tablename__, DeputyGroup.__tablename__, GroupMembership.__tablename__)
remembered = counters.Memo(STANDINGS, lambda: float(current_app.config.get("STANDINGS_MEMO_SECONDS", 0)),
                           max_entries=12)  # a few years and levels: one is megabytes at city size

FLAG_SHARE = 0.05  # the lowest 5% are flagged for a reminder, the top 5% proposed for awards
FLAG_MAX = 50


def _decimal(raw, field: str, *, allow_none: bool = False) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if allow_none:
            return None
        raise DomainError(_("请填写分值。"), field=field)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise DomainError(_("请填写数字。"), field=field) from exc
    if not value.is_finite() or abs(value) >= 100000:
        raise DomainError(_("请填写合理的数字。"), field=field)
    return value.quantize(Decimal("0.1"))


def plain(value: Decimal) -> str:
    """10.0 → "10", 2.5 → "2.5": how people write points."""
    return format(Decimal(value).normalize(), "f")


# ---- rules ---------------------------------------------------------------------------------------

def get_year(year: int) -> ScoringYear | None:
    return db.session.get(ScoringYear, year)


def draft_year(year: int) -> ScoringYear:
    """The rules a new year would start from, not saved: a copy of the latest earlier year (or the
    defaults). Copying, never sharing rows, is what keeps one year's edits out of another year's scores."""
    if not 2000 <= year <= 2100:
        raise DomainError(_("年度超出范围。"), field="year")
    previous = db.session.scalar(select(ScoringYear).where(ScoringYear.year < year)
                                 .order_by(ScoringYear.year.desc()).limit(1))
    scoring = ScoringYear(year=year)
    if previous is not None:
        scoring.absence_deduction = previous.absence_deduction
        scoring.min_standing_committee = previous.min_standing_committee
        scoring.min_survey = previous.min_survey
        scoring.min_inspection = previous.min_inspection
        scoring.rules = [PointsRule(type_code=r.type_code, points=r.points, annual_cap=r.annual_cap)
                         for r in previous.rules]
    else:
        scoring.absence_deduction = Decimal("5")
        scoring.rules = [PointsRule(type_code=code, points=Decimal(points),
                                    annual_cap=Decimal(cap) if cap is not None else None)
                         for code, (points, cap) in DEFAULT_RULES.items()]
    return scoring


@transactional
def ensure_year(year: int, actor=None) -> ScoringYear:
    """The year's rules, created on first use from draft_year(); inside a caller's transaction it
    only flushes, so the new year is stored with the caller's change or not at all."""
    existing = db.session.get(ScoringYear, year)
    if existing is not None:
        return existing
    scoring = draft_year(year)
    try:
        with db.session.begin_nested():  # another request created it first: only this SAVEPOINT is lost
            db.session.add(scoring)
    except IntegrityError:
        return db.session.get(ScoringYear, year, populate_existing=True)
    audit.record("create", "scoring_year", year, f"建立 {year} 年度履职计分规则", actor=actor)
    return scoring


@transactional
def save_rules(year: int, rules: dict[str, tuple], *, absence_deduction, minimums: dict[str, int],
               actor) -> ScoringYear:
    """Replace one year's rules. rules: {type_code: (points, cap or None)}. Other years are untouched;
    once the year's results are published its rules are frozen."""
    scoring = db.session.get(ScoringYear, year)
    if scoring is not None and scoring.results_published_at is not None:
        raise DomainError(_("%(y)d 年度评价结果已发布，该年度的计分规则不能再修改。", y=year))
    parsed = {}
    for code, (points, cap) in rules.items():
        if code not in ACTIVITY_TYPES:
            raise DomainError(_("未知的活动类型。"))
        p = _decimal(points, f"points_{code}")
        c = _decimal(cap, f"cap_{code}", allow_none=True)
        if p < 0:
            raise DomainError(_("“%(t)s”的分值不能为负数。", t=ACTIVITY_TYPES[code]), field=f"points_{code}")
        if c is not None and c < 0:
            raise DomainError(_("“%(t)s”的年度上限不能为负数。", t=ACTIVITY_TYPES[code]), field=f"cap_{code}")
        parsed[code] = (p, c)
    deduction = _decimal(absence_deduction, "absence_deduction")
    if deduction < 0:
        raise DomainError(_("缺席扣分不能为负数（填写要扣除的分数）。"), field="absence_deduction")
    for key, value in minimums.items():
        if value is None or value < 0 or value > 100:
            raise DomainError(_("届内最低次数应为 0 到 100 之间的整数。"), field=f"min_{key}")
    # Created only now that the input is known to be good: a refusal leaves no trace.
    scoring = scoring or ensure_year(year, actor)
    before = {r.type_code: [str(r.points), str(r.annual_cap) if r.annual_cap is not None else None]
              for r in scoring.rules}
    by_code = {r.type_code: r for r in scoring.rules}
    for code, (p, c) in parsed.items():
        rule = by_code.get(code)
        if rule is None:
            scoring.rules.append(PointsRule(type_code=code, points=p, annual_cap=c))
        else:
            rule.points, rule.annual_cap = p, c
    scoring.absence_deduction = deduction
    scoring.min_standing_committee = minimums.get("standing_committee", scoring.min_standing_committee)
    scoring.min_survey = minimums.get("survey", scoring.min_survey)
    scoring.min_inspection = minimums.get("inspection", scoring.min_inspection)
    after = {code: [str(p), str(c) if c is not None else None] for code, (p, c) in parsed.items()}
    audit.record("update", "scoring_year", year, f"修改 {year} 年度履职计分规则", actor=actor,
                 changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v})
    return scoring


@transactional
def save_term(level: str, name: str, starts_on: date, ends_on: date | None, actor) -> CongressTerm:
    """Enter (or correct) the dates of a congress term (届) of one level."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写届次名称。"), field="name")
    if ends_on and ends_on <= starts_on:
        raise DomainError(_("结束日期必须晚于开始日期。"), field="ends_on")
    term = db.session.scalar(select(CongressTerm).where(CongressTerm.level == level, CongressTerm.name == name))
    if term is None:
        term = CongressTerm(level=level, name=name)
        db.session.add(term)
    term.starts_on, term.ends_on = starts_on, ends_on
    db.session.flush()
    audit.record("update", "term", term.id, f"设置{LEVEL_LABELS.get(level, level)}人大{name}任期", actor=actor)
    return term


def rules_markdown(scoring: ScoringYear) -> str:
    lines = [f"{scoring.year} 年度人大代表履职计分规则如下（只计经核实的履职活动）：", "",
             "| 活动类型 | 每次分值 | 年度上限 |", "| --- | --- | --- |"]
    for rule in sorted(scoring.rules, key=lambda r: list(ACTIVITY_TYPES).index(r.type_code)):
        cap = plain(rule.annual_cap) if rule.annual_cap is not None else "不设上限"
        lines.append(f"| {rule.type_label} | {plain(rule.points)} | {cap} |")
    lines += ["", f"未请假缺席人民代表大会会议，每次扣 {plain(scoring.absence_deduction)} 分。",
              f"届内“三个一”最低要求：列席常委会会议 {scoring.min_standing_committee} 次、"
              f"参加调研 {scoring.min_survey} 次、参加视察 {scoring.min_inspection} 次。"]
    return "\n".join(lines)


@transactional
def publish_rules(year: int, actor):
    """Post the year's rules on the noticeboard (制度规定); publishing again revises the same notice."""
    from ..noticeboard.services import publish_notice

    scoring = ensure_year(year, actor)
    scoring.rules_published_at = utcnow()
    audit.record("publish", "scoring_year", year, f"公布 {year} 年度履职计分规则", actor=actor)
    return publish_notice("rules", f"{year}年度人大代表履职计分规则", rules_markdown(scoring),
                          source="duties", source_ref=f"rules:{year}", actor=actor)


# ---- scores --------------------------------------------------------------------------------------

def capped_points(year: int, deputy_id: int | None = None, deputy_ids: list[int] | None = None):
    """(deputy_id, type_code, n, points) per deputy and type: n verified activities times the year's
    points, cut at the year's cap. Types without a rule for that year score nothing."""
    counts = (select(Activity.deputy_id, Activity.type_code, func.count().label("n"))
              .where(Activity.year == year, Activity.status == "verified")
              .group_by(Activity.deputy_id, Activity.type_code))
    if deputy_id is not None:
        counts = counts.where(Activity.deputy_id == deputy_id)
    if deputy_ids is not None:
        counts = counts.where(Activity.deputy_id.in_(deputy_ids))
    counts = counts.subquery()
    raw = counts.c.n * PointsRule.points
    points = case((and_(PointsRule.annual_cap.is_not(None), raw > PointsRule.annual_cap), PointsRule.annual_cap),
                  else_=raw)
    return (select(counts.c.deputy_id, counts.c.type_code, counts.c.n, points.label("points"))
            .join(PointsRule, and_(PointsRule.type_code == counts.c.type_code, PointsRule.year == year)))


def _regional_group():
    return (select(GroupMembership.deputy_id, func.min(GroupMembership.group_id).label("group_id"))
            .join(DeputyGroup, DeputyGroup.id == GroupMembership.group_id)
            .where(DeputyGroup.kind == "regional").group_by(GroupMembership.deputy_id).subquery())


def _totals(year: int, level: str | None, by_type: bool):
    """(statement, total, group_id): one row per deputy of the level serving during the year with total,
    gross, absences, activities and group_id (and each type's capped points with ``by_type``), unranked."""
    # In the statement, not read through the session: a ScoringYear already in the identity map (the
    # page loads it first) could predate a change committed since, and the remembered ranking would keep
    # the old deduction under the new counter.
    deduction = func.coalesce(select(ScoringYear.absence_deduction).where(ScoringYear.year == year)
                              .scalar_subquery(), 0)
    capped = capped_points(year).subquery()
    columns = [capped.c.deputy_id, func.sum(capped.c.points).label("gross"),
               func.sum(capped.c.n).label("activities")]
    if by_type:
        columns += [func.sum(case((capped.c.type_code == code, capped.c.points), else_=0)).label(code)
                    for code in ACTIVITY_TYPES]
    per_deputy = select(*columns).group_by(capped.c.deputy_id).subquery()
    absences = (select(Absence.deputy_id, func.count().label("absences")).where(Absence.year == year)
                .group_by(Absence.deputy_id).subquery())
    groups = _regional_group()
    gross = func.coalesce(per_deputy.c.gross, 0)
    missed = func.coalesce(absences.c.absences, 0)
    total = (gross - missed * deduction).label("total")
    extra = [func.coalesce(per_deputy.c[code], 0).label(code) for code in ACTIVITY_TYPES] if by_type else []
    stmt = (select(Deputy.id.label("deputy_id"), Deputy.name, Deputy.level, groups.c.group_id, gross.label("gross"),
                   missed.label("absences"), func.coalesce(per_deputy.c.activities, 0).label("activities"),
                   total, *extra)
            .select_from(Deputy)
            .outerjoin(per_deputy, per_deputy.c.deputy_id == Deputy.id)
            .outerjoin(absences, absences.c.deputy_id == Deputy.id)
            .outerjoin(groups, groups.c.deputy_id == Deputy.id)
            .where(or_(Deputy.ended_on.is_(None), Deputy.ended_on >= date(year, 1, 1))))
    if level:
        stmt = stmt.where(Deputy.level == level)
    return stmt, total, groups.c.group_id


def scores(year: int, level: str | None = None, *, by_type: bool = False):
    """A subquery: one row per deputy of the level serving during the year, with total, gross,
    absences, group_id, rank (in the level) and group_rank. Deputies with nothing score 0."""
    stmt, total, group_id = _totals(year, level, by_type)
    return stmt.add_columns(
        func.rank().over(order_by=total.desc()).label("rank"),
        func.count().over().label("ranked"),
        func.rank().over(partition_by=group_id, order_by=total.desc()).label("group_rank"),
        func.count().over(partition_by=group_id).label("group_size")).subquery()


def _ranked(year: int, level: str, by_type: bool) -> tuple:
    """Every deputy's row of ``scores()`` in rank order (rank, then id), the four ranking columns computed
    here from the unranked totals: what the rank() and count() windows give (tests/test_rendering_cost.py
    compares them), without the three sorts of 11,000 rows that were 40 % of SQLite's time for the city's
    ranking. Rows are read-only mappings: the memo hands the same ones to every request."""
    stmt, _total, _group_id = _totals(year, level, by_type)
    # Core on the session's connection, plain tuples into dicts: the ORM's result and mapping layers cost
    # as much as the ranking itself for 11,000 rows.
    result = db.session.connection().execute(stmt)
    names = list(result.keys())
    rows = [dict(zip(names, values, strict=True)) for values in result.tuples()]
    rows.sort(key=lambda r: (-r["total"], r["deputy_id"]))
    in_group: dict = {}
    rank, previous = 0, None
    for place, row in enumerate(rows, start=1):
        if place == 1 or row["total"] != previous:
            rank, previous = place, row["total"]
        row["rank"], row["ranked"] = rank, len(rows)
        in_group.setdefault(row["group_id"], []).append(row)
    for members in in_group.values():
        rank, previous = 0, None
        for place, row in enumerate(members, start=1):
            if place == 1 or row["total"] != previous:
                rank, previous = place, row["total"]
            row["group_rank"], row["group_size"] = rank, len(members)
    return tuple(MappingProxyType(row) for row in rows)


def ranking_page(year: int, level: str, page: int, per_page: int = 50):
    """(rows, total) for one page of the ranking: one aggregate query and one count."""
    ranked = scores(year, level, by_type=True)
    total = db.session.scalar(select(func.count()).select_from(Deputy).where(
        Deputy.level == level, or_(Deputy.ended_on.is_(None), Deputy.ended_on >= date(year, 1, 1))))
    rows = db.session.execute(select(ranked).order_by(ranked.c.rank, ranked.c.deputy_id)
                              .limit(per_page).offset((page - 1) * per_page)).mappings().all()
    return rows, total


@remembered
def all_totals(year: int, level: str) -> tuple:
    """Every deputy's ranking row with the points by type, in rank order: the xlsx export."""
    return _ranked(year, level, by_type=True)


@remembered
def standings_full(year: int, level: str) -> tuple:
    """Every deputy's ranking row (rank, group rank, total, absences, group...; not the points by type)
    in rank order, from one aggregate: the evaluation page takes its page of the ranking, the
    distribution, the top and the bottom and the group totals from this one list, and a deputy's archive
    their own row (deputy_standing)."""
    return _ranked(year, level, by_type=False)


def with_points_by_type(year: int, rows: list) -> list[dict]:
    """rows (ranking rows) with each activity type's capped points, one small query for all of them:
    what ``scores(by_type=True)`` gives, for a page of the ranking only."""
    ids = [r["deputy_id"] for r in rows]
    points: dict[int, dict[str, Decimal]] = {}
    if ids:
        capped = capped_points(year, deputy_ids=ids).subquery()
        for deputy_id, code, value in db.session.execute(
                select(capped.c.deputy_id, capped.c.type_code, capped.c.points)):
            points.setdefault(deputy_id, {})[code] = value
    return [{**r, **{code: points.get(r["deputy_id"], {}).get(code, 0) for code in ACTIVITY_TYPES}} for r in rows]


@remembered
def group_standings(year: int, level: str) -> tuple:
    """The evaluation page's 先进代表小组 (group_totals_of the remembered ranking), remembered beside it."""
    return tuple(MappingProxyType(g) for g in group_totals_of(standings_full(year, level)))


@remembered
def distribution(year: int, level: str) -> tuple:
    """(labels, counts) of the totals' histogram (charts.histogram), remembered beside the ranking."""
    from .charts import histogram

    labels, counts = histogram([float(r["total"]) for r in standings_full(year, level)])
    return tuple(labels), tuple(counts)


def group_totals_of(rows: list, limit: int = 20) -> list[dict]:
    """group_totals() computed from the standings already read (rows with group_id and total), so the
    evaluation page runs its aggregate once: groups by average total of their members, then id."""
    sums: dict[int, list] = {}
    for r in rows:
        if r["group_id"] is not None:
            entry = sums.setdefault(r["group_id"], [0, Decimal("0")])
            entry[0] += 1
            total = r["total"]
            entry[1] += total if isinstance(total, Decimal) else Decimal(str(total))
    top = sorted(sums.items(), key=lambda item: (-(item[1][1] / item[1][0]), item[0]))[:limit]
    names = dict(db.session.execute(select(DeputyGroup.id, DeputyGroup.name)
                                    .where(DeputyGroup.id.in_([gid for gid, _sums in top]))).all()) if top else {}
    return [{"id": gid, "name": names.get(gid, ""), "members": n, "total": total, "average": total / n}
            for gid, (n, total) in top]


def with_reminders(year: int, rows: list) -> list[dict]:
    """rows plus the reminder held this year (held_on, note), one query for all of them."""
    ids = [r["deputy_id"] for r in rows]
    held = {r.deputy_id: r for r in db.session.scalars(
        select(Reminder).where(Reminder.year == year, Reminder.deputy_id.in_(ids)))} if ids else {}
    return [{**r, "held_on": held[r["deputy_id"]].held_on if r["deputy_id"] in held else None,
             "note": held[r["deputy_id"]].note if r["deputy_id"] in held else None} for r in rows]


def flag_count(n: int) -> int:
    return min(FLAG_MAX, max(1, ceil(n * FLAG_SHARE))) if n else 0


def lowest(year: int, level: str, n: int):
    """The lowest-scoring deputies, with the reminder already held (if any)."""
    ranked = scores(year, level)
    return db.session.execute(
        select(ranked, Reminder.held_on, Reminder.note)
        .outerjoin(Reminder, and_(Reminder.deputy_id == ranked.c.deputy_id, Reminder.year == year))
        .order_by(ranked.c.total, ranked.c.deputy_id).limit(n)).mappings().all()


def highest(year: int, level: str, n: int):
    ranked = scores(year, level)
    return db.session.execute(select(ranked).where(ranked.c.total > 0)
                              .order_by(ranked.c.rank, ranked.c.deputy_id).limit(n)).mappings().all()


def group_totals(year: int, level: str, limit: int = 20):
    """Regional groups by total points of their members of this level (先进代表小组)."""
    ranked = scores(year, level)
    return db.session.execute(
        select(DeputyGroup.id, DeputyGroup.name, func.count().label("members"),
               func.sum(ranked.c.total).label("total"), func.avg(ranked.c.total).label("average"))
        .join(ranked, ranked.c.group_id == DeputyGroup.id)
        .group_by(DeputyGroup.id, DeputyGroup.name)
        .order_by(func.avg(ranked.c.total).desc(), DeputyGroup.id).limit(limit)).mappings().all()


@remembered
def activity_by_month(year: int, level: str) -> tuple[int, ...]:
    """Verified activities per month (12 numbers) for the level's deputies: counted per day from the
    ranking index alone (year, status, deputy, ..., date), the days summed into months here (a few
    hundred rows; no date function on 100,000)."""
    rows = db.session.execute(
        select(Activity.occurred_on, func.count())
        .where(Activity.year == year, Activity.status == "verified",
               Activity.deputy_id.in_(select(Deputy.id).where(Deputy.level == level)))
        .group_by(Activity.occurred_on)).all()
    counts = [0] * 12
    for day, n in rows:
        counts[day.month - 1] += n
    return tuple(counts)


def deputy_standing(year: int, deputy: Deputy):
    """The deputy's row of the level's ranking (rank, group rank, total), or None when the deputy is not
    ranked that year: from the remembered ranking (the whole level is ranked either way)."""
    return next((row for row in standings_full(year, deputy.level) if row["deputy_id"] == deputy.id), None)


@dataclass
class Archive:
    year: int
    scoring: ScoringYear | None
    by_type: list[dict]  # type label, pending/verified counts, points
    gross: Decimal
    absences: int
    total: Decimal
    missing: list[tuple[str, int, int]]  # (label, done, required) for unmet term minimums
    term: tuple[date | None, date | None]


def archive(deputy: Deputy, year: int, standing=None) -> Archive:
    """The figures of a deputy's archive for one year, in a fixed number of queries (the absences
    come from ``standing``, the deputy's ranking row, when the caller has it)."""
    scoring = db.session.get(ScoringYear, year)
    rules = {r.type_code: r for r in scoring.rules} if scoring else {}
    counts = {}
    for type_code, status, n in db.session.execute(
            select(Activity.type_code, Activity.status, func.count())
            .where(Activity.deputy_id == deputy.id, Activity.year == year)
            .group_by(Activity.type_code, Activity.status)):
        counts.setdefault(type_code, {})[status] = n
    by_type, gross = [], Decimal("0")
    for code, label in ACTIVITY_TYPES.items():
        c = counts.get(code, {})
        verified = c.get("verified", 0)
        rule = rules.get(code)
        points = Decimal("0")
        if rule is not None:
            points = rule.points * verified
            if rule.annual_cap is not None and points > rule.annual_cap:
                points = rule.annual_cap
        gross += points
        if c or rule is not None:
            by_type.append({"code": code, "label": label, "verified": verified, "pending": c.get("pending", 0),
                            "returned": c.get("returned", 0), "points": points,
                            "cap": rule.annual_cap if rule else None, "each": rule.points if rule else None})
    if standing is not None:
        absences = int(standing["absences"])
    else:
        absences = db.session.scalar(select(func.count()).select_from(Absence).where(
            Absence.deputy_id == deputy.id, Absence.year == year)) or 0
    deduction = scoring.absence_deduction if scoring else Decimal("0")
    total = gross - deduction * absences
    term = term_window(deputy)
    missing = []
    current = scoring or db.session.scalar(select(ScoringYear).order_by(ScoringYear.year.desc()).limit(1))
    if current is not None:
        stmt = (select(Activity.type_code, func.count()).where(
            Activity.deputy_id == deputy.id, Activity.status == "verified", Activity.type_code.in_(MINIMUM_TYPES))
            .group_by(Activity.type_code))
        if term[0]:
            stmt = stmt.where(Activity.occurred_on >= term[0])
        if term[1]:
            stmt = stmt.where(Activity.occurred_on <= term[1])
        done = dict(db.session.execute(stmt).all())
        for code, required in current.minimums().items():
            if done.get(code, 0) < required:
                missing.append((ACTIVITY_TYPES[code], done.get(code, 0), required))
    return Archive(year, scoring, by_type, gross, absences, total, missing, term)


# ---- absences and reminders ----------------------------------------------------------------------

def _excused(deputy_id: int, when: date) -> bool:
    """Approved leave (请假) for a meeting held that day: the meeting notices (ballots/notices.py), when
    that area is installed."""
    from flask import current_app

    if "ballots" not in current_app.extensions["areas"].names:
        return False
    from ..ballots.notices import excused_on

    return excused_on(deputy_id, when)


def excused_leaves(deputy_id: int, year: int) -> list:
    """Approved leave (请假（已批准）) that year, by date: from a congress meeting (ballots/notices.py) and
    from a standing committee sitting, a group activity or a report to voters (ballots/occasions.py), when
    that area is installed. Excused: the points rules deduct nothing; the archive, its print and its
    workbook list them (each has held_on, kind_label and title)."""
    from flask import current_app

    if "ballots" not in current_app.extensions["areas"].names:
        return []
    from ..ballots import notices, occasions

    return sorted([*notices.approved_leaves(deputy_id, year), *occasions.approved_leaves(deputy_id, year)],
                  key=lambda leave: leave.held_on)


@transactional
def record_absence(deputy: Deputy, when: date, note: str | None, actor) -> Absence:
    if when > local_today():
        raise DomainError(_("缺席日期不能晚于今天。"), field="occurred_on")
    if _excused(deputy.id, when):
        raise DomainError(_("该代表这一天的会议已经准假（请假缺席不扣分），不能登记为未请假缺席。"),
                          field="occurred_on")
    absence = Absence(deputy_id=deputy.id, occurred_on=when, year=when.year, note=(note or "").strip()[:255] or None,
                      recorded_by_id=actor.id)
    db.session.add(absence)
    db.session.flush()  # twice the same day: uq_duty_absences_deputy_id_occurred_on says so (models.py)
    audit.record("create", "absence", absence.id, f"登记{deputy.name}未请假缺席人代会（{when.isoformat()}）",
                 actor=actor)
    return absence


@transactional
def record_reminder(deputy: Deputy, year: int, held_on: date, note: str, actor) -> Reminder:
    note = (note or "").strip()
    if not note:
        raise DomainError(_("请简要记录谈话提醒的情况。"), field="note")
    if held_on > local_today():
        raise DomainError(_("谈话日期不能晚于今天。"), field="held_on")
    reminder = Reminder(deputy_id=deputy.id, year=year, held_on=held_on, note=note[:255], recorded_by_id=actor.id)
    db.session.add(reminder)
    db.session.flush()  # once a year: uq_duty_reminders_deputy_id_year says so (models.py)
    audit.record("create", "reminder", reminder.id, f"记录对{deputy.name}的 {year} 年度谈话提醒", actor=actor)
    return reminder


@transactional
def publish_results(year: int, level: str, actor):
    """Post the year's evaluation results on the noticeboard (履职情况) and freeze the year's rules."""
    from ..noticeboard.services import publish_notice

    scoring = ensure_year(year, actor)
    top = highest(year, level, 20)
    groups = group_totals(year, level, 10)
    label = LEVEL_LABELS.get(level, level)
    lines = [f"根据《{year}年度人大代表履职计分规则》，现将 {year} 年度{label}人大代表履职评价结果公布如下。", "",
             "## 履职积分前列的代表", "", "| 名次 | 代表 | 积分 |", "| --- | --- | --- |"]
    lines += [f"| {r['rank']} | {r['name']} | {Decimal(str(r['total'])):.1f} |" for r in top]
    lines += ["", "## 代表小组履职积分（人均）", "", "| 代表小组 | 人数 | 人均积分 |", "| --- | --- | --- |"]
    lines += [f"| {g['name']} | {g['members']} | {Decimal(str(g['average'])):.1f} |" for g in groups]
    scoring.results_published_at = utcnow()
    audit.record("publish", "scoring_year", year, f"公布 {year} 年度{label}人大代表履职评价结果", actor=actor)
    return publish_notice("duty_record", f"{year}年度{label}人大代表履职评价结果", "\n".join(lines),
                          source="duties", source_ref=f"results:{year}:{level}", actor=actor)
