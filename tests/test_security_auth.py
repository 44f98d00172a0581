"""Issue 17, items 6 and 7 and the security event log.

6. Forwarded headers are believed only from TRUSTED_PROXIES: a new X-Forwarded-For per request does
   not escape the per-address login block or the message limit; Host / X-Forwarded-Host never reach the
   Atom feed, the public page cache or a QR code (PUBLIC_BASE_URL only).
7. A parallel burst of 20 wrong guesses checks no more passwords than the free attempts.
Low: sign-in, sign-out, password change, 403, CSRF failure and 429 are logged without passwords or
phone numbers, and staff search them at /audit/security.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from app import create_app
from blueprints.core import accounts
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.models import SecurityEvent

from .conftest import BASE_CONFIG, ON_POSTGRES, PASSWORD, TEST_DATABASE_URL

STRANGER = {"REMOTE_ADDR": "203.0.113.5"}


@contextmanager
def second_app(url: str, **config):
    """Another app on the test's database, with its own settings (read at create_app)."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_address_login_block(database_url):
    with second_app(database_url, TRUSTED_PROXIES="127.0.0.1,::1", LOGIN_MAX_FAILURES_PER_ADDRESS=3) as app:
        client = app.test_client()
        pages = [client.post("/login", data={"username": f"nobody{n}", "password": "wrong-password"},
                             headers={"X-Forwarded-For": f"10.9.{n}.1"}, environ_base=STRANGER)
                 .get_data(as_text=True) for n in range(4)]
        assert all("用户名或密码不正确" in page for page in pages[:3])
        assert "此网络地址登录失败次数过多" in pages[3]
        addresses = set(db.session.scalars(select(SecurityEvent.address)))
        assert addresses == {"203.0.113.5"}
        # A trusted proxy (nginx on the same machine) is believed: its X-Forwarded-For is the address.
        client.post("/login", data={"username": "nobody9", "password": "x"}, headers={"X-Forwarded-For": "10.1.1.1"},
                    environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert db.session.scalar(select(SecurityEvent.address).order_by(SecurityEvent.id.desc()).limit(1)) == "10.1.1.1"


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_message_limit(county, database_url):
    station_id = county["stations"][0].id
    with second_app(database_url, TRUSTED_PROXIES="127.0.0.1,::1", RATELIMIT_ENABLED=True,
                    MESSAGE_RATE_LIMIT="2 per hour") as app:
        client = app.test_client()
        statuses = [client.post("/messages/new", data={"target": f"s{station_id}", "body": f"第{n}条：路灯不亮。",
                                                       "phone": "", "name": "", "website": ""},
                                headers={"X-Forwarded-For": f"10.8.{n}.1"}, environ_base=STRANGER).status_code
                    for n in range(3)]
        assert statuses == [303, 303, 429]
        assert db.session.scalar(select(func.count()).select_from(SecurityEvent)
                                 .where(SecurityEvent.kind == "rate_limited")) == 1


def test_a_forged_host_reaches_neither_the_feed_the_page_cache_nor_a_qr_code(demo):
    from blueprints.core import pagecache
    from blueprints.registry.models import Deputy

    url = demo.config["SQLALCHEMY_DATABASE_URI"]
    deputy_id = db.session.scalar(select(Deputy.id).where(Deputy.ended_on.is_(None)).limit(1))
    db.session.remove()
    pagecache.clear()
    with second_app(url, TRUSTED_PROXIES="127.0.0.1,::1", PUBLIC_PAGE_CACHE_SECONDS=30,
                    PUBLIC_BASE_URL="https://rd.example.gov.cn") as app:
        if pagecache.current_version() is None:  # PostgreSQL: the tests' TRUNCATE emptied the counter table
            from blueprints.core.models import ContentVersion
            from blueprints.core.transaction import transaction

            with transaction():
                db.session.add(ContentVersion(name="public", version=1))
        db.session.remove()
        evil = app.test_client()
        for environ in ({"REMOTE_ADDR": "127.0.0.1"}, STRANGER):  # from the trusted proxy and from anyone
            for path in ("/notices/feed.atom", f"/deputies/{deputy_id}/qr.svg", "/stations/"):
                for kwargs in ({"base_url": "http://evil.example"}, {"headers": {"X-Forwarded-Host": "evil.example"}}):
                    body = evil.get(path, environ_base=environ, **kwargs).get_data(as_text=True)
                    assert "evil.example" not in body, path
        visitor = app.test_client()
        feed = visitor.get("/notices/feed.atom")
        assert feed.headers["X-Page-Cache"] == "hit" and "evil.example" not in feed.get_data(as_text=True)
        assert "https://rd.example.gov.cn/" in feed.get_data(as_text=True)
        assert "evil.example" not in visitor.get(f"/deputies/{deputy_id}/qr.svg").get_data(as_text=True)
    pagecache.clear()


def test_a_parallel_burst_of_20_wrong_guesses_checks_only_the_free_attempts(app, users, database_url):
    free, staff_id = app.config["LOGIN_FREE_ATTEMPTS"], users["staff"].id
    db.session.remove()
    start = threading.Barrier(20, timeout=60)

    with second_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "pool_pre_ping": True}) as burst:
        def guess(n):
            with burst.app_context():  # a session (and a connection) of its own, like a worker's request
                start.wait()
                try:
                    accounts.authenticate("staff", f"wrong-{n}", "198.51.100.20")
                except DomainError as exc:
                    return exc.message
                finally:
                    db.session.remove()
            return "signed in"

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(guess, range(20)))
    checked = sum("用户名或密码不正确" in answer for answer in answers)
    assert checked == free and sum("后再试" in answer for answer in answers) == 20 - free, answers
    # The owner elsewhere is not held up by the burst.
    assert accounts.authenticate("staff", PASSWORD, "203.0.113.80").id == staff_id


def test_security_events_are_logged_without_passwords_or_phones_and_staff_search_them(app, client, auth, users):
    app.config.update(WTF_CSRF_ENABLED=False)
    auth.login("13812345678", "Secret-guess-1")
    auth.login("staff", "Secret-guess-2")
    auth.login("deputy")
    assert client.get("/audit/").status_code == 403
    new = "Brand-new-pass-42"
    client.post("/account/password", data={"current": PASSWORD, "new": new, "confirm": new})
    auth.logout()
    app.config.update(WTF_CSRF_ENABLED=True)
    client.post("/login", data={"username": "staff", "password": PASSWORD})  # no CSRF token
    app.config.update(WTF_CSRF_ENABLED=False)
    events = db.session.execute(select(SecurityEvent.kind, SecurityEvent.user_id, SecurityEvent.login)
                                .order_by(SecurityEvent.id)).all()
    kinds = [kind for kind, _user, _login in events]
    assert kinds == ["login_failed", "login_failed", "login_ok", "forbidden", "password_changed", "logout",
                     "csrf_failed"]
    assert events[0].login == "138******78" and events[1].user_id == users["staff"].id and events[1].login is None
    stored = " ".join(str(v) for row in db.session.execute(select(SecurityEvent.__table__)).all() for v in row)
    assert "Secret-guess" not in stored and "Brand-new" not in stored and "12345678" not in stored

    auth.login("staff")

    def rows(query):
        return client.get(f"/audit/security?{query}").get_data(as_text=True).split("<tbody>")[1]

    page = rows("kind=login_failed")
    assert "138******78" in page and "登录失败" in page and "修改密码" not in page
    page = rows("user=deputy")
    assert "修改密码" in page and "退出登录" in page and "138******78" not in page
    assert "日期格式" in client.get("/audit/security?start=2026-13-45", follow_redirects=True).get_data(as_text=True)


@pytest.mark.skipif(not ON_POSTGRES, reason="database roles: PostgreSQL only")
def test_the_application_role_of_the_readme_cannot_disable_the_audit_trigger_but_the_app_works(app, users):
    """README (Production, two database roles): the application's role owns nothing."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from blueprints.core import audit
    from blueprints.core.transaction import transaction

    owner_url = make_url(TEST_DATABASE_URL)
    role = f"rt_{owner_url.database}"[:60]
    owner = create_engine(owner_url)
    with owner.begin() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
            conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'rt-secret'"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'))
        conn.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
    app_url = owner_url.set(username=role, password="rt-secret")
    db.session.remove()
    try:
        runtime = create_engine(app_url)
        for ddl in ("ALTER TABLE audit_entries DISABLE TRIGGER ALL", "DROP TRIGGER audit_entries_append_only ON "
                    "audit_entries", "CREATE TABLE sneaky (id int)", "ALTER TABLE users ADD COLUMN x int"):
            with runtime.begin() as conn, pytest.raises(DBAPIError, match="must be owner|permission denied"):
                conn.execute(text(ddl))
        runtime.dispose()
        with second_app(app_url.render_as_string(hide_password=False)) as runtime_app:
            user = accounts.authenticate("staff", PASSWORD, "203.0.113.9")  # reads, writes, throttles
            with transaction():
                audit.record("update", "user", user.id, "由应用角色写入", actor=user)
            assert runtime_app.test_client().get("/healthz").status_code == 200
            with pytest.raises(DBAPIError, match="append-only"), transaction():
                db.session.execute(text("UPDATE audit_entries SET summary = 'x'"))
    finally:
        with owner.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        owner.dispose()
