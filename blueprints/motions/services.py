"""Motion rules (议案). Every writer is one unit of work (``core.transaction``); a refusal raises
DomainError (422, input), Conflict (409, the motion's state or another row forbids it) or
MotionForbidden (403) and leaves the database unchanged.

    create_draft(values, *, by, session, delegation=None) / update_draft(motion, values, *, by, delegation=None)
    invite_signers(motion, deputies, *, by)          # the lead deputy, while a draft
    answer_invitation(motion, accept, *, by)         # the invited deputy, once
    submit(motion, *, by)                            # a delegation, or >= MOTION_MIN_SIGNERS deputies; 议案第 N 号
    review(motion, body, decision, reasons, reviewed_on, *, by)   # staff record the presidium's/committee's review
    decide(motion, decision, decided_on, note, *, by)             # staff record the agenda item's outcome
    stats(session) -> dict
"""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import areas, audit
from ..core.errors import Conflict, DomainError, Forbidden, clean_text
from ..core.extensions import db
from ..core.invitations import InviteWords, check_invitees
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from .models import DECISIONS, REVIEW_BODIES, REVIEW_DECISIONS, Motion, MotionReview, MotionSigner

MAX_TITLE = 120
MAX_TEXT = 10_000
MAX_SIGNERS = 200


class MotionForbidden(Forbidden):
    """The user may not act on this motion: views answer 403."""


def min_signers() -> int:
    """联名人数: 10 for a county congress, 5 for a township congress (``MOTION_MIN_SIGNERS``)."""
    return int(current_app.config.get("MOTION_MIN_SIGNERS", 10))


def _check(values: dict) -> dict:
    return {"title": clean_text(values.get("title"), _("案由"), MAX_TITLE, "title"),
            "grounds": clean_text(values.get("grounds"), _("理由"), MAX_TEXT, "grounds"),
            "proposal": clean_text(values.get("proposal"), _("办法"), MAX_TEXT, "proposal")}


def _deputy_of(user):
    deputy = getattr(user, "deputy", None) if user is not None else None
    if deputy is None:
        raise MotionForbidden(_("只有人大代表可以提出和联名议案。"))
    return deputy


def is_staff(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", True) and user.has_role("staff")


def _require_staff(user) -> None:
    if not is_staff(user):
        raise MotionForbidden(_("只有代表工委工作人员可以进行此操作。"))


def _require_lead(user, motion: Motion) -> None:
    if getattr(user, "deputy_id", None) != motion.lead_deputy_id:
        raise MotionForbidden(_("只有领衔代表可以进行此操作。"))


def _require_status(motion: Motion, *statuses: str) -> None:
    if motion.status not in statuses:
        raise Conflict(_("此议案当前状态为“%(s)s”，不能进行此操作。", s=motion.status_label), field="status")


def can_read(user, motion: Motion) -> bool:
    if motion.is_public:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    deputy_id = getattr(user, "deputy_id", None)
    return bool(deputy_id) and (deputy_id == motion.lead_deputy_id
                                or any(s.deputy_id == deputy_id for s in motion.signers))


@transactional
def create_draft(values: dict, *, by, session, delegation: str | None = None) -> Motion:
    deputy = _deputy_of(by)
    if not deputy.serving:
        raise MotionForbidden(_("您的代表资格已终止，不能提出议案。"))
    if session is None or not session.accepting:
        raise DomainError(_("请选择正在接收议案的会议。"), field="session_id")
    motion = Motion(session=session, lead_deputy_id=deputy.id, status="draft",
                    delegation=clean_text(delegation, _("代表团"), 64, "delegation", required=False), **_check(values))
    db.session.add(motion)
    return motion


@transactional
def update_draft(motion: Motion, values: dict, *, by, delegation: str | None = None) -> Motion:
    _require_lead(by, motion)
    _require_status(motion, "draft")
    for key, value in _check(values).items():
        setattr(motion, key, value)
    motion.delegation = clean_text(delegation, _("代表团"), 64, "delegation", required=False)
    return motion


SIGN_WORDS = InviteWords(
    none_chosen=lambda: _("请选择联名代表。"),
    too_many=lambda n: _("联名代表最多 %(n)d 名。", n=n),
    unknown=lambda: _("联名代表不存在。"),
    not_serving=lambda name: _("%(name)s 不是在任代表，不能联名。", name=name),
    lead_invited=lambda: _("领衔代表已计入联名人数，不必邀请自己。"),
    already_listed=lambda name: _("%(name)s 已在联名名单中，不能重复邀请。", name=name),
)


@transactional
def invite_signers(motion: Motion, deputies: list, *, by) -> list[MotionSigner]:
    _require_lead(by, motion)
    _require_status(motion, "draft")
    check_invitees(deputies, existing_ids=(s.deputy_id for s in motion.signers), lead_id=motion.lead_deputy_id,
                   limit=MAX_SIGNERS, words=SIGN_WORDS)
    rows = [MotionSigner(motion=motion, deputy_id=d.id, state="invited") for d in deputies]
    db.session.add_all(rows)
    return rows


@transactional
def answer_invitation(motion: Motion, accept: bool, *, by) -> MotionSigner:
    deputy = _deputy_of(by)
    row = next((s for s in motion.signers if s.deputy_id == deputy.id), None)
    if row is None:
        raise MotionForbidden(_("您没有被邀请联名这件议案。"))
    if row.state != "invited":
        raise Conflict(_("您已答复过这个联名邀请。"), field="sign")
    if not deputy.serving:
        raise DomainError(_("您的代表资格已终止，不能联名。"), field="sign")
    _require_status(motion, "draft")
    row.state, row.answered_at = ("confirmed" if accept else "declined"), utcnow()
    return row


def next_number(session_id: int) -> int:
    return (db.session.scalar(select(func.max(Motion.number)).where(Motion.session_id == session_id)) or 0) + 1


@transactional
def submit(motion: Motion, *, by) -> Motion:
    """Submitted by a delegation, or by at least MOTION_MIN_SIGNERS deputies (lead + confirmed co-signers)."""
    _require_lead(by, motion)
    _require_status(motion, "draft")
    _check({"title": motion.title, "grounds": motion.grounds, "proposal": motion.proposal})
    if not motion.session.accepting:
        raise DomainError(_("该会议已停止接收议案。"), field="session_id")
    needed = min_signers()
    if not motion.delegation and motion.signer_count < needed:
        raise DomainError(_("议案须由代表团或 %(n)d 名以上代表联名提出；目前联名 %(c)d 名（含领衔代表），"
                            "还差 %(d)d 名。", n=needed, c=motion.signer_count, d=needed - motion.signer_count),
                          field="deputies")
    motion.number = next_number(motion.session_id)
    motion.status, motion.submitted_at = "submitted", utcnow()
    audit.record("submit", "motion", motion.id, f"提出议案《{motion.title}》（{motion.number_label}）", actor=by)
    return motion


@transactional
def review(motion: Motion, body: str, decision: str, reasons: str, reviewed_on: date | None, *, by) -> MotionReview:
    """The presidium's or the 议案审查委员会's review, recorded by staff once: 列入议程, or 转为建议 (the
    suggestion is created in the same transaction)."""
    _require_staff(by)
    if motion.review is not None:
        raise Conflict(_("这件议案已经审查过，不能重复审查。"), field="decision")
    _require_status(motion, "submitted")
    if body not in REVIEW_BODIES:
        raise DomainError(_("请选择审查机构：大会主席团或议案审查委员会。"), field="body")
    if decision not in REVIEW_DECISIONS:
        raise DomainError(_("请选择审查意见：列入会议议程或转为建议。"), field="decision")
    reasons = clean_text(reasons, _("审查理由"), 2_000, "reasons")
    if reviewed_on is None:
        raise DomainError(_("请填写审查日期。"), field="reviewed_on")
    if reviewed_on > local_today():
        raise DomainError(_("审查日期不能晚于今天。"), field="reviewed_on")
    row = MotionReview(motion=motion, reviewed_on=reviewed_on, body=body, decision=decision, reasons=reasons,
                       recorded_by_id=by.id)
    db.session.add(row)
    if decision == "agenda":
        motion.status = "agenda"
    else:
        from ..suggestions.origins import convert_motion

        motion.status = "converted"
        convert_motion(motion, by=by)
    audit.record("review", "motion", motion.id,
                 f"{REVIEW_BODIES[body]}审查议案《{motion.title}》：{REVIEW_DECISIONS[decision]}", actor=by,
                 note=reasons)
    return row


@transactional
def decide(motion: Motion, decision: str, decided_on: date | None, note: str | None, *, by) -> Motion:
    _require_staff(by)
    _require_status(motion, "agenda")
    if decision not in DECISIONS:
        raise DomainError(_("请选择审议结果。"), field="decision")
    if decided_on is None:
        raise DomainError(_("请填写决定日期。"), field="decided_on")
    if decided_on > local_today():
        raise DomainError(_("决定日期不能晚于今天。"), field="decided_on")
    if motion.review and decided_on < motion.review.reviewed_on:
        raise DomainError(_("决定日期不能早于审查日期。"), field="decided_on")
    motion.decision, motion.decided_on, motion.status = decision, decided_on, "decided"
    motion.decision_note = clean_text(note, _("说明"), 2_000, "note", required=False)
    audit.record("decide", "motion", motion.id, f"议案《{motion.title}》：{DECISIONS[decision]}", actor=by,
                 note=motion.decision_note)
    return motion


def stats(session_id: int) -> dict:
    """One GROUP BY: motions of a session by status and decision."""
    rows = db.session.execute(select(Motion.status, Motion.decision, func.count()).where(
        Motion.session_id == session_id, Motion.status != "draft").group_by(Motion.status, Motion.decision)).all()
    out = {"total": 0, "submitted": 0, "agenda": 0, "converted": 0, **{k: 0 for k in DECISIONS}}
    for status, decision, n in rows:
        out["total"] += n
        if status == "decided":
            out[decision] += n
        else:
            out[status] += n
    out["on_agenda"] = out["agenda"] + sum(out[k] for k in DECISIONS)
    return out


@areas.count_query
def waiting_invitations(user):
    return select(func.count(MotionSigner.id)).join(Motion).where(
        MotionSigner.deputy_id == user.deputy_id, MotionSigner.state == "invited", Motion.status == "draft")


@areas.count_query
def waiting_review(user):
    return select(func.count(Motion.id)).where(Motion.status == "submitted")
