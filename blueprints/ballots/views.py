"""Staff and clerk pages: meetings, roll and check-in, ballots (items, open, close, paper voters,
paper counts, publish), printable ballots and result sheets. The deputy's vote page and the
projector screen are in vote_views.py, public pages and collection in public_views.py."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.audit import ACTION_LABELS
from ..core.confirm import confirm_page, htmx_navigate
from ..core.errors import Conflict, DomainError, Forbidden, NotFound
from ..core.extensions import db
from ..core.flow import run_action, run_form
from ..core.htmx import is_htmx, render_page
from ..core.models import AuditEntry
from ..core.pagination import int_arg, parse_positive_int
from ..core.permissions import role_required
from ..registry.models import Deputy
from . import meetings as meeting_services
from . import tally, voting
from .forms import BallotForm, ItemForm, MeetingForm, count_field, paper_count_form
from .models import CHOICE_LABELS, METHOD_CHOICES, Ballot, BallotReceipt, Meeting, Proposal

bp = Blueprint("ballots", __name__)

STAFF = ("staff",)
CLERKS = ("clerk", "staff")


def get_meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(_("会议不存在。"))
    return meeting


def get_ballot(ballot_id: int) -> Ballot:
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise NotFound(_("表决不存在。"))
    return ballot


def _posted_id(name: str, message: str) -> int:
    """A posted row id, or a refusal (422) with ``message``."""
    value = parse_positive_int(request.form.get(name))
    if value is None:
        raise DomainError(message, field=name)
    return value


# ---- meetings ----------------------------------------------------------------------------------

@bp.route("/meetings/", methods=["GET", "POST"])
@role_required(*CLERKS)
def meetings():
    form = MeetingForm()
    form.area_id.choices = [(0, _("（县级及以上会议不选）"))] + [(a.id, a.name) for a in meeting_services.townships()]
    if request.method == "POST" and not current_user.has_role(*STAFF):
        raise Forbidden(_("只有代表工委工作人员可以新建会议。"))

    def render(status: int):
        rows = db.session.scalars(select(Meeting).order_by(Meeting.id.desc())).all()
        return render_template("ballots/meetings.html", meetings=rows, form=form), status

    return run_form(form, lambda f: meeting_services.create_meeting(f.title.data, f.level.data, f.term.data,
                                                                     f.held_on.data, current_user,
                                                                     area_id=f.area_id.data or None),
                    success=lambda m: _("会议已建立，名单共 %(n)d 名代表。", n=len(m.attendance)),
                    redirect_to=lambda m: url_for(".meeting", meeting_id=m.id), render=render, field="title")


def _meeting_page(item: Meeting, form=None, status: int = 200):
    turnouts = {b.id: voting.turnout(b.id) for b in item.ballots}
    return render_template("ballots/meeting.html", meeting=item, figures=meeting_services.counts(item.id),
                           form=form or BallotForm(), turnouts=turnouts), status


@bp.get("/meetings/<int:meeting_id>")
@role_required(*CLERKS)
def meeting(meeting_id: int):
    return _meeting_page(get_meeting(meeting_id))


@bp.post("/meetings/<int:meeting_id>/ballots")
@role_required(*STAFF)
def create_ballot(meeting_id: int):
    item = get_meeting(meeting_id)
    form = BallotForm()
    return run_form(form, lambda f: voting.create_ballot(item, f.title.data, f.method.data, f.secret.data,
                                                         f.max_yes.data, f.places.data, current_user),
                    success=None, redirect_to=lambda ballot: url_for(".ballot", ballot_id=ballot.id),
                    render=lambda status: _meeting_page(item, form, status), field="title")


@bp.post("/meetings/<int:meeting_id>/rating-ballot")
@role_required(*STAFF)
def create_rating_ballot(meeting_id: int):
    """Year-end evaluation: one satisfaction item per 民生实事 project of the year."""
    from .projects import create_rating_ballot as create

    item = get_meeting(meeting_id)

    def action(_form):
        raw = request.form.get("year", "").strip()
        if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
            raise DomainError(_("请填写年度。"), field="year")
        return create(item, int(raw), current_user)

    return run_form(None, action, success=None, redirect_to=lambda ballot: url_for(".ballot", ballot_id=ballot.id),
                    render=lambda status: _meeting_page(item, status=status))


def _checkin_answer(item: Meeting, q: str, error: DomainError | None = None):
    """The check-in page, or for HTMX its rows fragment, with the refusal's message and status."""
    response = render_page("ballots/checkin.html", "ballots/_checkin_rows.html", meeting=item, q=q,
                           rows=meeting_services.search_roll(item, q), figures=meeting_services.counts(item.id),
                           error=error.message if error else None)
    if error is not None:
        response.status_code = error.status
    return response


@bp.get("/meetings/<int:meeting_id>/checkin")
@role_required(*CLERKS)
def checkin(meeting_id: int):
    return _checkin_answer(get_meeting(meeting_id), request.args.get("q", ""))


@bp.post("/meetings/<int:meeting_id>/checkin")
@role_required(*CLERKS)
def checkin_deputy(meeting_id: int):
    """The clerk's desk: answers the rows fragment (HTMX) or redirects; a refusal (not on the roll,
    already checked in, no deputy chosen) is shown above the rows, with its status."""
    item = get_meeting(meeting_id)
    q = request.form.get("q", "")
    _checked_in, error = run_action(lambda: meeting_services.check_in(item, _posted_id("deputy_id", _("请选择代表。")),
                                                            current_user))
    if error is not None or is_htmx():
        return _checkin_answer(item, q, error)
    flash(_("已签到。"), "success")
    return redirect(url_for(".checkin", meeting_id=item.id, q=q), 303)


# ---- ballots -----------------------------------------------------------------------------------

def _ballot_page(ballot: Ballot, item_form=None, paper_form=None, status: int = 200):
    figures = meeting_services.counts(ballot.meeting_id)
    results = tally.ranked(tally.tally(ballot)) if ballot.status in ("closed", "published") else None
    paper_form = paper_form or paper_count_form(ballot.rules)
    paper_form.item_id.choices = [(i.id, f"{i.position}. {i.title}") for i in ballot.items]
    paper_voters = db.session.execute(
        select(Deputy.name, BallotReceipt.created_at).join(BallotReceipt, BallotReceipt.deputy_id == Deputy.id)
        .where(BallotReceipt.ballot_id == ballot.id, BallotReceipt.channel == "paper")
        .order_by(Deputy.sort_name, Deputy.id)
    ).all()
    # A form refused because the ballot moved on (opened, published by someone else) is no longer on
    # the page: its message goes above the page instead of next to a field nobody sees.
    shown = {"item": ballot.status == "draft", "paper": ballot.status == "closed" and bool(paper_voters)}
    for key, form in (("item", item_form), ("paper", paper_form)):
        if form is not None and not shown[key]:
            for message in dict.fromkeys(m for errors in form.errors.values() for m in errors):
                flash(str(message), "error")
    candidates = []
    if ballot.status == "draft":
        used = {i.proposal_id for i in ballot.items}
        candidates = [p for p in db.session.scalars(select(Proposal).where(Proposal.status == "accepted")
                                                    .order_by(Proposal.id)) if p.id not in used]
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "ballot",
                                                        AuditEntry.object_id == ballot.id)
                               .order_by(AuditEntry.id)).all()
    problem = None
    if results is not None:
        try:
            tally.verify(ballot, results)
        except tally.CountMismatch as exc:
            problem = str(exc)
    return render_template("ballots/ballot.html", ballot=ballot, figures=figures, turnout=voting.turnout(ballot.id),
                           results=results, item_form=item_form or ItemForm(), paper_form=paper_form,
                           paper_voters=paper_voters, paper_log=tally.paper_log(ballot.id),
                           current_paper=tally.current_paper_counts(ballot.id), candidates=candidates,
                           trail=trail, ACTION_LABELS=ACTION_LABELS, CHOICE_LABELS=CHOICE_LABELS,
                           problem=problem), status


def _on_ballot(ballot_id: int, action, success=None, form=None, field=None, **page):
    """run_form for the buttons and forms of the ballot page: back to the page (303), or the page
    again with the refusal (flashed, or next to ``field`` of ``form``) and its status."""
    return run_form(form, action, success=success, redirect_to=url_for(".ballot", ballot_id=ballot_id),
                    render=lambda status: _ballot_page(get_ballot(ballot_id), status=status, **page), field=field)


@bp.get("/ballots/<int:ballot_id>")
@role_required(*CLERKS)
def ballot(ballot_id: int):
    return _ballot_page(get_ballot(ballot_id))


@bp.post("/ballots/<int:ballot_id>/items")
@role_required(*STAFF)
def add_item(ballot_id: int):
    item = get_ballot(ballot_id)
    form = ItemForm()
    return _on_ballot(item.id, lambda f: voting.add_item(item, f.title.data, f.unit_name.data, f.budget.data,
                                                         f.timeline.data, actor=current_user),
                      form=form, field="title", item_form=form)


@bp.post("/ballots/<int:ballot_id>/items/from-proposal")
@role_required(*STAFF)
def add_proposal_item(ballot_id: int):
    item = get_ballot(ballot_id)

    def action(_form):
        raw = request.form.get("proposal_id", "")
        proposal = db.session.get(Proposal, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
        if proposal is None or proposal.status != "accepted":
            raise DomainError(_("只能添加已列入候选的项目。"))
        return voting.add_item(item, proposal.title, proposal.unit.name if proposal.unit else None,
                               proposal.cost_estimate, proposal.timeline, proposal_id=proposal.id, actor=current_user)

    return _on_ballot(item.id, action)


@bp.post("/ballots/<int:ballot_id>/items/<int:item_id>/delete")
@role_required(*STAFF)
def remove_item(ballot_id: int, item_id: int):
    item = get_ballot(ballot_id)
    return _on_ballot(item.id, lambda _form: voting.remove_item(item, item_id, current_user))


def _transition(ballot_id: int, action, success: str):
    get_ballot(ballot_id)
    return _on_ballot(ballot_id, lambda _form: action(ballot_id, current_user), success=success)


@bp.post("/ballots/<int:ballot_id>/open")
@role_required(*STAFF)
def open_ballot(ballot_id: int):
    return _transition(ballot_id, voting.open_ballot, _("表决已开始，代表现在可以投票。"))


@bp.route("/ballots/<int:ballot_id>/close", methods=["GET", "POST"])
@role_required(*STAFF)
def close_ballot(ballot_id: int):
    """GET: the confirmation page (core/confirm.py); POST: close."""
    if request.method == "GET":
        ballot = get_ballot(ballot_id)
        voted = voting.turnout(ballot.id)["voted"]
        return confirm_page(_("截止投票：%(t)s", t=ballot.title), [
            _("截止后代表不能再投票，已投的 %(n)d 张选票开始计票。", n=voted),
            _("纸质选票在截止后录入，核对无误后再公布结果。")],
            url_for("ballots.close_ballot", ballot_id=ballot.id), _("确认截止投票"),
            url_for("ballots.ballot", ballot_id=ballot.id))
    return htmx_navigate(_transition(ballot_id, voting.close_ballot, _("表决已截止。")))


@bp.route("/ballots/<int:ballot_id>/publish", methods=["GET", "POST"])
@role_required(*STAFF)
def publish(ballot_id: int):
    """GET: the confirmation page; POST: publish the result (notice, projects) for good."""
    if request.method == "GET":
        ballot = get_ballot(ballot_id)
        return confirm_page(_("公布结果：%(t)s", t=ballot.title), [
            _("结果将在公示栏公示，公开结果页向所有人开放。"),
            _("入选项目开始跟踪办理进度；公布后的结果只能以更正的方式补充，不能修改。")],
            url_for("ballots.publish", ballot_id=ballot.id), _("确认公布结果"),
            url_for("ballots.ballot", ballot_id=ballot.id))
    return htmx_navigate(_transition(ballot_id, tally.publish, _("结果已公布到公示栏。")))


@bp.post("/ballots/<int:ballot_id>/candidates")
@role_required(*STAFF)
def publish_candidates(ballot_id: int):
    item = get_ballot(ballot_id)
    return _on_ballot(item.id, lambda _form: tally.publish_candidates(item, current_user),
                      success=_("候选项目已在公示栏公示。"))


@bp.post("/ballots/<int:ballot_id>/paper-voters")
@role_required(*CLERKS)
def mark_paper(ballot_id: int):
    item = get_ballot(ballot_id)
    return _on_ballot(item.id, lambda _form: voting.mark_paper(item.id, _posted_id("deputy_id", _("请选择代表。")),
                                                               current_user),
                      success=_("已登记为纸质投票，该代表不能再在手机上投票。"))


@bp.get("/ballots/<int:ballot_id>/paper-voters/search")
@role_required(*CLERKS)
def paper_voter_search(ballot_id: int):
    item = get_ballot(ballot_id)
    rows = meeting_services.search_roll(item.meeting, request.args.get("q", ""), limit=20)
    return render_template("ballots/_paper_voter_rows.html", ballot=item, rows=rows)


@bp.post("/ballots/<int:ballot_id>/paper-counts")
@role_required(*CLERKS)
def paper_count(ballot_id: int):
    item = get_ballot(ballot_id)
    form = paper_count_form(item.rules)
    form.item_id.choices = [(i.id, i.title) for i in item.items]
    return _on_ballot(item.id, lambda f: tally.enter_paper_count(item.id, f.item_id.data, f.counts(), current_user,
                                                                 f.note.data),
                      success=_("纸质票数已记录。"), form=form, field=count_field(item.rules.choices[0]),
                      paper_form=form)


@bp.get("/ballots/<int:ballot_id>/print")
@role_required(*CLERKS)
def print_paper(ballot_id: int):
    item = get_ballot(ballot_id)
    return render_template("ballots/print_paper.html", ballot=item, CHOICE_LABELS=CHOICE_LABELS,
                           copies=min(int_arg("copies") or 1, 200))


@bp.get("/ballots/<int:ballot_id>/sheet")
@role_required(*CLERKS)
def result_sheet(ballot_id: int):
    item = get_ballot(ballot_id)
    if item.status not in ("closed", "published"):
        raise Conflict(_("表决截止后才能查看结果。"))
    return render_template("ballots/result_sheet.html", ballot=item, results=tally.ranked(tally.tally(item)),
                           turnout=voting.turnout(item.id), figures=meeting_services.counts(item.meeting_id),
                           CHOICE_LABELS=CHOICE_LABELS)


@bp.get("/ballots/<int:ballot_id>/result.xlsx")
@role_required(*CLERKS)
def result_xlsx(ballot_id: int):
    from ..core.xlsx import ExportWorkbook

    item = get_ballot(ballot_id)
    if item.status not in ("closed", "published"):
        raise Conflict(_("表决截止后才能导出结果。"))
    choices = METHOD_CHOICES[item.method]
    book = ExportWorkbook()
    sheet = book.sheet("表决结果")
    sheet.append([item.meeting.title])
    sheet.append([item.title])
    figures = voting.turnout(item.id)
    sheet.append(["应到", item.eligible_count, "电子表决", figures["electronic"], "纸质选票", figures["paper"]])
    sheet.append(["序号", "项目", "责任单位", *[CHOICE_LABELS[c] for c in choices], "名次", "结果"])
    for r in tally.ranked(tally.tally(item)):
        sheet.append([r.item.position, r.item.title, r.item.unit_name or "", *[r.total[c] for c in choices],
                      r.rank or "", r.outcome_label if item.rules.uses_yes_limit else
                      (f"{r.satisfaction:.1%}" if r.satisfaction is not None else "")])
    from ..core.downloads import XLSX, download

    return download(book.save(), f"ballot-{item.id}.xlsx", XLSX)


from . import (  # noqa: E402,F401  (their routes join this blueprint)
    models,  # noqa: E402,F401  (tables registered with the metadata)
    public_views,
    vote_views,
)
