"""A live server and one shared Chromium for the end-to-end tests.

The server is the real app (CSRF on, as in production) on a fresh, migrated database from the
``database_url`` fixture (SQLite or PostgreSQL), served by werkzeug on 127.0.0.1 and a free port.
One browser is launched per session; every test gets its own context (cookies) and page.

Without /usr/bin/chromium (or the playwright package) the tests are skipped, unless REQUIRE_E2E=1,
in which case they fail: CI must never pass by skipping the browser.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from blueprints.core.extensions import db
from tests.conftest import BASE_CONFIG, PASSWORD_HASH

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")  # Debian's package; override to try another
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Containers often give /dev/shm only 64 MB; Debian's launcher adds this too, but not reliably.
    "--disable-dev-shm-usage",
]
REQUIRE_E2E = os.environ.get("REQUIRE_E2E") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000  # generous for a loaded CI machine, short enough to fail fast


def _unavailable(reason: str):
    if REQUIRE_E2E:
        pytest.fail(f"REQUIRE_E2E=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# ---- the browser -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -r requirements.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@dataclass
class Console:
    """Console errors and uncaught page errors seen during a test."""

    messages: list[str] = field(default_factory=list)

    def errors(self, pattern: str = "") -> list[str]:
        return [m for m in self.messages if re.search(pattern, m, re.IGNORECASE)]


@pytest.fixture
def console():
    return Console()


@pytest.fixture
def page(request, browser, live_server, console):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda msg: console.messages.append(f"console.{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: console.messages.append(f"pageerror: {exc}"))
    yield page
    failed = any(getattr(request.node, f"rep_{when}", None) is not None
                 and getattr(request.node, f"rep_{when}").failed for when in ("setup", "call"))
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the real failure
            print(f"screenshot failed: {exc}")
    context.close()


# ---- the live server -------------------------------------------------------------------------

@dataclass
class LiveServer:
    app: object
    url: str

    def seed(self, fn):
        """Run fn() inside an app context (models, services) and commit; returns its result."""
        with self.app.app_context():
            try:
                result = fn()
                db.session.commit()
                return result
            finally:
                db.session.remove()

    def add_user(self, role: str = "staff", username: str | None = None, **values):
        from blueprints.core.models import User

        def create():
            user = User(username=username or role, display_name=values.pop("display_name", username or role),
                        role=role, password_hash=PASSWORD_HASH, **values)
            db.session.add(user)
            db.session.flush()
            return user.id

        return self.seed(create)

    def add_deputy(self, **values):
        from tests.conftest import make_deputy_record

        return self.seed(lambda: make_deputy_record(**values).id)


@pytest.fixture
def live_server(database_url):
    yield from serve(database_url)


@pytest.fixture
def demo_live_server(demo_database_url):
    """The live server on a fresh copy of the demo county (demo accounts' password: PASSWORD)."""
    yield from serve(demo_database_url)


def serve(database_url):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
