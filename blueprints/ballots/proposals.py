"""征集: calls for proposals, proposals from the public and departments, screening."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.timeutil import local_today
from ..core.transaction import transactional
from .models import Proposal, ProposalCall


@transactional
def create_call(title: str, deadline: date | None, description: str | None = None, scope_in: str | None = None,
                scope_out: str | None = None, actor=None) -> ProposalCall:
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写征集名称。"), field="title")
    if len(title) > 120:
        raise DomainError(_("名称不能超过 120 个字符。"), field="title")
    if deadline is None:
        raise DomainError(_("请填写截止日期。"), field="deadline")
    call = ProposalCall(title=title, deadline=deadline, description=(description or "").strip() or None,
                        scope_in=(scope_in or "").strip() or None, scope_out=(scope_out or "").strip() or None)
    db.session.add(call)
    db.session.flush()
    audit.record("create", "proposal_call", call.id, f"发布征集《{title}》，截止 {deadline}", actor=actor)
    return call


def open_calls() -> list[ProposalCall]:
    return db.session.scalars(select(ProposalCall).where(ProposalCall.deadline >= local_today())
                              .order_by(ProposalCall.deadline)).all()


@transactional
def submit(call: ProposalCall, values: dict, *, source: str = "public", actor=None) -> Proposal:
    if call.deadline < local_today():
        raise DomainError(_("征集已于 %(d)s 截止。", d=call.deadline.isoformat()))
    title = (values.get("title") or "").strip()
    content = (values.get("content") or "").strip()
    if not title:
        raise DomainError(_("请填写项目名称。"), field="title")
    if len(title) > 120:
        raise DomainError(_("项目名称不能超过 120 个字符。"), field="title")
    if not content:
        raise DomainError(_("请说明做什么、在哪里。"), field="content")
    if len(content) > 2000:
        raise DomainError(_("内容不能超过 2000 个字符。"), field="content")
    cost = values.get("cost_estimate")
    if cost not in (None, ""):
        try:
            cost = Decimal(str(cost))
        except InvalidOperation:
            raise DomainError(_("估算金额必须是数字（万元）。"), field="cost_estimate") from None
        if not cost.is_finite():  # NaN, sNaN, Infinity: comparing them raises InvalidOperation
            raise DomainError(_("估算金额必须是数字（万元）。"), field="cost_estimate")
        if cost < 0 or cost >= Decimal("1e12"):
            raise DomainError(_("估算金额必须是非负数（万元）。"), field="cost_estimate")
    else:
        cost = None
    proposal = Proposal(call_id=call.id, source=source, title=title, content=content,
                        reason=(values.get("reason") or "").strip()[:2000] or None,
                        contact=(values.get("contact") or "").strip()[:64] or None,
                        unit_id=values.get("unit_id") or None, cost_estimate=cost,
                        timeline=(values.get("timeline") or "").strip()[:64] or None)
    db.session.add(proposal)
    db.session.flush()
    if actor is not None:
        audit.record("create", "proposal", proposal.id, f"部门提出候选项目《{title}》", actor=actor)
    return proposal


def find_by_receipt(code: str | None) -> Proposal | None:
    """A proposal by its receipt code (the same alphabet as a message's; /messages/track asks here)."""
    from ..core.cases import normalize_receipt

    code = normalize_receipt(code)
    return db.session.scalar(select(Proposal).where(Proposal.receipt_code == code)) if code else None


def public_progress(proposal: Proposal) -> dict:
    """What the proposer reads when tracking: the text, where it went, its state and when to expect word."""
    call = proposal.call
    office = current_app.config.get("OFFICE_NAME") or ""
    return {"title": proposal.title, "body": proposal.content,
            "recipient": _("%(c)s（%(o)s）", c=call.title, o=office) if office else call.title,
            "status": proposal.status_label, "submitted": proposal.created_at,
            "reason": proposal.public_reason,
            "expected": call.deadline if proposal.status == "pending" else None,
            "call_id": call.id}


@transactional
def screen(proposal: Proposal, decision: str, public_reason: str | None, merged_into_id: int | None = None,
           actor=None) -> Proposal:
    public_reason = (public_reason or "").strip()[:255] or None
    if decision not in ("accepted", "merged", "rejected"):
        raise DomainError(_("请选择审查结果。"), field="decision")
    if proposal.status != "pending":
        raise DomainError(_("该建议已经审查过。"))
    if decision == "rejected" and not public_reason:
        raise DomainError(_("不予采纳时请填写公开说明的理由。"), field="public_reason")
    if decision == "merged":
        target = db.session.get(Proposal, merged_into_id) if merged_into_id else None
        if target is None or target.id == proposal.id or target.call_id != proposal.call_id \
                or target.status != "accepted":
            raise DomainError(_("请选择同一次征集中已列入候选的项目进行合并。"), field="merged_into_id")
        proposal.merged_into_id = target.id
    proposal.status = decision
    proposal.public_reason = public_reason
    audit.record("screen", "proposal", proposal.id, f"审查《{proposal.title}》：{proposal.status_label}",
                 actor=actor, note=public_reason)
    return proposal
