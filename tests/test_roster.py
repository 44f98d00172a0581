"""Roster import and export: all-or-nothing, idempotent, every problem listed by row and column."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from blueprints.registry import roster
from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership, Station

HEADERS = ["姓名", "性别", "层级", "选区", "代表小组", "联络站", "工作单位及职务", "手机"]
GOOD_ROWS = [
    ["王秀英", "女", "县", "城关镇第3选区", "城关镇代表小组", "城关镇人大代表之家", "城关镇中心学校校长",
     "13905610001"],
    ["李建国", "男", "乡镇", "临涣镇第1选区", "", "临涣镇人大代表联络站", "临涣村党支部书记", 13905610002],
    ["张海燕", "女", "市", "青山县代表团", "法制监督专业代表小组", "", "县人民法院法官", "0561-6012345"],
]


def xlsx(rows, headers=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if headers:
        sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8", headers=HEADERS) -> bytes:
    lines = [",".join(headers)] + [",".join(str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def deputy_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Deputy))


def snapshot():
    return sorted(db.session.execute(select(Deputy.name, Deputy.phone, Deputy.level, Deputy.occupation)).all())


def test_import_xlsx_creates_deputies_with_groups_and_stations(county):
    result = roster.import_roster(xlsx(GOOD_ROWS), "名册.xlsx")
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    wang = db.session.scalar(select(Deputy).where(Deputy.name == "王秀英"))
    assert wang.level == "county" and wang.gender == "女" and wang.phone == "13905610001"
    assert wang.station.name == "城关镇人大代表之家"
    assert [m.group.name for m in wang.memberships] == ["城关镇代表小组"]
    li = db.session.scalar(select(Deputy).where(Deputy.name == "李建国"))
    assert li.phone == "13905610002"  # a number cell, not "13905610002.0"
    assert li.level == "township"
    zhang = db.session.scalar(select(Deputy).where(Deputy.name == "张海燕"))
    assert zhang.phone == "0561-6012345" and zhang.memberships[0].group.kind == "professional"


def test_importing_the_same_file_again_changes_nothing(county):
    data = xlsx(GOOD_ROWS)
    roster.import_roster(data, "名册.xlsx")
    before = snapshot()
    memberships = db.session.scalar(select(func.count()).select_from(GroupMembership))
    result = roster.import_roster(data, "名册.xlsx")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert snapshot() == before
    assert db.session.scalar(select(func.count()).select_from(GroupMembership)) == memberships


def test_reimport_updates_changed_fields_matched_on_name_and_phone(county):
    roster.import_roster(xlsx(GOOD_ROWS), "名册.xlsx")
    changed = [row[:] for row in GOOD_ROWS]
    changed[0][6] = "城关镇党委书记"
    result = roster.import_roster(xlsx(changed), "名册.xlsx")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert db.session.scalar(select(Deputy.occupation).where(Deputy.name == "王秀英")) == "城关镇党委书记"
    assert deputy_count() == 3


def test_matching_on_deputy_code_lets_the_phone_change(county):
    headers = ["代表编号", *HEADERS]
    roster.import_roster(xlsx([["QS0001", *GOOD_ROWS[0]]], headers), "a.xlsx")
    moved = ["QS0001", *GOOD_ROWS[0]]
    moved[-1] = "13800000000"
    result = roster.import_roster(xlsx([moved], headers), "a.xlsx")
    assert (result.created, result.updated) == (0, 1)
    deputy = db.session.scalar(select(Deputy).where(Deputy.code == "QS0001"))
    assert deputy.phone == "13800000000"
    assert deputy_count() == 1


def test_csv_in_utf8_and_gbk(county):
    roster.import_roster(csv_bytes(GOOD_ROWS[:1], "utf-8-sig"), "utf8.csv")
    rows = [["赵德明", "男", "县", "城关镇第2选区", "", "", "县农业农村局干部", "13905610009"]]
    result = roster.import_roster(csv_bytes(rows, "gbk"), "gbk.csv")
    assert result.created == 1
    assert db.session.scalar(select(Deputy.occupation).where(Deputy.name == "赵德明")) == "县农业农村局干部"


def test_every_bad_row_is_listed_and_nothing_is_written(county):
    roster.import_roster(xlsx(GOOD_ROWS[:1]), "first.xlsx")
    before = snapshot()
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    rows = [
        GOOD_ROWS[1],                                                          # row 2: fine
        ["", "男", "县", "", "", "", "", "13900000001"],                        # row 3: no name
        ["钱多多", "男", "村", "", "", "", "", "13900000002"],                   # row 4: unknown level
        ["孙小美", "女", "县", "", "", "", "", "12345"],                         # row 5: bad phone
        GOOD_ROWS[1],                                                          # row 6: duplicate of row 2
        ["周一", "男", "县", "", "不存在的小组", "", "", "13900000003"],          # row 7: unknown group
        ["吴二", "男", "县", "", "", "", "", "=1+1"],                            # row 8: formula
        ["郑三", "未知", "县", "", "", "", "", "13900000004"],                   # row 9: bad gender
    ]
    with pytest.raises(DomainError) as caught:
        roster.import_roster(xlsx(rows), "bad.xlsx")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert {(3, "姓名"), (4, "层级"), (5, "手机"), (6, "姓名"), (7, "代表小组"), (8, "手机"), (9, "性别")} <= found
    assert not any(p.row == 2 for p in caught.value.problems)
    assert "未导入任何数据" in caught.value.message
    assert snapshot() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_create_missing_makes_groups_and_stations(county):
    rows = [["周一", "男", "县", "", "新建的代表小组", "新建的联络点", "", "13900000003"]]
    with pytest.raises(DomainError):
        roster.import_roster(xlsx(rows), "a.xlsx")
    result = roster.import_roster(xlsx(rows), "a.xlsx", create_missing=True)
    assert (result.groups_created, result.stations_created) == (1, 1)
    assert db.session.scalar(select(DeputyGroup).where(DeputyGroup.name == "新建的代表小组")) is not None
    assert db.session.scalar(select(Station).where(Station.name == "新建的联络点")) is not None


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.xlsx", "空的"),
        (b"this is plain text, not a spreadsheet", "fake.xlsx", "不是 Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", ".xls"),
        (b"%PDF-1.7 not a roster", "roster.pdf", ".xlsx 或 .csv"),
        (b"PK\x03\x04broken zip", "broken.xlsx", "无法读取"),
    ],
)
def test_files_that_are_not_rosters_are_refused_in_chinese(county, data, filename, message):
    with pytest.raises(DomainError) as caught:
        roster.import_roster(data, filename)
    assert message in caught.value.message
    assert deputy_count() == 0


def test_empty_sheet_and_header_only_and_missing_columns(county):
    with pytest.raises(DomainError, match="表格是空的"):
        roster.import_roster(xlsx([], headers=None), "empty.xlsx")
    with pytest.raises(DomainError, match="只有表头"):
        roster.import_roster(xlsx([]), "header.xlsx")
    with pytest.raises(DomainError) as caught:
        roster.import_roster(xlsx([["王五"]], headers=["姓名"]), "short.xlsx")
    assert "缺少必需的列" in caught.value.problems[0].message
    assert deputy_count() == 0


def test_export_uses_the_import_headers_and_round_trips(county):
    roster.import_roster(xlsx(GOOD_ROWS), "名册.xlsx")
    data = roster.export_roster()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    assert header[:9] == ["代表编号", *HEADERS]
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"王秀英", "李建国", "张海燕"}
    result = roster.import_roster(data, "export.xlsx")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


def test_export_neutralises_formula_like_text(county, make_deputy):
    make_deputy(name="=HYPERLINK(\"x\")", phone="13900000005", occupation="+1 公司")
    sheet = openpyxl.load_workbook(io.BytesIO(roster.export_roster())).active
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert row[1].startswith("'=") and row[7].startswith("'+")


def test_import_writes_one_audit_entry(county, users):
    roster.import_roster(xlsx(GOOD_ROWS), "名册.xlsx", actor=users["staff"])
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert entry.actor_name == "staff" and "新增 3 人" in entry.summary


# ---- the upload page and the CLI -------------------------------------------------------------

def upload(client, data: bytes, filename: str, **extra):
    return client.post("/registry/deputies/import", data={"file": (io.BytesIO(data), filename), **extra},
                       content_type="multipart/form-data")


def test_upload_page_imports_and_redirects_with_a_summary(client, auth, users, county):
    auth.login("staff")
    assert "导入" in client.get("/registry/deputies/import").get_data(as_text=True)
    response = upload(client, xlsx(GOOD_ROWS), "名册.xlsx")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "导入完成" in page and "王秀英" in page


def test_upload_page_lists_problems_with_row_numbers(client, auth, users, county):
    auth.login("staff")
    before = snapshot()
    response = upload(client, xlsx([["钱多多", "男", "村", "", "", "", "", "13900000002"]]), "bad.xlsx")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "第 2 行" in page and "未知的层级" in page
    assert snapshot() == before


def test_upload_without_a_file_and_with_a_fake_file(client, auth, users, county):
    auth.login("staff")
    response = client.post("/registry/deputies/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要导入的名册文件" in response.get_data(as_text=True)
    response = upload(client, b"GIF89a not a sheet", "photo.xlsx")
    assert response.status_code == 422 and "不是 Excel" in response.get_data(as_text=True)


def test_oversize_upload_gets_a_chinese_413(app, client, auth, users, county):
    auth.login("staff")
    before = snapshot()
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = upload(client, b"x" * 4096, "big.csv")
    assert response.status_code == 413
    assert "文件太大" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit", "clerk"])
def test_only_staff_may_import_or_export(client, auth, users, county, role):
    auth.login(role)
    before = snapshot()
    assert upload(client, xlsx(GOOD_ROWS), "名册.xlsx").status_code == 403
    assert client.get("/registry/deputies/export.xlsx").status_code == 403
    assert snapshot() == before


def test_export_download_is_an_xlsx_with_a_chinese_file_name(client, auth, users, county):
    roster.import_roster(xlsx(GOOD_ROWS), "名册.xlsx")
    auth.login("staff")
    response = client.get("/registry/deputies/export.xlsx?status=all")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {"王秀英", "李建国", "张海燕"} <= names


def test_cli_import_and_export(app, county, tmp_path):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(xlsx(GOOD_ROWS))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["registry", "import-deputies", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 3 人" in result.output
    out = tmp_path / "out.xlsx"
    result = runner.invoke(args=["registry", "export-deputies", str(out)])
    assert result.exit_code == 0 and out.exists()


def test_cli_import_reports_problems_and_fails(app, county, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["钱多多", "男", "村", "", "", "", "", "13900000002"]], "gbk"))
    result = app.test_cli_runner().invoke(args=["registry", "import-deputies", str(path)])
    assert result.exit_code != 0
    assert "第 2 行" in result.output and "未知的层级" in result.output
    assert deputy_count() == 0
