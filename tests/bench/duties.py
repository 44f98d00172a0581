"""Duty registration benchmark: a city of 11,000 deputies with 100,000 verified activities in a year.

    python -m tests.bench.duties                          # a temporary SQLite file
    python -m tests.bench.duties --database URL --reset   # e.g. a throwaway PostgreSQL database

Builds (in bulk) 1,000 regional groups, 11,000 deputies of one level (the worst case: the whole
city ranked together), 100,000 verified activities spread over this year, a deputy with a long
history (600 activities over six years) and this year's points rules. It prints, for the ranking
aggregate alone and for /me/, the staff archive, the annual evaluation page (and its next page as
an HTMX fragment), the ranking export and the public profile, through the Flask test client: the SQL
query count, the first request's time (it computes the year's ranking) and the median of --repeat more
(served from the ranking the worker remembers while nothing changes), as wall and process CPU time.

On PostgreSQL the public schema of the given database is dropped and rebuilt, so it refuses to run
on a database with tables unless --reset is given.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event, insert, text

from blueprints.core.extensions import db
from blueprints.core.models import User
from blueprints.core.timeutil import local_today, utcnow
from blueprints.duties import scoring
from blueprints.duties.models import ACTIVITY_TYPES, Activity
from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership
from tests.bench.registry import GIVEN, PASSWORD, SURNAMES, app_for, log, prepare_database

N_DEPUTIES = 11_000
N_GROUPS = 1_000
N_ACTIVITIES = 100_000
LEVEL = "county"


@contextmanager
def counting(engine):
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def build(app, year: int) -> int:
    """The city; returns the id of the deputy with the long history (who has an account)."""
    from blueprints.core.accounts import hash_password

    rng = random.Random(5)
    today = local_today()
    days = max(1, (min(today, date(year, 12, 31)) - date(year, 1, 1)).days)
    with app.app_context():
        t0 = time.perf_counter()
        db.session.execute(insert(DeputyGroup), [{"name": f"第{i + 1}代表小组", "kind": "regional"}
                                                for i in range(N_GROUPS)])
        db.session.execute(insert(Deputy), [
            {"name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) + str(i), "level": LEVEL,
             "created_at": utcnow(), "updated_at": utcnow()} for i in range(N_DEPUTIES)])
        db.session.execute(insert(GroupMembership), [
            {"group_id": 1 + i % N_GROUPS, "deputy_id": i + 1, "role": "member"} for i in range(N_DEPUTIES)])
        types = list(ACTIVITY_TYPES)
        rows = [{"deputy_id": rng.randint(1, N_DEPUTIES), "type_code": rng.choice(types),
                 "occurred_on": date(year, 1, 1) + timedelta(days=rng.randint(0, days)), "year": year,
                 "title": "履职活动", "status": "verified", "source": "bench", "source_ref": str(i),
                 "created_at": utcnow(), "updated_at": utcnow()} for i in range(N_ACTIVITIES)]
        for start in range(0, len(rows), 10_000):
            db.session.execute(insert(Activity), rows[start:start + 10_000])
        # One deputy with a long history: 600 activities over six years, some pending.
        history = [{"deputy_id": 1, "type_code": rng.choice(types), "year": year - k % 6,
                    "occurred_on": date(year - k % 6, 1 + k % 12, 1 + k % 28) if year - k % 6 < year
                    else date(year, 1, 1) + timedelta(days=k % days),
                    "title": "长期履职", "status": "pending" if k % 10 == 0 else "verified", "source": "history",
                    "source_ref": str(k), "created_at": utcnow(), "updated_at": utcnow()} for k in range(600)]
        db.session.execute(insert(Activity), history)
        password = hash_password(PASSWORD)
        db.session.add_all([User(username="staff", display_name="staff", role="staff", password_hash=password),
                            User(username="deputy", display_name="deputy", role="deputy", password_hash=password,
                                 deputy_id=1)])
        db.session.commit()
        scoring.ensure_year(year)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        log(f"built {N_DEPUTIES} deputies, {N_ACTIVITIES + 600} activities in {time.perf_counter() - t0:.1f} s")
        db.engine.dispose()
    return 1


def measure(app, username: str, url: str, repeat: int, headers: dict | None = None):
    """(queries of the last request, first request's ms, median ms of the others, KB; each as wall and
    process CPU time). The first request after clearing the remembered ranking computes it; the others
    are served from it while nothing changes (duties/scoring.py)."""
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    scoring.remembered.clear()
    with app.app_context():
        wall, cpu, count, size = [], [], 0, 0
        for _ in range(repeat + 1):
            with counting(db.engine) as statements:
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(url, headers=headers or {})
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            count, size = len(statements), len(response.data)
        return count, (wall[0], cpu[0]), (statistics.median(wall[1:]), statistics.median(cpu[1:])), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = None
    url = args.database
    if not url:
        tmp = tempfile.mkdtemp(prefix="bench-duties-")
        url = f"sqlite:///{tmp}/duties.db"
    prepare_database(url, args.reset)
    app = app_for(url)
    year = local_today().year
    deputy_id = build(app, year)

    with app.app_context():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            rows, total = scoring.ranking_page(year, LEVEL, 1)
            times.append(time.perf_counter() - start)
        db.engine.dispose()
    print(f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}; "
          f"{N_DEPUTIES} deputies, {N_ACTIVITIES} verified activities in {year}")
    label = "annual ranking aggregate (page 1 + count)"
    print(f"{label:48} {'2 queries':>10} {statistics.median(times) * 1000:9.0f} ms")
    pages = [
        ("/me/ (deputy, 600-activity history)", "deputy", "/me/", None),
        ("staff archive of that deputy", "staff", f"/duties/deputies/{deputy_id}", None),
        ("annual evaluation page (full, charts)", "staff", f"/duties/evaluation/?year={year}&level={LEVEL}", None),
        ("ranking page 2 (HTMX fragment, 50 rows)", "staff",
         f"/duties/evaluation/?year={year}&level={LEVEL}&page=2", {"HX-Request": "true"}),
        ("ranking export .xlsx (11,000 rows)", "staff", f"/duties/evaluation/export.xlsx?year={year}&level={LEVEL}",
         None),
        ("public profile /deputies/<id>", "staff", f"/deputies/{deputy_id}", None),
    ]
    print(f"{'':48} {'':>11} {'first (wall/CPU)':>18} {'again (wall/CPU)':>18}")
    for label, user, path, headers in pages:
        count, first, again, size = measure(app, user, path, args.repeat, headers)
        print(f"{label:48} {count:>3} queries {first[0] * 1000:8.0f}/{first[1] * 1000:<6.0f}ms "
              f"{again[0] * 1000:8.0f}/{again[1] * 1000:<6.0f}ms {size / 1024:6.0f} KB")
    with app.app_context():
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
