"""Stale edits: rows that two people edit (a notice, a suggestion, a deputy, a station) carry a
``row_version`` that SQLAlchemy bumps on every UPDATE (``version_id_col``). The edit form carries the
version it showed; a save from an older version is refused with 409 and nothing is written, instead of
silently reverting the other person's change.

    class Notice(db.Model):
        row_version: Mapped[int] = version_column()
        __mapper_args__ = {"version_id_col": row_version}

    class NoticeForm(FlaskForm):
        row_version = version_field()            # {{ form.row_version }} in the template

    def save(f):                                   # inside the service's transaction (run_form)
        check_version(item, f.row_version.data)
        ...

Two saves racing past ``check_version`` are caught at the UPDATE itself (``WHERE row_version = ?``
matches no row → ``StaleDataError``), which ``core.transaction`` turns into the same ``Conflict``.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import mapped_column
from wtforms import HiddenField

from .errors import Conflict

STALE_MESSAGE = _l("这条记录在您编辑期间已被他人修改，您的修改未保存。请重新打开编辑页面，在最新内容上修改。")


def version_column():
    return mapped_column(default=1, server_default="1")


def version_field() -> HiddenField:
    return HiddenField()


def stale() -> Conflict:
    return Conflict(str(STALE_MESSAGE))


def check_version(obj, submitted) -> None:
    """Refuse a save made from another version of ``obj`` than the current one. No version (a new
    record, a form from before versions existed) is not checked."""
    if obj is None or submitted in (None, ""):
        return
    try:
        version = int(submitted)
    except (TypeError, ValueError):
        raise stale() from None
    if version != obj.row_version:
        raise stale()
