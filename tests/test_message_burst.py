"""A burst of anonymous messages (issue 13): 48 people press 提交留言 at the same moment on a site served
by real gunicorn with 4 worker processes on a migrated file database (SQLite from the tests' database
fixtures; the PostgreSQL TEST_DATABASE_URL when set). Before core.transaction began every write
transaction IMMEDIATE, half of them answered 500 "database is locked" on SQLite (a deferred transaction
in cases.open_case that had read the receipt code could not become a writer). Now every message is
stored, every answer is the redirect to the receipt, and each person is shown their own receipt code.

CSRF is on, as in production: each client first fetches the form (its session cookie and token), then
all of them post together. Rate limiting is off for this server (48 posts from 127.0.0.1). Every wait is
bounded and the server is stopped at the end whatever happens.
"""
from __future__ import annotations

import http.client
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from blueprints.core.cases import Case
from blueprints.core.extensions import db
from tests.gunicorn_helpers import gunicorn as serve

BURST = 48
WORKERS = 4
TIMEOUT = 60  # seconds for any one request, and for the whole burst
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RECEIPT = re.compile(r'id="receipt-code">([A-Z2-9]{8})<')
# The production app, with the limiter off; everything else as in production (CSRF on, no test mode).
APP = "app:create_app({'RATELIMIT_ENABLED': False, 'PUBLIC_PAGE_CACHE_SECONDS': 0})"


@pytest.fixture
def gunicorn(database_url, tmp_path):
    """gunicorn -w 4 on 127.0.0.1 and a free port, serving database_url; yields (port, log path)."""
    log = tmp_path / "gunicorn.log"
    with serve(database_url, log, APP, workers=WORKERS, secret="burst-secret") as port:  # noqa: S106
        yield port, log


class Visitor:
    """One person's browser: a connection of their own and the session cookie."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("dp_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), text


def test_a_burst_of_48_messages_to_gunicorn_stores_every_one(county, gunicorn):
    port, log = gunicorn
    station_id = county["stations"][0].id
    db.session.remove()  # the test's own connection holds nothing while the server writes
    start = threading.Barrier(BURST, timeout=TIMEOUT)

    def one(index: int):
        visitor = Visitor(port)
        status, _location, html = visitor.request("GET", f"/messages/new?station_id={station_id}")
        token = CSRF.search(html)
        assert status == 200 and token, f"GET the form: {status}"
        start.wait()  # everyone has the form: all 48 press the button together
        posted = time.perf_counter()
        status, location, html = visitor.request("POST", "/messages/new", {
            "csrf_token": token.group(1), "target": f"s{station_id}", "body": f"第{index}号留言：路灯不亮，请修理。",
            "phone": "", "name": "", "website": ""})
        seconds = time.perf_counter() - posted
        if status != 303:
            return status, None, seconds, html[:500]
        status_sent, _location, page = visitor.request("GET", location)
        code = RECEIPT.search(page)
        return status, code.group(1) if status_sent == 200 and code else None, seconds, ""

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        futures = [pool.submit(one, i) for i in range(BURST)]
        results = [future.result(timeout=2 * TIMEOUT) for future in futures]

    statuses = [status for status, _code, _seconds, _body in results]
    failures = [(status, body) for status, _code, _seconds, body in results if status != 303]
    assert statuses == [303] * BURST, (f"{len(failures)} of {BURST} refused: {failures[:3]}\n"
                                       f"server log:\n{log.read_text()[-3000:]}")
    shown = [code for _status, code, _seconds, _body in results]
    assert None not in shown and len(set(shown)) == BURST  # each person got their own receipt code

    db.session.remove()
    stored = db.session.scalars(select(Case.receipt_code).where(Case.source == "message")).all()
    assert len(stored) == BURST and set(stored) == set(shown)
    assert db.session.scalar(select(func.count(func.distinct(Case.receipt_code)))) == BURST
    assert "database is locked" not in log.read_text()
