"""Search benchmark (issue 19 §5): 5 sessions × 1,000 suggestions (tests.bench.suggestions' data) plus
15,000 constituent cases and 300 notices, then core.search as staff for a few Chinese queries.

    python -m tests.bench.search                         # a temporary SQLite file (FTS5 trigram)
    python -m tests.bench.search --database URL --reset  # e.g. a throwaway PostgreSQL database (pg_trgm)

Prints p50 / p95 milliseconds per query over --repeat runs (every kind, 20 hits each). Goal: p95 ≤ 100 ms.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from blueprints.core import search as core_search
from blueprints.core.cases import Case
from blueprints.core.extensions import db
from blueprints.core.models import User
from blueprints.noticeboard.models import Notice
from tests.bench import suggestions
from tests.bench.registry import app_for, log

QUERIES = ["修路", "卫生院", "农村道路通行", "噪音 扰民", "河道污染治理"]
PROBLEMS = ["门前道路坑洼需要修路", "夜间施工噪音扰民", "小区路灯不亮", "河道污染治理进展缓慢", "农贸市场占道经营",
            "学校门口交通拥堵", "自来水水压不足", "卫生院看病排队时间长"]


def add_cases_and_notices(url: str, n_cases: int, n_notices: int) -> None:
    app = app_for(url)
    rng = random.Random(11)
    now = datetime.now(UTC)
    with app.app_context():
        start = db.session.scalar(select(db.func.max(Case.id))) or 0
        rows = []
        for i in range(1, n_cases + 1):
            town, problem = rng.choice(suggestions.TOWNS), rng.choice(PROBLEMS)
            rows.append({"id": start + i, "source": rng.choice(["reception", "message", "kiosk", "deputy"]),
                         "status": "new", "title": f"{town}{problem}", "round": 1,
                         "body": f"{town}群众反映：{problem}，已持续一段时间，希望有关部门尽快处理。" * 2,
                         "receipt_code": f"S{start + i:07d}", "created_at": now, "updated_at": now})
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(Case), rows[chunk:chunk + 5000])
        db.session.execute(insert(Notice), [
            {"category": "notice", "title": f"{rng.choice(suggestions.TOWNS)}{rng.choice(PROBLEMS)}的处理情况公告",
             "body": "经核实，现将办理情况公告如下。" * 10, "scope": "county", "pinned": False, "version": 1,
             "row_version": 1, "publish_at": now - timedelta(days=i), "created_at": now, "updated_at": now}
            for i in range(n_notices)])
        db.session.commit()
        if url.startswith("postgresql"):
            from sqlalchemy import text

            db.session.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                                    "(SELECT max(id) FROM cases))"))
            db.session.commit()
        from blueprints.core.setup import analyze_database

        analyze_database()
        db.engine.dispose()


def measure(url: str, repeat: int) -> dict:
    app = app_for(url)
    results = {}
    with app.app_context(), app.test_request_context():
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        for query in QUERIES:
            found = core_search.search(query, user=staff)
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                core_search.search(query, user=staff)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            results[query] = (statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], found.total)
        db.engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", metavar="URL", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    parser.add_argument("--cases", type=int, default=15_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        built = suggestions.build(url, 5, 1_000, 100, args.reset)
        add_cases_and_notices(url, args.cases, 300)
        log(f"built {built['suggestions']} suggestions, {args.cases} cases, 300 notices")
        worst = 0.0
        for query, (p50, p95, total) in measure(url, args.repeat).items():
            worst = max(worst, p95)
            print(f"{query:<10} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({total} hits shown)")
        print(f"worst p95 {worst:.1f} ms (goal ≤ 100 ms)")
    return 0 if worst <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
