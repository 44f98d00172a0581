"""The schema comes only from alembic: the migrated database matches the models, and the migrations
run down to base and up to head again."""
from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, DefaultClause, MetaData, UniqueConstraint, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from blueprints.core.extensions import NAMING_CONVENTION, db
from blueprints.core.search import is_search_index

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
        # The search index (FTS5 tables, trigram indexes) is made by migration 0018 only, not by the models.
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": False,
            "include_object": lambda obj, name, type_, reflected, compare_to: not is_search_index(name)})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


# ---- what alembic's autogenerate does not compare: CHECK constraints, server defaults -------------------
# Both sides are read back from a database by SQLAlchemy's inspector, so that both texts went through the
# same hands: the migrated database on one side, and on the other the models' metadata created with
# ``create_all`` into a scratch SQLite file (SQLite) or a scratch schema of the test database (PostgreSQL
# normalises a CHECK's text itself, pg_get_constraintdef, and a default's, pg_get_expr). Unique
# constraints, indexes, foreign keys and primary keys are compared the same way, by name and content.

MODELS_SCHEMA = "models_from_metadata"  # scratch schema on PostgreSQL, dropped afterwards


def _sql(value) -> str | None:
    """One spelling for one SQL text: no quotes around names, no schema prefix, single spaces, no
    spaces inside parentheses, no redundant outer parentheses."""
    if value is None:
        return None
    value = str(value).replace(f"{MODELS_SCHEMA}.", "").replace('"', "")
    value = re.sub(r"\s+", " ", value).strip()
    value = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", value))
    while value.startswith("(") and value.endswith(")") and _balanced(value[1:-1]):
        value = value[1:-1].strip()
    return value


def _balanced(value: str) -> bool:
    depth = 0
    for char in value:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def reflect_schema(connection, schema: str | None = None) -> dict[str, dict]:
    """table -> what a migration has to create: checks, server defaults, uniques, indexes, FKs, PK."""
    inspector = inspect(connection)
    tables = {}
    for table in inspector.get_table_names(schema=schema):
        if table == "alembic_version" or is_search_index(table):  # FTS5 tables: migration-only
            continue
        tables[table] = {
            "check": {c["name"]: _sql(c["sqltext"]) for c in inspector.get_check_constraints(table, schema=schema)},
            "server_default": {c["name"]: _sql(c["default"]) for c in inspector.get_columns(table, schema=schema)
                               if c.get("default") is not None},
            "unique": {u["name"]: tuple(u["column_names"])
                       for u in inspector.get_unique_constraints(table, schema=schema)},
            "index": {i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
                      for i in inspector.get_indexes(table, schema=schema) if not is_search_index(i["name"])
                      # PostgreSQL reports a UNIQUE constraint's own index here too; it is compared as a unique
                      if not i.get("duplicates_constraint")},
            "foreign_key": {f["name"]: (tuple(f["constrained_columns"]), f["referred_table"],
                                        tuple(f["referred_columns"]),
                                        (f.get("options") or {}).get("ondelete", "NO ACTION").upper(),
                                        (f.get("options") or {}).get("onupdate", "NO ACTION").upper())
                            for f in inspector.get_foreign_keys(table, schema=schema)},
            "primary_key": (inspector.get_pk_constraint(table, schema=schema)["name"],
                            tuple(inspector.get_pk_constraint(table, schema=schema)["constrained_columns"])),
        }
    return tables


@contextmanager
def models_schema(metadata: MetaData):
    """A connection on which ``metadata`` has been created with create_all, and the schema name to reflect."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {MODELS_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {MODELS_SCHEMA}"))
            conn.commit()
            try:
                metadata.create_all(conn.execution_options(schema_translate_map={None: MODELS_SCHEMA}))
                conn.commit()
                yield conn, MODELS_SCHEMA
            finally:
                conn.rollback()
                conn.execute(text(f"DROP SCHEMA IF EXISTS {MODELS_SCHEMA} CASCADE"))
                conn.commit()
        return
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/models.db")
        try:
            metadata.create_all(engine)
            with engine.connect() as conn:
                yield conn, None
        finally:
            engine.dispose()


def constraint_diff(metadata: MetaData | None = None) -> list[tuple]:
    """(table, kind, name, in the models, in the migrated database) for every difference."""
    metadata = metadata if metadata is not None else db.metadata
    with db.engine.connect() as conn:
        migrated = reflect_schema(conn)
    with models_schema(metadata) as (conn, schema):
        models = reflect_schema(conn, schema)
    diff = []
    for table in sorted(set(models) | set(migrated)):
        if table not in models or table not in migrated:
            diff.append((table, "table", None, table in models, table in migrated))
            continue
        for kind, wanted in models[table].items():
            found = migrated[table][kind]
            if kind == "primary_key":
                if wanted != found:
                    diff.append((table, kind, None, wanted, found))
                continue
            for name in sorted(set(wanted) | set(found), key=str):
                if wanted.get(name) != found.get(name):
                    diff.append((table, kind, name, wanted.get(name), found.get(name)))
    return diff


def copy_of_models() -> MetaData:
    """The models' tables in a MetaData of their own, to change in a test without touching the app's."""
    copy = MetaData(naming_convention=NAMING_CONVENTION)
    for table in db.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_migrations_have_a_single_head(app):
    heads = head_revisions()
    assert len(heads) == 1, f"several alembic heads, merge them: {heads}"


def test_test_database_is_at_head(app):
    assert current_revisions() == set(head_revisions())


def test_migrated_database_matches_the_models(app):
    assert set(db.metadata.tables) >= CORE_TABLES, "models not imported"
    diff = schema_diff()
    assert diff == [], f"models and migrations disagree; write a migration for: {diff}"


def test_migrated_constraints_and_server_defaults_match_the_models(app):
    """CHECK constraints (name and text), server defaults, unique constraints, indexes, foreign keys and
    primary keys: what autogenerate leaves out or might miss."""
    diff = constraint_diff()
    assert diff == [], "models and migrations disagree; write a migration for:\n" + "\n".join(map(str, diff))


def test_a_check_changed_in_a_model_without_a_migration_is_reported(app):
    models = copy_of_models()
    cases = models.tables["cases"]
    rounds = next(c for c in cases.constraints if isinstance(c, CheckConstraint) and c.name == "ck_cases_round")
    rounds.sqltext = text("round >= 1 AND round <= 3")
    users = models.tables["users"]
    users.append_constraint(CheckConstraint("length(username) >= 2", name="username_length"))
    diff = constraint_diff(models)
    assert {(t, k, n) for t, k, n, _w, _f in diff} == {("cases", "check", "ck_cases_round"),
                                                        ("users", "check", "ck_users_username_length")}
    changed = next(d for d in diff if d[2] == "ck_cases_round")
    assert "3" in changed[3] and "2" in changed[4]  # the model's text, then the migrated database's
    added = next(d for d in diff if d[2] == "ck_users_username_length")
    assert added[4] is None  # in the models only


def test_a_server_default_unique_index_or_foreign_key_changed_without_a_migration_is_reported(app):
    models = copy_of_models()
    users = models.tables["users"]
    users.c.failed_logins.server_default = DefaultClause(text("0"))
    users.append_constraint(UniqueConstraint("display_name"))
    index = models.tables["audit_entries"].indexes.copy().pop()
    index.unique = not index.unique
    users.c.deputy_id.foreign_keys.copy().pop().constraint.ondelete = "CASCADE"
    kinds = {(t, k, n) for t, k, n, _w, _f in constraint_diff(models)}
    assert kinds == {("users", "server_default", "failed_logins"), ("users", "unique", "uq_users_display_name"),
                     ("audit_entries", "index", index.name), ("users", "foreign_key", "fk_users_deputy_id_deputies")}


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
    assert constraint_diff() == []  # the CHECKs too (SQLite batch migrations rebuild tables)


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
