"""Full-text search of Chinese text across the areas, behind one function (issue 19 §5).

    search(query, *, user=None, kinds=None, public_only=False, limit=20) -> Results

Core imports no area: each area registers its searchable kinds (``register_kind``) with the model, the
text columns searched, who may see which rows (``scope(user, public_only)`` → an SQL condition, or None
when this user sees none of this kind) and how a row is shown (``present(row, public_only)`` →
(title, text, url)).

The index (migration 0018_full_text_search):
- PostgreSQL: ``pg_trgm`` GIN trigram indexes on the searched columns (names ending in ``_trgm``); a
  term is ``column ILIKE '%term%'`` on each column, which those indexes serve from 3 characters on.
- SQLite: FTS5 external-content tables ``<table>_fts`` with the trigram tokenizer, kept in sync by
  triggers; a term of 3 characters or more is a phrase MATCH on that table, a shorter one (修路) a LIKE
  on the columns. When the FTS table is missing (a database not built by the migrations) LIKE is used.

Chinese has no spaces: a query is cut at whitespace into terms (at most 5), and a row matches when it
contains every term. Excerpts are cut around the first match and the terms marked with <mark>.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import and_, or_, select, text

from .errors import DomainError
from .extensions import db

MAX_QUERY = 64
MAX_TERMS = 5
EXCERPT = 60  # characters of context shown around the first match

# Objects created only by the migration, not by the models: the model/migration comparison skips them.
_SEARCH_TABLE = re.compile(r"^\w+_fts(_(data|idx|docsize|config|content))?$")


def is_search_index(name: str | None) -> bool:
    """A table (FTS5 and its shadow tables) or an index (``*_trgm``) of the search index."""
    return bool(name) and (bool(_SEARCH_TABLE.match(name)) or name.endswith("_trgm"))


@dataclass(frozen=True)
class Kind:
    name: str  # "suggestion"
    label: object  # lazy string
    model: type
    columns: tuple[str, ...]  # the searched text columns, also the FTS table's columns
    scope: Callable[[object, bool], object]  # (user, public_only) -> SQL condition, or None: none visible
    present: Callable[[object, bool], tuple[str, str, str]]  # (row, public_only) -> (title, text, url)
    order: int = 100
    options: tuple = ()  # loader options for the rows shown


@dataclass
class Hit:
    kind: str
    id: int
    title: Markup
    excerpt: Markup
    url: str


@dataclass
class Results:
    query: str
    terms: list[str]
    groups: list[tuple[Kind, list[Hit], bool]] = field(default_factory=list)  # (kind, hits, more beyond)
    indexed: bool = False  # the FTS / trigram path served at least one term

    @property
    def total(self) -> int:
        return sum(len(hits) for _kind, hits, _more in self.groups)


def _kinds(app: Flask | None = None) -> dict[str, Kind]:
    return (app or current_app).extensions.setdefault("search_kinds", {})


def register_kind(app: Flask, kind: Kind) -> None:
    _kinds(app)[kind.name] = kind


def registered_kinds() -> list[Kind]:
    return sorted(_kinds().values(), key=lambda k: k.order)


def empty_message() -> str:
    return _("请输入要搜索的词。")


def terms_of(query: str | None) -> list[str]:
    """The terms of a query, or a DomainError with a Chinese message (empty, too long, too many terms)."""
    query = (query or "").strip()
    if not query:
        raise DomainError(empty_message(), field="q")
    if len(query) > MAX_QUERY:
        raise DomainError(_("搜索词太长：最多 %(n)d 个字。", n=MAX_QUERY), field="q")
    terms = []
    for term in query.split():
        if term.lower() not in (t.lower() for t in terms):
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise DomainError(_("搜索词最多 %(n)d 个（用空格分开）。", n=MAX_TERMS), field="q")
    return terms


def _fts_tables() -> set[str]:
    """The FTS5 tables present in this SQLite database (cached per app and database)."""
    cache = current_app.extensions.setdefault("search_fts", {})
    key = str(db.engine.url)
    if key not in cache:
        cache[key] = set(db.session.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_fts' ESCAPE '\\' "
            "AND sql LIKE 'CREATE VIRTUAL TABLE%'")).scalars())
    return cache[key]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _term_condition(kind: Kind, term: str, results: Results):
    model = kind.model
    columns = [getattr(model, name) for name in kind.columns]
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        if len(term) >= 3:
            results.indexed = True
        return or_(*[column.ilike(_like(term), escape="\\") for column in columns])
    table = f"{model.__tablename__}_fts"
    if len(term) >= 3 and table in _fts_tables():
        results.indexed = True
        phrase = '"' + term.replace('"', '""') + '"'
        sql = f"SELECT rowid FROM {table} WHERE {table} MATCH :m"  # noqa: S608 (a registered table's name)
        return model.id.in_(text(sql).bindparams(m=phrase).columns(rowid=db.Integer))
    return or_(*[column.like(_like(term), escape="\\") for column in columns])


def excerpt(value: str | None, terms: list[str], width: int = EXCERPT) -> Markup:
    """``width`` characters of ``value`` around the first term found, the terms marked."""
    value = re.sub(r"\s+", " ", value or "").strip()
    lower = value.lower()
    found = [i for i in (lower.find(t.lower()) for t in terms) if i >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    piece = value[start:start + width]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    parts, at = [], 0
    for match in pattern.finditer(piece) if terms else ():
        parts.append(escape(piece[at:match.start()]))
        parts.append(Markup("<mark>{}</mark>").format(match.group(0)))  # format escapes the text
        at = match.end()
    parts.append(escape(piece[at:]))
    return (Markup("…") if start > 0 else Markup("")) + Markup("").join(parts) + \
        (Markup("…") if start + width < len(value) else Markup(""))


def search(query: str | None, *, user=None, kinds: list[str] | tuple[str, ...] | None = None,
           public_only: bool = False, limit: int = 20) -> Results:
    """Rows of the registered kinds containing every term of ``query`` that ``user`` may see (only the
    public ones with ``public_only`` or without a signed-in user), newest first, ``limit`` per kind."""
    terms = terms_of(query)
    results = Results(query=query.strip(), terms=terms)
    if user is None or not getattr(user, "is_authenticated", False):
        public_only = True
    for kind in registered_kinds():
        if kinds is not None and kind.name not in kinds:
            continue
        scope = kind.scope(user, public_only)
        if scope is None:
            continue
        model = kind.model
        stmt = (select(model).where(scope, and_(*[_term_condition(kind, t, results) for t in terms]))
                .order_by(model.id.desc()).limit(limit + 1))
        if kind.options:
            stmt = stmt.options(*kind.options)
        rows = list(db.session.scalars(stmt))
        hits = []
        for row in rows[:limit]:
            title, body, url = kind.present(row, public_only)
            hits.append(Hit(kind.name, row.id, excerpt(title, terms, 200), excerpt(body, terms), url))
        results.groups.append((kind, hits, len(rows) > limit))
    return results


def condition(kind_name: str, query: str | None, *, user=None, public_only: bool = False):
    """The SQL condition ``search`` uses for one kind (who may see it, and every term of ``query``), for
    an area's own paginated list (the public suggestion register: ``public_only=True``). A DomainError
    for an empty or over-long query; None when this user sees none of this kind."""
    kind = _kinds()[kind_name]
    terms = terms_of(query)
    if user is None or not getattr(user, "is_authenticated", False):
        public_only = True
    scope = kind.scope(user, public_only)
    if scope is None:
        return None
    results = Results(query=query or "", terms=terms)
    return and_(scope, *[_term_condition(kind, t, results) for t in terms])
