"""回访 (新蔡: "抽选37件建议进行了跟踪回访"): staff draw a reproducible random sample of a session's
answered suggestions (a percentage or a count; the seed is stored, so the same draw can be repeated
and checked), record each follow-up visit, and send the unsatisfied ones to a second handling."""
from __future__ import annotations

import math
import random
import secrets
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit, cases
from ..core.errors import Conflict, DomainError, clean_text
from ..core.extensions import db
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transactional
from .models import CongressSession, Suggestion
from .services import MAX_TEXT, _require_staff
from .supervision_models import SAMPLE_MODES, FollowupSample, FollowupVisit

ANSWERED = ("answered", "closed")


def pool_ids(session: CongressSession) -> list[int]:
    """The suggestions a sample is drawn from: the session's answered ones, by id."""
    return list(db.session.scalars(select(Suggestion.id).where(
        Suggestion.session_id == session.id, Suggestion.status.in_(ANSWERED)).order_by(Suggestion.id)))


def sample_size(mode: str, value: int | None, pool: int) -> int:
    if mode not in SAMPLE_MODES:
        raise DomainError(_("请选择按比例或按件数抽取。"), field="mode")
    if value is None or value < 1:
        raise DomainError(_("请填写抽取的比例或件数（正整数）。"), field="value")
    if mode == "percent":
        if value > 100:
            raise DomainError(_("比例不能超过 100%%。"), field="value")
        return max(1, math.ceil(pool * value / 100 - 1e-9))
    return value


def draw(ids: list[int], size: int, seed: int) -> list[int]:
    """The sample: the same ids, size and seed give the same suggestions, on any machine."""
    return sorted(random.Random(seed).sample(sorted(ids), size))


@transactional
def draw_sample(session: CongressSession, mode: str, value: int | None, *, by, seed: int | None = None
                ) -> FollowupSample:
    _require_staff(by)
    ids = pool_ids(session)
    if not ids:
        raise Conflict(_("%(s)s 还没有已答复的建议，无法抽取。", s=session.name), field="value")
    size = sample_size(mode, value, len(ids))
    if size > len(ids):
        raise DomainError(_("抽取 %(n)d 件，多于可抽取的已答复建议（%(m)d 件）。", n=size, m=len(ids)), field="value")
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    chosen = draw(ids, size, seed)
    sample = FollowupSample(session_id=session.id, mode=mode, value=value, seed=seed, pool=len(ids), size=size,
                            drawn_by_id=by.id, visits=[FollowupVisit(suggestion_id=i) for i in chosen])
    db.session.add(sample)
    db.session.flush()
    audit.record("sample", "congress_session", session.id,
                 f"回访抽样：{session.name} 已答复 {len(ids)} 件中抽取 {size} 件（种子 {seed}）", actor=by)
    return sample


def check_sample(sample: FollowupSample) -> bool:
    """Drawing again with the stored seed gives the stored sample (while the pool is unchanged)."""
    ids = pool_ids(sample.session)
    return (len(ids) == sample.pool
            and draw(ids, sample.size, sample.seed) == sorted(v.suggestion_id for v in sample.visits))


@transactional
def record_visit(visit: FollowupVisit, visited_on: date | None, visitors: str, findings: str,
                 deputy_satisfied: bool | None, public_satisfied: bool | None, *, by) -> FollowupVisit:
    _require_staff(by)
    if visited_on is None:
        raise DomainError(_("请填写回访日期。"), field="visited_on")
    if visited_on > local_today():
        raise DomainError(_("回访日期不能晚于今天。"), field="visited_on")
    if deputy_satisfied is None or public_satisfied is None:
        raise DomainError(_("请选择代表和群众是否满意。"), field="deputy_satisfied")
    visit.visitors = clean_text(visitors, _("回访人员"), 200, "visitors")
    visit.findings = clean_text(findings, _("回访情况"), MAX_TEXT, "findings")
    visit.visited_on = visited_on
    visit.deputy_satisfied, visit.public_satisfied = deputy_satisfied, public_satisfied
    visit.recorded_by_id = by.id
    audit.record("visit", "suggestion", visit.suggestion_id, f"回访：{visit.findings[:60]}", actor=by)
    return visit


@transactional
def send_to_second_handling(visit: FollowupVisit, *, by) -> Suggestion:
    """An unsatisfied follow-up sends the suggestion back to 待交办 for its second round."""
    _require_staff(by)
    if visit.visited_on is None:
        raise Conflict(_("请先记录回访情况。"), field="findings")
    if not visit.unsatisfied:
        raise Conflict(_("代表和群众都满意，无需二次交办。"), field="findings")
    if visit.second_handling_at is not None:
        raise Conflict(_("已经送二次交办。"), field="findings")
    suggestion = visit.suggestion
    if suggestion.status != "closed":
        raise Conflict(_("这件建议尚未办结（待领衔代表评价），评价后再二次交办。"), field="findings")
    cases.reopen_case(suggestion.case, by=by, note=_("回访不满意，二次交办：%(f)s", f=visit.findings))
    suggestion.status = "registered"
    suggestion.round = suggestion.case.round
    visit.second_handling_at = utcnow()
    audit.record("reopen", "suggestion", suggestion.id, f"回访不满意，二次交办：《{suggestion.title}》", actor=by)
    return suggestion


def samples_of(session_id: int | None = None):
    stmt = select(FollowupSample).order_by(FollowupSample.drawn_at.desc(), FollowupSample.id.desc())
    if session_id:
        stmt = stmt.where(FollowupSample.session_id == session_id)
    return stmt
