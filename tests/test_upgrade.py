"""Upgrades keep data: the demo county as the previous release stored it (tests/data/demo_0007.json.gz,
made by tests/data/demo_dump.py from that release's code) goes into a database migrated to the previous
release's head; the database is upgraded to today's head; then

- every row of every table is still there with the same values (a column that a migration drops or
  changes is named in CHANGED_BY_MIGRATIONS, with the reason), and
- the public and staff pages recorded with the dump answer with the same status and the same visible text.

On PostgreSQL the database is a schema of its own in TEST_DATABASE_URL (dropped afterwards), so the
test database's own tables stay at head.
"""
from __future__ import annotations

import difflib
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
CHANGED_BY_MIGRATIONS: dict[str, str] = {}


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


def _page_diff(before: dict, after: dict) -> str:
    lines = difflib.unified_diff(before["text"], after["text"], "previous release", "after the upgrade", lineterm="")
    return f"{before['account'] or 'public'} {before['url']}: status {before['status']} -> {after['status']}\n" + \
        "\n".join(list(lines)[:40])


def test_the_dump_is_the_previous_release(dump):
    assert dump["revision"] == PREVIOUS_RELEASE_HEAD
    assert DUMP.stat().st_size < 400_000  # a fixture, not a data set
    assert len(dump["tables"]) >= 50 and sum(len(t["rows"]) for t in dump["tables"].values()) > 1000
    assert all(page["status"] == 200 for page in dump["pages"])


def test_an_upgrade_keeps_the_demo_countys_rows_and_pages(dump, tmp_path):
    with empty_database(tmp_path) as url:
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision=dump["revision"])
            with db.engine.begin() as conn:
                insert_rows(conn, dump["tables"])
            upgrade()
            with db.engine.connect() as conn:
                assert set(MigrationContext.configure(conn).get_current_heads()) == set(head_revisions())
                counts = row_counts(conn)
                metadata = reflect(conn)
                changed = []
                for name, dumped in dump["tables"].items():
                    if name in CHANGED_BY_MIGRATIONS:
                        continue
                    assert name in metadata.tables, f"the upgrade dropped table {name}"
                    assert counts[name] == len(dumped["rows"]), f"{name}: {len(dumped['rows'])} rows -> {counts[name]}"
                    table = metadata.tables[name]
                    columns = [c for c in dumped["columns"] if c in table.c]
                    assert columns == dumped["columns"], f"the upgrade dropped columns of {name}"
                    stored = conn.execute(select(*[table.c[c] for c in columns])).all()
                    before = _values(table, columns, dumped["rows"])
                    after = _values(table, columns, [[encode(v) for v in row] for row in stored])
                    if before != after:
                        changed.append(name)
                assert changed == [], f"the upgrade changed the rows of {changed}"
            db.engine.dispose()
        # Outside the app context: every request gets its own flask.g, as on a server.
        pages = record_pages(app, [(page["account"], page["url"]) for page in dump["pages"]])
        with app.app_context():
            db.engine.dispose()
    differ = [_page_diff(before, after) for before, after in zip(dump["pages"], pages, strict=True)
              if (before["status"], before["text"]) != (after["status"], after["text"])]
    assert differ == [], "pages show something else after the upgrade:\n" + "\n\n".join(differ)
