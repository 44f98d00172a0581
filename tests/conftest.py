"""Fixtures as in flaskr: app, client, auth; a fresh, migrated database for every test.

SQLite (default): the migrations run once into a template file, copied for each test.
PostgreSQL (TEST_DATABASE_URL=postgresql+psycopg://...): the migrations run once into that database,
and every table is truncated after each test.

The demo county (``demo`` fixture, instead of ``app``) is loaded once per session as well: on SQLite into
a second template file, copied for each test; on PostgreSQL into the database's tables, which are then
copied into the schema ``demo_template`` and copied back (INSERT ... SELECT) for each test.

Every fixture that more than one test file uses lives here; helper modules (tests/*_helpers.py) hold
plain functions only.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager

import pytest
from flask import g
from sqlalchemy import create_engine, event, text

from app import create_app
from blueprints.core.accounts import hash_password
from blueprints.core.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
PASSWORD = "demo-2026"
PASSWORD_HASH = hash_password(PASSWORD)  # scrypt is slow on purpose: hash once per run

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "PUBLIC_PAGE_CACHE_SECONDS": 0,  # tests/test_pagecache.py turns the public page cache on
    "PUBLIC_FACTS_SECONDS": 0,  # tests/test_public_facts_memo.py turns the remembered list facts on
    "STANDINGS_MEMO_SECONDS": 0,  # tests/test_standings_memo.py turns the remembered duty ranking on
    "RATELIMIT_ENABLED": False,
    "TOTP_REQUIRED_FOR_ADMINS": False,  # tests/test_totp.py turns it on
    "SERVER_NAME": None,
    # Attachments kept across a refused submit (duties/provisional.py): never under the repository's instance/
    "PROVISIONAL_DIR": os.path.join(tempfile.gettempdir(), f"app-tests-provisional-{os.getpid()}"),
}


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL.split('@')[-1] if ON_POSTGRES else 'SQLite'}"


def pytest_sessionstart(session):
    if os.environ.get("REQUIRE_PG") == "1" and not ON_POSTGRES:
        raise pytest.UsageError("REQUIRE_PG=1 but TEST_DATABASE_URL does not name a PostgreSQL database")


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


DEMO_SCHEMA = "demo_template"  # PostgreSQL: the demo county's rows, copied back for each demo test


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """A migrated, empty database: a file path on SQLite, the URL itself on PostgreSQL."""
    if ON_POSTGRES:
        reset_postgres_schema(TEST_DATABASE_URL)
        _upgrade(TEST_DATABASE_URL)
        yield TEST_DATABASE_URL
        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {DEMO_SCHEMA} CASCADE"))
        engine.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    _upgrade(f"sqlite:///{path}")
    yield str(path)


def _public_tables(conn) -> list[str]:
    return conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    )).scalars().all()


def empty_postgres_tables(url: str) -> None:
    """Empty every table and restart every id sequence, touching only what a test used.

    A TRUNCATE of all 87 tables took about 300 ms per test, most of a small test's time on PostgreSQL;
    one probe finds the few tables that hold rows. A superuser deletes them with the foreign keys'
    triggers off (no ordering, and the empty tables are not touched); another role truncates them
    with CASCADE. A second probe reads every sequence itself and restarts those not at their start: one
    that a rolled-back INSERT moved, or one that ``setval(…, false)`` moved (the demo's copy), which
    ``pg_sequences.last_value`` does not show.
    """
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = _public_tables(conn)
        if tables:
            probe = " UNION ALL ".join(
                f"(SELECT CAST('{table}' AS text) FROM public.\"{table}\" LIMIT 1)" for table in tables)
            filled = conn.execute(text(probe)).scalars().all()
            if filled and conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for table in filled:
                    conn.execute(text(f'DELETE FROM public."{table}"'))
            elif filled:
                conn.execute(text(f"TRUNCATE {', '.join(filled)} CASCADE"))
        sequences = conn.execute(text(
            "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = 'public'")).all()
        if sequences:
            probe = " UNION ALL ".join(
                f"SELECT CAST('{name}' AS text) FROM public.\"{name}\" WHERE is_called OR last_value <> {start}"
                for name, start in sequences)
            for sequence in conn.execute(text(probe)).scalars().all():
                conn.execute(text(f'ALTER SEQUENCE public."{sequence}" RESTART'))
    engine.dispose()


@pytest.fixture
def database_url(database_template, tmp_path):
    if ON_POSTGRES:
        yield TEST_DATABASE_URL
        empty_postgres_tables(TEST_DATABASE_URL)
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"


@contextmanager
def app_on(url: str):
    """The test app on ``url``, its app context pushed."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(database_url):
    with app_on(database_url) as app:
        yield app


def _load_demo(url: str) -> None:
    from blueprints.core.demo import load_demo_county

    with app_on(url):
        load_demo_county()


@pytest.fixture(scope="session")
def demo_template(database_template, tmp_path_factory):
    """The demo county, loaded once: a file path on SQLite; on PostgreSQL the schema holding its rows."""
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        shutil.copyfile(database_template, path)
        _load_demo(f"sqlite:///{path}")
        return str(path)
    try:
        _load_demo(TEST_DATABASE_URL)  # the tables are empty between tests
        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {DEMO_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {DEMO_SCHEMA}"))
            for table in _public_tables(conn):
                conn.execute(text(f'CREATE TABLE {DEMO_SCHEMA}."{table}" AS TABLE public."{table}"'))
        engine.dispose()
    finally:
        empty_postgres_tables(TEST_DATABASE_URL)
    return DEMO_SCHEMA


def _copy_demo_back(url: str) -> None:
    """PostgreSQL: the demo's rows into the empty tables (a foreign key closing a cycle between two tables
    is set once both are filled), and every id sequence past the highest id."""
    from tests.data.demo_dump import insert_order

    tables, deferred = insert_order(db.metadata)
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in tables:
            late = [c.name for c in table.columns if (table.name, c.name) in deferred]
            values = ", ".join("NULL" if c.name in late else f'"{c.name}"' for c in table.columns)
            columns = ", ".join(f'"{c.name}"' for c in table.columns)
            conn.execute(text(f'INSERT INTO public."{table.name}" ({columns}) '
                              f'SELECT {values} FROM {DEMO_SCHEMA}."{table.name}"'))
        for table in tables:
            late = [c.name for c in table.columns if (table.name, c.name) in deferred]
            if late:
                key = " AND ".join(f't."{c.name}" = d."{c.name}"' for c in table.primary_key.columns)
                values = ", ".join(f'"{name}" = d."{name}"' for name in late)
                conn.execute(text(f'UPDATE public."{table.name}" AS t SET {values} '
                                  f'FROM {DEMO_SCHEMA}."{table.name}" AS d WHERE {key}'))
        # The table name is schema-qualified: the planner may call pg_get_serial_sequence on rows of other
        # schemas before the join drops them, and a bare name such as information_schema's sql_features
        # then fails with "relation does not exist" (seen now and then).
        sequences = conn.execute(text(
            "SELECT t.relname, a.attname, pg_get_serial_sequence(format('%I.%I', n.nspname, t.relname), a.attname) "
            "FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public' "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE t.relkind = 'r' "
            "AND pg_get_serial_sequence(format('%I.%I', n.nspname, t.relname), a.attname) IS NOT NULL"
        )).all()
        for table, column, sequence in sequences:
            conn.execute(text(f"SELECT setval('{sequence}', COALESCE((SELECT MAX(\"{column}\") FROM "
                              f"public.\"{table}\"), 0) + 1, false)"))
    engine.dispose()


@pytest.fixture
def demo_database_url(demo_template, tmp_path):
    """A fresh copy of the demo county for one test (use it, or ``demo``, instead of database_url/app)."""
    if ON_POSTGRES:
        _copy_demo_back(TEST_DATABASE_URL)
        yield TEST_DATABASE_URL
        empty_postgres_tables(TEST_DATABASE_URL)
    else:
        path = tmp_path / "demo.db"
        shutil.copyfile(demo_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def demo(demo_database_url):
    """The app on a fresh copy of the demo county (demo accounts' password: PASSWORD)."""
    with app_on(demo_database_url) as app:
        yield app


@pytest.fixture
def fresh_login_per_request(app):
    """Each request starts with an empty ``flask.g``, as on a real server.

    The ``app`` fixture keeps one app context open for the whole test and the test client's requests
    reuse it, so ``flask.g`` — where Flask-Login caches ``current_user`` and Flask-WTF the CSRF token —
    would outlive a request and even be shared between two clients. Without this, a rotated session token
    or a copied cookie would be judged by the previous request's user. A test module turns it on for all
    its tests with ``pytestmark = pytest.mark.usefixtures("fresh_login_per_request")``.
    """

    def fresh_globals():
        for name in list(g):
            g.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, fresh_globals)


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="staff", password=PASSWORD, follow_redirects=False):
        return self._client.post(
            "/login", data={"username": username, "password": password}, follow_redirects=follow_redirects
        )

    def logout(self):
        return self._client.post("/logout")


COUNTERS = ("public", "duty_standings")  # the change counters' rows the migrations seed (core/counters.py)


@pytest.fixture
def content_counter(app):
    """The change counters' rows in content_versions, which the page cache, the remembered public facts and
    the remembered duty ranking need; PostgreSQL tests empty every table between tests."""
    from blueprints.core.models import ContentVersion

    missing = [name for name in COUNTERS if db.session.get(ContentVersion, name) is None]
    if missing:
        db.session.add_all(ContentVersion(name=name, version=0) for name in missing)
        db.session.commit()


@pytest.fixture
def statements(app):
    """statements() -> a context manager recording the SQL every statement sent while it is open."""
    @contextmanager
    def recording():
        seen: list[str] = []

        def note(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", note)

    return recording


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_user(app):
    """make_user(role, username=None, **links) -> User with password PASSWORD."""
    from blueprints.core.models import User

    def factory(role: str, username: str | None = None, **links):
        if role == "deputy" and "deputy" not in links:
            links["deputy"] = make_deputy_record(name=f"代表{username or ''}".strip())
        user = User(username=username or role, display_name=links.pop("display_name", username or role),
                    role=role, password_hash=PASSWORD_HASH, **links)
        db.session.add(user)
        db.session.commit()
        return user

    return factory


def make_deputy_record(**values):
    from blueprints.registry.models import Deputy

    values.setdefault("name", "张三")
    values.setdefault("level", "county")
    deputy = Deputy(**values)
    db.session.add(deputy)
    db.session.flush()
    return deputy


@pytest.fixture
def make_deputy(app):
    def factory(**values):
        deputy = make_deputy_record(**values)
        db.session.commit()
        return deputy

    return factory


@pytest.fixture
def users(make_user):
    """One account per role, each with password PASSWORD; the deputy account is linked to 张三."""
    return {role: make_user(role) for role in ("admin", "staff", "liaison", "clerk", "unit", "deputy")}


@pytest.fixture
def county(app):
    """A small county: 2 townships with a village each, 2 stations, 2 groups, 1 handling unit."""
    from blueprints.core.models import Area
    from blueprints.registry.models import DeputyGroup, HandlingUnit, Station

    root = Area(name="青山县", kind="county")
    town_a = Area(name="城关镇", kind="township", parent=root)
    town_b = Area(name="临涣镇", kind="township", parent=root)
    db.session.add_all([root, town_a, town_b, Area(name="东街社区", kind="village", parent=town_a),
                        Area(name="临涣村", kind="village", parent=town_b)])
    stations = [Station(name="城关镇人大代表之家", kind="home", area=town_a),
                Station(name="临涣镇人大代表联络站", kind="station", area=town_b)]
    groups = [DeputyGroup(name="城关镇代表小组", kind="regional", area=town_a),
              DeputyGroup(name="法制监督专业代表小组", kind="professional", speciality="司法")]
    unit = HandlingUnit(name="县住房和城乡建设局")
    db.session.add_all([*stations, *groups, unit])
    db.session.commit()
    return {"county": root, "townships": [town_a, town_b], "stations": stations, "groups": groups, "unit": unit}
