"""The schema comes only from alembic: the migrated database matches the models, and the migrations
run down to base and up to head again."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from blueprints.core.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
CORE_TABLES = {"users", "areas", "audit_entries", "login_attempts", "deputies", "deputy_groups",
               "group_memberships", "stations", "handling_units"}


def head_revisions() -> tuple[str, ...]:
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_heads()


def current_revisions() -> set[str]:
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def schema_diff() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_migrations_have_a_single_head(app):
    heads = head_revisions()
    assert len(heads) == 1, f"several alembic heads, merge them: {heads}"


def test_test_database_is_at_head(app):
    assert current_revisions() == set(head_revisions())


def test_migrated_database_matches_the_models(app):
    assert set(db.metadata.tables) >= CORE_TABLES, "models not imported"
    diff = schema_diff()
    assert diff == [], f"models and migrations disagree; write a migration for: {diff}"


def test_downgrade_to_base_and_upgrade_again(app):
    db.session.remove()  # no open transaction may hold a lock on the tables being dropped
    head = set(head_revisions())
    try:
        downgrade(revision="base")
        db.engine.dispose()
        assert not (CORE_TABLES & table_names())
        assert current_revisions() == set()
    finally:
        # The per-test database is shared on PostgreSQL: always leave it at head.
        upgrade()
        db.engine.dispose()
    assert table_names() >= CORE_TABLES
    assert current_revisions() == head
    assert schema_diff() == []


def test_audit_triggers_come_back_after_downgrade_and_upgrade(app):
    """The append-only guard is part of the schema: downgrade drops it, upgrade must restore it."""
    db.session.remove()
    try:
        downgrade(revision="base")
    finally:
        upgrade()
        db.engine.dispose()
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_entries (at, actor_name, action, object_type, summary) "
            "VALUES (CURRENT_TIMESTAMP, 'system', 'create', 'area', 'x')"
        ))
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET summary = 'changed'"))
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT summary FROM audit_entries")).scalars().all() == ["x"]


def test_sqlite_runs_with_foreign_keys_wal_and_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


INSERT_USER = text(
    "INSERT INTO users (username, display_name, password_hash, role, active, session_token, failed_logins, "
    "created_at, deputy_id) VALUES (:name, :name, 'x', 'clerk', true, 't', 0, CURRENT_TIMESTAMP, :deputy_id)"
)


def test_foreign_keys_are_enforced_by_the_database(app):
    """A user pointing at a deputy that does not exist is refused by the database itself."""
    with db.engine.begin() as conn:
        conn.execute(INSERT_USER, {"name": "real", "deputy_id": None})
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(INSERT_USER, {"name": "ghost", "deputy_id": 424242})
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["real"]
