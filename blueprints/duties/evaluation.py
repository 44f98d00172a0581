"""Staff pages: any deputy's archive (screen, A4 print, .xlsx), absences, the points rules of each
year and congress terms, and the annual evaluation (ranking, groups, reminders, awards, charts,
publication). Routes hang on the duties blueprint."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..core import audit
from ..core.extensions import db
from ..core.flow import run_action, run_form
from ..core.htmx import render_page
from ..core.pagination import int_arg, page_number, paginate, parse_positive_int
from ..core.permissions import role_required
from ..core.timeutil import local_today
from ..core.transaction import transaction
from ..core.xlsx import ExportWorkbook
from ..registry.models import LEVEL_LABELS, LEVELS, Deputy
from . import charts, scoring, services
from .forms import AbsenceForm, ReminderForm, TermForm, rules_form_class
from .models import ACTIVITY_TYPES, CongressTerm
from .views import _user, _year_arg, archive_context, bp


def _xlsx_response(workbook, filename: str):
    from ..core.downloads import XLSX, download

    return download(workbook.save(), filename, XLSX)


def _level_arg() -> str:
    level = request.args.get("level", "county")
    return level if level in LEVELS else "county"


# ---- archives ------------------------------------------------------------------------------------

@bp.get("/duties/deputies/")
@role_required("staff")
def deputies():
    q = request.args.get("q", "").strip()[:32]
    stmt = select(Deputy).order_by(Deputy.sort_name, Deputy.id)
    if q:
        stmt = stmt.where(or_(Deputy.name.contains(q, autoescape=True), Deputy.code == q))
    page = paginate(stmt, page_number(), per_page=50)
    return render_page("duties/deputies.html", "duties/_deputy_rows.html", page=page, q=q)


def _deputy(deputy_id: int) -> Deputy:
    return db.session.get(Deputy, deputy_id) or abort(404)


@bp.get("/duties/deputies/<int:deputy_id>")
@role_required("staff")
def archive(deputy_id: int):
    deputy = _deputy(deputy_id)
    year = _year_arg()
    context = archive_context(deputy, year, page_number())
    if request.args.get("print"):
        # 一人一册: every activity of the year on A4, not one page of twenty.
        items = db.session.scalars(services.deputy_activities(deputy.id, year)).all()
        return render_template("duties/archive_print.html", items=items, today=local_today(), **context)
    absence_form = AbsenceForm()
    absence_form.occurred_on.data = absence_form.occurred_on.data or local_today()
    return render_page("duties/archive.html", "duties/_archive.html", own=False, absence_form=absence_form,
                       **context)


@bp.get("/duties/deputies/<int:deputy_id>/archive.xlsx")
@role_required("staff")
def archive_xlsx(deputy_id: int):
    deputy = _deputy(deputy_id)
    year = _year_arg()
    figures = scoring.archive(deputy, year)
    workbook = ExportWorkbook()
    summary = workbook.sheet(_("积分"))
    summary.append([_("代表"), deputy.name, _("年度"), year, _("积分"), float(figures.total),
                    _("未请假缺席（次）"), figures.absences])
    summary.append([_("活动类型"), _("已核实"), _("待核实"), _("积分")])
    for t in figures.by_type:
        summary.append([t["label"], t["verified"], t["pending"], float(t["points"])])
    sheet = workbook.sheet(_("履职活动"))
    sheet.append([_("日期"), _("类型"), _("活动名称"), _("地点"), _("时长（小时）"), _("状态"), _("简要情况")])
    for a in db.session.scalars(services.deputy_activities(deputy.id, year)):
        sheet.append([a.occurred_on, a.type_label, a.title, a.place or "", float(a.duration_hours or 0) or None,
                      a.status_label, a.description or ""])
    leaves = workbook.sheet(_("请假（已批准）"))
    leaves.append([_("日期"), _("类别"), _("名称"), _("状态")])
    for leave in scoring.excused_leaves(deputy.id, year):
        leaves.append([leave.held_on, leave.kind_label, leave.title, _("请假（已批准）")])
    with transaction():
        audit.record("export", "archive", deputy.id, f"导出{deputy.name} {year} 年度履职档案", actor=_user())
    return _xlsx_response(workbook, f"{deputy.name}{year}年度履职档案.xlsx")


@bp.post("/duties/deputies/<int:deputy_id>/absences")
@role_required("staff")
def absence_new(deputy_id: int):
    deputy = _deputy(deputy_id)
    form = AbsenceForm()
    if form.validate_on_submit():
        _result, error = run_action(
            lambda: scoring.record_absence(deputy, form.occurred_on.data, form.note.data, _user()))
        if error is None:
            flash(_("已登记缺席。"), "success")
        else:
            flash(error.message, "error")
    else:
        flash(_("请填写缺席日期（年-月-日）。"), "error")
    return redirect(url_for("duties.archive", deputy_id=deputy.id), 303)


# ---- rules and terms -----------------------------------------------------------------------------

@bp.get("/duties/rules/")
@role_required("staff")
def rules():
    from .models import ScoringYear

    years = db.session.scalars(select(ScoringYear).order_by(ScoringYear.year.desc())).all()
    terms = db.session.scalars(select(CongressTerm).order_by(CongressTerm.level, CongressTerm.starts_on)).all()
    term_form = TermForm()
    term_form.level.choices = list(LEVEL_LABELS.items())
    return render_template("duties/rules.html", years=years, terms=terms, term_form=term_form,
                           this_year=local_today().year, LEVEL_LABELS=LEVEL_LABELS)


@bp.route("/duties/rules/<int:year>", methods=["GET", "POST"])
@role_required("staff")
def rules_year(year: int):
    if not 2000 <= year <= 2100:
        abort(404)
    codes = list(ACTIVITY_TYPES)
    form = rules_form_class(codes)()
    # A year not yet saved shows the rules it would start from; saving the form creates it.
    scoring_year = scoring.get_year(year) or scoring.draft_year(year)
    if request.method == "GET":
        by_code = {r.type_code: r for r in scoring_year.rules}
        for code in codes:
            rule = by_code.get(code)
            getattr(form, f"points_{code}").data = scoring.plain(rule.points) if rule else "0"
            getattr(form, f"cap_{code}").data = (scoring.plain(rule.annual_cap)
                                                 if rule and rule.annual_cap is not None else "")
        form.absence_deduction.data = scoring.plain(scoring_year.absence_deduction)
        form.min_standing_committee.data = scoring_year.min_standing_committee
        form.min_survey.data = scoring_year.min_survey
        form.min_inspection.data = scoring_year.min_inspection
    return run_form(
        form, lambda f: scoring.save_rules(
            year, {code: (getattr(f, f"points_{code}").data, getattr(f, f"cap_{code}").data) for code in codes},
            absence_deduction=f.absence_deduction.data,
            minimums={"standing_committee": f.min_standing_committee.data or 0,
                      "survey": f.min_survey.data or 0, "inspection": f.min_inspection.data or 0},
            actor=_user()),
        success=_("%(y)d 年度计分规则已保存。", y=year), redirect_to=url_for("duties.rules_year", year=year),
        render=lambda status: (render_template("duties/rules_year.html", form=form, year=year,
                                               scoring_year=scoring_year,
                                               codes=codes), status),
        field="absence_deduction")


@bp.post("/duties/rules/<int:year>/publish")
@role_required("staff")
def rules_publish(year: int):
    if not 2000 <= year <= 2100:
        abort(404)
    notice = scoring.publish_rules(year, _user())
    flash(_("计分规则已在公示栏发布。"), "success")
    return redirect(url_for("noticeboard.notice", notice_id=notice.id), 303)


def _flash_form_errors(form) -> None:
    # str(): the messages are lazy translations, which str.join refuses.
    flash("；".join(str(e) for errors in form.errors.values() for e in errors), "error")


@bp.post("/duties/terms")
@role_required("staff")
def term_new():
    form = TermForm()
    form.level.choices = list(LEVEL_LABELS.items())
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("duties.rules"), 303)
    _result, error = run_action(lambda: scoring.save_term(form.level.data, form.name.data, form.starts_on.data,
                                                          form.ends_on.data, _user()))
    if error is None:
        flash(_("届次任期已保存。"), "success")
    else:
        flash(error.message, "error")
    return redirect(url_for("duties.rules"), 303)


# ---- annual evaluation ---------------------------------------------------------------------------

MONTHS = [f"{m}月" for m in range(1, 13)]


@bp.get("/duties/evaluation/")
@role_required("staff")
def evaluation():
    year, level = _year_arg(), _level_arg()
    page = page_number()
    context = {"year": year, "level": level, "page": page, "LEVEL_LABELS": LEVEL_LABELS,
               "years": range(local_today().year, local_today().year - 6, -1),
               "scoring_year": scoring.get_year(year)}
    # One aggregate (every deputy's standing, remembered per worker while nothing it is computed from
    # changes) gives the page of the ranking, the distribution, the top, the bottom and the group totals;
    # the page's points by type are one small query for its 50 deputies.
    everyone = scoring.standings_full(year, level)
    total = len(everyone)
    pages = max(1, -(-total // 50))
    if page > pages:
        abort(404)
    if request.headers.get("HX-Request") == "true" and request.args.get("page"):
        context.update(rows=scoring.with_points_by_type(year, everyone[(page - 1) * 50:page * 50]), total=total,
                       pages=pages)
        return render_page("duties/evaluation.html", "duties/_ranking_rows.html", **context)
    n = scoring.flag_count(total)
    labels, counts = scoring.distribution(year, level)
    lowest = sorted(everyone[-n:], key=lambda r: (r["total"], r["deputy_id"])) if n else []
    context.update(
        rows=scoring.with_points_by_type(year, everyone[(page - 1) * 50:page * 50]), total=total, pages=pages,
        groups=scoring.group_standings(year, level),
        lowest=scoring.with_reminders(year, lowest),
        highest=[r for r in everyone[:n] if r["total"] > 0],
        reminder_form=ReminderForm(),
        distribution=charts.bar_chart(labels, counts, _("积分分布（人数）"), _("人")),
        by_month=charts.bar_chart(MONTHS, scoring.activity_by_month(year, level), _("每月履职活动（次）"), _("次")),
    )
    return render_page("duties/evaluation.html", "duties/_ranking_rows.html", **context)


@bp.get("/duties/evaluation/export.xlsx")
@role_required("staff")
def evaluation_xlsx():
    year, level = _year_arg(), _level_arg()
    workbook = ExportWorkbook()
    sheet = workbook.sheet(_("年度排名"))
    sheet.append([_("名次"), _("代表"), _("总积分"), _("缺席次数"), *ACTIVITY_TYPES.values()])
    for r in scoring.all_totals(year, level):
        sheet.append([r["rank"], r["name"], float(r["total"]), r["absences"],
                      *(float(r[code]) for code in ACTIVITY_TYPES)])
    with transaction():
        audit.record("export", "evaluation", year, f"导出 {year} 年度{LEVEL_LABELS[level]}人大代表履职排名",
                     actor=_user())
    return _xlsx_response(workbook, f"{year}年度{LEVEL_LABELS[level]}人大代表履职排名.xlsx")


@bp.post("/duties/evaluation/reminders")
@role_required("staff")
def reminder_new():
    year, level = _year_arg(), _level_arg()
    form = ReminderForm()
    deputy_id = int_arg("deputy_id") or parse_positive_int(form.deputy_id.data)
    deputy = db.session.get(Deputy, deputy_id) if deputy_id else None
    if deputy is None:
        abort(404)
    if form.validate_on_submit():
        _result, error = run_action(
            lambda: scoring.record_reminder(deputy, year, form.held_on.data, form.note.data, _user()))
        if error is None:
            flash(_("已记录对%(n)s的谈话提醒。", n=deputy.name), "success")
        else:
            flash(error.message, "error")
    else:
        _flash_form_errors(form)
    return redirect(url_for("duties.evaluation", year=year, level=level) + "#lowest", 303)


@bp.post("/duties/evaluation/publish")
@role_required("staff")
def evaluation_publish():
    year, level = _year_arg(), _level_arg()
    if date(year, 1, 1) > local_today():
        abort(404)
    notice = scoring.publish_results(year, level, _user())
    flash(_("%(y)d 年度评价结果已在公示栏发布，该年度计分规则随之锁定。", y=year), "success")
    return redirect(url_for("noticeboard.notice", notice_id=notice.id), 303)
