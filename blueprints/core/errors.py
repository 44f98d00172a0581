"""One error vocabulary for the whole site.

Services raise a ``DomainError`` (or one of its kinds) with a Chinese message; each kind carries the
HTTP status a view answers with, chosen once here:

    DomainError  422  the input breaks a rule (a missing field, a date in the future, ...)
    Forbidden    403  this user may not do this to this object
    NotFound     404  the object does not exist (or is not visible to this user)
    Conflict     409  the object's state or another row forbids it (already voted, already closed)

Services never raise werkzeug exceptions; views turn these into a page or an HTMX fragment with the
message (``core.forms.run_form`` and the site-wide error handler in ``core.web``).

A database constraint is the final word on duplicates: ``constraint_refusal`` turns the
``IntegrityError`` of a named constraint into the message registered for that name
(``register_constraint_messages``), and any other violation into a message that says what kind of
rule was broken, naming the constraint.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .extensions import db


class DomainError(Exception):
    """A rule of the domain refused the operation. The message is Chinese and shown to the user;
    ``field`` names the form field it belongs to, ``problems`` lists row-level problems."""

    status = 422

    def __init__(self, message: str, problems: list | None = None, field: str | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.message = str(message)
        self.problems = problems or []
        self.field = field
        if status is not None:
            self.status = status


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


def attach_to_form(form, error: DomainError, default_field: str) -> None:
    """Show a service's refusal next to the form field it concerns."""
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, error.message]


# ---- constraints ---------------------------------------------------------------------------------

# constraint name -> (message, field, kind); messages are lazy strings so they translate per request.
_CONSTRAINT_MESSAGES: dict[str, tuple[object, str | None, type[DomainError]]] = {}


def register_constraint_messages(messages: dict[str, object | tuple[object, str]], *,
                                 kind: type[DomainError] = Conflict) -> None:
    """Areas say what each of their named constraints means to a user:
    ``{"uq_ballot_receipts_ballot_id": _l("您已投票")}`` or ``{name: (_l("..."), "field")}``."""
    for name, value in messages.items():
        message, field = value if isinstance(value, tuple) else (value, None)
        _CONSTRAINT_MESSAGES[name] = (message, field, kind)


def constraint_message(name: str) -> str | None:
    entry = _CONSTRAINT_MESSAGES.get(name)
    return str(entry[0]) if entry else None


_SQLITE_COLUMNS = re.compile(r"(UNIQUE|NOT NULL) constraint failed: (.+)$")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\S+)")


def _unique_name_from_columns(table: str, columns: set[str]) -> str | None:
    """SQLite names the columns of a failed UNIQUE, not the constraint: look it up in the models."""
    table_obj = db.metadata.tables.get(table)
    if table_obj is None:
        return None
    for constraint in table_obj.constraints:
        cols = {c.name for c in getattr(constraint, "columns", ())}
        if cols == columns and constraint.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint"):
            return constraint.name
    for index in table_obj.indexes:
        if index.unique and {c.name for c in index.columns} == columns:
            return index.name
    return None


def violation(exc: IntegrityError) -> tuple[str, str | None, str | None]:
    """(kind, constraint name, column) of an IntegrityError on SQLite or PostgreSQL.
    kind is one of unique, check, foreign_key, not_null, other."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        state = getattr(orig, "sqlstate", None) or ""
        kind = {"23505": "unique", "23514": "check", "23503": "foreign_key", "23502": "not_null"}.get(state, "other")
        return kind, diag.constraint_name, diag.column_name
    text = str(orig)
    match = _SQLITE_CHECK.search(text)
    if match:
        return "check", match.group(1), None
    match = _SQLITE_COLUMNS.search(text)
    if match:
        qualified = [c.strip() for c in match.group(2).split(",")]
        table = qualified[0].split(".")[0]
        columns = {c.split(".", 1)[-1] for c in qualified}
        if match.group(1) == "UNIQUE":
            return "unique", _unique_name_from_columns(table, columns), None
        return "not_null", None, next(iter(columns))
    if "FOREIGN KEY constraint failed" in text:
        return "foreign_key", None, None
    return "other", None, None


def constraint_refusal(exc: IntegrityError) -> DomainError:
    """The DomainError a user sees for an IntegrityError: the registered message of the violated
    constraint, else one that says what kind of rule the change broke."""
    kind, name, column = violation(exc)
    entry = _CONSTRAINT_MESSAGES.get(name or "")
    if entry is not None:
        message, field, error_kind = entry
        return error_kind(str(message), field=field)
    ref = name or column or ""
    if kind == "unique":
        return Conflict(_("保存失败：与已有记录重复（%(ref)s），未做任何修改。", ref=ref))
    if kind == "foreign_key":
        return Conflict(_("保存失败：引用的记录不存在或仍被其他记录使用，未做任何修改。"))
    if kind == "check":
        return DomainError(_("保存失败：数据不符合规则（%(ref)s），未做任何修改。", ref=ref))
    if kind == "not_null":
        return DomainError(_("保存失败：缺少必填内容（%(ref)s），未做任何修改。", ref=ref))
    return Conflict(_("保存失败：数据与现有记录冲突，未做任何修改。"))


# ---- text ------------------------------------------------------------------------------------------

def clean_text(value: str | None, label: str, limit: int, field: str, required: bool = True) -> str | None:
    """Free text from a form: CRLF folded, stripped; a missing required text or one over ``limit``
    characters is refused with a message naming ``label``."""
    value = (value or "").replace("\r\n", "\n").strip()
    if not value:
        if required:
            raise DomainError(_("请填写%(label)s。", label=label), field=field)
        return None
    if len(value) > limit:
        raise DomainError(_("%(label)s不能超过 %(n)d 个字符。", label=label, n=limit), field=field)
    return value

