"""提: sessions, drafting, co-signing (附议), pre-review (预审), revision and registration (立案);
督: key supervision (重点督办, at least 15%) and the year-end carry-over (跨年滚动连办).

Each public function that writes is one unit of work (``core.transaction``): called alone it commits;
called inside a caller's ``with transaction():`` it only flushes, so the caller's work and its own commit
together. A refusal raises a DomainError and leaves the database unchanged: 422 for input that breaks a
rule, ``Conflict`` (409) when the suggestion's state or another row forbids it, ``SuggestionForbidden``
(403) when the user may not act on the suggestion. The handling (交办/办理/答复/评价) is in handling.py
on top of blueprints.core.cases.
"""
from __future__ import annotations

import math
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import areas, audit
from ..core.errors import Conflict, DomainError, Forbidden, clean_text
from ..core.extensions import db
from ..core.invitations import InviteWords, check_invitees
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from ..notifications import events as notification_events
from .models import (
    CATEGORIES,
    CongressSession,
    Suggestion,
    SuggestionCarryOver,
    SuggestionCosigner,
    SuggestionReview,
    SuggestionRevision,
)

MAX_TITLE = 120
MAX_TEXT = 10_000
MAX_NOTE = 2_000
MAX_COSIGNERS = 50
KEY_SHARE = 0.15  # 重点督办: at least 15% of a session's registered suggestions
TEXT_FIELDS = ("title", "grounds", "proposal", "category")


class SuggestionForbidden(Forbidden):
    """The user may not act on this suggestion: views answer 403."""


# ---- helpers ---------------------------------------------------------------------------------

def _check_text(values: dict) -> dict:
    out = {
        "title": clean_text(values.get("title"), _("案由"), MAX_TITLE, "title"),
        "grounds": clean_text(values.get("grounds"), _("案据"), MAX_TEXT, "grounds"),
        "proposal": clean_text(values.get("proposal"), _("方案"), MAX_TEXT, "proposal"),
        "category": values.get("category") or "other",
    }
    if out["category"] not in CATEGORIES:
        raise DomainError(_("请选择建议类别。"), field="category")
    return out


def _deputy_of(user):
    deputy = getattr(user, "deputy", None) if user is not None else None
    if deputy is None:
        raise SuggestionForbidden(_("只有人大代表可以提出和附议建议。"))
    return deputy


def is_staff(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", True) and user.has_role("staff")


def is_lead(user, suggestion: Suggestion) -> bool:
    return user is not None and getattr(user, "deputy_id", None) == suggestion.lead_deputy_id


def _require_lead(user, suggestion: Suggestion) -> None:
    if not is_lead(user, suggestion):
        raise SuggestionForbidden(_("只有领衔代表可以进行此操作。"))


def _require_staff(user) -> None:
    if not is_staff(user):
        raise SuggestionForbidden(_("只有代表工委工作人员可以进行此操作。"))


def _require_status(suggestion: Suggestion, *statuses: str) -> None:
    if suggestion.status not in statuses:
        raise Conflict(_("此建议当前状态为“%(s)s”，不能进行此操作。", s=suggestion.status_label), field="status")


def _record_duty_activity(deputy, kind: str, suggestion: Suggestion, actor=None) -> None:
    """Submitting (领衔) and co-signing (附议) are duty activities (履职登记): recorded in the caller's
    transaction, once per deputy and suggestion however often this runs."""
    from ..duties.services import record_activity

    label = "领衔提出建议" if kind == "suggestion_lead" else "附议建议"
    record_activity(deputy.id, kind, utcnow(), f"{label}《{suggestion.title}》",
                    source="suggestions", source_ref=f"suggestion:{suggestion.id}", actor=actor)


def can_review(user, suggestion: Suggestion) -> bool:
    """预审: the office, or a leader/vice leader of one of the lead deputy's groups or of a professional
    group (专业代表小组)."""
    if is_staff(user):
        return True
    deputy = getattr(user, "deputy", None) if user is not None else None
    if deputy is None or deputy.id == suggestion.lead_deputy_id:
        return False
    from ..registry.models import DeputyGroup, GroupMembership

    led = select(GroupMembership.group_id).where(GroupMembership.deputy_id == deputy.id,
                                                GroupMembership.role.in_(("leader", "vice_leader")))
    lead_groups = select(GroupMembership.group_id).where(GroupMembership.deputy_id == suggestion.lead_deputy_id)
    professional = select(DeputyGroup.id).where(DeputyGroup.kind == "professional")
    hit = db.session.scalar(select(func.count()).select_from(GroupMembership).where(
        GroupMembership.deputy_id == deputy.id, GroupMembership.group_id.in_(led),
        GroupMembership.group_id.in_(lead_groups.union(professional))))
    return bool(hit)


def can_read(user, suggestion: Suggestion) -> bool:
    """Drafts are private to the lead deputy and the deputies invited to co-sign."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if is_lead(user, suggestion):
        return True
    deputy_id = getattr(user, "deputy_id", None)
    if deputy_id and any(c.deputy_id == deputy_id for c in suggestion.cosigners):
        return True
    if suggestion.status == "draft":
        return False
    if is_staff(user):
        return True
    if suggestion.status in ("submitted", "returned"):
        return can_review(user, suggestion)
    if user.role == "leader" and suggestion.key_leader_id == user.id:
        return True
    if user.role == "unit" and user.unit_id:
        from .handling import unit_assignments

        return bool(unit_assignments(suggestion, user.unit_id))
    return suggestion.is_public


def can_read_reply(user, suggestion: Suggestion) -> bool:
    """A withheld reply (personal data in it) is read only by the lead deputy, the co-signers, the units
    it was assigned to and staff; everyone else who may read the suggestion sees that it is withheld."""
    if not can_read(user, suggestion):
        return False
    if not suggestion.reply_withheld or is_lead(user, suggestion) or is_staff(user):
        return True
    deputy_id = getattr(user, "deputy_id", None)
    if deputy_id and any(c.deputy_id == deputy_id and c.state == "confirmed" for c in suggestion.cosigners):
        return True
    if user.role == "unit" and user.unit_id:
        from .handling import unit_assignments

        return bool(unit_assignments(suggestion, user.unit_id))
    return False


# ---- sessions --------------------------------------------------------------------------------

@transactional
def create_session(name: str, year: int, opens_on: date, closes_on: date | None = None, *, by) -> CongressSession:
    _require_staff(by)
    name = clean_text(name, _("会议名称"), 64, "name")
    if opens_on is None:
        raise DomainError(_("请填写开幕日期。"), field="opens_on")
    if closes_on is not None and closes_on < opens_on:
        raise DomainError(_("闭幕日期不能早于开幕日期。"), field="closes_on")
    if not year or not 2000 <= int(year) <= 2100:
        raise DomainError(_("年度不正确。"), field="year")
    if db.session.scalar(select(CongressSession.id).where(CongressSession.name == name)):
        raise Conflict(_("已有同名的会议。"), field="name")
    session = CongressSession(name=name, year=int(year), opens_on=opens_on, closes_on=closes_on, accepting=True)
    db.session.add(session)
    db.session.flush()
    audit.record("create", "congress_session", session.id, f"新建会议：{name}", actor=by)
    return session


@transactional
def set_accepting(session: CongressSession, accepting: bool, *, by) -> None:
    _require_staff(by)
    session.accepting = accepting
    audit.record("update", "congress_session", session.id,
                 f"{'开始' if accepting else '停止'}接收建议：{session.name}", actor=by)


def accepting_sessions() -> list[CongressSession]:
    return db.session.scalars(select(CongressSession).where(CongressSession.accepting)
                              .order_by(CongressSession.opens_on.desc())).all()


def all_sessions() -> list[CongressSession]:
    return db.session.scalars(select(CongressSession).order_by(CongressSession.opens_on.desc())).all()


# ---- 提: drafting, co-signing, pre-review ------------------------------------------------------

@transactional
def create_draft(values: dict, *, by, session: CongressSession | None) -> Suggestion:
    deputy = _deputy_of(by)
    if not deputy.serving:
        raise SuggestionForbidden(_("您的代表资格已终止，不能提出建议。"))
    if session is None or not session.accepting:
        raise DomainError(_("请选择正在接收建议的会议。"), field="session_id")
    values = _check_text(values)
    suggestion = Suggestion(session=session, lead_deputy_id=deputy.id, status="draft", **values)
    db.session.add(suggestion)
    return suggestion


@transactional
def update_draft(suggestion: Suggestion, values: dict, *, by, session: CongressSession | None = None) -> Suggestion:
    """Only a draft is edited in place; a submitted suggestion changes only through revise()."""
    _require_lead(by, suggestion)
    if suggestion.status != "draft":
        raise Conflict(_("已提交的建议不能直接修改；退回修改后请填写修订说明进行修订，原文将保留。"),
                          field="title")
    values = _check_text(values)
    if session is not None and session.id != suggestion.session_id:
        if not session.accepting:
            raise DomainError(_("请选择正在接收建议的会议。"), field="session_id")
        suggestion.session = session
    for key, value in values.items():
        setattr(suggestion, key, value)
    return suggestion


@transactional
def delete_draft(suggestion: Suggestion, *, by) -> None:
    _require_lead(by, suggestion)
    _require_status(suggestion, "draft")
    db.session.delete(suggestion)


@transactional
def revise(suggestion: Suggestion, values: dict, note: str, *, by) -> SuggestionRevision:
    """A returned suggestion is revised by its lead deputy: the earlier text is kept as a revision."""
    _require_lead(by, suggestion)
    _require_status(suggestion, "returned")
    values = _check_text(values)
    note = clean_text(note, _("修订说明"), MAX_NOTE, "note")
    if all(values[k] == getattr(suggestion, k) for k in TEXT_FIELDS):
        raise DomainError(_("内容没有修改。"), field="title")
    old = SuggestionRevision(suggestion=suggestion, revision=suggestion.revision, note=note, revised_by_id=by.id,
                             **{k: getattr(suggestion, k) for k in TEXT_FIELDS})
    db.session.add(old)
    changed = [k for k in TEXT_FIELDS if values[k] != getattr(suggestion, k)]
    for key, value in values.items():
        setattr(suggestion, key, value)
    suggestion.revision += 1
    audit.record("update", "suggestion", suggestion.id,
                 f"修订建议《{suggestion.title}》（第 {suggestion.revision} 稿）", actor=by,
                 note=note, changes={"fields": changed})
    return old


COSIGN_WORDS = InviteWords(
    none_chosen=lambda: _("请选择附议代表。"),
    too_many=lambda n: _("附议代表最多 %(n)d 名。", n=n),
    unknown=lambda: _("附议代表不存在。"),
    not_serving=lambda name: _("%(name)s 不是在任代表，不能附议。", name=name),
    lead_invited=lambda: _("领衔代表不能附议自己的建议。"),
    already_listed=lambda name: _("%(name)s 已在附议名单中，不能重复邀请。", name=name),
)


@transactional
def invite_cosigners(suggestion: Suggestion, deputies: list, *, by) -> list[SuggestionCosigner]:
    """The lead deputy invites serving deputies to co-sign (before the suggestion is registered)."""
    _require_lead(by, suggestion)
    _require_status(suggestion, "draft", "submitted", "returned")
    check_invitees(deputies, existing_ids=(c.deputy_id for c in suggestion.cosigners),
                   lead_id=suggestion.lead_deputy_id, limit=MAX_COSIGNERS, words=COSIGN_WORDS)
    rows = [SuggestionCosigner(suggestion=suggestion, deputy_id=d.id, state="invited") for d in deputies]
    db.session.add_all(rows)
    notification_events.cosign_invited(suggestion, [d.id for d in deputies])
    return rows


@transactional
def answer_cosign(suggestion: Suggestion, accept: bool, *, by) -> SuggestionCosigner:
    """附议: the invited deputy confirms (or declines) in their own workspace, once."""
    deputy = _deputy_of(by)
    row = next((c for c in suggestion.cosigners if c.deputy_id == deputy.id), None)
    if row is None:
        raise SuggestionForbidden(_("您没有被邀请附议这件建议。"))
    if row.state == "confirmed":
        raise Conflict(_("您已附议过这件建议，不能重复附议。"), field="cosign")
    if row.state == "declined":
        raise Conflict(_("您已谢绝附议这件建议。"), field="cosign")
    if not deputy.serving:
        raise DomainError(_("您的代表资格已终止，不能附议。"), field="cosign")
    _require_status(suggestion, "draft", "submitted", "returned")
    row.state = "confirmed" if accept else "declined"
    row.answered_at = utcnow()
    if accept and suggestion.status != "draft":
        _record_duty_activity(deputy, "suggestion_cosign", suggestion, actor=by)
    return row


@transactional
def submit(suggestion: Suggestion, *, by) -> Suggestion:
    """Submit (or resubmit after a return) for pre-review; the co-signers' duty records follow."""
    _require_lead(by, suggestion)
    _require_status(suggestion, "draft", "returned")
    _check_text({k: getattr(suggestion, k) for k in TEXT_FIELDS})
    if not suggestion.session.accepting and suggestion.status == "draft":
        raise DomainError(_("该会议已停止接收建议。"), field="session_id")
    first = suggestion.submitted_at is None
    suggestion.status = "submitted"
    suggestion.submitted_at = utcnow()
    suggestion.timing = "session" if suggestion.session.in_session() else "recess"
    audit.record("submit", "suggestion", suggestion.id,
                 f"{'提交' if first else '重新提交'}建议《{suggestion.title}》", actor=by)
    if first:
        _record_duty_activity(suggestion.lead_deputy, "suggestion_lead", suggestion, actor=by)
        for row in suggestion.cosigners:
            if row.state == "confirmed":
                _record_duty_activity(row.deputy, "suggestion_cosign", suggestion, actor=by)
    return suggestion


@transactional
def review(suggestion: Suggestion, decision: str, comment: str | None, *, by) -> SuggestionReview:
    """预审: pass, or return with comments for the deputy to revise and resubmit."""
    if not can_review(by, suggestion):
        raise SuggestionForbidden(_("您不是这件建议的预审人。"))
    _require_status(suggestion, "submitted")
    if decision not in ("pass", "return"):
        raise DomainError(_("请选择预审意见：通过或退回修改。"), field="decision")
    comment = clean_text(comment, _("预审意见"), MAX_NOTE, "comment", required=decision == "return")
    row = SuggestionReview(suggestion=suggestion, revision=suggestion.revision, reviewer_id=by.id,
                           reviewer_name=by.display_name, reviewer_kind="office" if is_staff(by) else "group",
                           decision=decision, comment=comment)
    db.session.add(row)
    if decision == "return":
        suggestion.status = "returned"
        notification_events.suggestion_returned(suggestion, comment)
    audit.record("review", "suggestion", suggestion.id,
                 f"预审{'退回' if decision == 'return' else '通过'}建议《{suggestion.title}》", actor=by, note=comment)
    return row


def next_number(session: CongressSession) -> int:
    return (db.session.scalar(select(func.max(Suggestion.number)).where(Suggestion.session_id == session.id))
            or 0) + 1


@transactional
def register(suggestion: Suggestion, *, by, number: int | None = None, category: str | None = None) -> Suggestion:
    """立案: the office gives the suggestion its number in the session and opens its handling case."""
    _require_staff(by)
    _require_status(suggestion, "submitted")
    if category is not None and category not in CATEGORIES:
        raise DomainError(_("请选择建议类别。"), field="category")
    if number is not None:
        if number < 1:
            raise DomainError(_("编号必须是正整数。"), field="number")
        taken = db.session.scalar(select(Suggestion.id).where(Suggestion.session_id == suggestion.session_id,
                                                              Suggestion.number == number))
        if taken:
            raise Conflict(_("本次会议已有第 %(n)d 号建议。", n=number), field="number")
    suggestion.number = number or next_number(suggestion.session)
    if category:
        suggestion.category = category
    suggestion.status = "registered"
    suggestion.registered_at = utcnow()
    from .handling import open_case_for

    open_case_for(suggestion, by)
    audit.record("register", "suggestion", suggestion.id,
                 f"建议《{suggestion.title}》立案为{suggestion.session.name}第 {suggestion.number} 号", actor=by)
    return suggestion


# ---- 督: key supervision and carry-over --------------------------------------------------------

def key_required(total: int) -> int:
    """How many key suggestions a session of `total` registered suggestions needs (at least 15%)."""
    return math.ceil(total * KEY_SHARE - 1e-9)


def key_counts(session: CongressSession) -> tuple[int, int]:
    """(registered suggestions, key suggestions) of a session, counted in the database."""
    row = db.session.execute(
        select(func.count(), func.count().filter(Suggestion.is_key))
        .where(Suggestion.session_id == session.id, Suggestion.number.is_not(None))).one()
    return row[0], row[1]


def key_counts_by_session(session_ids: list[int]) -> dict[int, tuple[int, int]]:
    """key_counts for several sessions in one GROUP BY query."""
    rows = db.session.execute(
        select(Suggestion.session_id, func.count(), func.count().filter(Suggestion.is_key))
        .where(Suggestion.session_id.in_(session_ids), Suggestion.number.is_not(None))
        .group_by(Suggestion.session_id)).all()
    found = {sid: (total, keys) for sid, total, keys in rows}
    return {sid: found.get(sid, (0, 0)) for sid in session_ids}


@transactional
def set_key(suggestion: Suggestion, key: bool, leader=None, *, by) -> Suggestion:
    """重点督办 led by a leader's account (role ``leader``, see supervision.py). Unmarking is refused
    when the session would fall below 15%."""
    _require_staff(by)
    if suggestion.number is None:
        raise DomainError(_("只有已立案的建议可以列为重点督办。"), field="key_leader")
    if key:
        from .supervision import require_leader

        require_leader(leader)
    elif suggestion.is_key:
        total, keys = key_counts(suggestion.session)
        if keys - 1 < key_required(total):
            raise DomainError(_("重点督办建议不得少于本次会议建议总数的 15%%（至少 %(n)d 件），不能取消。",
                                n=key_required(total)), field="key_leader")
    before = (suggestion.is_key, suggestion.key_leader)
    suggestion.is_key = key
    suggestion.key_leader = leader.display_name[:64] if key else None
    suggestion.key_leader_id = leader.id if key else None
    audit.record("update", "suggestion", suggestion.id,
                 f"{'列为' if key else '取消'}重点督办：《{suggestion.title}》", actor=by,
                 changes={"key": [list(before), [suggestion.is_key, suggestion.key_leader]]})
    return suggestion


@transactional
def set_withheld(suggestion: Suggestion, withheld: bool, reason: str | None = None, *, by) -> Suggestion:
    """Staff withhold a published reply that contains personal data, with a reason."""
    _require_staff(by)
    reason = clean_text(reason, _("不公开理由"), 255, "reason", required=withheld)
    suggestion.reply_withheld, suggestion.withheld_reason = withheld, (reason if withheld else None)
    audit.record("update", "suggestion", suggestion.id,
                 f"{'不公开' if withheld else '恢复公开'}答复：《{suggestion.title}》", actor=by, note=reason)
    return suggestion


def unfinished_query(year: int):
    """Suggestions to carry into `year`: closed with a B-class answer or an unsatisfied rating, not yet
    confirmed complete, from a session before `year` (or carried before), not yet carried into it."""
    return (select(Suggestion)
            .join(CongressSession, CongressSession.id == Suggestion.session_id)
            .where(Suggestion.status == "closed", Suggestion.completed_at.is_(None),
                   (Suggestion.reply_class == "B") | (Suggestion.rating == "unsatisfied"),
                   CongressSession.year < year,
                   Suggestion.carried_to_year.is_(None) | (Suggestion.carried_to_year < year))
            .order_by(Suggestion.id))


@transactional
def carry_over(year: int, *, by) -> int:
    """跨年滚动连办 at year end: every unfinished suggestion is carried into `year` with its history."""
    _require_staff(by)
    if not 2000 <= int(year) <= 2100:
        raise DomainError(_("年度不正确。"), field="year")
    rows = db.session.scalars(unfinished_query(year)).all()
    for suggestion in rows:
        reason = "unsatisfied" if suggestion.rating == "unsatisfied" else "B"
        db.session.add(SuggestionCarryOver(suggestion=suggestion, year=year, reason=reason, carried_by_id=by.id))
        suggestion.carried_to_year = year
    audit.record("carry_over", "suggestion", None, f"{year} 年跨年连办：转入 {len(rows)} 件", actor=by)
    return len(rows)


@transactional
def complete(suggestion: Suggestion, note: str, *, by) -> Suggestion:
    """The follow-up of a carried or B-class suggestion is done (落实办结): it stops carrying over."""
    _require_staff(by)
    if not suggestion.needs_follow_up:
        raise DomainError(_("只有 B 类或代表不满意、尚未落实的已办结建议需要确认落实。"), field="note")
    note = clean_text(note, _("落实情况"), MAX_NOTE, "note")
    suggestion.completed_at, suggestion.completion_note = utcnow(), note
    audit.record("complete", "suggestion", suggestion.id, f"确认落实完成：《{suggestion.title}》", actor=by, note=note)
    return suggestion


def today() -> date:
    return local_today()


def find_deputies(text: str | None) -> list:
    """Deputies named in a free list (代表编号 or a unique name, separated by commas, spaces or 、)."""
    import re

    from ..registry.models import Deputy

    tokens = [t for t in re.split(r"[\s,，、;；]+", text or "") if t]
    if not tokens:
        raise DomainError(_("请填写附议代表的代表编号或姓名。"), field="deputies")
    if len(tokens) > MAX_COSIGNERS:
        raise DomainError(_("附议代表最多 %(n)d 名。", n=MAX_COSIGNERS), field="deputies")
    found = []
    for token in tokens:
        deputy = db.session.scalar(select(Deputy).where(Deputy.code == token))
        if deputy is None:
            matches = db.session.scalars(select(Deputy).where(Deputy.name == token).limit(3)).all()
            if len(matches) > 1:
                serving = [d for d in matches if d.serving]
                if len(serving) != 1:
                    raise DomainError(_("有多名代表叫“%(n)s”，请填写代表编号。", n=token), field="deputies")
                matches = serving
            deputy = matches[0] if matches else None
        if deputy is None:
            raise DomainError(_("找不到代表“%(n)s”。", n=token), field="deputies")
        found.append(deputy)
    return found


def waiting_for_staff(status: str):
    """The workspace count of suggestions in one state (待预审 submitted, 待交办 registered), as SQL."""
    from .models import Suggestion

    @areas.count_query
    def count(user):
        return select(func.count(Suggestion.id)).where(Suggestion.status == status)

    return count


@areas.count_query
def waiting_cosign_invitations(user):
    """A deputy's workspace: invitations to co-sign (附议) they have not answered yet (SQL)."""
    from .models import SuggestionCosigner

    return select(func.count(SuggestionCosigner.id)).where(
        SuggestionCosigner.deputy_id == user.deputy_id, SuggestionCosigner.state == "invited")


@areas.count_query
def waiting_rating(user):
    """A deputy: their suggestions answered and not yet rated (评价) — SQL."""
    from .models import Suggestion

    return select(func.count(Suggestion.id)).where(
        Suggestion.lead_deputy_id == user.deputy_id, Suggestion.status == "answered", Suggestion.rating.is_(None))


def due_soon_filter(stmt, days: int = 7):
    """Suggestions being handled whose deadline falls within ``days`` days (today included)."""
    from datetime import timedelta

    from .models import Suggestion

    today = local_today()
    return stmt.where(Suggestion.status == "assigned", Suggestion.deadline >= today,
                      Suggestion.deadline <= today + timedelta(days=days))


@areas.count_query
def waiting_due_soon(user):
    """A unit: its open suggestions due within 7 days (the unit's inbox filtered by ?due=7)."""
    from .handling import unit_inbox_query

    if not user.unit_id:
        return None
    inner = due_soon_filter(unit_inbox_query(user.unit_id, "open")).order_by(None).subquery()
    return select(func.count()).select_from(inner)


def extension_filter(stmt):
    from ..core.cases import CaseAssignment
    from .models import Suggestion

    return stmt.where(Suggestion.case_id.in_(select(CaseAssignment.case_id)
                                             .where(CaseAssignment.extension_until.is_not(None))))


@areas.count_query
def waiting_extension_requests(user):
    """Staff: suggestions with an open extension request (/manage/suggestions/?extension=1)."""
    from .models import Suggestion

    return extension_filter(select(func.count(Suggestion.id)))
