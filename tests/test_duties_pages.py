"""Duty registration pages: the deputy's /me/, logging from a form, verification by staff and
liaisons, bulk logging, rules, evaluation, exports, reports to voters, the public profile and
permissions per role."""
from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import event, func, select

from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.duties import reports, scoring, services
from blueprints.duties.models import Activity, PointsRule, ReportAssessment
from blueprints.registry.models import GroupMembership

TODAY = local_today()
YEAR = TODAY.year
# Stands for "tomorrow" in parameters; resolved when the test runs (see test_duties_services).
TOMORROW = "tomorrow"


def form(**extra):
    return {"type_code": "survey", "occurred_on": (TODAY - timedelta(days=1)).isoformat(), "title": "社区养老服务调研",
            "place": "东街社区", "duration_hours": "2.5", "description": "", "nonce": "tok-1", **extra}


def activities():
    return db.session.scalar(select(func.count()).select_from(Activity))


def verified(deputy, n=1, type_code="survey", ref="x"):
    for i in range(n):
        services.record_activity(deputy.id, type_code, TODAY, "调研", source="test", source_ref=f"{ref}{i}")
    db.session.commit()


# ---- permissions per role ------------------------------------------------------------------------

STAFF_PAGES = ["/duties/deputies/", "/duties/rules/", f"/duties/rules/{YEAR}", "/duties/evaluation/",
               "/duties/evaluation/export.xlsx", "/duties/reports/"]


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit", "clerk", "staff", "admin"])
def test_staff_pages_answer_per_role(client, auth, users, role):
    auth.login(role)
    for url in STAFF_PAGES:
        status = client.get(url).status_code
        assert status == (200 if role in ("staff", "admin") else 403), url


@pytest.mark.parametrize(("role", "status"), [("deputy", 403), ("liaison", 200), ("unit", 403), ("clerk", 403),
                                              ("staff", 200)])
def test_verification_queue_per_role(client, auth, users, role, status):
    auth.login(role)
    assert client.get("/duties/verify").status_code == status
    assert client.get("/duties/batch").status_code == status


@pytest.mark.parametrize(("role", "status"), [("deputy", 200), ("liaison", 403), ("unit", 403), ("staff", 403)])
def test_me_is_for_accounts_linked_to_a_deputy(client, auth, users, role, status):
    auth.login(role)
    assert client.get("/me/").status_code == status


def test_anonymous_is_sent_to_login(client):
    for url in ["/me/", "/me/activities/new", "/duties/verify", "/duties/evaluation/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- the deputy's pages --------------------------------------------------------------------------

def test_a_deputy_logs_an_activity_and_sees_it_pending(client, auth, users):
    auth.login("deputy")
    page = client.get("/me/activities/new").get_data(as_text=True)
    assert 'name="nonce"' in page and "登记履职活动" in page
    response = client.post("/me/activities/new", data={
        **form(), "files": (io.BytesIO(b"%PDF-1.4 test"), "签到表.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    assert (activity.status, activity.duration_minutes, activity.attachments[0].filename) == (
        "pending", 150, "签到表.pdf")
    # Back to the archive of the year the activity counts in (on 1 January, yesterday is last year).
    assert response.headers["Location"].endswith(f"/me/?year={(TODAY - timedelta(days=1)).year}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "社区养老服务调研" in page and "待核实" in page
    assert client.get(f"/duties/attachments/{activity.attachments[0].id}").data.startswith(b"%PDF")


@pytest.mark.parametrize(("change", "message"), [
    ({"occurred_on": TOMORROW}, "活动日期不能晚于今天"),
    ({"duration_hours": "0"}, "活动时长应大于 0"),
    ({"duration_hours": "720"}, "不超过 7 天"),
    ({"title": ""}, "请填写活动名称"),
])
def test_bad_input_on_the_form_shows_a_chinese_message_and_writes_nothing(client, auth, users, change, message):
    change = {k: (local_today() + timedelta(days=1)).isoformat() if v == TOMORROW else v for k, v in change.items()}
    auth.login("deputy")
    response = client.post("/me/activities/new", data=form(**change))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert activities() == 0


def test_a_double_click_is_stored_once(client, auth, users):
    auth.login("deputy")
    assert client.post("/me/activities/new", data=form()).status_code == 303
    response = client.post("/me/activities/new", data=form())
    assert response.status_code == 422 and "请勿重复提交" in response.get_data(as_text=True)
    assert activities() == 1


def test_a_deputy_cannot_edit_or_see_someone_elses_activity(client, auth, users, make_deputy):
    other = make_deputy(name="王芳")
    activity = services.record_activity(other.id, "survey", TODAY, "调研", source="t", source_ref="1",
                                        verified=False)
    db.session.commit()
    auth.login("deputy")
    assert client.get(f"/me/activities/{activity.id}/edit").status_code == 403
    assert client.post(f"/me/activities/{activity.id}/edit", data=form(title="改")).status_code == 403
    assert client.get(f"/duties/activities/{activity.id}").status_code == 403
    assert db.session.get(Activity, activity.id).title == "调研"


def test_a_verified_activity_cannot_be_edited_by_the_deputy(client, auth, users):
    verified(users["deputy"].deputy)
    activity = db.session.scalar(select(Activity))
    auth.login("deputy")
    response = client.post(f"/me/activities/{activity.id}/edit", data=form(title="改名"), follow_redirects=True)
    assert "已核实的活动不能直接修改" in response.get_data(as_text=True)
    assert db.session.get(Activity, activity.id).title == "调研"


def test_me_costs_a_fixed_number_of_queries(app, client, auth, users):
    deputy = users["deputy"].deputy
    scoring.ensure_year(YEAR)
    auth.login("deputy")
    counts = []
    for n in (1, 60):
        verified(deputy, n, ref=f"r{n}-")
        statements: list[str] = []

        def listener(*args, statements=statements):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", listener)
        assert client.get("/me/").status_code == 200
        event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    # 10 for the page, 1 for the approved leave of occasions (ballots/occasions.py), 1 for the signed-in
    # browser (user_sessions)
    assert counts[0] == counts[1] <= 12


# ---- verification --------------------------------------------------------------------------------

def test_staff_verify_and_return_from_the_pages(client, auth, users):
    deputy_user = users["deputy"]
    a = services.log_activity(deputy_user.deputy, {**form(), "duration_minutes": 60,
                                                    "occurred_on": TODAY}, deputy_user, nonce="a")
    b = services.log_activity(deputy_user.deputy, {**form(title="第二项"), "duration_minutes": 60,
                                                    "occurred_on": TODAY}, deputy_user, nonce="b")
    auth.login("staff")
    assert "社区养老服务调研" in client.get("/duties/verify").get_data(as_text=True)
    assert client.post(f"/duties/activities/{a.id}/verify", data={"next": "queue"}).status_code == 303
    response = client.post(f"/duties/activities/{b.id}/return", data={"reason": ""}, follow_redirects=True)
    assert "退回时请写明原因" in response.get_data(as_text=True)
    assert client.post(f"/duties/activities/{b.id}/return", data={"reason": "请补充照片"}).status_code == 303
    assert (db.session.get(Activity, a.id).status, db.session.get(Activity, b.id).status) == ("verified", "returned")


def test_a_liaison_cannot_verify_outside_their_groups(client, auth, users):
    activity = services.log_activity(users["deputy"].deputy, {**form(), "duration_minutes": 60,
                                                              "occurred_on": TODAY}, users["deputy"], nonce="a")
    auth.login("liaison")
    assert client.post(f"/duties/activities/{activity.id}/verify").status_code == 403
    assert db.session.get(Activity, activity.id).status == "pending"


def test_bulk_logging_for_a_group(client, auth, users, county, make_deputy):
    group = county["groups"][0]
    members = [make_deputy(name=f"组员{i}") for i in range(3)]
    ended = make_deputy(name="已终止组员", ended_on=TODAY - timedelta(days=40), end_reason="illness")
    db.session.add_all([GroupMembership(group=group, deputy=d) for d in [*members, ended]])
    db.session.commit()
    auth.login("staff")
    page = client.get(f"/duties/batch?group_id={group.id}").get_data(as_text=True)
    assert "组员0" in page and "已终止组员" in page
    data = {**form(type_code="inspection", title="集体视察农村公路"), "group_id": group.id,
            "deputy_ids": [str(d.id) for d in [*members, ended]]}
    response = client.post(f"/duties/batch?group_id={group.id}", data=data)
    assert response.status_code == 422 and "代表资格已终止" in response.get_data(as_text=True)
    assert activities() == 0
    data["deputy_ids"] = [str(d.id) for d in members]
    assert client.post(f"/duties/batch?group_id={group.id}", data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.status == "verified")) == 3


# ---- rules, evaluation, archive ------------------------------------------------------------------

def test_rules_form_refuses_a_negative_cap(client, auth, users):
    from blueprints.duties.models import ScoringYear

    auth.login("staff")
    page = client.get(f"/duties/rules/{YEAR}").get_data(as_text=True)
    assert 'value="20"' in page  # the defaults a first year starts from, shown but not yet saved
    assert db.session.scalar(select(func.count()).select_from(ScoringYear)) == 0
    data = {f"points_{code}": points for code, (points, _cap) in scoring.DEFAULT_RULES.items()}
    data.update({f"cap_{code}": cap or "" for code, (_points, cap) in scoring.DEFAULT_RULES.items()})
    data.update({"cap_survey": "-5", "absence_deduction": "5", "min_standing_committee": "1", "min_survey": "1",
                 "min_inspection": "1"})
    response = client.post(f"/duties/rules/{YEAR}", data=data)
    assert response.status_code == 422 and "年度上限不能为负数" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ScoringYear)) == 0  # the refusal left no trace
    data["cap_survey"] = "8"
    assert client.post(f"/duties/rules/{YEAR}", data=data).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(PointsRule.annual_cap).where(PointsRule.type_code == "survey")) == 8


def test_evaluation_page_with_charts_reminders_and_publication(client, auth, users, make_deputy):
    scoring.ensure_year(YEAR)
    busy = make_deputy(name="积极代表")
    verified(busy, 3)
    auth.login("staff")
    page = client.get(f"/duties/evaluation/?year={YEAR}&level=county").get_data(as_text=True)
    assert page.count("<svg") == 2 and "积极代表" in page and "谈话提醒" in page
    lazy = users["deputy"].deputy
    response = client.post(f"/duties/evaluation/reminders?year={YEAR}&level=county",
                           data={"deputy_id": lazy.id, "held_on": TODAY.isoformat(), "note": "提醒参加活动"})
    assert response.status_code == 303
    assert "提醒参加活动" in client.get(f"/duties/evaluation/?year={YEAR}&level=county").get_data(as_text=True)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/duties/evaluation/export.xlsx?year={YEAR}").data))
    rows = list(book.active.values)
    assert rows[1][1] == "积极代表" and rows[1][0] == 1
    response = client.post(f"/duties/evaluation/publish?year={YEAR}&level=county")
    assert response.status_code == 303
    notice = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "履职评价结果" in notice and "积极代表" in notice


def test_staff_archive_print_and_export(client, auth, users, make_deputy):
    scoring.ensure_year(YEAR)
    deputy = make_deputy(name="档案代表")
    verified(deputy, 2)
    auth.login("staff")
    assert "档案代表的履职档案" in client.get(f"/duties/deputies/{deputy.id}").get_data(as_text=True)
    assert "一人一册" in client.get(f"/duties/deputies/{deputy.id}?print=1").get_data(as_text=True)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/duties/deputies/{deputy.id}/archive.xlsx").data))
    assert book["履职活动"].max_row == 3
    response = client.post(f"/duties/deputies/{deputy.id}/absences",
                           data={"occurred_on": TODAY.isoformat(), "note": "未请假"}, follow_redirects=True)
    assert "已登记缺席" in response.get_data(as_text=True)


# ---- public ---------------------------------------------------------------------------------------

def test_public_profile_shows_verified_counts_by_year_only(client, make_deputy):
    deputy = make_deputy(name="公开代表")
    verified(deputy, 2, type_code="reception")
    services.record_activity(deputy.id, "survey", TODAY, "私密标题不应公开", source="t", source_ref="p",
                             verified=False)
    db.session.commit()
    page = client.get(f"/deputies/{deputy.id}").get_data(as_text=True)
    assert "接待选民 2 次" in page and str(YEAR) in page
    assert "私密标题不应公开" not in page and "调研" not in page


def test_voters_assess_by_qr_once_per_phone(client, auth, users, make_deputy):
    deputy = make_deputy(name="赵振华")
    report = reports.schedule(deputy, TODAY, "城关镇代表之家", None, users["staff"])
    url = f"/assess/{report.qr_token}"
    assert "未开放或已结束" in client.get(url).get_data(as_text=True)
    reports.set_qr_open(report, True, users["staff"])
    client.get(url)  # sets the phone's cookie
    assert client.post(url, data={"choice": "satisfied"}).status_code == 200
    response = client.post(url, data={"choice": "basic"})
    assert response.status_code == 409 and "已经提交过本次测评" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReportAssessment)) == 1
    assert client.get("/assess/unknown-token").status_code == 404
    auth.login("staff")
    page = client.get(f"/duties/reports/{report.id}").get_data(as_text=True)
    assert "满意 1" in page
    assert client.get(f"/duties/reports/{report.id}/qr.svg").data.lstrip().startswith(b"<?xml")
    response = client.post(f"/duties/reports/{report.id}", data={"attendance": "30", "questions": "路灯",
                                                                 "satisfied": "20", "basic": "5", "unsatisfied": "1"})
    assert response.status_code == 303
    assert "赵振华" not in client.get("/duties/reports/?level=county&show=due").get_data(as_text=True)
    assert "赵振华" in client.get("/duties/reports/?level=county&show=done").get_data(as_text=True)


def test_me_answers_htmx_with_the_archive_fragment_only(client, auth, users):
    auth.login("deputy")
    response = client.get(f"/me/?year={YEAR - 1}", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in body and f"{YEAR - 1} 年度分类积分" in body


def test_cli_prints_the_ranking_and_publishes(app, make_deputy):
    deputy = make_deputy(name="命令行代表")
    scoring.ensure_year(YEAR)
    verified(deputy, 2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["duties", "ranking", str(YEAR), "--level", "county"])
    assert result.exit_code == 0 and "命令行代表" in result.output and "8.0" in result.output
    result = runner.invoke(args=["duties", "publish-rules", str(YEAR)])
    assert result.exit_code == 0 and "履职计分规则" in result.output
    result = runner.invoke(args=["duties", "publish-results", str(YEAR), "--as", "nobody"])
    assert result.exit_code != 0 and "不存在" in result.output


def test_refusals_on_duties_pages_show_the_message_with_their_status(client, auth, users, make_deputy):
    """Invalid input answers 422, a constraint's refusal its own message: an assessment without a
    choice, an absence recorded twice (the UNIQUE's message, flashed on the archive), a term whose end
    comes before its start."""
    deputy = make_deputy(name="钱进")
    report = reports.schedule(deputy, TODAY, "城关镇代表之家", None, users["staff"])
    reports.set_qr_open(report, True, users["staff"])
    url = f"/assess/{report.qr_token}"
    client.get(url)
    assert client.post(url, data={"choice": "all-of-them"}).status_code == 422
    auth.login("staff")
    absence = {"occurred_on": TODAY.isoformat(), "note": "未请假"}
    assert client.post(f"/duties/deputies/{deputy.id}/absences", data=absence).status_code == 303
    response = client.post(f"/duties/deputies/{deputy.id}/absences", data=absence, follow_redirects=True)
    assert "该代表当天的缺席已经登记过" in response.get_data(as_text=True)
    term = {"level": "county", "name": "第十八届", "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY - timedelta(days=1)).isoformat()}
    response = client.post("/duties/terms", data=term, follow_redirects=True)
    assert "结束日期必须晚于开始日期" in response.get_data(as_text=True)
