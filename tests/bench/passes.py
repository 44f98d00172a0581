"""Meeting day by personal pass: N deputies sign in by scanning their pass and are checked in.

    python -m tests.bench.passes [--deputies 500 2977] [--threads 8]   # a temporary SQLite file
    python -m tests.bench.passes --database URL --reset                # a throwaway PostgreSQL database

For each size: issue every deputy's pass (the print sheet's work without the PDF: codes, hashes, one
transaction), then every phone opens /pass (its device cookie) and POSTs its code through the real
view (Flask test client, in process, CSRF off) from --threads threads at once. Prints the wall time,
per-request latency, and checks that every deputy is checked in exactly once and that a second phone
is refused for 50 passes. Compare: a password login costs one scrypt (~90 ms of CPU here) per deputy.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from blueprints.core.extensions import db

from .registry import app_for, log, prepare_database


def run(url: str, n: int, threads: int, reset: bool) -> dict:
    from blueprints.ballots import meetings, passes
    from blueprints.ballots.models import Attendance
    from blueprints.core.models import User
    from blueprints.core.timeutil import local_today
    from blueprints.registry.models import Deputy

    prepare_database(url, reset)
    app = app_for(url)
    with app.app_context():
        now = datetime.now(UTC)
        db.session.execute(insert(Deputy), [
            {"name": f"代表{i:04d}", "code": f"D{i:04d}", "level": "county", "term": "第十八届",
             "created_at": now, "updated_at": now} for i in range(n)])
        ids = db.session.scalars(select(Deputy.id).order_by(Deputy.id)).all()
        db.session.execute(insert(User), [
            {"username": f"d{i:04d}", "display_name": f"代表{i:04d}", "role": "deputy", "deputy_id": d,
             "password_hash": "unused", "active": True, "session_token": f"bench{i}", "created_at": now,
             "password_state": "chosen"} for i, d in enumerate(ids)])
        db.session.commit()
        meeting = meetings.create_meeting("青山县第十八届人民代表大会第二次会议", "county", "第十八届", local_today())
        meeting_id = meeting.id
        started = time.perf_counter()
        codes = [card.code for card in passes.issue_passes(meeting)]
        issue_s = time.perf_counter() - started
        db.session.remove()

    def phone(code: str) -> tuple[float, int]:
        client = app.test_client()
        t0 = time.perf_counter()
        client.get("/pass")
        status = client.post("/pass", data={"code": code}).status_code
        return time.perf_counter() - t0, status

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(phone, codes))
    wall = time.perf_counter() - started
    seconds = sorted(r[0] for r in results)
    second_phones = [phone(code)[1] for code in codes[:50]]
    with app.app_context():
        present = db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.meeting_id == meeting_id, Attendance.checked_in_at.is_not(None)))
        db.session.remove()
    return {"n": n, "issue_s": issue_s, "wall_s": wall, "p50_ms": statistics.median(seconds) * 1000,
            "p95_ms": seconds[int(len(seconds) * 0.95) - 1] * 1000,
            "ok": sum(1 for r in results if r[1] == 303), "present": present,
            "second_phone_409": sum(1 for s in second_phones if s == 409)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deputies", type=int, nargs="+", default=[500, 2977])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database")
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args(argv)
    for n in args.deputies:
        if args.database:
            url, tmp = args.database, None
        else:
            handle, tmp = tempfile.mkstemp(suffix=".db")
            os.close(handle)
            url = f"sqlite:///{tmp}"
        log(f"{n} deputies on {url.split('@')[-1]} ...")
        figures = run(url, n, args.threads, args.reset or bool(tmp))
        print(f"{n} deputies: issue passes {figures['issue_s']:.2f} s; sign in by pass + check in "
              f"{figures['wall_s']:.1f} s ({args.threads} threads), p50 {figures['p50_ms']:.0f} ms, "
              f"p95 {figures['p95_ms']:.0f} ms; accepted {figures['ok']}/{n}, checked in {figures['present']}; "
              f"second phone refused {figures['second_phone_409']}/50")
        if tmp:
            os.unlink(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
