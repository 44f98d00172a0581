"""What core needs of the areas, registered by the areas themselves: core imports no area.

Each area package (``blueprints/<area>/__init__.py``) has ``register(app)``; ``app.py`` calls them in
order. An area registers its blueprints and CLI commands on the app, and tells core through these
functions what core shows or runs on its behalf:

    menu_entry(app, _l("公示"), "noticeboard.notices", order=10)              # the header's navigation
    menu_entry(app, _l("操作日志"), "core.audit_log", order=160, more=True)     # ... under its 更多
    workspace_tile(app, _l("代表名册"), "registry.deputies", visible=is_staff)  # links on /workspace/
    workspace_panel(app, "stations/_workspace.html")                         # a block below the tiles
    workspace_count(app, _l("待核实的履职活动"), "duties.queue", count_fn, visible=is_staff)  # what waits

A count function may be written as SQL (``@count_query``): it then returns the SELECT instead of running
it, and the workspace runs every count of the page in one statement (``counts_for``); called directly it
still answers a number.
    header_item(app, "notifications/_header.html")                          # a bit of the header (signed in)
    demo_loader(app, load, order=20)                                         # python app.py --demo

Public tables are declared with ``core.pagecache.watch_tables`` (their changes show at once on the
cached public pages), constraint messages with ``core.errors.register_constraint_messages``.

``visible`` is a function of the current user (``AnonymousUserMixin`` when nobody is signed in);
None shows the entry to everyone. Registrations live on the app (``app.extensions["areas"]``), so
several apps in one process (the tests) do not see each other's entries.
"""
from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app, has_request_context, request, url_for
from sqlalchemy import Select, select

from .extensions import db


@dataclass(frozen=True)
class Link:
    label: object  # a lazy string: translated when the page is drawn
    endpoint: str
    order: int = 100
    visible: Callable[[object], bool] | None = None
    values: tuple = ()  # url_for keyword arguments as (name, value) pairs
    # The header: folded under 更多 (pages used now and then), so that one row holds the rest; True, or
    # a function of the user (会议票决 is the clerk's daily page, staff's occasional one).
    more: bool | Callable[[object], bool] = False

    def url(self) -> str:
        return url_for(self.endpoint, **dict(self.values))

    def shown_to(self, user) -> bool:
        return self.visible is None or bool(self.visible(user))

    def folded_for(self, user) -> bool:
        return bool(self.more(user)) if callable(self.more) else self.more


@dataclass
class DemoContext:
    """Passed to every demo loader: the seed, and one random generator shared in loader order, so the
    demo county is the same on every machine."""

    seed: int
    rng: random.Random


@dataclass(frozen=True)
class Count:
    """What waits for someone: ``count(user)`` is a number (0 shows greyed, None hides it) or a
    ``(number, {url_for values})`` pair when the link depends on the user (a deputy's open ballot)."""

    link: Link
    count: Callable[[object], object]
    big: bool = False


@dataclass(frozen=True)
class CountQuery:
    """A count as SQL: ``query`` selects one row (an aggregate) or none; ``answer(*values)`` turns its
    column values (each None when there is no row) into what a count function answers. Without
    ``answer`` the first column is the number (0 when NULL)."""

    query: Select
    answer: Callable[..., object] | None = None

    def width(self) -> int:
        return len(self.query.selected_columns)

    def finish(self, values: tuple) -> object:
        return self.answer(*values) if self.answer is not None else (values[0] or 0)


def _as_query(built) -> CountQuery | None:
    if isinstance(built, CountQuery):
        return built
    if isinstance(built, Select):
        return CountQuery(built)
    return None  # already an answer (None hides the count, or a number needing no query)


def count_query(build: Callable[[object], object]) -> Callable[[object], object]:
    """Decorator for a count function written as SQL. ``build(user)`` returns a Select (its first column
    the number), a ``CountQuery``, or an answer needing no query (None: nothing to count for this user).
    The decorated function, called, runs its query alone and answers as a count function does; the
    workspace instead takes ``.build`` and runs all the page's counts in one SELECT."""

    @functools.wraps(build)
    def count(user):
        built = build(user)
        query = _as_query(built)
        if query is None:
            return built
        row = db.session.execute(query.query).first()
        return query.finish(tuple(row) if row is not None else (None,) * query.width())

    count.build = build
    return count


def run_together(queries: list[CountQuery]) -> list[object]:
    """The answers of several counts from one statement: ``SELECT (SELECT ...) AS n0, (SELECT ...) AS n1``.
    A query of several columns becomes one scalar subquery per column over it as a derived table."""
    columns, spans = [], []
    for query in queries:
        first = len(columns)
        if query.width() == 1:
            columns.append(query.query.scalar_subquery())
        else:
            derived = query.query.subquery()
            columns.extend(select(column).scalar_subquery() for column in derived.c)
        spans.append((first, len(columns)))
    if not columns:
        return []
    row = db.session.execute(select(*(column.label(f"n{i}") for i, column in enumerate(columns)))).one()
    return [query.finish(tuple(row[a:b])) for query, (a, b) in zip(queries, spans, strict=True)]


@dataclass
class Registry:
    menu: list[Link] = field(default_factory=list)
    tiles: list[Link] = field(default_factory=list)
    panels: list[tuple[int, str]] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    header: list[tuple[int, str]] = field(default_factory=list)
    demo: list[tuple[int, str, Callable[[DemoContext], None]]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def registry(app: Flask | None = None) -> Registry:
    app = app or current_app
    return app.extensions.setdefault("areas", Registry())


# ---- predicates for ``visible`` ---------------------------------------------------------------

def signed_in(user) -> bool:
    return user.is_authenticated


def has_role(*roles: str) -> Callable[[object], bool]:
    """Signed in with one of ``roles`` (the administrator has every staff right, as in User.has_role)."""
    def check(user) -> bool:
        return user.is_authenticated and user.has_role(*roles)

    return check


def role_is(*roles: str) -> Callable[[object], bool]:
    """Signed in with exactly one of ``roles`` (no administrator fallback)."""
    def check(user) -> bool:
        return user.is_authenticated and user.role in roles

    return check


# ---- registration ---------------------------------------------------------------------------

def area(app: Flask, name: str) -> None:
    """Note that an area is part of this app (in registration order)."""
    registry(app).names.append(name)


def menu_entry(app: Flask, label, endpoint: str, *, order: int = 100,
               visible: Callable[[object], bool] | None = None, more: bool | Callable[[object], bool] = False,
               **values) -> None:
    """``more=True`` (or a function of the user): a page used now and then (groups, audit log, accounts)
    goes under the header's 更多."""
    registry(app).menu.append(Link(label, endpoint, order, visible, tuple(values.items()), more))


def workspace_tile(app: Flask, label, endpoint: str, *, order: int = 100,
                   visible: Callable[[object], bool] | None = None, **values) -> None:
    registry(app).tiles.append(Link(label, endpoint, order, visible, tuple(values.items())))


def workspace_count(app: Flask, label, endpoint: str, count: Callable[[object], object], *, order: int = 100,
                    visible: Callable[[object], bool] | None = None, big: bool = False, **values) -> None:
    """A number on the workspace linking to the filtered list it counts. Write ``count`` with
    ``@count_query`` so that it joins the page's single counting statement (tests/test_workspaces_city.py
    keeps a whole workspace at ≤ 10 queries at city size)."""
    registry(app).counts.append(Count(Link(label, endpoint, order, visible, tuple(values.items())), count, big))


def workspace_panel(app: Flask, template: str, *, order: int = 100) -> None:
    """A template included below the workspace tiles (it decides itself whom it shows anything to)."""
    registry(app).panels.append((order, template))


def header_item(app: Flask, template: str, *, order: int = 100) -> None:
    """A template included in the header next to the signed-in user's name (e.g. the unread count)."""
    registry(app).header.append((order, template))


def demo_loader(app: Flask, loader: Callable[[DemoContext], None], *, order: int = 100, name: str = "") -> None:
    """``loader(ctx)`` adds an area's demo data; loaders run by ``order``, each in its own transaction."""
    registry(app).demo.append((order, name or getattr(loader, "__qualname__", ""), loader))


# ---- reading (templates and the demo) -------------------------------------------------------

def links_for(links: list[Link], user) -> list[Link]:
    return [link for link in sorted(links, key=lambda link: link.order) if link.shown_to(user)]


def menu_for(user) -> list[Link]:
    return links_for(registry().menu, user)


def menu_parts(user) -> tuple[list[Link], list[Link]]:
    """The header's entries for ``user``: those in the row, and those under 更多."""
    if not getattr(user, "is_authenticated", False) and has_request_context():
        return _anonymous_menu(user)
    links = menu_for(user)
    return [x for x in links if not x.folded_for(user)], [x for x in links if x.folded_for(user)]


@dataclass(frozen=True)
class _DrawnLink:
    label: str
    address: str

    def url(self) -> str:
        return self.address


def _anonymous_menu(visitor) -> tuple[list, list]:
    """A visitor's menu, kept per app and script root: it depends on nothing else (the menu is fixed once
    the areas have registered, and an anonymous visitor has no role), and drawing it (labels translated,
    addresses built) was a tenth of a public page's rendering."""
    memo = current_app.extensions.setdefault("anonymous_menu", {})
    parts = memo.get(request.script_root)
    if parts is None:
        links = menu_for(visitor)
        parts = tuple([_DrawnLink(str(x.label), x.url()) for x in links if x.folded_for(visitor) == folded]
                      for folded in (False, True))
        memo[request.script_root] = parts
    return parts


def tiles_for(user) -> list[Link]:
    return links_for(registry().tiles, user)


@dataclass(frozen=True)
class Waiting:
    label: object
    url: str
    number: int
    big: bool


def counts_for(user) -> list[Waiting]:
    """The counts shown to ``user``, in order; a count function answering None is left out. Counts
    written as SQL (``count_query``) run together in one statement, the others one call each."""
    entries = [entry for entry in sorted(registry().counts, key=lambda c: c.link.order) if entry.link.shown_to(user)]
    answers: list[object] = [None] * len(entries)
    deferred: list[tuple[int, CountQuery]] = []
    for i, entry in enumerate(entries):
        build = getattr(entry.count, "build", None)
        if build is None:
            answers[i] = entry.count(user)
            continue
        built = build(user)
        query = _as_query(built)
        if query is None:
            answers[i] = built
        else:
            deferred.append((i, query))
    for (i, _query), answer in zip(deferred, run_together([q for _i, q in deferred]), strict=True):
        answers[i] = answer
    shown = []
    for entry, answer in zip(entries, answers, strict=True):
        if answer is None:
            continue
        number, values = answer if isinstance(answer, tuple) else (answer, {})
        url = url_for(entry.link.endpoint, **{**dict(entry.link.values), **values})
        shown.append(Waiting(entry.link.label, url, int(number), entry.big))
    return shown


def panels() -> list[str]:
    return [template for _order, template in sorted(registry().panels, key=lambda p: p[0])]


def header_items() -> list[str]:
    return [template for _order, template in sorted(registry().header, key=lambda p: p[0])]


def demo_loaders() -> list[Callable[[DemoContext], None]]:
    return [loader for _order, _name, loader in sorted(registry().demo, key=lambda d: d[0])]
