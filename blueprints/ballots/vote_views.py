"""The deputy's phone pages (self check-in, ballot, confirmation, done) and the projector screen."""
from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from ..core.errors import DomainError, Forbidden, NotFound
from ..core.extensions import db
from ..core.flow import run_form
from ..core.htmx import render_page
from ..core.pagination import int_arg
from ..core.permissions import role_required
from . import frozen, tally, voting
from . import meetings as meeting_services
from .models import CHOICE_LABELS, Attendance, Ballot, BallotReceipt, Meeting
from .views import bp, get_meeting


def _deputy_id() -> int:
    if current_user.deputy_id is None:
        raise Forbidden(_("只有代表本人可以投票。"))
    return current_user.deputy_id


def _ballot_state(meeting, deputy_id: int):
    """Open ballots of the meeting and the ones this deputy has voted on."""
    ballots = [b for b in meeting.ballots if b.status == "open"]
    voted = set(db.session.scalars(select(BallotReceipt.ballot_id).where(
        BallotReceipt.deputy_id == deputy_id, BallotReceipt.ballot_id.in_([b.id for b in ballots] or [0]))))
    return ballots, voted


def _meeting_with_ballots(meeting_id: int):
    """The meeting and its ballots in one query (the phone's page is on the meeting day's hot path)."""
    meeting = db.session.scalar(select(Meeting).where(Meeting.id == meeting_id)
                                .options(joinedload(Meeting.ballots)))
    if meeting is None:
        raise NotFound(_("会议不存在。"))
    return meeting


def _roll_row_and_voted(meeting, deputy_id: int):
    """(the deputy's roll row or None, the open ballots, the ids of those they voted on) in one query."""
    ballots = [b for b in meeting.ballots if b.status == "open"]
    rows = db.session.execute(
        select(Attendance, BallotReceipt.ballot_id)
        .outerjoin(BallotReceipt, and_(BallotReceipt.deputy_id == Attendance.deputy_id,
                                       BallotReceipt.ballot_id.in_([b.id for b in ballots] or [0])))
        .where(Attendance.meeting_id == meeting.id, Attendance.deputy_id == deputy_id)).all()
    attendance = rows[0][0] if rows else None
    return attendance, ballots, {ballot_id for _row, ballot_id in rows if ballot_id is not None}


def _vote_page(meeting, deputy_id: int, *, ballot=None, error=None, chosen=None, status=200):
    attendance, ballots, voted = _roll_row_and_voted(meeting, deputy_id)
    if ballot is None:
        wanted = int_arg("ballot")
        pending = [b for b in ballots if b.id not in voted]
        ballot = next((b for b in ballots if b.id == wanted), None) or (pending[0] if pending else None)
    return render_template("ballots/vote.html", meeting=meeting, attendance=attendance, ballots=ballots,
                           voted=voted, ballot=ballot, error=error, chosen=chosen or {},
                           CHOICE_LABELS=CHOICE_LABELS, empty_form=frozen.empty_form), status


def _posted_ballot_id() -> int:
    raw = request.form.get("ballot_id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise DomainError(_("选票不属于本次会议。"))
    return int(raw)


def _posted_ballot(meeting) -> Ballot:
    ballot = db.session.get(Ballot, _posted_ballot_id())
    if ballot is None or ballot.meeting_id != meeting.id:
        raise DomainError(_("选票不属于本次会议。"))
    return ballot


def _chosen_from_form() -> dict[int, str]:
    chosen = {}
    for key in request.form:
        if key.startswith("item-") and key[5:].isascii() and key[5:].isdigit() and len(key) < 15:
            chosen[int(key[5:])] = request.form[key]
    return chosen


@bp.route("/meetings/<int:meeting_id>/vote", methods=["GET", "POST"])
@role_required("deputy")
def vote(meeting_id: int):
    deputy_id = _deputy_id()
    if request.method == "GET":
        return _vote_page(_meeting_with_ballots(meeting_id), deputy_id)
    # The vote itself reads only what cast_vote locks and checks (the ballot, of this meeting; the roll
    # row and receipt): the meeting is loaded only to show a refusal.
    ballot_id = _posted_ballot_id()
    try:
        voting.cast_vote(ballot_id, deputy_id, request.form, meeting_id)  # one transaction of its own
    except NotFound as error:  # no such ballot in this meeting (or no such meeting: 404 below)
        get_meeting(meeting_id)
        raise DomainError(_("选票不属于本次会议。")) from error
    except DomainError as error:
        return _refused_vote(get_meeting(meeting_id), deputy_id, ballot_id, error)
    return redirect(url_for(".vote_done", meeting_id=meeting_id, ballot=ballot_id), 303)


def _refused_vote(meeting, deputy_id: int, ballot_id: int, error: DomainError):
    """The phone page again with the refusal on top and its status: a bad form (422) keeps the ballot
    and the choices made; any other refusal (already voted 409, not checked in 403, ...) shows where
    the deputy stands now."""
    if isinstance(error, voting.BadVote):
        return _vote_page(meeting, deputy_id, ballot=db.session.get(Ballot, ballot_id), error=error.message,
                          chosen=_chosen_from_form(), status=error.status)
    return _vote_page(meeting, deputy_id, error=error.message, status=error.status)


@bp.post("/meetings/<int:meeting_id>/vote/confirm")
@role_required("deputy")
def vote_confirm(meeting_id: int):
    """The confirmation step: repeats the choices; records nothing."""
    meeting = get_meeting(meeting_id)
    deputy_id = _deputy_id()
    ballot = _posted_ballot(meeting)
    try:
        if ballot.status != "open":
            raise voting.VoteRefused(_("投票已截止。") if ballot.status != "draft" else _("投票尚未开始。"))
        if voting.has_voted(ballot.id, deputy_id):
            raise voting.VoteRefused(_("您已投票"))
        chosen = voting.parse_choices(ballot, request.form)
    except DomainError as error:
        return _refused_vote(meeting, deputy_id, ballot.id, error)
    return render_template("ballots/vote_confirm.html", meeting=meeting, ballot=ballot, chosen=chosen,
                           CHOICE_LABELS=CHOICE_LABELS)


@bp.get("/meetings/<int:meeting_id>/vote/done")
@role_required("deputy")
def vote_done(meeting_id: int):
    meeting = get_meeting(meeting_id)
    deputy_id = _deputy_id()
    ballots, voted = _ballot_state(meeting, deputy_id)
    pending = [b for b in ballots if b.id not in voted]
    ballot_id = int_arg("ballot")
    ballot = db.session.get(Ballot, ballot_id) if ballot_id else None
    if ballot is not None and ballot.meeting_id != meeting.id:
        ballot = None
    code = voting.tracker_of(ballot.id, deputy_id) if ballot is not None else None
    return render_template("ballots/vote_done.html", meeting=meeting, pending=pending, ballot=ballot, tracker=code)


@bp.route("/meetings/<int:meeting_id>/checkin/self", methods=["GET", "POST"])
@role_required("deputy")
def self_checkin(meeting_id: int):
    meeting = get_meeting(meeting_id)
    scope = session.get("scope") or {}

    def render(status: int):
        attendance = meeting_services.attendance_of(meeting.id, current_user.deputy_id)
        return render_template("ballots/self_checkin.html", meeting=meeting, attendance=attendance,
                               by_pass=scope.get("meeting") == meeting.id), status

    if request.method == "GET":
        return render(200)
    # A refusal (a wrong QR code 422, checked in already 409) is flashed above the page.
    return run_form(None, lambda _form: meeting_services.self_check_in(meeting, current_user,
                                                                       by_pass_for=scope.get("meeting")),
                    success=_("签到成功。"), redirect_to=url_for(".vote", meeting_id=meeting.id), render=render)


# ---- projector --------------------------------------------------------------------------------

@bp.get("/meetings/<int:meeting_id>/screen")
@login_required
def screen(meeting_id: int):
    """Turnout while checking in or voting (never partial results); results after the close."""
    meeting = get_meeting(meeting_id)
    figures = meeting_services.counts(meeting.id)
    current = next((b for b in reversed(meeting.ballots) if b.status == "open"), None) or next(
        (b for b in reversed(meeting.ballots) if b.status in ("closed", "published")), None)
    turnout = voting.turnout(current.id) if current else None
    results = tally.ranked(tally.tally(current)) if current is not None and current.status != "open" else None
    return render_page("ballots/screen.html", "ballots/_screen.html", meeting=meeting, figures=figures,
                       ballot=current, turnout=turnout, results=results, CHOICE_LABELS=CHOICE_LABELS)
