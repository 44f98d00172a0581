"""Roster import and export (代表名册). Offices keep rosters in Excel, so these speak .xlsx and .csv
with Chinese headers. An import is all-or-nothing: every problem is listed by row and column, and
a file with any problem writes nothing."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from ..core import audit
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import Area
from ..core.transaction import transaction, transactional
from ..core.xlsx import ExportWorkbook, read_rows
from .models import LEVEL_LABELS, Deputy, DeputyGroup, GroupMembership, Station
from .services import normalize_phone

# Header → attribute. The first eight are the office's standard columns; the rest are optional.
REQUIRED_HEADERS = ("姓名", "性别", "层级", "选区", "代表小组", "联络站", "工作单位及职务", "手机")
OPTIONAL_HEADERS = ("代表编号", "届次", "乡镇")
EXPORT_HEADERS = ("代表编号", *REQUIRED_HEADERS, "届次", "乡镇", "状态")
MAX_LENGTHS = {"姓名": 32, "选区": 64, "工作单位及职务": 128, "代表编号": 32, "届次": 32, "代表小组": 64,
               "联络站": 64, "乡镇": 64}

LEVEL_ALIASES = {
    "national": ("全国", "全国人大", "全国人大代表", "国家"),
    "provincial": ("省", "省级", "省人大", "省人大代表", "自治区"),
    "city": ("市", "市级", "市人大", "市人大代表", "地级市"),
    "county": ("县", "县级", "区", "县(区)", "县（区）", "县区", "县人大", "区人大", "县人大代表", "区人大代表", "旗"),
    "township": ("乡镇", "乡", "镇", "乡镇人大", "乡镇人大代表", "街道"),
}
LEVEL_BY_TEXT = {alias: level for level, aliases in LEVEL_ALIASES.items() for alias in aliases}
EXPORT_LEVEL = {"national": "全国", "provincial": "省", "city": "市", "county": "县", "township": "乡镇"}
GENDER_ALIASES = {"男": "男", "男性": "男", "女": "女", "女性": "女"}

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


@dataclass(frozen=True)
class RosterProblem:
    row: int  # the row number as the office sees it in Excel (the header is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        where = _("第 %(r)d 行", r=self.row) if self.row else _("表头")
        return f"{where}「{self.column}」：{self.message}" if self.column else f"{where}：{self.message}"


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    groups_created: int = 0
    stations_created: int = 0
    updated_names: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = _("导入完成：共 %(n)d 行，新增 %(c)d 人，更新 %(u)d 人，未变 %(s)d 人。",
                 n=self.rows, c=self.created, u=self.updated, s=self.unchanged)
        if self.groups_created or self.stations_created:
            text += _("新建代表小组 %(g)d 个、联络站 %(s)d 个。", g=self.groups_created, s=self.stations_created)
        return text


def _clean_header(value) -> str:
    text = "" if value is None else str(value)
    return re.sub(r"[\s\u3000\ufeff*＊]", "", text).replace("（", "(").replace("）", ")")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores phone numbers typed as numbers as floats
    return str(value).replace("\u3000", " ").strip()


# ---- reading files ---------------------------------------------------------------------------

def _read_xlsx(data: bytes) -> list[tuple[int, list, set[int]]]:
    """Rows as (row number, values, indexes of cells holding formulas), within core.xlsx's limits."""
    rows = []
    for number, cells in read_rows(data):
        values, formulas = [], set()
        for index, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
                formulas.add(index)
            values.append(value)
        rows.append((number, values, formulas))
    return rows


def _read_csv(data: bytes) -> list[tuple[int, list, set[int]]]:
    if b"\x00" in data[:4096]:
        raise DomainError(_("该文件不是文本格式的 CSV 表格。请上传 .xlsx 或 .csv 文件。"))
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK, the usual Excel export on Windows
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError(_("无法识别 CSV 文件的编码，请保存为 UTF-8 或 GBK 编码后再导入。"))
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows = []
    for number, values in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        formulas = {i for i, v in enumerate(values) if v.startswith("=")}
        rows.append((number, values, formulas))
    return rows


def read_sheet(data: bytes, filename: str) -> list[tuple[int, list, set[int]]]:
    name = (filename or "").lower()
    if not data:
        raise DomainError(_("上传的文件是空的。"))
    if data.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise DomainError(_("不支持旧版 .xls 格式，请在 Excel 或 WPS 中另存为 .xlsx 后再导入。"))
    if name.endswith(".xlsx") or data.startswith(XLSX_MAGIC):
        if not data.startswith(XLSX_MAGIC):
            raise DomainError(_("该文件扩展名是 .xlsx，但内容不是 Excel 表格。请上传真正的 .xlsx 或 .csv 文件。"))
        return _read_xlsx(data)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(data)
    raise DomainError(_("只能导入 .xlsx 或 .csv 格式的名册文件。"))


# ---- validating ------------------------------------------------------------------------------

@dataclass
class _Row:
    number: int
    name: str
    gender: str | None
    level: str
    constituency: str | None
    group: str | None
    station: str | None
    occupation: str | None
    phone: str | None
    code: str | None
    term: str | None
    township: str | None


def _header_map(header_values: list) -> tuple[dict[str, int], list[RosterProblem]]:
    problems, positions = [], {}
    for index, raw in enumerate(header_values):
        header = _clean_header(raw)
        if not header:
            continue
        if header in positions:
            problems.append(RosterProblem(1, header, _("表头重复出现。")))
        positions[header] = index
    missing = [h for h in REQUIRED_HEADERS if h not in positions]
    if missing:
        problems.append(RosterProblem(1, "", _("缺少必需的列：%(cols)s。第一行应为表头：%(all)s。",
                                               cols="、".join(missing), all="、".join(REQUIRED_HEADERS))))
    return positions, problems


def _validate(rows, positions) -> tuple[list[_Row], list[RosterProblem]]:
    problems: list[RosterProblem] = []
    parsed: list[_Row] = []

    def get(values, header):
        index = positions.get(header)
        return _cell_text(values[index]) if index is not None and index < len(values) else ""

    for number, values, formulas in rows:
        texts = [_cell_text(v) for v in values]
        if not any(texts):
            continue  # blank lines in a spreadsheet are not an error
        for index in formulas:
            column = next((h for h, i in positions.items() if i == index), f"第{index + 1}列")
            problems.append(RosterProblem(number, column, _("单元格含有公式，请复制后“粘贴为数值”再导入。")))
        row_problems = len(problems)
        for header, limit in MAX_LENGTHS.items():
            if len(get(values, header)) > limit:
                problems.append(RosterProblem(number, header, _("内容过长，不能超过 %(n)d 个字符。", n=limit)))
        name = get(values, "姓名")
        if not name:
            problems.append(RosterProblem(number, "姓名", _("姓名不能为空。")))
        gender_text = get(values, "性别")
        gender = GENDER_ALIASES.get(gender_text) if gender_text else None
        if gender_text and gender is None:
            problems.append(RosterProblem(number, "性别", _("“%(v)s”不是有效的性别，应为“男”或“女”。", v=gender_text)))
        level_text = _clean_header(get(values, "层级"))
        level = LEVEL_BY_TEXT.get(level_text)
        if not level_text:
            problems.append(RosterProblem(number, "层级", _("层级不能为空，应为：全国、省、市、县、乡镇。")))
        elif level is None:
            problems.append(RosterProblem(
                number, "层级", _("未知的层级“%(v)s”，应为：全国、省、市、县、乡镇。", v=level_text)))
        phone = None
        phone_text = get(values, "手机")
        if phone_text:
            try:
                phone = normalize_phone(phone_text)
            except DomainError:
                problems.append(RosterProblem(
                    number, "手机", _("“%(v)s”不是有效的手机号码（11 位）或固定电话。", v=phone_text)))
        code = get(values, "代表编号") or None
        if name and not phone and not code and not phone_text:
            problems.append(RosterProblem(
                number, "手机", _("请填写手机或代表编号，用于识别同一位代表，避免重复导入。")))
        if len(problems) == row_problems:
            parsed.append(_Row(
                number=number, name=name, gender=gender, level=level, constituency=get(values, "选区") or None,
                group=get(values, "代表小组") or None, station=get(values, "联络站") or None,
                occupation=get(values, "工作单位及职务") or None, phone=phone, code=code,
                term=get(values, "届次") or None, township=get(values, "乡镇") or None,
            ))
    return parsed, problems


def _unknown_references(rows, positions, groups, stations, townships, create_missing) -> list[RosterProblem]:
    """Groups, stations and townships named in any row (valid or not) that the registry lacks."""
    problems = []
    checks = [("代表小组", groups, not create_missing, "代表小组“%(v)s”不存在。请先建立该小组，或勾选“自动新建”。"),
              ("联络站", stations, not create_missing, "联络站“%(v)s”不存在。请先建立该联络站，或勾选“自动新建”。"),
              ("乡镇", townships, True, "乡镇“%(v)s”不在行政区划中，请先在行政区划中添加。")]
    for number, values, _formulas in rows:
        for header, known, required, message in checks:
            index = positions.get(header)
            value = _cell_text(values[index]) if index is not None and index < len(values) else ""
            if required and value and value not in known:
                problems.append(RosterProblem(number, header, _(message, v=value)))
    return problems


def _duplicates_in_file(rows: list[_Row]) -> list[RosterProblem]:
    problems = []
    first_by_key: dict = {}
    for row in rows:
        keys = [("代表编号", row.code)] if row.code else []
        if row.phone:
            keys.append(("姓名", (row.name, row.phone)))
        for column, key in keys:
            if (column, key) in first_by_key:
                problems.append(RosterProblem(row.number, column, _(
                    "与第 %(r)d 行重复（同一位代表在文件中出现了两次）。", r=first_by_key[(column, key)])))
                break
            first_by_key[(column, key)] = row.number
    return problems


# ---- importing -------------------------------------------------------------------------------

def import_roster(data: bytes, filename: str, *, create_missing: bool = False, actor=None,
                  progress: Callable[[int, int], None] | None = None, max_rows: int = 50_000) -> ImportResult:
    """Import a roster file. Raises DomainError (with .problems) and writes nothing if any row is bad.
    Matching: 代表编号 when given, else name + phone; a row that matches and changes nothing is left alone."""
    rows = read_sheet(data, filename)
    header_index = next((i for i, (_n, values, _f) in enumerate(rows) if any(_cell_text(v) for v in values)), None)
    if header_index is None:
        raise DomainError(_("表格是空的：第一个工作表中没有任何内容。"))
    positions, problems = _header_map(rows[header_index][1])
    if problems:
        raise DomainError(_("名册表头不正确，未导入任何数据。"), problems=problems)
    body = rows[header_index + 1:]
    if len(body) > max_rows:
        raise DomainError(_("名册超过 %(n)d 行，请拆分后分批导入。", n=max_rows))
    parsed, problems = _validate(body, positions)
    if not parsed and not problems:
        raise DomainError(_("表格中只有表头，没有代表数据。"))
    problems += _duplicates_in_file(parsed)
    # The file is read; the checks against the registry and the writes are one unit of work (on
    # SQLite the write lock is taken before the registry is read, so what was checked is what is written).
    return _import_rows(parsed, problems, positions, body, filename, create_missing, actor, progress)


@transactional
def _import_rows(parsed, problems, positions, body, filename, create_missing, actor, progress) -> ImportResult:
    groups = {g.name: g for g in db.session.scalars(select(DeputyGroup))}
    stations = {s.name: s for s in db.session.scalars(select(Station))}
    townships = {a.name: a for a in db.session.scalars(select(Area).where(Area.kind == "township"))}
    problems += _unknown_references(body, positions, groups, stations, townships, create_missing)

    existing = db.session.scalars(
        select(Deputy).options(selectinload(Deputy.memberships).selectinload(GroupMembership.group))
    ).all()
    by_code = {d.code: d for d in existing if d.code}
    by_name_phone = {(d.name, d.phone): d for d in existing if d.phone}
    matches: dict[int, Deputy | None] = {}
    for row in parsed:
        by_c = by_code.get(row.code) if row.code else None
        by_np = by_name_phone.get((row.name, row.phone)) if row.phone else None
        if by_c is not None and by_np is not None and by_c is not by_np:
            problems.append(RosterProblem(row.number, "代表编号", _(
                "代表编号属于“%(a)s”，而姓名和手机属于另一位代表“%(b)s”，请核对。", a=by_c.name, b=by_np.name)))
        elif by_c is None and by_np is not None and row.code and by_np.code and by_np.code != row.code:
            problems.append(RosterProblem(row.number, "代表编号", _(
                "该代表已有编号 %(c)s，与文件中的编号不一致，请核对。", c=by_np.code)))
        matches[row.number] = by_c or by_np

    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise DomainError(_("名册中有 %(n)d 处问题，未导入任何数据。请修改后重新上传。", n=len(problems)),
                          problems=problems)

    result = ImportResult(rows=len(parsed))
    try:
        with transaction():  # nested: a violated constraint surfaces here, and nothing is written
            _write(parsed, matches, groups, stations, townships, result, progress)
    except DomainError as exc:
        raise DomainError(_("名册与现有数据冲突（可能有人同时修改了名册），未导入任何数据，请重试。%(why)s",
                            why=exc.message)) from exc
    audit.record("import", "roster", None, f"导入名册 {filename}：" + result.summary, actor=actor,
                 changes={"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                          "updated_names": result.updated_names[:200]})
    return result


# Every new row carries the same keys, so the bulk insert runs as one batched statement.
NEW_DEPUTY_KEYS = ("name", "gender", "level", "constituency", "occupation", "phone", "station_id", "code", "term",
                   "area_id")


def _write(parsed, matches, groups, stations, townships, result: ImportResult, progress) -> None:
    for row in parsed:
        if row.group and row.group not in groups:
            groups[row.group] = DeputyGroup(name=row.group, kind="regional")
            db.session.add(groups[row.group])
            result.groups_created += 1
        if row.station and row.station not in stations:
            stations[row.station] = Station(name=row.station, kind="station")
            db.session.add(stations[row.station])
            result.stations_created += 1
    db.session.flush()

    new_deputies: list[tuple[_Row, dict]] = []
    total = len(parsed)
    for done, row in enumerate(parsed, start=1):
        values = {
            "name": row.name, "gender": row.gender, "level": row.level, "constituency": row.constituency,
            "occupation": row.occupation, "phone": row.phone,
        }
        # Empty 代表小组/联络站 cells leave what the office set on the site alone.
        if row.station:
            values["station_id"] = stations[row.station].id
        if row.code:
            values["code"] = row.code
        if row.term:
            values["term"] = row.term
        if row.township:
            values["area_id"] = townships[row.township].id
        deputy = matches[row.number]
        group = groups.get(row.group) if row.group else None
        if deputy is None:
            new_deputies.append((row, {key: values.get(key) for key in NEW_DEPUTY_KEYS}))
            result.created += 1
        else:
            changed = {k: [getattr(deputy, k), v] for k, v in values.items() if getattr(deputy, k) != v}
            group_changed = _needs_group_change(deputy, group)
            if changed or group_changed:
                for key, (_old, new) in changed.items():
                    setattr(deputy, key, new)
                if group_changed:
                    _apply_group(deputy, group)
                result.updated += 1
                result.updated_names.append(deputy.name)
            else:
                result.unchanged += 1
        if progress and (done % 500 == 0 or done == total):
            progress(done, total)

    if new_deputies:
        # One executemany INSERT: the unit of work would build 11,000 objects first, and RETURNING
        # in parameter order falls back to one statement per row on SQLite. Every new row is unique
        # by 代表编号 or by 姓名 + 手机 (checked above and by the database), which finds its id again.
        before = db.session.scalar(select(func.coalesce(func.max(Deputy.id), 0)))
        db.session.execute(insert(Deputy), [values for _row, values in new_deputies])
        fresh = db.session.execute(
            select(Deputy.id, Deputy.code, Deputy.name, Deputy.phone).where(Deputy.id > before)
        ).all()
        by_code = {code: deputy_id for deputy_id, code, _name, _phone in fresh if code}
        by_name_phone = {(name, phone): deputy_id for deputy_id, _code, name, phone in fresh if phone}
        memberships = [
            {"group_id": groups[row.group].id, "role": "member",
             "deputy_id": by_code[row.code] if row.code else by_name_phone[(row.name, row.phone)]}
            for row, _values in new_deputies if row.group
        ]
        if memberships:
            db.session.execute(insert(GroupMembership), memberships)


def _needs_group_change(deputy: Deputy, group: DeputyGroup | None) -> bool:
    if group is None:
        return False  # an empty 代表小组 cell leaves existing memberships alone
    if any(m.group is group for m in deputy.memberships):
        return group.kind == "regional" and any(
            m.group.kind == "regional" and m.group is not group for m in deputy.memberships)
    return True


def _apply_group(deputy: Deputy, group: DeputyGroup) -> None:
    if group.kind == "regional":
        for membership in list(deputy.memberships):
            if membership.group.kind == "regional" and membership.group is not group:
                deputy.memberships.remove(membership)
    if not any(m.group is group for m in deputy.memberships):
        deputy.memberships.append(GroupMembership(group=group, role="member"))


# ---- exporting -------------------------------------------------------------------------------

def export_roster(statement=None, *, count: bool = False):
    """The roster as .xlsx with the same headers the import reads (plus 状态)."""
    if statement is None:
        statement = select(Deputy).order_by(Deputy.sort_name, Deputy.id)
    statement = statement.options(
        selectinload(Deputy.station), selectinload(Deputy.area),
        selectinload(Deputy.memberships).selectinload(GroupMembership.group),
    )
    workbook = ExportWorkbook()
    sheet = workbook.sheet("代表名册")
    sheet.append(list(EXPORT_HEADERS))
    rows = 0
    for deputy in db.session.scalars(statement):
        rows += 1
        group = deputy.regional_group or (deputy.memberships[0].group if deputy.memberships else None)
        row = {
            "代表编号": deputy.code, "姓名": deputy.name, "性别": deputy.gender,
            "层级": EXPORT_LEVEL.get(deputy.level, LEVEL_LABELS.get(deputy.level)),
            "选区": deputy.constituency, "代表小组": group.name if group else None,
            "联络站": deputy.station.name if deputy.station else None, "工作单位及职务": deputy.occupation,
            "手机": deputy.phone, "届次": deputy.term, "乡镇": deputy.area.name if deputy.area else None,
            "状态": deputy.status_label,
        }
        sheet.append(["" if row[h] is None else str(row[h]) for h in EXPORT_HEADERS])
    return (workbook.save(), rows) if count else workbook.save()


def template_workbook() -> bytes:
    """An empty roster with the headers and one example row, for offices starting from scratch."""
    workbook = ExportWorkbook()
    sheet = workbook.sheet("代表名册")
    sheet.append(list(REQUIRED_HEADERS) + ["代表编号"])
    sheet.append(["王秀英", "女", "县", "城关镇第3选区", "城关镇第一代表小组", "城关镇人大代表之家",
                  "城关镇中心学校校长", "13905610001", "QS0001"])
    return workbook.save()


