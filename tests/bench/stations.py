"""Stations at city size: 400 stations with reception rules, 11,000 deputies, 15,000 cases a year.

    python -m tests.bench.stations                          # temporary SQLite files
    python -m tests.bench.stations --database URL --reset   # e.g. a throwaway PostgreSQL database

Prints: the time to generate a year's calendar and rota for all 400 stations (one service call, bulk
inserts), SQL queries per request for the kiosk and /stations/<id> (demo and city size), the kiosk's
total weight (HTML + CSS + JS, photos aside), and p50/p95 latency and throughput under load (gunicorn,
loopback) as a ratio to /healthz, next to the noticeboard's home page measured in the same run.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from blueprints.core.cases import Case, CaseAssignment, new_receipt_code
from blueprints.core.extensions import db
from blueprints.core.setup import analyze_database
from blueprints.core.timeutil import local_today
from blueprints.registry.models import HandlingUnit, Station
from blueprints.stations import calendar as cal
from blueprints.stations.models import ReceptionRule

from .pages import insert_notices, load_runs, query_counts
from .registry import app_for, create_places, insert_deputies_directly, log, prepare_database

RULES = ("5,25", "10,20", "15", "1,16")


def insert_rules(station_ids: list[int]) -> None:
    now = datetime.now(UTC)
    db.session.execute(insert(ReceptionRule).execution_options(render_nulls=True), [
        {"station_id": sid, "kind": "month_days" if i % 5 else "nth_weekday",
         "month_days": RULES[i % len(RULES)] if i % 5 else None, "nth": None if i % 5 else 1,
         "weekday": None if i % 5 else 1, "start_time": datetime.min.time().replace(hour=9),
         "end_time": datetime.min.time().replace(hour=11, minute=30), "deputies_per_day": 2, "updated_at": now}
        for i, sid in enumerate(station_ids)])
    db.session.commit()


def insert_cases(n: int, station_ids: list[int]) -> None:
    """A year of cases: spread over stations and months, most answered, some late."""
    db.session.execute(insert(HandlingUnit), [{"name": f"某局{i + 1}", "active": True} for i in range(40)])
    units = db.session.scalars(select(HandlingUnit.id).order_by(HandlingUnit.id)).all()
    now = datetime.now(UTC)
    codes = set()
    rows = []
    for i in range(n):
        code = new_receipt_code()
        while code in codes:
            code = new_receipt_code()
        codes.add(code)
        created = now - timedelta(hours=(i * 7) % (365 * 24))
        answered = i % 10 < 8
        rows.append({"source": ("reception", "message", "kiosk")[i % 3],
                     "status": "answered" if answered else "assigned",
                     "category": "urban", "title": f"第{i + 1}件群众诉求", "body": "反映的问题" * 10,
                     "receipt_code": code, "station_id": station_ids[i % len(station_ids)], "round": 1,
                     "answered_at": created + timedelta(days=5) if answered else None,
                     "created_at": created, "updated_at": created})
    for start in range(0, n, 5000):
        db.session.execute(insert(Case).execution_options(render_nulls=True), rows[start:start + 5000])
    ids = db.session.execute(select(Case.id, Case.created_at, Case.answered_at).order_by(Case.id)).all()
    assignments = [{"case_id": cid, "unit_id": units[cid % len(units)], "role": "main", "round": 1,
                    "state": "replied" if answered_at else "pending",
                    "deadline": (created_at + timedelta(days=15)).date(), "assigned_at": created_at,
                    "reply": "已办理" if answered_at else None, "replied_at": answered_at, "extended": False}
                   for cid, created_at, answered_at in ids]
    for start in range(0, len(assignments), 5000):
        db.session.execute(insert(CaseAssignment).execution_options(render_nulls=True),
                           assignments[start:start + 5000])
    db.session.commit()


def build(url: str, deputies: int, stations: int, groups: int, notices: int, cases: int, reset: bool) -> dict:
    prepare_database(url, reset)
    app = app_for(url)
    with app.app_context():
        places = create_places(stations, groups)
        insert_deputies_directly(deputies, places)
        insert_notices(notices)
        station_ids = db.session.scalars(select(Station.id).order_by(Station.id)).all()
        insert_rules(station_ids)
        all_stations = db.session.scalars(select(Station).order_by(Station.id)).all()
        year = local_today().year + 1  # a whole year ahead: every rule date counts
        started = time.perf_counter()
        result = cal.generate_year(all_stations, year, today=date(year, 1, 1), off=set())
        generation = time.perf_counter() - started
        # and this year's remaining days, so that today's kiosk has duty deputies
        cal.generate_year(all_stations, local_today().year, off=set())
        insert_cases(cases, station_ids)
        analyze_database()
        busy = db.session.scalar(select(Station.id).order_by(Station.id.desc()).limit(1))
        db.session.remove()
        db.engine.dispose()
    return {"station": busy, "generation": generation, **result}


def kiosk_weight(url: str, station_id: int) -> dict[str, int]:
    app = app_for(url)
    client = app.test_client()
    with app.app_context():
        weights = {"html": len(client.get(f"/kiosk/{station_id}").data)}
        for asset in ("css/kiosk.css", "js/kiosk.js", "vendor/htmx-2.0.11.min.js"):
            weights[asset] = len(client.get(f"/static/{asset}").data)
        db.engine.dispose()
    return weights


def pages(station_id: int) -> list[tuple[str, str]]:
    return [("/ (noticeboard)", "/"), ("/stations/<id>", f"/stations/{station_id}"),
            ("/kiosk/<id>", f"/kiosk/{station_id}")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--reset", action="store_true", help="drop the PostgreSQL database's public schema first")
    parser.add_argument("--deputies", type=int, default=11_000)
    parser.add_argument("--notices", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=15_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        small_url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        city_url = args.database or f"sqlite:///{Path(tmp) / 'city.db'}"
        log("building the demo-sized database (240 deputies, 12 stations, 200 notices, 300 cases)")
        small = build(small_url, 240, 12, 20, 200, 300, reset=True)
        log(f"building the city ({args.deputies} deputies, 400 stations, {args.notices} notices, {args.cases} cases)")
        city = build(city_url, args.deputies, 400, 1000, args.notices, args.cases, reset=args.reset)
        small_counts = query_counts(small_url, pages(small["station"]))
        city_counts = query_counts(city_url, pages(city["station"]))
        weights = kiosk_weight(city_url, city["station"])
        runs = load_runs(city_url, pages(city["station"]), args.workers, args.clients, args.requests)

    backend = "PostgreSQL" if city_url.startswith("postgresql") else "SQLite"
    print(f"\nStations, {backend}: 400 stations, {args.deputies} deputies, {args.cases} cases, {args.notices} notices")
    print(f"calendar + rota for a year, all 400 stations: {city['generation']:.2f} s "
          f"({city['days']} reception days, {city['duties']} duties)")
    print(f"kiosk weight: {sum(weights.values()) / 1024:.1f} KB total "
          + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in weights.items()))
    print(f"\ngunicorn -w {args.workers}, {args.clients} concurrent clients, {args.requests} requests per page; "
          "queries are those of a rendered page (the kiosk is never cached: it carries a CSRF token)")
    for cache_seconds, (baseline, results) in runs.items():
        print(f"\nPUBLIC_PAGE_CACHE_SECONDS={cache_seconds}")
        print(f"{'page':<18}{'queries demo':>13}{'queries city':>13}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>8}"
              f"{'vs healthz':>11}")
        print(f"{'/healthz':<18}{'':>13}{'':>13}{baseline['p50'] * 1000:>9.1f}{baseline['p95'] * 1000:>9.1f}"
              f"{baseline['rps']:>8.0f}{1:>11.2f}")
        for label, figures in results.items():
            print(f"{label:<18}{small_counts[label]:>13}{city_counts[label]:>13}{figures['p50'] * 1000:>9.1f}"
                  f"{figures['p95'] * 1000:>9.1f}{figures['rps']:>8.0f}{figures['rps'] / baseline['rps']:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
