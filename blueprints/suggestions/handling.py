"""交办 → 办 → 答复 → 评价 of a registered suggestion, on top of the shared case workflow
(blueprints.core.cases). The case carries the assignments (主办/协办, deadlines, extension, decline),
the step log and the ratings with the one reopen (二次交办); this module adds what belongs to
suggestions: the deadline rules (three months by default, six at most), bulk assignment (交办会), the
三沟通 contacts, the A/B/C answer with reasons, promised date and reply letter, and the mirrors on the
suggestion row used by the register and the statistics. Each function is one transaction."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit, cases
from ..core.errors import Conflict, DomainError, clean_text
from ..core.extensions import db
from ..core.timeutil import add_months, local_today, to_local, utcnow
from ..core.transaction import transactional
from .models import (
    CONTACT_STAGES,
    CONTACT_WAYS,
    RATINGS,
    REPLY_CLASSES,
    Suggestion,
    SuggestionAnswer,
    SuggestionContact,
)
from .services import MAX_NOTE, MAX_TEXT, SuggestionForbidden, _require_staff, _require_status

DEFAULT_MONTHS = 3
MAX_MONTHS = 6


def default_deadline(today: date | None = None) -> date:
    return add_months(today or local_today(), DEFAULT_MONTHS)


def latest_deadline(today: date | None = None) -> date:
    return add_months(today or local_today(), MAX_MONTHS)


def open_case_for(suggestion: Suggestion, by) -> None:
    """Called by register(): the suggestion's handling is a core case (source 'suggestion'), in the
    caller's transaction."""
    body = f"案据：{suggestion.grounds}\n\n方案：{suggestion.proposal}"
    if len(body) > cases.MAX_BODY:
        body = body[: cases.MAX_BODY - 1] + "…"
    case = cases.open_case("suggestion", suggestion.title, body, by=by, category=suggestion.category,
                           deputy=suggestion.lead_deputy, source_ref=f"suggestion:{suggestion.id}")
    suggestion.case = case


def unit_assignments(suggestion: Suggestion, unit_id: int) -> list:
    """The unit's assignments in the current round (pending or answered)."""
    case = suggestion.case
    if case is None:
        return []
    return [a for a in case.assignments
            if a.unit_id == unit_id and a.round == case.round and a.state in ("pending", "replied")]


def _unit_of(by):
    if by is None or by.role != "unit" or not by.unit_id:
        raise SuggestionForbidden(_("只有承办单位可以进行此操作。"))
    return by.unit_id


def _sync(suggestion: Suggestion) -> None:
    """Mirror the case's current main assignment onto the suggestion row. Between rounds the last main
    unit stays, so that the statistics count its answer."""
    case = suggestion.case
    suggestion.round = case.round
    main = case.main_assignment
    if main is not None:
        suggestion.main_unit_id, suggestion.deadline = main.unit_id, main.deadline
    elif case.status == "new":
        suggestion.deadline = None


# ---- 交办 ------------------------------------------------------------------------------------

def _check_assignment(suggestion: Suggestion, unit, deadline: date | None, by) -> date:
    _require_staff(by)
    if suggestion.status == "closed" and suggestion.round >= cases.MAX_ROUNDS:
        raise Conflict(_("这件建议已经二次交办办理过，不能第三次交办。"), field="unit_id")
    _require_status(suggestion, "registered")
    if unit is None:
        raise DomainError(_("请选择主办单位。"), field="unit_id")
    deadline = deadline or default_deadline()
    if deadline > latest_deadline():
        raise DomainError(_("办理期限最长六个月（不晚于 %(d)s）。", d=latest_deadline().isoformat()), field="deadline")
    return deadline


def _assign(suggestion: Suggestion, unit, assisting, deadline: date, by, note: str | None) -> None:
    cases.assign_case(suggestion.case, unit, deadline, by=by, assisting=assisting, note=note)
    suggestion.status = "assigned"
    _sync(suggestion)


@transactional
def assign(suggestion: Suggestion, unit, deadline: date | None = None, *, by, assisting=(),
           note: str | None = None) -> Suggestion:
    """交办 to a main unit (主办) and assisting units (协办); the deadline defaults to three months."""
    deadline = _check_assignment(suggestion, unit, deadline, by)
    _assign(suggestion, unit, list(assisting), deadline, by, note)
    return suggestion


@transactional
def assign_many(rows: list[tuple[Suggestion, object, list]], deadline: date | None = None, *, by,
                note: str | None = None) -> int:
    """交办会: many suggestions at once, each to its own main unit, with one deadline. All or nothing."""
    if not rows:
        raise DomainError(_("请至少选择一件建议并指定主办单位。"), field="unit_id")
    for suggestion, unit, assisting in rows:
        try:
            checked = _check_assignment(suggestion, unit, deadline, by)
            _assign(suggestion, unit, list(assisting), checked, by, note)
        except DomainError as error:
            # the same kind of refusal (a 403 stays a 403), naming the row it concerns
            raise type(error)(f"{suggestion.number_label}：{error.message}", field=error.field) from error
    return len(rows)


# ---- 办 --------------------------------------------------------------------------------------

@transactional
def add_contact(suggestion: Suggestion, stage: str, way: str, contacted_on: date | None, content: str, *,
                by) -> SuggestionContact:
    """三沟通: the unit records a contact with the deputy before, during or after handling."""
    unit_id = _unit_of(by)
    if not unit_assignments(suggestion, unit_id):
        raise SuggestionForbidden(_("此建议未交办给您的单位，不能办理。"))
    if stage not in CONTACT_STAGES:
        raise DomainError(_("请选择沟通阶段：办前、办中或办后。"), field="stage")
    if way not in CONTACT_WAYS:
        raise DomainError(_("请选择沟通方式。"), field="way")
    if contacted_on is None:
        raise DomainError(_("请填写沟通日期。"), field="contacted_on")
    if contacted_on > local_today():
        raise DomainError(_("沟通日期不能晚于今天。"), field="contacted_on")
    content = clean_text(content, _("沟通内容"), MAX_NOTE, "content")
    row = SuggestionContact(suggestion=suggestion, unit_id=unit_id, round=suggestion.round, stage=stage, way=way,
                            contacted_on=contacted_on, content=content, recorded_by_id=by.id)
    db.session.add(row)
    audit.record("contact", "suggestion", suggestion.id,
                 f"{CONTACT_STAGES[stage]}：《{suggestion.title}》", actor=by, note=content[:500])
    return row


@transactional
def request_extension(suggestion: Suggestion, until: date | None, reason: str, *, by) -> None:
    _unit_of(by)
    if until is not None and suggestion.case and suggestion.case.main_assignment:
        limit = add_months(to_local(suggestion.case.main_assignment.assigned_at).date(), MAX_MONTHS)
        if until > limit:
            raise DomainError(_("延期后的期限不能超过交办之日起六个月（%(d)s）。", d=limit.isoformat()),
                              field="until")
    cases.request_extension(suggestion.case, until, reason, by=by)


@transactional
def decide_extension(suggestion: Suggestion, approve: bool, *, by, note: str | None = None) -> None:
    _require_staff(by)
    cases.decide_extension(suggestion.case, approve, by=by, note=note)
    _sync(suggestion)


@transactional
def decline(suggestion: Suggestion, reason: str, *, by) -> None:
    """The main unit declines with a reason; the suggestion waits for staff to reassign it."""
    _unit_of(by)
    cases.decline_case(suggestion.case, reason, by=by)
    suggestion.status = "registered"
    suggestion.main_unit_id = suggestion.deadline = None  # not theirs: staff reassign it


@transactional
def reply(suggestion: Suggestion, text: str, reply_class: str | None = None, *, by, reasons: str | None = None,
          promised_on: date | None = None, letter: tuple[str, bytes] | None = None) -> None:
    """答复. The main unit's formal answer needs a class: A 已经解决, B 正在解决 with a promised date,
    C 暂时无法解决 with reasons; it goes to the lead deputy for rating. An assisting unit's reply is its
    opinion to the main unit (no class)."""
    unit_id = _unit_of(by)
    mine = [a for a in unit_assignments(suggestion, unit_id) if a.state == "pending"]
    if not mine:
        raise SuggestionForbidden(_("此建议未交办给您的单位，或您的单位已经答复。"))
    _require_status(suggestion, "assigned")
    main = mine[0].role == "main"
    text = clean_text(text, _("答复内容"), MAX_TEXT, "text")
    letter_type = None
    if main:
        if reply_class not in REPLY_CLASSES:
            raise DomainError(_("请选择答复类别：A 已经解决、B 正在解决或 C 暂时无法解决。"), field="reply_class")
        reasons = clean_text(reasons, _("暂时无法解决的原因"), MAX_NOTE, "reasons", required=reply_class == "C")
        if reply_class == "B":
            if promised_on is None:
                raise DomainError(_("B 类答复请填写承诺解决的日期。"), field="promised_on")
            if promised_on < local_today():
                raise DomainError(_("承诺解决的日期不能早于今天。"), field="promised_on")
        else:
            promised_on = None
        if letter is not None:
            from ..noticeboard.services import sniff_attachment

            letter_type = sniff_attachment(letter[0], letter[1])
    else:
        reply_class = reasons = promised_on = letter = None
    assignment = cases.reply_case(suggestion.case, text, by=by, reply_class=reply_class)
    if not main:
        return
    now = utcnow()
    on_time = to_local(now).date() <= assignment.deadline
    db.session.add(SuggestionAnswer(
        suggestion=suggestion, round=suggestion.round, unit_id=unit_id, reply_class=reply_class, text=text,
        reasons=reasons, promised_on=promised_on, deadline=assignment.deadline, on_time=on_time, answered_at=now,
        answered_by_id=by.id, letter_filename=letter[0][-200:] if letter else None, letter_content_type=letter_type,
        letter_data=letter[1] if letter else None))
    # A suggestion's answer goes straight to the lead deputy (答复函), so the case is 已反馈 at once.
    cases.forward_reply(suggestion.case, by=by, note=_("答复函送达领衔代表"))
    suggestion.status = "answered"
    suggestion.reply_class, suggestion.answered_at, suggestion.answered_on_time = reply_class, now, on_time


# ---- 评 --------------------------------------------------------------------------------------

@transactional
def rate(suggestion: Suggestion, rating: str, note: str | None = None, *, by) -> None:
    """The lead deputy rates the answer once per round; 不满意 in the first round sends it back for a
    second handling (二次交办, the first answer is kept); after the second round it is closed (and, if
    still unsatisfied, carried over at year end)."""
    if by is None or getattr(by, "deputy_id", None) != suggestion.lead_deputy_id:
        raise SuggestionForbidden(_("只有领衔代表可以评价这件建议。"))
    if suggestion.case is not None and any(r.round == suggestion.case.round for r in suggestion.case.ratings):
        raise Conflict(_("您已评价过本轮办理，不能重复评价。"), field="rating")
    _require_status(suggestion, "answered")
    if rating not in RATINGS:
        raise DomainError(_("请选择评价：满意、基本满意或不满意。"), field="rating")
    note = clean_text(note, _("评价意见"), MAX_NOTE, "note", required=rating == "unsatisfied")
    cases.rate_case(suggestion.case, rating, by=by, rater="deputy", note=note)
    suggestion.rating = rating
    if suggestion.case.status == "new":  # reopened for the second round
        suggestion.status = "registered"
    else:
        suggestion.status = "closed"
    _sync(suggestion)


# ---- reading ---------------------------------------------------------------------------------

def unit_inbox_query(unit_id: int, state: str = "open"):
    """The unit's suggestions in the current round: open (pending) or all."""
    from ..core.cases import Case, CaseAssignment

    mine = (select(CaseAssignment.case_id).join(Case, Case.id == CaseAssignment.case_id)
            .where(CaseAssignment.unit_id == unit_id, CaseAssignment.round == Case.round,
                   CaseAssignment.state.in_(("pending",) if state == "open" else ("pending", "replied"))))
    stmt = select(Suggestion).where(Suggestion.case_id.in_(mine)).order_by(Suggestion.deadline, Suggestion.id)
    if state == "open":  # once the main unit has answered, an assisting unit has nothing left to do
        stmt = stmt.where(Suggestion.status == "assigned")
    return stmt
