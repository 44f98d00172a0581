"""Reading the register: the public list, supervision lists, statistics computed in the database,
server-side SVG charts and the .xlsx register export (the format offices report upward in)."""
from __future__ import annotations

from collections import defaultdict

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..core import search
from ..core.cases import reply_class_text
from ..core.extensions import db
from ..core.timeutil import local_today, to_local
from ..core.xlsx import ExportWorkbook
from .models import (
    CATEGORIES,
    PUBLIC_STATUSES,
    RATINGS,
    REPLY_CLASSES,
    STATUSES,
    TIMINGS,
    CongressSession,
    Suggestion,
    SuggestionCosigner,
)


def register_query(session_id: int, *, q: str | None = None, unit_id: int | None = None,
                   reply_class: str | None = None, status: str | None = None):
    """The public register of a session: registered suggestions by number."""
    stmt = (select(Suggestion).where(Suggestion.session_id == session_id, Suggestion.status.in_(PUBLIC_STATUSES))
            .options(selectinload(Suggestion.lead_deputy), selectinload(Suggestion.main_unit))
            .order_by(Suggestion.number))
    if q:  # core.search's index (FTS5 / pg_trgm), public suggestions only
        stmt = stmt.where(search.condition("suggestion", q, public_only=True))
    if unit_id:
        stmt = stmt.where(Suggestion.main_unit_id == unit_id)
    if reply_class in REPLY_CLASSES:
        stmt = stmt.where(Suggestion.reply_class == reply_class)
    if status in PUBLIC_STATUSES:
        stmt = stmt.where(Suggestion.status == status)
    return stmt


def supervision_query(session_id: int | None = None, *, kind: str = "all"):
    """重点督办 and overdue suggestions (kind: all, key, overdue)."""
    overdue = (Suggestion.status == "assigned") & (Suggestion.deadline < local_today())
    cond = {"key": Suggestion.is_key, "overdue": overdue}.get(kind, Suggestion.is_key | overdue)
    stmt = (select(Suggestion).where(cond)
            .options(selectinload(Suggestion.lead_deputy), selectinload(Suggestion.main_unit),
                     selectinload(Suggestion.session))
            .order_by(Suggestion.session_id.desc(), Suggestion.number))
    if session_id:
        stmt = stmt.where(Suggestion.session_id == session_id)
    return stmt


def carried_query(year: int | None = None):
    """跨年滚动连办: carried suggestions still unfinished (into `year`, or any year)."""
    stmt = (select(Suggestion).where(Suggestion.carried_to_year.is_not(None), Suggestion.completed_at.is_(None))
            .options(selectinload(Suggestion.lead_deputy), selectinload(Suggestion.main_unit),
                     selectinload(Suggestion.session))
            .order_by(Suggestion.carried_to_year.desc(), Suggestion.id))
    if year:
        stmt = stmt.where(Suggestion.carried_to_year == year)
    return stmt


def _measures():
    today = local_today()
    return {
        "total": func.count(),
        "assigned": func.count(Suggestion.main_unit_id),
        "answered": func.count(Suggestion.reply_class),
        "on_time": func.count().filter(Suggestion.answered_on_time.is_(True)),
        **{k: func.count().filter(Suggestion.reply_class == k) for k in REPLY_CLASSES},
        **{k: func.count().filter(Suggestion.rating == k) for k in RATINGS},
        "carried": func.count(Suggestion.carried_to_year),
        "key": func.count().filter(Suggestion.is_key.is_(True)),
        "closed": func.count().filter(Suggestion.status == "closed"),
        "overdue": func.count().filter(Suggestion.status == "assigned", Suggestion.deadline < today),
    }


def session_totals(session_id: int) -> dict:
    """One aggregate query over the session's registered suggestions."""
    measures = _measures()
    row = db.session.execute(select(*(m.label(k) for k, m in measures.items()))
                             .where(Suggestion.session_id == session_id, Suggestion.number.is_not(None))).one()
    return dict(row._mapping)


def unit_rows(session_id: int) -> list[dict]:
    """Per main unit: one GROUP BY query."""
    from ..registry.models import HandlingUnit

    measures = _measures()
    measures.pop("assigned")
    stmt = (select(HandlingUnit.id.label("unit_id"), HandlingUnit.name.label("unit"),
                   *(m.label(k) for k, m in measures.items()))
            .join(HandlingUnit, HandlingUnit.id == Suggestion.main_unit_id)
            .where(Suggestion.session_id == session_id, Suggestion.number.is_not(None))
            .group_by(HandlingUnit.id, HandlingUnit.name).order_by(func.count().desc(), HandlingUnit.name))
    return [dict(r._mapping) for r in db.session.execute(stmt)]


def unit_session_rows(unit_id: int) -> list[dict]:
    """One unit's figures per session (as main unit): one GROUP BY query."""
    measures = _measures()
    measures.pop("assigned")
    stmt = (select(CongressSession.id.label("session_id"), CongressSession.name.label("session"),
                   *(m.label(k) for k, m in measures.items()))
            .join(CongressSession, CongressSession.id == Suggestion.session_id)
            .where(Suggestion.main_unit_id == unit_id, Suggestion.number.is_not(None))
            .group_by(CongressSession.id, CongressSession.name, CongressSession.opens_on)
            .order_by(CongressSession.opens_on.desc()))
    return [dict(r._mapping) for r in db.session.execute(stmt)]


def percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


# ---- SVG -------------------------------------------------------------------------------------

PALETTE = ("#2b6cb0", "#2f855a", "#d69e2e", "#c53030", "#6b46c1", "#718096")


def bar_chart(title: str, items: list[tuple[str, int]], *, width: int = 360) -> Markup:
    """A horizontal bar chart as inline SVG (presentation attributes only: the CSP forbids inline styles).
    Narrow on purpose: shown about 330 px wide on a phone, its 14-unit text stays above 12 px."""
    bar_h, gap, label_w, top = 22, 8, 128, 34
    height = top + len(items) * (bar_h + gap) + 10
    peak = max((v for _, v in items), default=0) or 1
    span = width - label_w - 44
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#1a202c">{escape(title)}</text>']
    for index, (label, value) in enumerate(items):
        y = top + index * (bar_h + gap)
        w = round(span * value / peak) if value else 0
        color = PALETTE[index % len(PALETTE)]
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" font-size="14" text-anchor="end" '
                     f'fill="#2d3748">{escape(label if len(label) <= 8 else label[:7] + "…")}'
                     f'<title>{escape(label)}</title></text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{color}"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 16}" font-size="14" fill="#2d3748">{int(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every label went through escape())


def charts(totals: dict, units: list[dict]) -> list[Markup]:
    return [
        bar_chart("答复类别", [(reply_class_text(k, REPLY_CLASSES), totals[k]) for k in REPLY_CLASSES]),
        bar_chart("代表评价", [(v, totals[k]) for k, v in RATINGS.items()]),
        bar_chart("承办单位办理件数（前 12 位）", [(u["unit"], u["total"]) for u in units[:12]]),
    ]


# ---- .xlsx -----------------------------------------------------------------------------------

EXPORT_HEADERS = ["会议", "编号", "案由", "类别", "领衔代表", "附议代表", "提出时间", "主办单位", "协办单位",
                  "办理期限", "答复类别", "答复日期", "是否按期答复", "代表评价", "办理轮次", "重点督办",
                  "牵头督办领导", "跨年连办至", "落实完成", "状态"]


def export_register(session_ids: list[int] | None = None) -> bytes:
    """The whole register (or some sessions) as one sheet, written in streaming mode; four queries."""
    from ..core.cases import Case, CaseAssignment
    from ..registry.models import Deputy, HandlingUnit

    base = (select(Suggestion.id, CongressSession.name, Suggestion.number, Suggestion.title, Suggestion.category,
                   Deputy.name, Suggestion.timing, HandlingUnit.name, Suggestion.deadline, Suggestion.reply_class,
                   Suggestion.answered_at, Suggestion.answered_on_time, Suggestion.rating, Suggestion.round,
                   Suggestion.is_key, Suggestion.key_leader, Suggestion.carried_to_year, Suggestion.completed_at,
                   Suggestion.status, Suggestion.case_id)
            .join(CongressSession, CongressSession.id == Suggestion.session_id)
            .join(Deputy, Deputy.id == Suggestion.lead_deputy_id)
            .outerjoin(HandlingUnit, HandlingUnit.id == Suggestion.main_unit_id)
            .where(Suggestion.number.is_not(None))
            .order_by(CongressSession.opens_on, Suggestion.number))
    scope = select(Suggestion.id).where(Suggestion.number.is_not(None))
    if session_ids:
        base = base.where(Suggestion.session_id.in_(session_ids))
        scope = scope.where(Suggestion.session_id.in_(session_ids))
    cosigners: dict[int, list[str]] = defaultdict(list)
    for sid, name in db.session.execute(
            select(SuggestionCosigner.suggestion_id, Deputy.name)
            .join(Deputy, Deputy.id == SuggestionCosigner.deputy_id)
            .where(SuggestionCosigner.state == "confirmed", SuggestionCosigner.suggestion_id.in_(scope))
            .order_by(SuggestionCosigner.id)):
        cosigners[sid].append(name)
    assisting: dict[int, list[str]] = defaultdict(list)
    for case_id, name in db.session.execute(
            select(CaseAssignment.case_id, HandlingUnit.name)
            .join(HandlingUnit, HandlingUnit.id == CaseAssignment.unit_id)
            .join(Case, Case.id == CaseAssignment.case_id)
            .where(CaseAssignment.role == "assist", CaseAssignment.round == Case.round,
                   CaseAssignment.state.in_(("pending", "replied")), Case.source == "suggestion")
            .order_by(CaseAssignment.id)):
        assisting[case_id].append(name)

    book = ExportWorkbook()
    sheet = book.sheet("代表建议办理台账")
    sheet.append(EXPORT_HEADERS)
    for row in db.session.execute(base):
        (sid, session_name, number, title, category, lead, timing, unit, deadline, reply_class, answered_at,
         on_time, rating, round_, is_key, leader, carried, completed_at, status, case_id) = row
        sheet.append([
            session_name, number, title, CATEGORIES.get(category, category), lead, "、".join(cosigners.get(sid, [])),
            TIMINGS.get(timing or "", ""), unit or "", "、".join(assisting.get(case_id, [])),
            deadline.isoformat() if deadline else "",
            reply_class_text(reply_class, REPLY_CLASSES),
            to_local(answered_at).date().isoformat() if answered_at else "",
            "" if on_time is None else ("是" if on_time else "否"), RATINGS.get(rating or "", ""), round_,
            "是" if is_key else "", leader or "", carried or "",
            to_local(completed_at).date().isoformat() if completed_at else "", STATUSES.get(status, status),
        ])
    return book.save()
