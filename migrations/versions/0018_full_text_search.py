"""Full-text search of suggestions, cases and notices (issue 19 §5; blueprints/core/search.py).

- PostgreSQL: the ``pg_trgm`` extension (CREATE EXTENSION IF NOT EXISTS: harmless when present; in
  production the owner role creates it, see README) and GIN trigram indexes ``ix_<table>_<column>_trgm``
  on the searched columns, which serve ``ILIKE '%词%'`` from 3 characters on.
- SQLite: FTS5 external-content tables ``<table>_fts`` (tokenize='trigram', SQLite >= 3.34) filled
  from the rows present, and triggers ``<table>_fts_ai/_ad/_au`` keeping them in sync.

These objects exist only here, not in the models: tests/test_migrations.py skips them
(core.search.is_search_index). A later SQLite batch migration that rebuilds one of these tables drops its
triggers and must create them again (``create_sqlite_fts(table)`` below).

Revision ID: 0018_full_text_search
Revises: 0017_meeting_notices
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_full_text_search'
down_revision = '0017_meeting_notices'
branch_labels = None
depends_on = None

SEARCHED = {
    "suggestions": ("title", "grounds", "proposal"),
    "cases": ("title", "body"),
    "notices": ("title", "body"),
}


def create_sqlite_fts(table: str) -> None:
    columns = SEARCHED[table]
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({names}, content='{table}', "
               f"content_rowid='id', tokenize='trigram')")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608 (fixed names)
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN "  # noqa: S608
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608 (fixed names)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The operator class lives in the extension's schema, which need not be on the search_path (an
        # extension created earlier in public while this schema is another one, as in the upgrade test).
        schema = op.get_bind().execute(sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'")).scalar_one()
        for table, columns in SEARCHED.items():
            for column in columns:
                op.execute(f'CREATE INDEX ix_{table}_{column}_trgm ON {table} USING gin ({column} "{schema}".gin_trgm_ops)')
    elif dialect == "sqlite":
        for table in SEARCHED:
            create_sqlite_fts(table)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # The extension stays: it may serve others, and only its owner may drop it.
        for table, columns in SEARCHED.items():
            for column in columns:
                op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_trgm")
    elif dialect == "sqlite":
        for table in SEARCHED:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
