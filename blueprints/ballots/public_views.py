"""Collection (public and department proposals, staff screening), the public progress pages of
the selected projects and the public summary of a published ballot."""
from __future__ import annotations

from flask import render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.audit import ACTION_LABELS
from ..core.errors import Forbidden, NotFound
from ..core.extensions import db, limiter
from ..core.flow import run_form
from ..core.models import AuditEntry
from ..core.permissions import role_required
from . import meetings as meeting_services
from . import projects as project_services
from . import proposals as proposal_services
from . import tally, voting
from .forms import CallForm, ProgressForm, ProposalForm, ScreenForm, UnitProposalForm
from .models import CHOICE_LABELS, Ballot, Project, Proposal, ProposalCall
from .views import bp


def _call_or_404(call_id: int) -> ProposalCall:
    call = db.session.get(ProposalCall, call_id)
    if call is None:
        raise NotFound(_("征集不存在。"))
    return call


# ---- public ----------------------------------------------------------------------------------

@bp.get("/livelihood/")
def livelihood_home():
    calls = proposal_services.open_calls()
    published = db.session.scalars(select(Ballot).where(Ballot.status == "published")
                                   .order_by(Ballot.published_at.desc()).limit(10)).all()
    return render_template("ballots/public_home.html", calls=calls, projects=project_services.public_projects(),
                           published=published)


@bp.route("/livelihood/calls/<int:call_id>/propose", methods=["GET", "POST"])
@limiter.limit("20/hour", methods=["POST"])
def propose(call_id: int):
    call = _call_or_404(call_id)
    unit_user = current_user.is_authenticated and current_user.role == "unit" and current_user.unit_id
    form = UnitProposalForm() if unit_user else ProposalForm()

    def action(f):
        values = {k: getattr(f, k).data for k in ("title", "content", "reason", "contact", "cost_estimate",
                                                  "timeline") if hasattr(f, k)}
        if unit_user:
            values["unit_id"] = current_user.unit_id
        return proposal_services.submit(call, values, source="department" if unit_user else "public",
                                        actor=current_user if unit_user else None)

    def receipt(saved):
        """The public proposer gets a receipt code, tracked on /messages/track like a message."""
        if unit_user:
            return url_for(".call_page", call_id=call.id)
        session["receipt"], session["receipt_kind"] = saved.receipt_code, "proposal"
        return url_for("messages.sent")

    return run_form(form, action, success=_("感谢您的建议！工作人员审查后会在征集页公布处理结果。"),
                    redirect_to=receipt,
                    render=lambda status: (render_template("ballots/propose.html", call=call, form=form), status),
                    field="title")


@bp.get("/livelihood/calls/<int:call_id>")
def call_page(call_id: int):
    call = _call_or_404(call_id)
    screened = [p for p in call.proposals if p.status != "pending"]
    return render_template("ballots/call.html", call=call, screened=screened,
                           pending=sum(1 for p in call.proposals if p.status == "pending"))


@bp.get("/livelihood/projects/<int:project_id>")
def project(project_id: int):
    item = db.session.get(Project, project_id)
    if item is None:
        raise NotFound(_("项目不存在。"))
    can_post = current_user.is_authenticated and (
        current_user.has_role("staff") or (current_user.role == "unit" and current_user.unit_id == item.unit_id
                                           and item.unit_id is not None))
    return _render_project(item, ProgressForm(progress=item.progress), can_post)


def _render_project(item: Project, form, can_post: bool, status: int = 200):
    staff = current_user.is_authenticated and current_user.has_role("staff")
    return render_template("ballots/project.html", project=item, form=form, can_post=can_post,
                           ratings=_ratings(item), inspections=project_services.project_inspections(item),
                           linkable=project_services.linkable_inspections(item) if staff else []), status


def _ratings(item: Project) -> list:
    """Published satisfaction results for this project (year-end evaluation)."""
    from .models import BallotItem

    ballots = db.session.scalars(select(Ballot).join(BallotItem, BallotItem.ballot_id == Ballot.id)
                                 .where(BallotItem.project_id == item.id, Ballot.status == "published")).all()
    found = []
    for ballot in ballots:
        for result in tally.tally(ballot):
            if result.item.project_id == item.id:
                found.append((ballot, result))
    return found


@bp.post("/livelihood/projects/<int:project_id>/updates")
@role_required("unit", "staff")
def project_update(project_id: int):
    item = db.session.get(Project, project_id)
    if item is None:
        raise NotFound(_("项目不存在。"))
    if current_user.role == "unit" and (current_user.unit_id is None or current_user.unit_id != item.unit_id):
        raise Forbidden(_("只能填报本单位承办的项目。"))
    form = ProgressForm()
    return run_form(form, lambda f: project_services.post_update(item, f.progress.data, f.milestone.data,
                                                                 f.note.data, current_user),
                    success=_("进展已发布。"), redirect_to=url_for(".project", project_id=item.id),
                    render=lambda status: _render_project(item, form, True, status), field="note")


@bp.post("/livelihood/projects/<int:project_id>/inspections")
@role_required("staff")
def project_inspections(project_id: int):
    """Staff link deputies' verified inspections (duty activities) to the project."""
    item = db.session.get(Project, project_id)
    if item is None:
        raise NotFound(_("项目不存在。"))
    ids = [int(part) for value in request.form.getlist("activity_ids") for part in value.split(",")
           if part.isascii() and part.isdigit() and len(part) < 10]
    return run_form(None, lambda _form: project_services.link_inspection(item, ids, current_user),
                    success=lambda linked: _("已关联 %(n)d 条代表视察记录。", n=linked),
                    redirect_to=url_for(".project", project_id=item.id),
                    render=lambda status: _render_project(item, ProgressForm(progress=item.progress), True, status))


@bp.get("/livelihood/results/<int:ballot_id>")
def public_result(ballot_id: int):
    """After publication: eligible, present, voted electronically / on paper, per-item counts."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.status != "published":
        raise NotFound(_("结果尚未公布。"))
    codes = voting.trackers(ballot.id) if ballot.secret else []
    wanted = voting.normalise_tracker(request.args.get("code")) if ballot.secret else ""
    return render_template("ballots/public_result.html", ballot=ballot, results=tally.ranked(tally.tally(ballot)),
                           turnout=voting.turnout(ballot.id), figures=meeting_services.counts(ballot.meeting_id),
                           CHOICE_LABELS=CHOICE_LABELS, trackers=codes, wanted=wanted,
                           asked=request.args.get("code") is not None, found=wanted in codes)


# ---- staff: calls and screening -------------------------------------------------------------

@bp.route("/ballots/proposals/", methods=["GET", "POST"])
@role_required("staff")
def proposals():
    form = CallForm()

    def render(code: int):
        status = request.args.get("status", "pending")
        stmt = select(Proposal).order_by(Proposal.id.desc()).limit(500)
        if status in ("pending", "accepted", "merged", "rejected"):
            stmt = stmt.where(Proposal.status == status)
        calls = db.session.scalars(select(ProposalCall).order_by(ProposalCall.id.desc())).all()
        return render_template("ballots/proposals.html", form=form, calls=calls,
                               rows=db.session.scalars(stmt).all(), status=status), code

    return run_form(form, lambda f: proposal_services.create_call(f.title.data, f.deadline.data, f.description.data,
                                                                  f.scope_in.data, f.scope_out.data, current_user),
                    success=lambda call: _("征集已发布：%(t)s", t=call.title), redirect_to=url_for(".proposals"),
                    render=render, field="title")


@bp.route("/ballots/proposals/<int:proposal_id>", methods=["GET", "POST"])
@role_required("staff")
def proposal(proposal_id: int):
    item = db.session.get(Proposal, proposal_id)
    if item is None:
        raise NotFound(_("建议不存在。"))
    form = ScreenForm()
    targets = db.session.scalars(select(Proposal).where(Proposal.call_id == item.call_id,
                                                        Proposal.status == "accepted")).all()
    form.merged_into_id.choices = [(0, _("（不合并）"))] + [(p.id, p.title) for p in targets]

    def render(status: int):
        trail = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "proposal",
                                                            AuditEntry.object_id == item.id)).all()
        return render_template("ballots/proposal.html", proposal=item, form=form, trail=trail,
                               ACTION_LABELS=ACTION_LABELS), status

    return run_form(form, lambda f: proposal_services.screen(item, f.decision.data, f.public_reason.data,
                                                             f.merged_into_id.data, current_user),
                    success=_("审查结果已保存。"), redirect_to=url_for(".proposals"), render=render,
                    field="decision")
