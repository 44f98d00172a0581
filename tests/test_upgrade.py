"""Upgrades keep data: the demo county as the previous release stored it (tests/data/demo_0007.json.gz,
made by tests/data/demo_dump.py from that release's code) goes into a database migrated to the previous
release's head; the database is upgraded to today's head; then

- every row of every table is still there with the same values (a column that a migration drops or
  changes is named in CHANGED_BY_MIGRATIONS, with the reason), and
- the public and staff pages recorded with the dump answer with the same status and still show every
  line of data they showed (see data_lines: the templates' own words may change between releases).

On PostgreSQL the database is a schema of its own in TEST_DATABASE_URL (dropped afterwards), so the
test database's own tables stay at head.
"""
from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from app import create_app
from blueprints.core.extensions import db
from tests.conftest import BASE_CONFIG, ON_POSTGRES, TEST_DATABASE_URL
from tests.data.demo_dump import decoder, encode, insert_rows, read, record_pages, reflect, row_counts
from tests.test_migrations import head_revisions

DUMP = Path(__file__).resolve().parent / "data" / "demo_0007.json.gz"
PREVIOUS_RELEASE_HEAD = "0007_project_inspections"
UPGRADE_SCHEMA = "upgrade_from_previous_release"
# table -> why its rows or columns may differ after the upgrade (a migration that moves data says so here
# and adds its own checks of where the data went).
CHANGED_BY_MIGRATIONS: dict[str, str] = {
    "ballot_paper_counts": "0008_ballot_box moves count_a/b/c into ballot_paper_count_values rows "
                           "(checked by tests/test_ballots_methods.py::test_the_upgrade_keeps_every_paper_count)",
}
# table -> (column, values, why): rows a migration adds (seed rows); they are left out of the comparison,
# every other row must be there as before.
ADDED_BY_MIGRATIONS: dict[str, tuple[str, set, str]] = {
    "content_versions": ("name", {"duty_standings"}, "0022_duty_standings_counter adds the duty ranking's counter"),
}
# What the operator does before an upgrade, because a migration requires it (0008_ballot_box refuses a
# ballot open for voting: its votes were stored in plaintext). Applied to the dumped rows before they go
# in, so the row comparison still checks every value.
CLOSED_AT = "2026-12-01T20:00:00"


def close_open_ballots(tables: dict) -> dict:
    """The dump's tables with every open ballot closed, as the previous release's 投票截止 would."""
    ballots = tables["ballots"]
    status, closed_at = ballots["columns"].index("status"), ballots["columns"].index("closed_at")
    rows = []
    for row in ballots["rows"]:
        row = list(row)
        if row[status] == "open":
            row[status], row[closed_at] = "closed", CLOSED_AT
        rows.append(row)
    return {**tables, "ballots": {**ballots, "rows": rows}}
DIGIT = re.compile(r"\d")

# What a later release shows differently on purpose, with the reason: a lost line is excused only as said.
# Reworded: the old words → the new ones, which the page must show instead.
REWORDED = {
    "通过（名额外）": "未入选（赞成票过半数，但名额已满）",  # 0014: ballot results in plain words
    "未通过": "未入选（赞成票未超过全体代表的半数）",
    "B 正在解决（列入计划）": "B类（正在解决，列入计划）",  # 0014: answer classes never a bare letter
}
# Lists of deputies sort by surname in pinyin since 0014: their first page shows other deputies (every
# deputy's row is still there: the row comparison checks that).
REORDERED = {"/deputies/", "/registry/deputies/", "/duties/deputies/"}
# Notice excerpts lose their Markdown (table pipes, list marks, ordered-list numbers) since 0014: the
# words must still be there.
MARKUP_STRIPPED = {"/notices/"}
MARKUP = re.compile(r"[|#*`]|(?<!\S)-+(?!\S)|(?<!\S)\d+\.(?!\S)|\s+|…")


def _excused(url: str, line: str, after: str) -> bool:
    if url in REORDERED:
        return True
    for old, new in REWORDED.items():
        if old in line and line.replace(old, new) in after:
            return True
    if url in MARKUP_STRIPPED:
        words = MARKUP.sub("", line)
        return bool(words) and words[:40] in MARKUP.sub("", after)
    return False


@pytest.fixture(scope="module")
def dump():
    return read(DUMP)


@contextmanager
def empty_database(tmp_path):
    """The URL of an empty database of its own: a file on SQLite, a schema on PostgreSQL."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {UPGRADE_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {UPGRADE_SCHEMA}"))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{UPGRADE_SCHEMA}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {UPGRADE_SCHEMA} CASCADE"))
        engine.dispose()


def _values(table, columns, rows):
    """Rows as comparable tuples (decoded by the column types of ``table``), sorted."""
    decoders = [decoder(table.c[name]) for name in columns]
    return sorted((tuple(None if v is None else decode(v) for decode, v in zip(decoders, row, strict=True))
                   for row in rows), key=repr)


def stored_text(dump) -> str:
    """Every text value of the dump, to tell a page's data from its template's words."""
    return "\x00".join(value for table in dump["tables"].values() for row in table["rows"] for value in row
                        if isinstance(value, str))


def data_lines(lines: list[str], stored: str) -> Counter:
    """The lines of a page that show data: any line with a digit (counts, dates, amounts, ids) and any
    line found in a stored text value (names, titles, bodies, replies). Labels, menus and other words of
    the templates are left out, so that a page may be reworded by later releases; its data may not."""
    return Counter(line for line in lines if DIGIT.search(line) or (len(line) >= 2 and line in stored))


def _missing(before: dict, after: dict, stored: str) -> str | None:
    if before["status"] != after["status"]:
        return f"{before['account'] or 'public'} {before['url']}: status {before['status']} -> {after['status']}"
    lost = data_lines(before["text"], stored) - Counter(after["text"])
    joined = "\n".join(after["text"])
    lost = [line for line in lost.elements() if not _excused(before["url"], line, joined)]
    if lost:
        return f"{before['account'] or 'public'} {before['url']} no longer shows: {sorted(lost)[:20]}"
    return None


def test_the_dump_is_the_previous_release(dump):
    assert dump["revision"] == PREVIOUS_RELEASE_HEAD
    assert DUMP.stat().st_size < 400_000  # a fixture, not a data set
    assert len(dump["tables"]) >= 50 and sum(len(t["rows"]) for t in dump["tables"].values()) > 1000
    assert all(page["status"] == 200 for page in dump["pages"])


def upgrade_the_previous_release(dump, tmp_path, damage=None) -> tuple[list[str], list[str]]:
    """Dumped rows in at the previous head, upgrade to head (then ``damage(connection)``, to prove the
    checks): the tables whose rows changed, and what each page no longer shows."""
    dump = {**dump, "tables": close_open_ballots(dump["tables"])}
    with empty_database(tmp_path) as url:
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision=dump["revision"])
            with db.engine.begin() as conn:
                insert_rows(conn, dump["tables"])
            upgrade()
            if damage:
                with db.engine.begin() as conn:
                    damage(conn)
            with db.engine.connect() as conn:
                assert set(MigrationContext.configure(conn).get_current_heads()) == set(head_revisions())
                changed = _changed_tables(conn, dump)
            db.engine.dispose()
        # Outside the app context: every request gets its own flask.g, as on a server.
        pages = record_pages(app, [(page["account"], page["url"]) for page in dump["pages"]])
        with app.app_context():
            db.engine.dispose()
    stored = stored_text(dump)
    lost = [m for before, after in zip(dump["pages"], pages, strict=True) if (m := _missing(before, after, stored))]
    return changed, lost


def _changed_tables(conn, dump) -> list[str]:
    counts = row_counts(conn)
    metadata = reflect(conn)
    changed = []
    for name, dumped in dump["tables"].items():
        if name in CHANGED_BY_MIGRATIONS:
            continue
        assert name in metadata.tables, f"the upgrade dropped table {name}"
        table = metadata.tables[name]
        columns = [c for c in dumped["columns"] if c in table.c]
        assert columns == dumped["columns"], f"the upgrade dropped columns of {name}"
        query = select(*[table.c[c] for c in columns])
        count, rows = counts[name], dumped["rows"]
        if name in ADDED_BY_MIGRATIONS:  # on both sides: a later release's dump may hold them already
            column, added, _why = ADDED_BY_MIGRATIONS[name]
            query = query.where(table.c[column].not_in(added))
            count = len(conn.execute(query).all())
            rows = [row for row in rows if row[dumped["columns"].index(column)] not in added]
        if count != len(rows):
            changed.append(f"{name}: {len(rows)} rows -> {count}")
            continue
        stored = conn.execute(query).all()
        if _values(table, columns, rows) != _values(table, columns, [[encode(v) for v in row]
                                                                              for row in stored]):
            changed.append(f"{name}: values changed")
    return changed


def test_an_upgrade_keeps_the_demo_countys_rows_and_pages(dump, tmp_path):
    changed, lost = upgrade_the_previous_release(dump, tmp_path)
    assert changed == [], f"the upgrade changed the rows of {changed}"
    assert lost == [], "pages show less after the upgrade:\n" + "\n".join(lost)


def test_an_upgrade_that_loses_data_is_caught(dump, tmp_path):
    """What a careless migration could do: mangle a deputy's name and a ballot item's title."""
    def damage(conn):
        conn.execute(text("UPDATE deputies SET name = name || '某' WHERE id = "
                          "(SELECT deputy_id FROM users WHERE username = 'deputy1')"))
        conn.execute(text("UPDATE ballot_items SET title = 'X' WHERE id = (SELECT MIN(id) FROM ballot_items)"))

    changed, lost = upgrade_the_previous_release(dump, tmp_path, damage)
    assert sorted(changed) == ["ballot_items: values changed", "deputies: values changed"]
    pages = {line.split(" no longer shows")[0] for line in lost}
    deputy = next(p["url"] for p in dump["pages"] if p["account"] is None and p["url"].startswith("/deputies/")
                  and p["url"] != "/deputies/")
    results = next(p["url"] for p in dump["pages"] if p["url"].startswith("/livelihood/results/"))
    assert {f"public {deputy}", f"public {results}", f"staff /registry{deputy}"} <= pages, lost


def test_the_pages_compared_show_data(dump):
    """The comparison above has something to compare: most recorded lines of the pages are data."""
    stored = stored_text(dump)
    shown = sum(len(page["text"]) for page in dump["pages"])
    data = sum(sum(data_lines(page["text"], stored).values()) for page in dump["pages"])
    assert data > shown / 2, (data, shown)
    assert all(data_lines(page["text"], stored) for page in dump["pages"])
