"""The demo county as a release left it: its rows, table by table, and what its pages showed.

``tests/test_upgrade.py`` inserts these rows into a database built by the migrations up to that release's
head, upgrades it to today's head and compares the pages with the ones recorded here. Only SQLAlchemy
Core on a schema reflected from the database is used, never the models: the file keeps working whatever
the models become.

Made once per release, from a checkout of that release (its code, its migrations, its demo loader):

    python -m tests.data.demo_dump --revision 0007_project_inspections --out tests/data/demo_0007.json.gz

1. builds a SQLite database with ``alembic upgrade <revision>`` and loads the demo county into it;
2. dumps every table's rows (table -> columns, rows; dates, times and decimals as ISO text, bytes as
   base64), in primary-key order;
3. inserts those rows, with ``insert_rows`` below, into a second database built to the same revision, logs
   in as each demo account of PAGES and records the status and visible text of each page; the test
   does the same after the upgrade, so the recording also proves that the dump is complete.

The pages are chosen to show stored data, not "today": what they show does not change with the date
the test runs (checked under faketime up to a year later, see tests/data/README.md).
"""
from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import subprocess
import sys
import tempfile
import time as pytime
from datetime import date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, bindparam, select, text
from sqlalchemy.sql.ddl import sort_tables_and_constraints

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # as the pages show times
DEMO_PASSWORD = "demo-2026"  # noqa: S105  (the published demo password)

# (account or None for the public, URL template); {name} is filled in from the dumped rows (lowest id).
# Left out because they change with the date (a deadline becomes 超期, a call for proposals closes): the
# case and suggestion work lists (/cases/, /manage/suggestions/, /unit/suggestions/), /livelihood/ for
# staff, the home page and the calendars.
PAGES = [
    (None, "/notices/"),
    (None, "/notices/{notice}"),
    (None, "/deputies/"),
    (None, "/deputies/{deputy}"),
    (None, "/stations/"),
    (None, "/livelihood/projects/{project}"),
    (None, "/livelihood/results/{published_ballot}"),
    (None, "/suggestions/"),
    (None, "/suggestions/{public_suggestion}"),
    (None, "/suggestions/sessions/{session}/"),
    (None, "/suggestions/sessions/{session}/stats"),
    ("staff", "/registry/deputies/"),
    ("staff", "/registry/deputies/{deputy}"),
    ("staff", "/registry/groups/"),
    ("staff", "/registry/stations/"),
    ("staff", "/registry/units/"),
    ("staff", "/registry/areas/"),
    ("staff", "/cases/{case}"),
    ("staff", "/ballots/proposals/"),
    ("staff", "/ballots/{published_ballot}"),
    ("staff", "/meetings/"),
    ("staff", "/meetings/{meeting}"),
    ("staff", "/suggestions/{public_suggestion}/work"),
    ("staff", "/duties/deputies/"),
    ("staff", "/noticeboard/"),
    ("admin", "/admin/users/"),
    ("deputy1", "/my/suggestions/"),
]
IDS = {
    "notice": "SELECT MIN(id) FROM notices",
    "deputy": "SELECT MIN(deputy_id) FROM users WHERE username = 'deputy1'",
    "project": "SELECT MIN(id) FROM livelihood_projects",
    "published_ballot": "SELECT MIN(id) FROM ballots WHERE status = 'published'",
    "public_suggestion": "SELECT MIN(id) FROM suggestions WHERE number IS NOT NULL",
    "session": "SELECT MIN(id) FROM congress_sessions",
    "case": "SELECT MIN(id) FROM cases",
    "meeting": "SELECT MIN(id) FROM meetings",
}


# ---- rows --------------------------------------------------------------------------------------------

def encode(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def decoder(column):
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return lambda value: value
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    if kind is time:
        return time.fromisoformat
    if kind is Decimal:
        return Decimal
    if kind is bytes:
        return base64.b64decode
    if kind is bool:
        return bool
    return lambda value: value


def reflect(connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


def _tables(connection) -> list:
    return [table for name, table in sorted(reflect(connection).tables.items())]


def dump_rows(connection) -> dict[str, dict]:
    tables = {}
    for table in _tables(connection):
        if table.name == "alembic_version":
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        rows = connection.execute(select(table).order_by(*order)).all()
        tables[table.name] = {"columns": [c.name for c in table.columns],
                              "rows": [[encode(v) for v in row] for row in rows]}
    return tables


def _parents_first(table, rows: list[dict]) -> list[dict]:
    """Rows of a table that refers to itself (an area's parent, a merged case's target) after the rows
    they point at, so that every foreign key holds when its row goes in."""
    links = [(fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table]
    if not links:
        return rows
    by_key = {(column, row[column]): row for row in rows for _own, column in links}
    done: set[int] = set()
    ordered: list[dict] = []

    def place(row, depth=0):
        if id(row) in done or depth > len(rows):
            return
        for own, column in links:
            parent = by_key.get((column, row[own])) if row[own] is not None else None
            if parent is not None and parent is not row:
                place(parent, depth + 1)
        if id(row) not in done:
            done.add(id(row))
            ordered.append(row)

    for row in rows:
        place(row)
    return ordered


def insert_order(metadata: MetaData) -> tuple[list, set[tuple[str, str]]]:
    """The tables, each after the tables it refers to, and the (table, column) foreign keys that must go
    in as NULL and be set once every table is filled: those closing a cycle between tables (a ballot
    item's project and the project's ballot item)."""
    in_cycles = {fk for table, keys in sort_tables_and_constraints(metadata.tables.values()) if table is None
                 for fk in keys}

    def set_afterwards(fk):
        return fk in in_cycles and all(column.nullable for column in fk.columns)

    order = sort_tables_and_constraints(metadata.tables.values(), filter_fn=set_afterwards)
    later = {fk for table, keys in order if table is None for fk in keys}
    return ([table for table, _keys in order if table is not None],
            {(fk.table.name, column.name) for fk in later for column in fk.columns})


def insert_rows(connection, tables: dict[str, dict]) -> None:
    """The dumped rows into the tables of a freshly migrated database at the dump's revision, with their ids;
    on PostgreSQL every id sequence then continues after the highest id.

    Tables go in foreign-key order. Where two tables refer to each other (a ballot item's project, the
    project's ballot item), the foreign keys that close the cycle go in as NULL and are set afterwards."""
    metadata = reflect(connection)
    missing = set(tables) - set(metadata.tables)
    assert not missing, f"the database lacks tables of the dump: {sorted(missing)}"
    tables_in_order, deferred = insert_order(metadata)
    for table in reversed(tables_in_order):  # rows that a migration put in (e.g. a counter) are in the dump
        if table.name in tables and connection.execute(select(text("1")).select_from(table).limit(1)).first():
            connection.execute(table.delete())
    updates: dict[str, list[dict]] = {}
    for table in tables_in_order:
        if table.name not in tables or not tables[table.name]["rows"]:
            continue
        columns = tables[table.name]["columns"]
        decoders = [decoder(table.c[name]) for name in columns]
        rows = [{name: (None if value is None else decode(value))
                 for name, decode, value in zip(columns, decoders, row, strict=True)}
                for row in tables[table.name]["rows"]]
        late = [name for name in columns if (table.name, name) in deferred]
        if late:
            key = [c.name for c in table.primary_key.columns]
            updates[table.name] = [{**{f"k_{k}": row[k] for k in key}, **{name: row[name] for name in late}}
                                   for row in rows if any(row[name] is not None for name in late)]
            rows = [{**row, **dict.fromkeys(late)} for row in rows]
        connection.execute(table.insert(), _parents_first(table, rows))
    for name, rows in updates.items():
        table = metadata.tables[name]
        if rows:
            key = [c for c in table.primary_key.columns]
            late = [c for c in rows[0] if not c.startswith("k_")]
            statement = table.update().where(*[c == bindparam(f"k_{c.name}") for c in key]).values(
                {c: bindparam(c) for c in late})
            connection.execute(statement, rows)
    if connection.dialect.name == "postgresql":
        for table in tables_in_order:
            for column in table.primary_key.columns:
                sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                              {"t": table.name, "c": column.name}).scalar()
                if sequence:
                    connection.execute(text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                    ), {"s": sequence})


def row_counts(connection) -> dict[str, int]:
    counts = {}
    for table in _tables(connection):
        if table.name != "alembic_version":
            counts[table.name] = connection.execute(select(text("COUNT(*)")).select_from(table)).scalar()
    return counts


# ---- pages -------------------------------------------------------------------------------------------

class VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, tags or attribute values; one line per text run."""

    SKIP = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            line = re.sub(r"\s+", " ", data).strip()
            if line:
                self.lines.append(line)


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.lines


def page_urls(connection) -> list[tuple[str | None, str]]:
    ids = {name: connection.execute(text(sql)).scalar() for name, sql in IDS.items()}
    unknown = [name for name, value in ids.items() if value is None]
    assert not unknown, f"the demo county has no row for {unknown}"
    return [(account, url.format(**ids)) for account, url in PAGES]


MINUTE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def record_pages(app, urls: list[tuple[str | None, str]]) -> list[dict]:
    """Status and visible text of each page, as the public or logged in as the page's demo account.
    Call it outside an app context: each request then has its own (and its own flask.g, as on a server).

    A time shown to the minute that falls within the recording itself (a demo account's last login, which
    the recording's own logins set) reads "(during the recording)"."""
    start = datetime.now(LOCAL_TZ).replace(second=0, microsecond=0, tzinfo=None)
    pages, clients = [], {}
    for account, url in urls:
        if account not in clients:
            client = clients[account] = app.test_client()
            if account:
                login = client.post("/login", data={"username": account, "password": DEMO_PASSWORD})
                assert login.status_code == 302, f"{account} cannot log in"
        response = clients[account].get(url)
        pages.append({"account": account, "url": url, "status": response.status_code,
                      "text": visible_text(response.get_data(as_text=True))})
    end = datetime.now(LOCAL_TZ).replace(tzinfo=None)

    def mask(match):
        return "(during the recording)" if start <= datetime.fromisoformat(match.group(0)) <= end else match.group(0)

    for page in pages:
        page["text"] = [MINUTE.sub(mask, line) for line in page["text"]]
    return pages


# ---- the file ----------------------------------------------------------------------------------------

def read(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return json.load(file)


def _config(url: str) -> dict:
    return {"TESTING": True, "SECRET_KEY": "demo-dump", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False, "PUBLIC_PAGE_CACHE_SECONDS": 0, "SERVER_NAME": None}


def make(revision: str, out: Path) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from blueprints.core.demo import load_demo_county
    from blueprints.core.extensions import db

    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(_config(f"sqlite:///{scratch}/demo.db"))
        with app.app_context():
            upgrade(revision=revision)
            load_demo_county()
            db.session.remove()
            with db.engine.connect() as conn:
                tables = dump_rows(conn)
            db.engine.dispose()
        # Times are shown to the minute: record in a later minute than the demo's rows were made, so that
        # the recording's own logins (masked, see record_pages) cannot be mistaken for them.
        made = datetime.now().replace(second=0, microsecond=0)
        while datetime.now().replace(second=0, microsecond=0) == made:
            pytime.sleep(1)
        app = create_app(_config(f"sqlite:///{scratch}/again.db"))
        with app.app_context():
            upgrade(revision=revision)
            with db.engine.begin() as conn:
                insert_rows(conn, tables)
                urls = page_urls(conn)
        pages = record_pages(app, urls)
        with app.app_context():
            db.engine.dispose()
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    dump = {"revision": revision, "commit": commit, "made_on": date.today().isoformat(), "tables": tables,
            "pages": pages}
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as file:
        json.dump(dump, file, ensure_ascii=False, separators=(",", ":"))
    return dump


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--revision", required=True, help="the release's alembic head, e.g. 0007_project_inspections")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    dump = make(args.revision, args.out)
    rows = sum(len(t["rows"]) for t in dump["tables"].values())
    bad = [p for p in dump["pages"] if p["status"] != 200]
    print(f"{args.out}: {len(dump['tables'])} tables, {rows} rows, {len(dump['pages'])} pages, "
          f"{args.out.stat().st_size // 1024} KB", file=sys.stderr)
    if bad:
        sys.exit(f"pages that did not answer 200: {[(p['account'], p['url'], p['status']) for p in bad]}")


if __name__ == "__main__":
    main()
