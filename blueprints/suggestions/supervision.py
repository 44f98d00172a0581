"""督: leaders of key suggestions and their supervision records (督办记录), interviews of a unit's head
(约谈问效), a carried-over suggestion's rounds in the year it was carried into (跨年滚动连办) and links
to earlier suggestions on the same matter (年年提). Each writing function is one unit of work."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import areas, audit
from ..core.cases import MAX_ROUNDS
from ..core.errors import Conflict, DomainError, clean_text
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from .models import CongressSession, Suggestion, SuggestionCarryOver
from .services import MAX_NOTE, MAX_TEXT, SuggestionForbidden, _require_staff, is_staff
from .supervision_models import (
    INTERVIEW_KINDS,
    INTERVIEW_REASONS,
    SUPERVISION_FORMS,
    CarryRound,
    SuggestionLink,
    SupervisionRecord,
    UnitInterview,
)

# ---- leaders ---------------------------------------------------------------------------------

def is_leader(user) -> bool:
    return user is not None and getattr(user, "role", None) == "leader" and bool(getattr(user, "active", True))


def require_leader(user) -> User:
    if user is None:
        raise DomainError(_("请选择牵头督办领导。"), field="key_leader")
    if not is_leader(user):
        raise DomainError(_("%(n)s 不是常委会组成人员（督办领导）账号，不能牵头督办。", n=user.display_name),
                          field="key_leader")
    return user


def leaders() -> list[User]:
    return db.session.scalars(select(User).where(User.role == "leader", User.active)
                              .order_by(User.display_name)).all()


def leader_suggestions_query(leader_id: int):
    from sqlalchemy.orm import selectinload

    return (select(Suggestion).where(Suggestion.key_leader_id == leader_id, Suggestion.is_key)
            .options(selectinload(Suggestion.main_unit), selectinload(Suggestion.session),
                     selectinload(Suggestion.lead_deputy))
            .order_by(Suggestion.session_id.desc(), Suggestion.number))


@areas.count_query
def leader_open_count(user):
    """A leader's workspace: their key suggestions not yet closed (SQL, run with the other counts)."""
    return select(func.count(Suggestion.id)).where(
        Suggestion.key_leader_id == user.id, Suggestion.is_key, Suggestion.status != "closed")


def records_of(suggestion: Suggestion) -> list[SupervisionRecord]:
    return db.session.scalars(select(SupervisionRecord).where(SupervisionRecord.suggestion_id == suggestion.id)
                              .order_by(SupervisionRecord.held_on, SupervisionRecord.id)).all()


@transactional
def add_record(suggestion: Suggestion, held_on: date | None, form: str, participants: str, agreed: str, *,
               by) -> SupervisionRecord:
    """督办记录 of a key suggestion, by its leader (or staff on the leader's behalf)."""
    if not (is_staff(by) or (is_leader(by) and suggestion.key_leader_id == by.id)):
        raise SuggestionForbidden(_("只有这件建议的牵头督办领导或代表工委可以记录督办情况。"))
    if not suggestion.is_key:
        raise Conflict(_("这件建议不是重点督办建议。"), field="form")
    if form not in SUPERVISION_FORMS:
        raise DomainError(_("请选择督办形式：座谈会、现场视察、调度会或约谈。"), field="form")
    if held_on is None:
        raise DomainError(_("请填写督办日期。"), field="held_on")
    if held_on > local_today():
        raise DomainError(_("督办日期不能晚于今天。"), field="held_on")
    participants = clean_text(participants, _("参加人员"), MAX_NOTE, "participants")
    agreed = clean_text(agreed, _("议定事项"), MAX_TEXT, "agreed")
    row = SupervisionRecord(suggestion_id=suggestion.id, leader_id=suggestion.key_leader_id, held_on=held_on,
                            form=form, participants=participants, agreed=agreed, recorded_by_id=by.id)
    db.session.add(row)
    audit.record("supervise", "suggestion", suggestion.id,
                 f"督办记录（{SUPERVISION_FORMS[form]}）：《{suggestion.title}》", actor=by, note=agreed[:500])
    return row


# ---- 约谈问效 ----------------------------------------------------------------------------------

def unit_problems(unit_id: int, session_id: int | None = None) -> dict:
    """A unit's unsatisfied ratings and overdue answers (as main unit), counted in one query."""
    today = local_today()
    stmt = select(func.count().filter(Suggestion.rating == "unsatisfied"),
                  func.count().filter(Suggestion.status == "assigned", Suggestion.deadline < today),
                  func.count().filter(Suggestion.answered_on_time.is_(False))
                  ).where(Suggestion.main_unit_id == unit_id)
    if session_id:
        stmt = stmt.where(Suggestion.session_id == session_id)
    unsatisfied, overdue, late = db.session.execute(stmt).one()
    return {"unsatisfied": unsatisfied, "overdue": overdue + late}


@transactional
def record_interview(unit, kind: str, held_on: date | None, head_name: str, content: str, *, by,
                     session: CongressSession | None = None, outcome: str | None = None) -> UnitInterview:
    """约谈 (or a written explanation demanded of) the head of a unit with unsatisfied ratings or overdue
    answers; the reason is what the figures show."""
    _require_staff(by)
    if unit is None:
        raise DomainError(_("请选择承办单位。"), field="unit_id")
    if kind not in INTERVIEW_KINDS:
        raise DomainError(_("请选择约谈或书面说明。"), field="kind")
    problems = unit_problems(unit.id, session.id if session else None)
    if not problems["unsatisfied"] and not problems["overdue"]:
        raise Conflict(_("%(u)s 没有代表不满意或超期答复的建议，无需约谈问效。", u=unit.name), field="unit_id")
    reason = ("both" if problems["unsatisfied"] and problems["overdue"]
              else "unsatisfied" if problems["unsatisfied"] else "overdue")
    if held_on is None:
        raise DomainError(_("请填写日期。"), field="held_on")
    head_name = clean_text(head_name, _("单位负责人"), 64, "head_name")
    content = clean_text(content, _("约谈内容"), MAX_TEXT, "content")
    outcome = clean_text(outcome, _("整改结果"), MAX_TEXT, "outcome", required=False)
    row = UnitInterview(unit_id=unit.id, session_id=session.id if session else None, kind=kind, reason=reason,
                        held_on=held_on, head_name=head_name, content=content, outcome=outcome,
                        recorded_by_id=by.id)
    db.session.add(row)
    db.session.flush()
    audit.record("interview", "handling_unit", unit.id,
                 f"{INTERVIEW_KINDS[kind]}：{unit.name} {head_name}（{INTERVIEW_REASONS[reason]}）", actor=by)
    return row


@transactional
def set_interview_outcome(interview: UnitInterview, outcome: str, *, by) -> UnitInterview:
    _require_staff(by)
    interview.outcome = clean_text(outcome, _("整改结果"), MAX_TEXT, "outcome")
    audit.record("update", "handling_unit", interview.unit_id, f"约谈问效结果：{interview.head_name}", actor=by)
    return interview


def interviews_query(unit_id: int | None = None):
    from sqlalchemy.orm import selectinload

    stmt = (select(UnitInterview).options(selectinload(UnitInterview.unit), selectinload(UnitInterview.session))
            .order_by(UnitInterview.held_on.desc(), UnitInterview.id.desc()))
    if unit_id:
        stmt = stmt.where(UnitInterview.unit_id == unit_id)
    return stmt


# ---- 跨年滚动连办: rounds in the year carried into ----------------------------------------------

def current_carry(suggestion: Suggestion) -> SuggestionCarryOver | None:
    return suggestion.carry_overs[-1] if suggestion.carry_overs else None


def carry_rounds(carry: SuggestionCarryOver) -> list[CarryRound]:
    return db.session.scalars(select(CarryRound).where(CarryRound.carry_over_id == carry.id)
                              .order_by(CarryRound.round)).all()


@transactional
def assign_carried(suggestion: Suggestion, unit, deadline: date | None, *, by) -> CarryRound:
    """A carried-over suggestion is assigned again in the year it was carried into, with a new deadline:
    a new round; at most MAX_ROUNDS rounds within a year, until it is confirmed complete."""
    from .handling import latest_deadline

    _require_staff(by)
    carry = current_carry(suggestion)
    if carry is None:
        raise Conflict(_("这件建议没有转入跨年连办。"), field="unit_id")
    if suggestion.completed_at is not None:
        raise Conflict(_("这件建议已确认落实完成，不再连办。"), field="unit_id")
    if unit is None:
        raise DomainError(_("请选择主办单位。"), field="unit_id")
    if deadline is None:
        raise DomainError(_("请填写新的办理期限。"), field="deadline")
    if deadline < local_today():
        raise DomainError(_("办理期限不能早于今天。"), field="deadline")
    if deadline > latest_deadline():
        raise DomainError(_("办理期限最长六个月（不晚于 %(d)s）。", d=latest_deadline().isoformat()), field="deadline")
    rounds = carry_rounds(carry)
    if rounds and rounds[-1].reported_at is None:
        raise Conflict(_("本年度第 %(n)d 轮连办尚未报告办理情况，不能再次交办。", n=rounds[-1].round), field="unit_id")
    if len(rounds) >= MAX_ROUNDS:
        raise Conflict(_("%(y)d 年度已连办 %(n)d 轮，同一年度不能再交办；请在下一年度转入后继续。",
                         y=carry.year, n=MAX_ROUNDS), field="unit_id")
    row = CarryRound(carry_over_id=carry.id, round=len(rounds) + 1, unit_id=unit.id, deadline=deadline,
                     assigned_by_id=by.id)
    db.session.add(row)
    suggestion.main_unit_id = unit.id
    audit.record("assign", "suggestion", suggestion.id,
                 f"{carry.year} 年跨年连办第 {row.round} 轮交办：《{suggestion.title}》→ {unit.name}", actor=by)
    return row


@transactional
def report_carried(suggestion: Suggestion, report: str, *, by) -> CarryRound:
    """The unit reports what it did in this year's round of a carried-over suggestion."""
    carry = current_carry(suggestion)
    rounds = carry_rounds(carry) if carry else []
    current = rounds[-1] if rounds else None
    if by is None or by.role != "unit" or current is None or current.unit_id != by.unit_id:
        raise SuggestionForbidden(_("此连办建议未交办给您的单位。"))
    if current.reported_at is not None:
        raise Conflict(_("本轮已经报告过办理情况。"), field="report")
    current.report = clean_text(report, _("办理情况"), MAX_TEXT, "report")
    current.reported_at = utcnow()
    audit.record("reply", "suggestion", suggestion.id,
                 f"{carry.year} 年跨年连办第 {current.round} 轮办理情况：《{suggestion.title}》", actor=by)
    return current


def carried_open_for_unit(user) -> int:
    """A unit's workspace: carried-over rounds assigned to it and not yet reported (one query)."""
    return db.session.scalar(select(func.count(CarryRound.id)).where(
        CarryRound.unit_id == user.unit_id, CarryRound.reported_at.is_(None)))


# ---- 年年提 ------------------------------------------------------------------------------------

@transactional
def link_earlier(suggestion: Suggestion, earlier: Suggestion | None, *, by) -> SuggestionLink:
    """Link a suggestion to an earlier one on the same matter (staff)."""
    _require_staff(by)
    if earlier is None:
        raise DomainError(_("找不到要关联的建议。"), field="earlier")
    if earlier.id == suggestion.id:
        raise DomainError(_("不能关联建议自身。"), field="earlier")
    if earlier.number is None:
        raise DomainError(_("只能关联已立案的建议。"), field="earlier")
    if earlier.session.opens_on >= suggestion.session.opens_on:
        raise DomainError(_("只能关联以往会议的建议（%(n)s 不早于本件）。", n=earlier.session.name), field="earlier")
    if db.session.scalar(select(SuggestionLink.id).where(SuggestionLink.suggestion_id == suggestion.id,
                                                         SuggestionLink.earlier_id == earlier.id)):
        raise Conflict(_("已经关联过这件建议。"), field="earlier")
    row = SuggestionLink(suggestion_id=suggestion.id, earlier_id=earlier.id, linked_by_id=by.id)
    db.session.add(row)
    audit.record("link", "suggestion", suggestion.id,
                 f"关联以往建议：《{suggestion.title}》← {earlier.session.name}第 {earlier.number} 号", actor=by)
    return row


def find_earlier(session_name_or_id: str | None, number: int | None) -> Suggestion | None:
    """An earlier suggestion by its session and number."""
    if not session_name_or_id or not number:
        return None
    key = str(session_name_or_id).strip()
    cond = CongressSession.id == int(key) if key.isdigit() else CongressSession.name == key
    return db.session.scalar(select(Suggestion).join(CongressSession, CongressSession.id == Suggestion.session_id)
                             .where(cond, Suggestion.number == number))


def earlier_of(suggestion: Suggestion) -> list[Suggestion]:
    """Every earlier suggestion on the same matter (links followed back), oldest first."""
    ids = _chain([suggestion.id]).get(suggestion.id, set()) - {suggestion.id}
    if not ids:
        return []
    return db.session.scalars(select(Suggestion).join(CongressSession, CongressSession.id == Suggestion.session_id)
                              .where(Suggestion.id.in_(ids)).order_by(CongressSession.opens_on)).all()


def _chain(ids: list[int]) -> dict[int, set[int]]:
    """root id -> the ids reachable through links to earlier suggestions (the root included): one
    recursive query."""
    if not ids:
        return {}
    chain = (select(Suggestion.id.label("root"), Suggestion.id.label("sid")).where(Suggestion.id.in_(ids))
             .cte("chain", recursive=True))
    chain = chain.union(select(chain.c.root, SuggestionLink.earlier_id)
                        .join(SuggestionLink, SuggestionLink.suggestion_id == chain.c.sid))
    rows = db.session.execute(select(chain.c.root, chain.c.sid)).all()
    found: dict[int, set[int]] = {}
    for root, sid in rows:
        found.setdefault(root, set()).add(sid)
    return found


def years_raised(ids: list[int]) -> dict[int, int]:
    """How many years a matter has been raised, per suggestion id: the distinct session years of the
    suggestion and of every earlier one it links to (two queries)."""
    chains = _chain(list(ids))
    every = set().union(*chains.values()) if chains else set()
    if not every:
        return {}
    year_of = dict(db.session.execute(
        select(Suggestion.id, CongressSession.year).join(CongressSession, CongressSession.id == Suggestion.session_id)
        .where(Suggestion.id.in_(every))).all())
    return {root: len({year_of[s] for s in members if s in year_of}) for root, members in chains.items()}

