"""Rate limits hold across gunicorn workers and restarts (issue 17, item 5).

Flask-Limiter's memory:// storage gave each of 4 workers its own counters (40 messages through a
10/hour limit) and forgot them at a restart. The counters now live in the site's database
(core/ratelimit.py): a real ``gunicorn -w 4`` lets exactly 10 of 16 parallel messages through, and
after a restart the 17th is still refused. The assessment page bounds one address's answers to one event.
"""
from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select

from blueprints.core.cases import Case
from blueprints.core.extensions import db
from tests.gunicorn_helpers import gunicorn as serve

APP = ("app:create_app({'WTF_CSRF_ENABLED': False, 'PUBLIC_PAGE_CACHE_SECONDS': 0, "
       "'MESSAGE_RATE_LIMIT': '10 per hour'})")


@contextmanager
def gunicorn(database_url: str, log: Path, app: str = APP, workers: int = 4):
    with serve(database_url, log, app, workers=workers, secret="limits-secret") as port:  # noqa: S106
        yield port


def _post(port: int, path: str, form: dict, headers: dict | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, body=urlencode(form),
                       headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def test_a_10_per_hour_limit_holds_across_4_workers_and_a_restart(county, tmp_path):
    station_id = county["stations"][0].id
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    log = tmp_path / "gunicorn.log"

    def message(port, i):
        return _post(port, "/messages/new", {"target": f"s{station_id}", "body": f"第{i}条：路灯不亮，请修理。",
                                             "phone": "", "name": "", "website": ""})

    with gunicorn(url, log) as port, ThreadPoolExecutor(max_workers=16) as pool:
        # 16 connections at once: every worker serves some.
        statuses = list(pool.map(lambda i: message(port, i), range(16)))
    assert sorted(statuses) == [303] * 10 + [429] * 6, (statuses, log.read_text()[-2000:])
    with gunicorn(url, log) as port:  # a restart forgets nothing
        assert message(port, 99) == 429
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.source == "message")) == 10


def test_one_address_cannot_store_30_answers_to_one_assessment(demo):
    from app import create_app
    from blueprints.duties.models import ReportAssessment, VoterReport

    from .conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": demo.config["SQLALCHEMY_DATABASE_URI"],
                      "RATELIMIT_ENABLED": True})
    with app.app_context():
        report = db.session.scalar(select(VoterReport).where(VoterReport.qr_open))
        if report is None:
            report = db.session.scalar(select(VoterReport))
            from blueprints.core.transaction import transaction

            with transaction():
                report.qr_open = True
        token, report_id = report.qr_token, report.id
        before = db.session.scalar(select(func.count()).select_from(ReportAssessment)
                                   .where(ReportAssessment.report_id == report_id))
        db.session.remove()
        stored = 0
        for _ in range(30):  # a fresh client each time: a fresh device cookie each time
            client = app.test_client()
            client.get(f"/assess/{token}")
            if client.post(f"/assess/{token}", data={"choice": "unsatisfied"}).status_code == 200:
                stored += 1
        after = db.session.scalar(select(func.count()).select_from(ReportAssessment)
                                  .where(ReportAssessment.report_id == report_id))
        db.session.remove()
        db.engine.dispose()
    assert after - before == stored <= 20
