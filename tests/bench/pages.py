"""Public pages under load: the city-sized database (11,000 deputies, 400 stations, 1,000 groups,
20,000 notices) served by gunicorn (2 workers) on loopback, driven by 16 concurrent clients.

    python -m tests.bench.pages                          # temporary SQLite files
    python -m tests.bench.pages --database URL --reset   # e.g. a throwaway PostgreSQL database

For each page it prints the SQL queries per request at demo size and at city size (counted in-process
through the Flask test client, page cache off) and when served from the page cache, then p50/p95
latency under load and throughput as a ratio to /healthz measured in the same run, twice: with the
public page cache as deployed, and with it off (every request rendered). All traffic stays on
127.0.0.1; every loop is bounded in count.
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from blueprints.core.extensions import db
from blueprints.core.setup import analyze_database
from blueprints.noticeboard.models import CATEGORIES, Notice
from blueprints.registry.models import Deputy, Station

from .registry import app_for, counting, create_places, insert_deputies_directly, log, prepare_database

ROOT = Path(__file__).resolve().parents[2]
NOTICE_WORDS = ("代表", "接待", "联络站", "民生实事", "建议办理", "视察", "调研", "述职", "票决", "通知")


def insert_notices(n: int) -> None:
    """Half county-wide, a quarter for a township, a quarter for one station, as offices publish."""
    now = datetime.now(UTC)
    keys = list(CATEGORIES)
    stations = db.session.execute(select(Station.id, Station.area_id).order_by(Station.id)).all()
    rows = []
    for i in range(n):
        word = NOTICE_WORDS[i % len(NOTICE_WORDS)]
        station_id, area_id = stations[(i // 4) % len(stations)]
        scope = ("county", "county", "township", "station")[i % 4]
        rows.append({
            "category": keys[i % len(keys)], "title": f"关于{word}工作的第{i + 1}号公示",
            "body": f"各位代表、选民：现将{word}有关事项公示如下。" * 8, "pinned": i % 997 == 0,
            "scope": scope, "area_id": area_id if scope != "county" else None,
            "station_id": station_id if scope == "station" else None,
            "publish_at": now - timedelta(minutes=i + 2), "version": 1,
            "take_down_at": now - timedelta(minutes=1) if i % 50 == 0 else None,
            "created_at": now, "updated_at": now,
        })
        if len(rows) == 5000:
            db.session.execute(insert(Notice), rows)
            rows = []
    if rows:
        db.session.execute(insert(Notice), rows)
    db.session.commit()


def build(url: str, deputies: int, stations: int, groups: int, notices: int, reset: bool) -> dict:
    prepare_database(url, reset)
    app = app_for(url)
    with app.app_context():
        places = create_places(stations, groups)
        insert_deputies_directly(deputies, places)
        insert_notices(notices)
        analyze_database()  # what the nightly `flask --app app analyze` (or PostgreSQL's autovacuum) does
        ids = {
            "deputy": db.session.scalar(select(Deputy.id).order_by(Deputy.id.desc()).limit(1)),
            "station": db.session.scalar(select(Station.id).order_by(Station.id.desc()).limit(1)),
        }
        db.session.remove()
        db.engine.dispose()
    return ids


def pages(ids: dict) -> list[tuple[str, str]]:
    return [
        ("/", "/"),
        ("/notices/", "/notices/"),
        ("/notices/?q=…", "/notices/?q=%E6%B0%91%E7%94%9F"),  # 民生
        ("/deputies/?q=…", "/deputies/?q=%E7%8E%8B"),  # 王
        ("/deputies/<id>", f"/deputies/{ids['deputy']}"),
        ("/stations/<id>", f"/stations/{ids['station']}"),
    ]


def query_counts(url: str, paths: list[tuple[str, str]], cache_seconds: int = 0) -> dict[str, int]:
    """Queries per request: rendering the page (cache off), or serving it from the page cache."""
    app = app_for(url)
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = cache_seconds
    client = app.test_client()
    counts = {}
    with app.app_context():
        for label, path in paths:
            client.get(path)  # warm caches
            with counting(db.engine) as statements:
                response = client.get(path)
            assert response.status_code == 200, f"{path} answered {response.status_code}"
            counts[label] = len(statements)
        db.engine.dispose()
    return counts


def load_runs(url: str, paths: list[tuple[str, str]], workers: int, clients: int, requests: int) -> dict:
    """{cache_seconds: (healthz figures, {label: figures})}: gunicorn with the production page cache
    (30 s), then with every page rendered (0)."""
    runs = {}
    for cache_seconds in (30, 0):
        process, port = start_gunicorn(url, workers, cache_seconds)
        try:
            baseline = drive(port, "/healthz", clients, requests)
            results = {label: drive(port, path, clients, requests) for label, path in paths}
        finally:
            process.terminate()
            process.wait(timeout=10)
        runs[cache_seconds] = (baseline, results)
    return runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, workers: int, cache_seconds: int = 30) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret",
           "PUBLIC_PAGE_CACHE_SECONDS": str(cache_seconds)}
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "app:create_app()"], cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def drive(port: int, path: str, clients: int, requests: int) -> dict:
    """`requests` GETs of path from `clients` threads; latency percentiles and requests per second."""
    def one(_):
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        return time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(clients)))  # warm-up
        start = time.perf_counter()
        latencies = sorted(pool.map(one, range(requests)))
        elapsed = time.perf_counter() - start
    return {"p50": statistics.median(latencies), "p95": latencies[int(len(latencies) * 0.95) - 1],
            "rps": requests / elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="database URL for the city (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop the PostgreSQL database's public schema first")
    parser.add_argument("--deputies", type=int, default=11_000)
    parser.add_argument("--notices", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="requests per page")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        small_url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        city_url = args.database or f"sqlite:///{Path(tmp) / 'city.db'}"
        log("building the demo-sized database (240 deputies, 12 stations, 20 groups, 200 notices)")
        small_ids = build(small_url, 240, 12, 20, 200, reset=True)
        log(f"building the city ({args.deputies} deputies, 400 stations, 1,000 groups, {args.notices} notices)")
        started = time.perf_counter()
        city_ids = build(city_url, args.deputies, 400, 1000, args.notices, reset=args.reset)
        log(f"built in {time.perf_counter() - started:.1f} s")
        small_counts = query_counts(small_url, pages(small_ids))
        city_counts = query_counts(city_url, pages(city_ids))
        hit_counts = query_counts(city_url, pages(city_ids), cache_seconds=30)

        runs = load_runs(city_url, pages(city_ids), args.workers, args.clients, args.requests)

    backend = "PostgreSQL" if city_url.startswith("postgresql") else "SQLite"
    print(f"\nPublic pages, {backend}, gunicorn -w {args.workers}, {args.clients} concurrent clients, "
          f"{args.requests} requests per page, {args.deputies} deputies, {args.notices} notices")
    print("queries per request: rendering the page at demo and at city size, and serving it from the page cache")
    print(f"{'page':<18}{'demo':>6}{'city':>6}{'cached':>8}")
    for label, _path in pages(city_ids):
        print(f"{label:<18}{small_counts[label]:>6}{city_counts[label]:>6}{hit_counts[label]:>8}")
    for cache_seconds, title in ((30, "as deployed (PUBLIC_PAGE_CACHE_SECONDS=30)"),
                                 (0, "rendered on every request (PUBLIC_PAGE_CACHE_SECONDS=0)")):
        baseline, results = runs[cache_seconds]
        print(f"\nunder load, {title}")
        print(f"{'page':<18}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>8}{'vs healthz':>11}")
        print(f"{'/healthz':<18}{baseline['p50'] * 1000:>9.1f}{baseline['p95'] * 1000:>9.1f}"
              f"{baseline['rps']:>8.0f}{1:>11.2f}")
        for label, figures in results.items():
            print(f"{label:<18}{figures['p50'] * 1000:>9.1f}{figures['p95'] * 1000:>9.1f}{figures['rps']:>8.0f}"
                  f"{figures['rps'] / baseline['rps']:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
