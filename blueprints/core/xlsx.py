"""Every .xlsx the site reads or writes goes through here (tests/test_security_records.py checks that
no other module opens or creates an openpyxl workbook).

Reading an upload (``read_rows``): refused with a Chinese message *before* the sheet is parsed when
there are more than ``MAX_MEMBERS`` zip members, one would uncompress to more than ``MAX_MEMBER_BYTES``
or all of them to more than ``MAX_TOTAL_BYTES`` (a sharedStrings bomb), or the sheet declares a
``<dimension ref>`` wider than ``MAX_COLUMNS`` or longer than ``MAX_ROWS`` (openpyxl would pad every row
to the declared width); then
rows are streamed read-only, never padded beyond ``MAX_COLUMNS``, and refused past ``MAX_ROWS`` rows.
Python's zipfile never inflates a member beyond its declared size, so the declared sizes can be trusted.

Writing (``ExportWorkbook``): every text cell is made safe: control characters other than newline and
tab are stripped (openpyxl refuses them, and one would make the whole export fail), and text a
spreadsheet would run as a formula (starting with = + - @, a tab or CR) gets a leading apostrophe.

    book = ExportWorkbook()
    sheet = book.sheet("代表名册", widths=(16, 18), text=True)
    sheet.append(["姓名", "手机"])
    return download(book.save(), "名册.xlsx", XLSX)
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from xml.sax.saxutils import escape as _escape_text

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.read_only import EmptyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from .errors import DomainError

MAX_MEMBER_BYTES = 40 * 1024 * 1024
MAX_TOTAL_BYTES = 60 * 1024 * 1024
MAX_MEMBERS = 1_000  # an .xlsx from Excel or WPS holds a few dozen parts
MAX_ROWS = 50_000
MAX_COLUMNS = 100

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all C0 controls and DEL but \t and \n


def strip_controls(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text)


def safe_value(value):
    """A cell value a spreadsheet shows as written: text neither runs as a formula nor breaks the file."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        return "'" + strip_controls(value)
    return strip_controls(value)


_NUMBERS = (int, float, Decimal)


def _row_xml(values, row_idx: int, columns: list[str], style: str) -> str | None:
    """The <row> of plain values (text, numbers, booleans, empty) as openpyxl writes it, or None for
    anything else (dates, styled cells), which openpyxl then writes itself."""
    parts = [f'<row r="{row_idx}">']
    for index, value in enumerate(values):
        if value is None or value == "":
            continue  # openpyxl reads an empty inline string back as None too
        while index >= len(columns):
            columns.append(get_column_letter(len(columns) + 1))
        ref = f"{columns[index]}{row_idx}"
        kind = type(value)
        if kind is str:
            space = ' xml:space="preserve"' if value != value.strip() else ""
            parts.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_escape_text(value)}</t></is></c>')
        elif kind is bool:
            parts.append(f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>')
        elif kind in _NUMBERS and math.isfinite(value):
            parts.append(f'<c r="{ref}"{style} t="n"><v>{"%.16g" % value}</v></c>')  # noqa: UP031 (as openpyxl)
        else:
            return None
    parts.append("</row>")
    return "".join(parts)


class _FastSheet(WriteOnlyWorksheet):
    """A write-only sheet that writes rows of plain values as XML text itself.

    openpyxl without lxml (not a dependency here) serialises every cell through et_xmlfile's
    incremental ElementTree writer: 80% of an 11,000-row export's time. Plain values (what every export
    here appends) are written as the same XML directly to the sheet's stream; a row holding anything
    else goes through openpyxl's own writer unchanged. With lxml installed the stream is lxml's, which
    takes no raw text, so every row goes through openpyxl (which is then fast anyway)."""

    _text_style = ""  # ' s="N"': the "@" number format of a text sheet

    def _write_rows(self):
        try:
            xf = self._writer.xf.send(True)
        except StopIteration:
            self._already_saved()
        raw = getattr(xf, "_file", None)  # et_xmlfile's writer: a callable taking XML text
        columns: list[str] = []
        with xf.element("sheetData"):
            row_idx = 1
            try:
                while True:
                    values = (yield)
                    xml = _row_xml(values, row_idx, columns, self._text_style) if callable(raw) else None
                    if xml is None:
                        self._writer.write_row(xf, self._values_to_row(self._styled(values), row_idx), row_idx)
                    else:
                        raw(xml)
                    row_idx += 1
            except GeneratorExit:
                pass
        self._writer.xf.send(None)

    def _styled(self, values):
        if not self._text_style:
            return values
        cells = []
        for value in values:
            cell = WriteOnlyCell(self, value=value)
            cell.number_format = "@"
            cells.append(cell)
        return cells


class ExportSheet:
    def __init__(self, sheet, text: bool):
        self._sheet, self._text = sheet, text
        if text:
            probe = WriteOnlyCell(sheet, value="")
            probe.number_format = "@"
            sheet._text_style = f' s="{probe.style_id}"'  # registers the style with the workbook

    def append(self, values) -> None:
        self._sheet.append([safe_value(v) for v in values])


class ExportWorkbook:
    """A write-only workbook whose sheets only take safe values."""

    def __init__(self):
        self._book = Workbook(write_only=True)

    def sheet(self, title: str, *, widths: tuple[int, ...] = (), text: bool = False) -> ExportSheet:
        """A new sheet; ``widths`` sets the first columns' widths, ``text`` formats every cell as text
        (so a phone number or a code stays its digits)."""
        sheet = _FastSheet(parent=self._book, title=strip_controls(title)[:31] or "Sheet")
        self._book._add_sheet(sheet)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        return ExportSheet(sheet, text)

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()


# ---- reading uploads -----------------------------------------------------------------------------

def _too_big() -> DomainError:
    return DomainError(_("Excel 文件解压后过大（超过 %(n)d MB），无法导入。"
                         "请删除多余的工作表、图片和空白行列后另存再导入。", n=MAX_TOTAL_BYTES // (1024 * 1024)),
                       field="file")


def check_archive(data: bytes) -> None:
    """Refuse a zip whose members would uncompress beyond the limits (before anything is inflated)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DomainError(_("无法读取该 Excel 文件，文件可能已损坏。请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"),
                          field="file") from exc
    if len(infos) > MAX_MEMBERS or any(i.file_size > MAX_MEMBER_BYTES for i in infos) \
            or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise _too_big()


def _declared_size(sheet) -> tuple[int, int] | None:
    """(rows, columns) of the sheet's ``<dimension ref>`` (read when openpyxl opened it), or None."""
    rows, columns = sheet.max_row, sheet.max_column
    return (rows or 0, columns or 0) if rows or columns else None


def read_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    """The first sheet's rows as (row number, read-only cells), within the limits above."""
    check_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise DomainError(_("无法读取该 Excel 文件，文件可能已损坏。请用 Excel 或 WPS 打开后另存为 .xlsx 再导入。"),
                          field="file") from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        declared = _declared_size(sheet)
        if declared and (declared[0] > MAX_ROWS or declared[1] > MAX_COLUMNS):
            raise DomainError(_("该工作表声明的区域过大（%(r)d 行 × %(c)d 列），最多 %(mr)d 行、%(mc)d 列。"
                                "请把数据复制到新的工作表后另存再导入。", r=declared[0], c=declared[1],
                                mr=MAX_ROWS, mc=MAX_COLUMNS), field="file")
        sheet.reset_dimensions()  # the declared size may lie: stream, padding rows to at most MAX_COLUMNS
        width = declared[1] if declared and declared[1] else None
        for number, cells in enumerate(sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=width or MAX_COLUMNS),
                                       start=1):
            if number > MAX_ROWS:
                raise DomainError(_("表格超过 %(n)d 行，无法导入。请分成几个文件导入。", n=MAX_ROWS), field="file")
            if width is None:  # no declared width: drop the padding after the row's last cell
                end = len(cells)
                while end and isinstance(cells[end - 1], EmptyCell):
                    end -= 1
                cells = cells[:end]
            yield number, cells
    finally:
        workbook.close()
