"""评: rating the handling units. Per unit and session the figures (assigned, answered on time, A/B/C
shares, satisfaction, second handlings, overdue) in one GROUP BY query; a ranking by the year's
published formula (UnitRatingRule: weights set by staff, as the deputies' points rules in
blueprints/duties); the 反向测评 satisfaction ballot of the units (the ballots area's rating method,
secret), whose result joins the ranking; the .xlsx export, the notice, and the figures of the
government's handling report (办理工作报告)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import audit
from ..core.errors import Conflict, DomainError
from ..core.extensions import db
from ..core.timeutil import local_today
from ..core.transaction import transactional
from ..core.xlsx import ExportWorkbook
from .models import REPLY_CLASSES, CongressSession, Suggestion
from .services import _require_staff, key_required
from .supervision_models import UnitRatingRule

WEIGHTS = {  # column -> (label, sign)
    "w_on_time": ("按时答复率", 1),
    "w_satisfied": ("满意率", 1),
    "w_solved": ("A 类（已解决）占比", 1),
    "w_ballot": ("反向测评满意率", 1),
    "w_second": ("二次交办率", -1),
    "w_overdue": ("超期率", -1),
}
MAX_WEIGHT = 100


def rule_for(year: int) -> UnitRatingRule:
    """The year's rule, or the defaults (not saved) when staff have set none."""
    rule = db.session.get(UnitRatingRule, year)
    if rule is None:
        rule = UnitRatingRule(year=year, **{k: UnitRatingRule.__table__.c[k].default.arg for k in WEIGHTS})
    return rule


def formula_text(rule: UnitRatingRule) -> str:
    plus = [f"{getattr(rule, k)} × {label}" for k, (label, sign) in WEIGHTS.items() if sign > 0]
    minus = [f"{getattr(rule, k)} × {label}" for k, (label, sign) in WEIGHTS.items() if sign < 0]
    return _("得分 = ") + " + ".join(plus) + " − " + " − ".join(minus)


@transactional
def set_rule(year: int, weights: dict, *, by) -> UnitRatingRule:
    """Staff set the year's weights (whole points, 0–100 each)."""
    _require_staff(by)
    if not year or not 2000 <= int(year) <= 2100:
        raise DomainError(_("年度不正确。"), field="year")
    clean = {}
    for key, (label, _sign) in WEIGHTS.items():
        value = weights.get(key)
        if value is None or not 0 <= int(value) <= MAX_WEIGHT:
            raise DomainError(_("%(l)s的权重须在 0 到 %(m)d 之间。", l=label, m=MAX_WEIGHT), field=key)
        clean[key] = int(value)
    rule = db.session.get(UnitRatingRule, int(year))
    if rule is None:
        rule = UnitRatingRule(year=int(year))
        db.session.add(rule)
    before = {k: getattr(rule, k) for k in WEIGHTS}
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.updated_by_id = by.id
    audit.record("update", "unit_rating_rule", int(year), f"{year} 年度承办单位测评权重", actor=by,
                 changes={"weights": [before, clean]})
    return rule


# ---- figures ---------------------------------------------------------------------------------

@dataclass
class UnitFigures:
    unit_id: int
    unit: str
    assigned: int = 0
    answered: int = 0
    on_time: int = 0
    classes: dict = field(default_factory=dict)
    satisfied: int = 0
    basically: int = 0
    unsatisfied: int = 0
    second: int = 0
    overdue: int = 0
    ballot: float | None = None  # 反向测评: (满意 + 基本满意) ÷ votes cast
    score: float = 0.0
    rank: int = 0

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically + self.unsatisfied

    def rate(self, name: str) -> float:
        base = {"on_time": self.assigned, "satisfied": self.rated, "solved": self.answered,
                "second": self.assigned, "overdue": self.assigned}[name]
        part = {"on_time": self.on_time, "satisfied": self.satisfied + self.basically,
                "solved": self.classes.get("A", 0), "second": self.second, "overdue": self.overdue}[name]
        return part / base if base else 0.0


def unit_figures(session_id: int) -> list[UnitFigures]:
    """Per main unit of the session: one GROUP BY query."""
    from ..registry.models import HandlingUnit

    today = local_today()
    stmt = (select(HandlingUnit.id, HandlingUnit.name, func.count(),
                   func.count(Suggestion.reply_class),
                   func.count().filter(Suggestion.answered_on_time.is_(True)),
                   *(func.count().filter(Suggestion.reply_class == k) for k in REPLY_CLASSES),
                   func.count().filter(Suggestion.rating == "satisfied"),
                   func.count().filter(Suggestion.rating == "basically"),
                   func.count().filter(Suggestion.rating == "unsatisfied"),
                   func.count().filter(Suggestion.round >= 2),
                   func.count().filter((Suggestion.answered_on_time.is_(False))
                                       | ((Suggestion.status == "assigned") & (Suggestion.deadline < today))))
            .join(HandlingUnit, HandlingUnit.id == Suggestion.main_unit_id)
            .where(Suggestion.session_id == session_id, Suggestion.number.is_not(None))
            .group_by(HandlingUnit.id, HandlingUnit.name).order_by(HandlingUnit.name))
    rows = []
    for uid, name, assigned, answered, on_time, a, b, c, sat, basic, unsat, second, overdue in db.session.execute(stmt):
        rows.append(UnitFigures(uid, name, assigned, answered, on_time, {"A": a, "B": b, "C": c}, sat, basic, unsat,
                                second, overdue))
    return rows


def ballot_results(ballot_id: int | None) -> dict[str, float]:
    """unit name -> satisfaction of the 反向测评 ballot, once it is closed or published."""
    if not ballot_id:
        return {}
    from ..ballots.models import Ballot
    from ..ballots.tally import tally

    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.status not in ("closed", "published"):
        return {}
    out = {}
    for result in tally(ballot):
        cast = result.cast
        good = result.total.get("satisfied", 0) + result.total.get("basic", 0)
        out[result.item.unit_name or result.item.title] = good / cast if cast else 0.0
    return out


def ranking(session: CongressSession) -> tuple[UnitRatingRule, list[UnitFigures]]:
    """The session's units scored by its year's rule, best first (equal scores share a rank)."""
    rule = rule_for(session.year)
    rows = unit_figures(session.id)
    ballots = ballot_results(rule.ballot_id)
    for row in rows:
        row.ballot = ballots.get(row.unit)
        row.score = round(rule.w_on_time * row.rate("on_time") + rule.w_satisfied * row.rate("satisfied")
                          + rule.w_solved * row.rate("solved") + rule.w_ballot * (row.ballot or 0.0)
                          - rule.w_second * row.rate("second") - rule.w_overdue * row.rate("overdue"), 2)
    rows.sort(key=lambda r: (-r.score, r.unit))
    for index, row in enumerate(rows):
        row.rank = rows[index - 1].rank if index and rows[index - 1].score == row.score else index + 1
    return rule, rows


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


HEADERS = ["名次", "承办单位", "交办件数", "已答复", "按时答复", "按时答复率", "A 类", "B 类", "C 类", "A 类占比",
           "满意", "基本满意", "不满意", "满意率", "二次交办", "超期", "反向测评满意率", "得分"]


def _row(r: UnitFigures) -> list:
    return [r.rank, r.unit, r.assigned, r.answered, r.on_time, pct(r.rate("on_time")), r.classes["A"],
            r.classes["B"], r.classes["C"], pct(r.rate("solved")), r.satisfied, r.basically, r.unsatisfied,
            pct(r.rate("satisfied")), r.second, r.overdue, pct(r.ballot), r.score]


def export_xlsx(session: CongressSession) -> bytes:
    rule, rows = ranking(session)
    book = ExportWorkbook()  # formulas neutralised, control characters dropped
    sheet = book.sheet("承办单位测评")
    sheet.append([f"{session.name} 承办单位办理代表建议测评排名"])
    sheet.append([formula_text(rule)])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(_row(row))
    return book.save()


@transactional
def publish(session: CongressSession, *, by):
    """Publish the ranking with its formula to the noticeboard (建议办理结果); publishing again revises
    the same notice."""
    from ..noticeboard.services import publish_notice

    _require_staff(by)
    rule, rows = ranking(session)
    if not rows:
        raise Conflict(_("%(s)s 还没有交办的建议，无法公布测评结果。", s=session.name), field="session_id")
    lines = [f"测评办法：{formula_text(rule)}（各项比率在 0 到 1 之间）。", ""]
    for r in rows:
        lines.append(f"{r.rank}. {r.unit}：得分 {r.score}；交办 {r.assigned} 件，按时答复率 {pct(r.rate('on_time'))}，"
                     f"A 类占比 {pct(r.rate('solved'))}，满意率 {pct(r.rate('satisfied'))}，二次交办 {r.second} 件，"
                     f"超期 {r.overdue} 件，反向测评满意率 {pct(r.ballot)}")
    notice = publish_notice("suggestion_result", f"{session.name}承办单位办理代表建议测评结果", "\n".join(lines),
                            source="suggestions.unit_rating", source_ref=str(session.id), actor=by)
    audit.record("publish", "congress_session", session.id, f"公布承办单位测评：{session.name}", actor=by)
    return notice


# ---- 反向测评 ----------------------------------------------------------------------------------

@transactional
def create_unit_ballot(meeting, year: int, *, by):
    """A secret satisfaction ballot (the ballots area's rating method) of the units that handled the
    year's suggestions, at the year-end session; its result joins the year's ranking."""
    from ..ballots import voting
    from ..registry.models import HandlingUnit

    _require_staff(by)
    if meeting is None:
        raise DomainError(_("请选择会议。"), field="meeting_id")
    rule = db.session.get(UnitRatingRule, year)
    if rule is None:
        rule = rule_for(year)
        rule.updated_by_id = by.id
        db.session.add(rule)
    if rule.ballot_id is not None:
        raise Conflict(_("%(y)d 年度已经创建过承办单位满意度测评。", y=year), field="meeting_id")
    units = db.session.scalars(
        select(HandlingUnit).where(HandlingUnit.id.in_(
            select(Suggestion.main_unit_id).join(CongressSession, CongressSession.id == Suggestion.session_id)
            .where(CongressSession.year == year, Suggestion.main_unit_id.is_not(None))))
        .order_by(HandlingUnit.name)).all()
    if not units:
        raise Conflict(_("%(y)d 年度还没有交办给承办单位的建议。", y=year), field="meeting_id")
    ballot = voting.create_ballot(meeting, f"{year} 年度代表建议承办单位满意度测评", "rating", True, actor=by)
    for unit in units:
        voting.add_item(ballot, unit.name, unit_name=unit.name, actor=by)
    rule.ballot_id = ballot.id
    db.session.flush()
    return ballot


# ---- 办理工作报告 ------------------------------------------------------------------------------

def report_figures(session: CongressSession) -> dict:
    """The figures of the seeds' handling reports, for one session (three queries)."""
    from .stats import session_totals

    totals = session_totals(session.id)
    rated = totals["satisfied"] + totals["basically"] + totals["unsatisfied"]
    answered = totals["answered"]
    carried = db.session.scalar(select(func.count(Suggestion.id)).where(
        Suggestion.session_id == session.id, Suggestion.carried_to_year.is_not(None)))
    completed = db.session.scalar(select(func.count(Suggestion.id)).where(
        Suggestion.session_id == session.id, Suggestion.carried_to_year.is_not(None),
        Suggestion.completed_at.is_not(None)))
    return {
        **totals,
        "rated": rated,
        "answered_rate": pct(answered / totals["total"]) if totals["total"] else "—",
        "closed_rate": pct(totals["closed"] / totals["total"]) if totals["total"] else "—",
        "on_time_rate": pct(totals["on_time"] / answered) if answered else "—",
        "satisfaction_rate": pct((totals["satisfied"] + totals["basically"]) / rated) if rated else "—",
        "class_shares": {k: pct(totals[k] / answered) if answered else "—" for k in REPLY_CLASSES},
        "key_required": key_required(totals["total"]),
        "carried_total": carried,
        "carried_completed": completed,
    }
