from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .extensions import db


class DomainError(Exception):
    """A rule of the domain refused the operation. The message is Chinese and shown to the user;
    ``field`` names the form field it belongs to, ``problems`` lists row-level problems."""

    def __init__(self, message: str, problems: list | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.field = field


def attach_to_form(form, error: DomainError, default_field: str) -> None:
    """Show a service's refusal next to the form field it concerns."""
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, error.message]


def commit_or_refuse(message: str | None = None, field: str | None = None) -> None:
    """Commit the service call's transaction. If the database refuses it (a UNIQUE, CHECK or foreign
    key constraint, the final word on duplicates), roll back and raise a DomainError with a Chinese
    message instead: nothing is written."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise DomainError(message or _("保存失败：数据与现有记录冲突，未做任何修改。"), field=field) from exc


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
