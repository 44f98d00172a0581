"""Suggestions that come from elsewhere, for the other areas to call (they never touch the models):

    draft_from_case(case, *, by, session=None) -> Suggestion     # a deputy's 社情民意 becomes a draft (北关)
    convert_motion(motion, *, by) -> Suggestion                  # 议案转为建议: enters pre-review (待预审)
    suggestion_for_case(case_id) -> Suggestion | None            # the link back, for the case's page
    suggestion_for_motion(motion_id) -> Suggestion | None        # the link back, for the motion's page
    origin_of(suggestion) -> (kind, id) | None                   # 'case' / 'motion', for the suggestion's page

Each writer is one unit of work (inside the caller's ``with transaction():`` it only flushes). A case or a
motion becomes one suggestion at most: ``suggestions.from_case_id`` and ``from_motion_id`` are UNIQUE, so
a second conversion is refused (the check here first; the constraint when two requests race).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit
from ..core.errors import Conflict, DomainError, Forbidden
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..core.transaction import transactional
from .models import CATEGORIES, CongressSession, Suggestion, SuggestionCosigner
from .services import MAX_TITLE, _record_duty_activity, is_staff

# The stations' case categories are suggestion categories too, except 治安 (security) → 政法民政 (law).
CASE_CATEGORIES = {"security": "law"}


def _session_for_filing() -> CongressSession:
    session = db.session.scalar(select(CongressSession).where(CongressSession.accepting)
                                .order_by(CongressSession.opens_on.desc()).limit(1))
    if session is None:
        raise DomainError(_("目前没有正在接收建议的会议，暂不能转为代表建议。"), field="session_id")
    return session


def suggestion_for_case(case_id: int) -> Suggestion | None:
    return db.session.scalar(select(Suggestion).where(Suggestion.from_case_id == case_id))


def suggestion_for_motion(motion_id: int) -> Suggestion | None:
    return db.session.scalar(select(Suggestion).where(Suggestion.from_motion_id == motion_id))


def origin_of(suggestion: Suggestion) -> tuple[str, int] | None:
    if suggestion.from_motion_id:
        return "motion", suggestion.from_motion_id
    if suggestion.from_case_id:
        return "case", suggestion.from_case_id
    return None


@transactional
def draft_from_case(case, *, by, session: CongressSession | None = None) -> Suggestion:
    """Staff, or the deputy who filed it, turn a 社情民意 case into a draft suggestion of that deputy: its
    title becomes the 案由, its text the 案据; the deputy completes the 方案 and submits it as usual."""
    if case.deputy_id is None:
        raise DomainError(_("只有代表反映的社情民意可以转为代表建议。"), field="case")
    if not (is_staff(by) or getattr(by, "deputy_id", None) == case.deputy_id):
        raise Forbidden(_("只有代表工委工作人员或反映此件的代表可以转为代表建议。"))
    if case.deputy is None or not case.deputy.serving:
        raise DomainError(_("反映此件的代表已不在任，不能转为代表建议。"), field="case")
    if suggestion_for_case(case.id) is not None:
        raise Conflict(_("这件社情民意已经转为代表建议，不能重复转。"), field="case")
    session = session or _session_for_filing()
    category = CASE_CATEGORIES.get(case.category or "", case.category or "other")
    suggestion = Suggestion(session=session, lead_deputy_id=case.deputy_id, status="draft",
                            title=case.title[:MAX_TITLE], grounds=case.body or case.title,
                            proposal=_("（请填写具体建议）"), category=category if category in CATEGORIES else "other",
                            from_case_id=case.id)
    db.session.add(suggestion)
    db.session.flush()
    audit.record("create", "suggestion", suggestion.id,
                 f"社情民意第 {case.id} 号转为代表建议草稿《{suggestion.title}》", actor=by)
    return suggestion


@transactional
def convert_motion(motion, *, by) -> Suggestion:
    """议案转为建议: the motion's text and signers become a suggestion waiting for pre-review (待预审); the
    lead deputy's and the confirmed co-signers' duty records follow as for a submitted suggestion."""
    if not is_staff(by):
        raise Forbidden(_("只有代表工委工作人员可以进行此操作。"))
    if suggestion_for_motion(motion.id) is not None:
        raise Conflict(_("这件议案已经转为建议，不能重复转。"), field="decision")
    now = utcnow()
    suggestion = Suggestion(session_id=motion.session_id, lead_deputy_id=motion.lead_deputy_id, status="submitted",
                            title=motion.title[:MAX_TITLE], grounds=motion.grounds, proposal=motion.proposal,
                            category="other", submitted_at=now, timing="session", from_motion_id=motion.id,
                            created_at=now, updated_at=now)  # one moment, not the flush's a little later
    db.session.add(suggestion)
    for signer in motion.signers:
        if signer.state == "confirmed":
            db.session.add(SuggestionCosigner(suggestion=suggestion, deputy_id=signer.deputy_id, state="confirmed",
                                              invited_at=now, answered_at=now))
    db.session.flush()
    _record_duty_activity(suggestion.lead_deputy, "suggestion_lead", suggestion, actor=by)
    for row in suggestion.cosigners:
        _record_duty_activity(row.deputy, "suggestion_cosign", suggestion, actor=by)
    audit.record("create", "suggestion", suggestion.id,
                 f"议案第 {motion.number} 号转为建议《{suggestion.title}》", actor=by)
    return suggestion
