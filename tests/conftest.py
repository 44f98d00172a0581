"""Fixtures as in flaskr: app, client, auth; a fresh, migrated database for every test.

SQLite (default): the migrations run once into a template file, copied for each test.
PostgreSQL (TEST_DATABASE_URL=postgresql+psycopg://...): the migrations run once into that database,
and every table is truncated after each test.
"""
from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import create_engine, text

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
    "RATELIMIT_ENABLED": False,
    "SERVER_NAME": None,
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


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """A migrated, empty database: a file path on SQLite, the URL itself on PostgreSQL."""
    if ON_POSTGRES:
        reset_postgres_schema(TEST_DATABASE_URL)
        _upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    _upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(database_template, tmp_path):
    if ON_POSTGRES:
        yield TEST_DATABASE_URL
        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            tables = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )).scalars().all()
            if tables:
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


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
