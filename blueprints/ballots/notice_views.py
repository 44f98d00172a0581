"""Meeting notices (notices.py): the staff's page of a meeting's notice (send, answers, leave decisions,
reminders, absences) and the deputy's notice page with the 回执 form (the inbox message links to it)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..core.errors import Forbidden, NotFound
from ..core.extensions import db
from ..core.flow import run_action, run_form
from ..core.permissions import role_required
from . import notices, occasions
from .forms import NoticeForm, OccasionForm
from .models import Meeting
from .notice_models import OCCASION_KINDS, MeetingNotice, NoticeReply, OccasionRecipient
from .views import STAFF, get_meeting

bp = Blueprint("notices", __name__)


def _staff_page(meeting: Meeting, form=None, status: int = 200):
    from .meetings import counts

    notice = notices.notice_of(meeting.id)
    rows = notices.roll_with_replies(notice) if notice else []
    return render_template("ballots/notice_staff.html", meeting=meeting, notice=notice, rows=rows,
                           summary=notices.summary(rows), figures=counts(meeting.id),
                           form=form or NoticeForm()), status


@bp.route("/meetings/<int:meeting_id>/notice", methods=["GET", "POST"])
@role_required(*STAFF)
def staff(meeting_id: int):
    meeting = get_meeting(meeting_id)
    form = NoticeForm()
    if request.method == "GET":
        return _staff_page(meeting, form)

    def done(result):
        _notice, sent, missing = result
        message = _("会议通知已发给 %(n)d 个账号。", n=sent)
        if missing:
            message += _("另有 %(m)d 名代表没有账号，请另行通知。", m=missing)
        return message

    return run_form(form, lambda f: notices.send_notice(meeting, f.body.data, f.place.data, f.starts.data,
                                                        current_user),
                    success=done, redirect_to=url_for(".staff", meeting_id=meeting.id),
                    render=lambda status: _staff_page(meeting, form, status), field="body")


def _notice_of(meeting: Meeting) -> MeetingNotice:
    notice = notices.notice_of(meeting.id)
    if notice is None:
        raise NotFound(_("本次会议还没有发出会议通知。"))
    return notice


def _after(meeting: Meeting, action, success):
    result, error = run_action(action)
    if error is not None:
        flash(error.message, "error")
        return _staff_page(meeting, status=error.status)
    flash(success(result), "success")
    return redirect(url_for(".staff", meeting_id=meeting.id))


@bp.post("/meetings/<int:meeting_id>/notice/replies/<int:reply_id>")
@role_required(*STAFF)
def decide(meeting_id: int, reply_id: int):
    meeting = get_meeting(meeting_id)
    notice = _notice_of(meeting)
    row = db.session.get(NoticeReply, reply_id)
    if row is None or row.notice_id != notice.id:
        raise NotFound(_("没有这份回执。"))
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        flash(_("请选择准假或不准假。"), "error")
        return _staff_page(meeting, status=422)
    return _after(meeting, lambda: notices.decide_leave(row, decision == "approve", request.form.get("note"),
                                                        current_user),
                  lambda r: _("%(n)s：%(s)s。", n=r.deputy.name, s=r.leave_label))


@bp.post("/meetings/<int:meeting_id>/notice/remind")
@role_required(*STAFF)
def remind(meeting_id: int):
    meeting = get_meeting(meeting_id)
    notice = _notice_of(meeting)
    return _after(meeting, lambda: notices.remind_unanswered(notice, current_user),
                  lambda n: _("已提醒 %(n)d 名未回执的代表。", n=n))


@bp.post("/meetings/<int:meeting_id>/notice/absences")
@role_required(*STAFF)
def absences(meeting_id: int):
    meeting = get_meeting(meeting_id)
    return _after(meeting, lambda: notices.record_unexcused_absences(meeting, current_user),
                  lambda n: _("已登记 %(n)d 名代表未请假缺席（计入履职积分扣分）；准假的代表不扣分。", n=n))


# ---- the deputy ---------------------------------------------------------------------------------

@bp.get("/meeting-notices/")
@login_required
def mine():
    from .models import Attendance

    if not current_user.deputy_id:
        raise Forbidden(_("会议通知只发给代表本人。"))
    rows = db.session.execute(
        select(MeetingNotice, NoticeReply).join(Meeting, Meeting.id == MeetingNotice.meeting_id)
        .join(Attendance, (Attendance.meeting_id == Meeting.id) & (Attendance.deputy_id == current_user.deputy_id))
        .outerjoin(NoticeReply, (NoticeReply.notice_id == MeetingNotice.id)
                   & (NoticeReply.deputy_id == current_user.deputy_id))
        .order_by(MeetingNotice.id.desc())).all()
    items = [(n.meeting.title, _("会议"), n.meeting.held_on, url_for(".notice", notice_id=n.id), r) for n, r in rows]
    items += [(n.title, n.kind_label, n.held_on, url_for(".occasion", notice_id=n.id), r if r.answer else None)
              for n, r in occasions.mine(current_user.deputy_id)]
    items.sort(key=lambda i: i[2] or date.max, reverse=True)
    return render_template("ballots/notices_mine.html", rows=items)


def _deputy_page(notice: MeetingNotice, status: int = 200):
    from ..core.timeutil import local_today

    reply = notices.reply_of(notice.id, current_user.deputy_id)
    over = notice.meeting.held_on is not None and notice.meeting.held_on < local_today()
    return render_template("ballots/notice.html", notice=notice, meeting=notice.meeting, reply=reply,
                           over=over, reason=request.form.get("reason", reply.reason if reply else "") or ""), status


@bp.route("/meeting-notices/<int:notice_id>", methods=["GET", "POST"])
@login_required
def notice(notice_id: int):
    item = notices.get_notice(notice_id)
    if current_user.has_role(*STAFF) and not current_user.deputy_id:
        return redirect(url_for(".staff", meeting_id=item.meeting_id))
    if notices.roll_row(item.meeting_id, current_user.deputy_id) is None:
        raise Forbidden(_("您不在本次会议的名单中。"))
    if request.method == "GET":
        return _deputy_page(item)
    result, error = run_action(lambda: notices.reply(item, current_user, request.form.get("answer", ""),
                                                     request.form.get("reason")))
    if error is not None:
        flash(error.message, "error")
        return _deputy_page(item, error.status)
    flash(_("回执已提交：参加。") if result.answer == "attend" else _("请假申请已提交，等待审批。"), "success")
    return redirect(url_for(".notice", notice_id=item.id))


# ---- occasions without a congress meeting (occasions.py) ------------------------------------------

@bp.get("/occasion-notices/")
@role_required(*STAFF)
def occasions_list():
    return render_template("ballots/occasions.html", rows=occasions.list_occasions())


def _occasion_form_page(form, status: int = 200):

    picked = {str(v) for v in request.form.getlist("deputy_ids")}
    return render_template("ballots/occasion_new.html", form=form, candidates=occasions.candidates(),
                           picked=picked), status


@bp.route("/occasion-notices/new", methods=["GET", "POST"])
@role_required(*STAFF)
def occasion_new():
    from .meetings import townships

    form = OccasionForm()
    form.kind.choices = [(k, str(v)) for k, v in OCCASION_KINDS.items()]
    form.group_id.choices = [(0, _("（代表小组活动必选）"))] + [(g.id, g.name) for g in occasions.groups()]
    form.area_id.choices = [(0, _("（不按乡镇）"))] + [(a.id, a.name) for a in townships()]
    if request.method == "GET":
        return _occasion_form_page(form)

    def done(result):
        _notice, sent, missing = result
        message = _("通知已发给 %(n)d 个账号。", n=sent)
        if missing:
            message += _("另有 %(m)d 名代表没有账号，请另行通知。", m=missing)
        return message

    return run_form(form, lambda f: occasions.send_occasion(
        f.kind.data, f.title.data, f.held_on.data, f.body.data, f.place.data, f.starts.data, current_user,
        group_id=f.group_id.data or None, deputy_ids=request.form.getlist("deputy_ids"),
        area_id=f.area_id.data or None),
        success=done, redirect_to=lambda r: url_for(".occasion_roll", notice_id=r[0].id),
        render=lambda status: _occasion_form_page(form, status))


def _roll_page(notice, status: int = 200):
    rows = occasions.roll_with_answers(notice)
    return render_template("ballots/occasion_staff.html", notice=notice, rows=rows,
                           summary=notices.summary(rows)), status


@bp.get("/occasion-notices/<int:notice_id>/roll")
@role_required(*STAFF)
def occasion_roll(notice_id: int):
    return _roll_page(occasions.get_occasion(notice_id))


@bp.post("/occasion-notices/<int:notice_id>/roll/<int:row_id>")
@role_required(*STAFF)
def occasion_decide(notice_id: int, row_id: int):
    notice = occasions.get_occasion(notice_id)
    row = db.session.get(OccasionRecipient, row_id)
    if row is None or row.notice_id != notice.id:
        raise NotFound(_("没有这位代表。"))
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        flash(_("请选择准假或不准假。"), "error")
        return _roll_page(notice, 422)
    result, error = run_action(lambda: occasions.decide_leave(row, decision == "approve", request.form.get("note"),
                                                              current_user))
    if error is not None:
        flash(error.message, "error")
        return _roll_page(notice, error.status)
    flash(_("%(n)s：%(s)s。", n=result.deputy.name, s=result.leave_label), "success")
    return redirect(url_for(".occasion_roll", notice_id=notice.id))


@bp.post("/occasion-notices/<int:notice_id>/remind")
@role_required(*STAFF)
def occasion_remind(notice_id: int):
    notice = occasions.get_occasion(notice_id)
    result, error = run_action(lambda: occasions.remind_unanswered(notice, current_user))
    if error is not None:
        flash(error.message, "error")
        return _roll_page(notice, error.status)
    flash(_("已提醒 %(n)d 名未回执的代表。", n=result), "success")
    return redirect(url_for(".occasion_roll", notice_id=notice.id))


def _occasion_page(notice, status: int = 200):
    from ..core.timeutil import local_today

    row = occasions.recipient_of(notice.id, current_user.deputy_id)
    reply = row if row is not None and row.answer else None
    return render_template("ballots/notice.html", notice=notice, meeting=notice, reply=reply, occasion=True,
                           over=notice.held_on < local_today(),
                           reason=request.form.get("reason", reply.reason if reply else "") or ""), status


@bp.route("/occasion-notices/<int:notice_id>", methods=["GET", "POST"])
@login_required
def occasion(notice_id: int):
    item = occasions.get_occasion(notice_id)
    if current_user.has_role(*STAFF) and not current_user.deputy_id:
        return redirect(url_for(".occasion_roll", notice_id=item.id))
    if occasions.recipient_of(item.id, current_user.deputy_id) is None:
        raise Forbidden(_("您不在这份通知的名单中。"))
    if request.method == "GET":
        return _occasion_page(item)
    result, error = run_action(lambda: occasions.reply(item, current_user, request.form.get("answer", ""),
                                                       request.form.get("reason")))
    if error is not None:
        flash(error.message, "error")
        return _occasion_page(item, error.status)
    flash(_("回执已提交：参加。") if result.answer == "attend" else _("请假申请已提交，等待审批。"), "success")
    return redirect(url_for(".occasion", notice_id=item.id))
