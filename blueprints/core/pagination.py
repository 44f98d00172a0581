"""Offset pagination in two queries (count + page), whatever the table size."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from flask import abort, request
from sqlalchemy import func, select

from .extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; larger numbers cannot name a row


def parse_positive_int(raw: str | None) -> int | None:
    """ASCII digits only (str.isdigit() accepts '²', which int() refuses) and within INTEGER range."""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def int_arg(name: str) -> int | None:
    """A numeric id from the query string; anything else (text, '²', a huge number) means no filter."""
    return parse_positive_int(request.args.get(name))


def page_number() -> int:
    page = parse_positive_int(request.args.get("page", "1"))
    if page is None:
        abort(404)
    return page


def count_rows(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))


def paginate(statement, page: int, per_page: int = 50, *, count_in_page: bool = False,
             total: int | None = None) -> Page:
    """Page through a select() of one entity; a page past the end is a 404, as it would be for any
    missing page.

    count_in_page: one query instead of two, the total read from ``count(*) OVER ()`` on the page's
    rows. For filters no index serves (a name search with LIKE '%王%'), where the count and the page
    would each scan the table (and the page walk the sort index for matches); not for long lists read
    in index order (20,000 notices), where the window would sort every row to return twenty.

    total: the count when the caller already knows it (core/publicfacts.py remembers public lists' totals)."""
    if count_in_page:
        rows = db.session.execute(statement.add_columns(func.count().over().label("page_total"))
                                  .limit(per_page).offset((page - 1) * per_page)).all()
        if not rows and page > 1:
            abort(404)  # past the last page (page 1 of nothing is an empty page)
        total = rows[0].page_total if rows else 0
        return Page(items=[row[0] for row in rows], page=page, per_page=per_page, total=total)
    if total is None:
        total = count_rows(statement)
    pages = max(1, ceil(total / per_page))
    if page > pages:
        abort(404)
    items = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(items), page=page, per_page=per_page, total=total)
