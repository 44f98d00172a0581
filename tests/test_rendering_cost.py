"""Issue 18, rendering cost: the shortcuts that make pages cheaper show what the longer way showed.

The evaluation page's figures from one aggregate equal the separate queries; the per-worker memos
(url_for, notice summaries) never answer for another script root or another text; a name search that
counts in its page's query pages and 404s like any list; exports write the same cells."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.core.xlsx import ExportWorkbook
from blueprints.duties import scoring
from blueprints.duties.models import ACTIVITY_TYPES, Activity
from blueprints.noticeboard import markup
from blueprints.registry.models import DeputyGroup, GroupMembership

YEAR = local_today().year


def _activities(deputy_id, type_code, n, month=1, status="verified"):
    for i in range(n):
        db.session.add(Activity(deputy_id=deputy_id, type_code=type_code, occurred_on=date(YEAR, month, 1 + i % 28),
                                year=YEAR, title="活动", status=status, source="test",
                                source_ref=f"{deputy_id}:{type_code}:{month}:{status}:{i}"))


def test_the_evaluation_figures_from_one_aggregate_equal_the_separate_queries(app, make_deputy, users):
    east, west = DeputyGroup(name="东区代表小组", kind="regional"), DeputyGroup(name="西区代表小组", kind="regional")
    db.session.add_all([east, west])
    db.session.flush()
    deputies = [make_deputy(name=f"代表{i}") for i in range(5)]
    for i, d in enumerate(deputies):
        db.session.add(GroupMembership(group_id=(east if i % 2 else west).id, deputy_id=d.id, role="member"))
    db.session.commit()
    scoring.ensure_year(YEAR)
    scoring.save_rules(YEAR, {"survey": ("4", "10"), "reception": ("3", None)}, absence_deduction="5",
                       minimums={}, actor=users["staff"])
    _activities(deputies[0].id, "survey", 5)                 # 20, capped at 10
    _activities(deputies[0].id, "reception", 2, month=2)
    _activities(deputies[1].id, "reception", 4, month=2)
    _activities(deputies[2].id, "survey", 1, month=min(3, local_today().month))
    _activities(deputies[3].id, "reception", 3, status="pending")
    db.session.commit()

    everyone = scoring.standings_full(YEAR, "county")
    rows, total = scoring.ranking_page(YEAR, "county", 1)
    assert len(everyone) == total
    paged = scoring.with_points_by_type(YEAR, everyone[:50])
    assert [r["deputy_id"] for r in paged] == [r["deputy_id"] for r in rows]
    for mine, theirs in zip(paged, rows, strict=True):
        for key in ("total", "gross", "rank", "group_rank", "group_size", "absences", "activities",
                    *ACTIVITY_TYPES):
            assert Decimal(str(mine[key])) == Decimal(str(theirs[key])), key

    in_sql = [dict(g) for g in scoring.group_totals(YEAR, "county")]
    in_python = scoring.group_totals_of(everyone)
    assert [(g["id"], g["name"], g["members"]) for g in in_python] == [(g["id"], g["name"], g["members"])
                                                                       for g in in_sql]
    for mine, theirs in zip(in_python, in_sql, strict=True):
        assert Decimal(str(mine["total"])) == Decimal(str(theirs["total"]))
        assert abs(float(mine["average"]) - float(theirs["average"])) < 1e-9

    by_month = scoring.activity_by_month(YEAR, "county")
    assert len(by_month) == 12 and sum(by_month) == 12  # the pending ones are not counted
    assert by_month[0] == 5 and by_month[1] == 6


def test_the_evaluation_page_still_shows_the_ranking_groups_and_charts(client, users, make_deputy):
    deputy = make_deputy(name="王一")
    scoring.ensure_year(YEAR)
    _activities(deputy.id, "survey", 2)
    db.session.commit()
    client.post("/login", data={"username": "staff", "password": "demo-2026"})
    page = client.get(f"/duties/evaluation/?year={YEAR}&level=county")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "王一" in html and "每月履职活动" in html
    assert client.get(f"/duties/evaluation/?year={YEAR}&level=county&page=9").status_code == 404


def test_remembered_url_for_answers_per_script_root_and_arguments(app):
    remembered = app.jinja_env.globals["url_for"]
    with app.test_request_context("/"):
        assert remembered("noticeboard.notice", notice_id=7) == url_for("noticeboard.notice", notice_id=7) \
            == "/notices/7"
        assert remembered("noticeboard.notice", notice_id=8) == "/notices/8"
        assert remembered("noticeboard.notices", category="rules", page=2) == url_for(
            "noticeboard.notices", category="rules", page=2)
        assert remembered("noticeboard.notice", notice_id=7, _external=True) == "http://localhost/notices/7"
        assert remembered("noticeboard.notices", q=["a", "b"]) == url_for("noticeboard.notices", q=["a", "b"])
    with app.test_request_context("/", base_url="http://localhost/platform"):
        assert remembered("noticeboard.notice", notice_id=7) == "/platform/notices/7"


def test_a_notice_summary_is_remembered_by_its_text_only():
    first = markup.plain_summary("**通知**：明天接待", 90)
    assert first == markup.plain_text("**通知**：明天接待") == "通知：明天接待"
    assert markup.plain_summary("**通知**：后天接待", 90) == "通知：后天接待"  # an edited body is another key
    assert markup.plain_summary("**通知**：明天接待", 3) == "通知：…"  # and another limit too
    for i in range(markup.SUMMARY_MEMO_ENTRIES + 5):  # bounded: a long archive never fills memory
        markup.plain_summary(f"第{i}号", 90)
    assert len(markup._summaries) <= markup.SUMMARY_MEMO_ENTRIES


def test_a_name_search_counts_in_its_page_and_pages_like_any_list(client, make_deputy):
    for i in range(25):
        make_deputy(name=f"王{i:02d}")
    make_deputy(name="李四")
    first = client.get("/deputies/?q=王").get_data(as_text=True)
    assert "共 25 条" in first and "李四" not in first
    second = client.get("/deputies/?q=王&page=2").get_data(as_text=True)
    assert "共 25 条" in second and second.count('class="person"') == 5
    assert client.get("/deputies/?q=王&page=3").status_code == 404
    nothing = client.get("/deputies/?q=赵")
    assert nothing.status_code == 200 and "共 0 条" in nothing.get_data(as_text=True)


def test_an_export_writes_the_same_cells_with_or_without_the_fast_rows():
    book = ExportWorkbook()
    plain = book.sheet("排名")
    plain.append(["名次", "代表", "总积分", "是否", None, ""])
    plain.append([1, " 王 & <李> ", Decimal("12.5"), True, 2.25, "=SUM(A1)"])
    plain.append([local_today(), "日期行走 openpyxl"])
    text = book.sheet("名册", widths=(16,), text=True)
    text.append(["01234", 5])
    sheets = load_workbook(io.BytesIO(book.save()))
    ranking = sheets["排名"]
    assert [c.value for c in ranking[1]][:4] == ["名次", "代表", "总积分", "是否"]
    assert [c.value for c in ranking[2]] == [1, " 王 & <李> ", 12.5, True, 2.25, "'=SUM(A1)"]
    assert ranking["A3"].value.date() == local_today() and ranking["A3"].is_date
    roster = sheets["名册"]
    assert roster["A1"].value == "01234" and roster["A1"].number_format == "@"
    assert roster["B1"].value == 5 and roster["B1"].number_format == "@"
    assert roster.column_dimensions["A"].width == 16


def test_the_month_chart_counts_by_the_activitys_date(app, make_deputy):
    deputy = make_deputy(name="赵一")
    scoring.ensure_year(YEAR)
    day = date(YEAR, 1, 31)
    for offset in (0, 1):
        when = day + timedelta(days=offset)
        db.session.add(Activity(deputy_id=deputy.id, type_code="survey", occurred_on=when, year=YEAR, title="调研",
                                status="verified", source="test", source_ref=f"m{offset}"))
    db.session.commit()
    counts = scoring.activity_by_month(YEAR, "county")
    assert counts[0] == 1 and counts[1] == 1 and sum(counts) == 2
    assert scoring.activity_by_month(YEAR, "township") == (0,) * 12


def test_templates_translate_as_flask_babel_does(app):
    from flask import render_template_string
    from flask_babel import gettext, ngettext

    with app.test_request_context("/"):
        drawn = render_template_string("{{ _('跳到正文') }}|{{ ngettext('%(num)d 项', '%(num)d 项', 3) }}|"
                                       "{{ _('共 %(n)d 条', n=5) }}")
        assert drawn == f"{gettext('跳到正文')}|{ngettext('%(num)d 项', '%(num)d 项', 3)}|{gettext('共 %(n)d 条', n=5)}"
        assert drawn.startswith("跳到正文|3 项|")


def test_the_remembered_visitor_menu_never_shows_a_signed_in_users_links(client, users):
    client.post("/login", data={"username": "staff", "password": "demo-2026"})
    staff_page = client.get("/notices/").get_data(as_text=True)
    assert 'action="/logout"' in staff_page and "/audit" in staff_page
    client.post("/logout")
    for _ in range(2):  # drawn, then from the memo
        visitor_page = client.get("/notices/").get_data(as_text=True)
        assert 'href="/login"' in visitor_page and 'action="/logout"' not in visitor_page
        assert "/audit" not in visitor_page
    client.post("/login", data={"username": "staff", "password": "demo-2026"})
    assert "/audit" in client.get("/notices/").get_data(as_text=True)


def test_the_visitor_menu_is_remembered_per_script_root(app):
    from flask import render_template_string

    with app.test_request_context("/"):
        app.preprocess_request()
        plain = render_template_string('{% extends "base.html" %}')
    with app.test_request_context("/", base_url="http://localhost/platform"):
        app.preprocess_request()
        mounted = render_template_string('{% extends "base.html" %}')
    assert 'href="/notices/"' in plain and 'href="/platform/notices/"' in mounted
    assert 'href="/notices/"' not in mounted


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.tuples(st.sampled_from([None, 0, 1]), st.integers(0, 4), st.integers(0, 2)),
                       min_size=1, max_size=12))
def test_property_ranks_computed_in_python_equal_the_sql_windows(app, people):
    """For any deputies (regional group or none, activities, absences; ties and negative totals likely):
    the remembered ranking's rank, ranked, group rank and group size, computed in Python, and its order equal
    scores()' rank() and count() windows ordered by rank and id."""
    from sqlalchemy import select

    from blueprints.duties.models import Absence, PointsRule, ScoringYear
    from blueprints.registry.models import Deputy

    year = 2031
    scoring_year = ScoringYear(year=year, absence_deduction=Decimal("3"))
    scoring_year.rules.append(PointsRule(type_code="reception", points=Decimal("1.5"), annual_cap=Decimal("4.5")))
    groups = [DeputyGroup(name="甲组", kind="regional"), DeputyGroup(name="乙组", kind="regional")]
    db.session.add_all([scoring_year, *groups])
    db.session.flush()
    try:
        for i, (group, activities, absences) in enumerate(people):
            deputy = Deputy(name=f"排名{i}", level="township")
            db.session.add(deputy)
            db.session.flush()
            if group is not None:
                db.session.add(GroupMembership(group_id=groups[group].id, deputy_id=deputy.id))
            db.session.add_all(Activity(deputy_id=deputy.id, type_code="reception", occurred_on=date(year, 3, 1 + k),
                                        year=year, title="接待", status="verified", source="test",
                                        source_ref=f"p{i}:{k}") for k in range(activities))
            db.session.add_all(Absence(deputy_id=deputy.id, occurred_on=date(year, 5, 1 + k), year=year)
                               for k in range(absences))
        db.session.flush()
        ranked = scoring.scores(year, "township")
        in_sql = db.session.execute(select(ranked).order_by(ranked.c.rank, ranked.c.deputy_id)).mappings().all()
        in_python = scoring.standings_full(year, "township")
        keys = ("deputy_id", "rank", "ranked", "group_id", "group_rank", "group_size")
        assert [tuple(r[k] for k in keys) for r in in_python] == [tuple(r[k] for k in keys) for r in in_sql]
        assert [Decimal(str(r["total"])) for r in in_python] == [Decimal(str(r["total"])) for r in in_sql]
    finally:
        db.session.rollback()


def test_option_tags_escape_and_mark_the_chosen_one(app, client):
    """The filters' <option> lists drawn in Python: names and values escaped, only the chosen one marked,
    as the Jinja loop drew them; the directory's township filter keeps the visitor's choice."""
    from types import SimpleNamespace

    from blueprints.core.models import Area

    draw = app.jinja_env.filters["option_tags"]
    rows = [SimpleNamespace(id=1, name='东"村'), SimpleNamespace(id=2, name="<script>x</script>")]
    assert str(draw(rows, 2)) == ('<option value="1">东&#34;村</option>'
                                  '<option value="2" selected>&lt;script&gt;x&lt;/script&gt;</option>')
    assert "selected" not in str(draw(rows, None)) and str(draw([], 1)) == ""
    town = Area(name="城关镇<b>", kind="township")
    db.session.add(town)
    db.session.commit()
    page = client.get(f"/deputies/?area_id={town.id}").get_data(as_text=True)
    assert f'<option value="{town.id}" selected>城关镇&lt;b&gt;</option>' in page
    assert page.count(" selected>") == 1
