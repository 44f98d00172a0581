"""Meeting day over HTTP: gunicorn on loopback (one worker per CPU, as README recommends); 500 deputies
(created here) log in, check in on their phones and vote on a 20-item ballot at once while 5 projector
screens poll every 2 s.

    python -m tests.bench.meeting_day                          # a temporary SQLite file
    python -m tests.bench.meeting_day --database URL --reset   # e.g. a throwaway PostgreSQL database

CSRF is on as in production. The ballot opens (in process, as the presiding officer would) as soon as
two thirds have checked in; deputies who checked in wait for it and then vote; 50 of them also send a
second vote, which must answer 409. Before the vote every client requests /healthz for a few seconds
(the same keep-alive client), so /healthz req/s, votes/s (a vote = GET of the ballot page + POST) and
their ratio are printed. Prints votes accepted / lost / duplicated, p50/p95 vote latency,
wall time for all, time to close + tally + publish, and peak memory (VmHWM) per worker. All traffic
stays on 127.0.0.1; every loop is bounded.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select

from blueprints.core.accounts import hash_password
from blueprints.core.extensions import db

from .ballots import build
from .pages import start_gunicorn
from .registry import app_for, log

PASSWORD = "bench-password-2026"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One phone: a keep-alive connection and the session cookie."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}  # the session and the pass page's device cookie

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        head = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        head.update(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            head["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=head)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.split(";", 1)[0].partition("=")
            self.cookies[name] = rest
        return response.status, text

    def token(self, path: str) -> str:
        status, text = self.request("GET", path)
        match = CSRF.search(text)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path}: {status}, no csrf token")
        return match.group(1)

    def login(self, username: str, retries: list) -> None:
        """Retried up to 3 times: on SQLite the spine's login (a deferred read-then-write transaction)
        can answer 500 "database is locked" under concurrent logins; the retries are counted."""
        for _attempt in range(4):
            token = self.token("/login")
            status, _ = self.request("POST", "/login",
                                     {"username": username, "password": PASSWORD, "csrf_token": token})
            if status == 302:
                return
            retries.append(status)
        raise RuntimeError(f"login {username}: {status}")


def worker_memory(master_pid: int) -> list[int]:
    """Peak resident set (VmHWM, kB) of each gunicorn worker."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    peaks = []
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]))
        except OSError:
            pass
    return peaks


def _ticks(pid: str) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def cpu_snapshot(master_pid: int) -> dict[str, float]:
    """CPU seconds so far: the gunicorn workers, the database server's processes (PostgreSQL; SQLite runs
    inside the workers), this client process, and the whole machine busy and idle (/proc/stat)."""
    hz = os.sysconf("SC_CLK_TCK")
    try:
        workers = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        workers = []
    postgres = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()
                and (p / "comm").exists() and _read(p / "comm").strip() == "postgres"]
    machine = [int(v) for v in _read(Path("/proc/stat")).splitlines()[0].split()[1:]]
    idle = machine[3] + machine[4]
    own = os.times()
    return {"workers": sum(_ticks(pid) for pid in workers) / hz, "database": sum(_ticks(pid) for pid in postgres) / hz,
            "client": own.user + own.system, "busy": (sum(machine) - idle) / hz, "idle": idle / hz}


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", metavar="URL", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    parser.add_argument("--deputies", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn workers (default: one per CPU, the production recommendation)")
    parser.add_argument("--clients", type=int, default=64, help="deputies acting at the same moment")
    parser.add_argument("--screens", type=int, default=5)
    parser.add_argument("--healthz-seconds", type=float, default=5.0,
                        help="how long every client requests /healthz before the vote")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/meeting_day.db"
        log(f"building {args.deputies} deputies and a {args.items}-item ballot on {url.split('@')[-1]}")
        ids = build(url, args.deputies, args.items, args.reset, password_hash=hash_password(PASSWORD),
                    labels=("会议日票决",), checked_in=False)
        app = app_for(url)
        with app.app_context():
            from blueprints.core.models import User

            db.session.add(User(username="screen", display_name="大屏幕", role="clerk",
                                password_hash=hash_password(PASSWORD)))
            db.session.commit()
            usernames = db.session.scalars(select(User.username).where(User.role == "deputy")
                                           .order_by(User.id)).all()
            from blueprints.ballots import passes
            from blueprints.ballots.models import Meeting
            from blueprints.core.timeutil import local_today
            from blueprints.core.transaction import transaction

            with transaction():  # personal passes (签到证) for a meeting held today
                meeting_row = db.session.get(Meeting, ids["meeting"])
                meeting_row.held_on = local_today()
            codes_by_deputy = {card.deputy.id: card.code for card in passes.issue_passes(meeting_row)}
            deputy_of = dict(db.session.execute(select(User.username, User.deputy_id)
                                                .where(User.role == "deputy")).all())
            pass_codes = [codes_by_deputy[deputy_of[name]] for name in usernames]
            db.session.remove()
        meeting, ballot = ids["meeting"], ids["ballots"][0]
        needed = -(-2 * args.deputies // 3)
        process, port = start_gunicorn(url, args.workers)
        opened = threading.Event()
        checked_in = [0]
        lock = threading.Lock()
        stop = threading.Event()
        screen_latency: list[float] = []
        vote_latency: list[float] = []
        outcomes: list[int] = []
        second: list[int] = []
        login_retries: list[int] = []
        errors: list[str] = []

        def open_when_quorum():
            from blueprints.ballots import voting

            while not stop.is_set():
                with lock:
                    ready = checked_in[0] >= needed
                if ready:
                    with app.app_context():
                        voting.open_ballot(ballot["id"])
                        db.session.remove()
                    opened.set()
                    return
                time.sleep(0.05)

        def screen():
            phone = Browser(port)
            phone.login("screen", login_retries)
            while not stop.is_set():
                begin = time.perf_counter()
                phone.request("GET", f"/meetings/{meeting}/screen", headers={"HX-Request": "true"})
                screen_latency.append(time.perf_counter() - begin)
                stop.wait(2)

        phones: dict[int, Browser] = {}

        def arrive(index: int):
            """The deputy scans their personal pass: signed in for the meeting and checked in."""
            phone = Browser(port)
            status, _ = phone.request("POST", "/pass", {"code": pass_codes[index], "csrf_token": phone.token("/pass")})
            if status != 303:
                raise RuntimeError(f"pass check-in: {status}")
            with lock:
                checked_in[0] += 1
            phones[index] = phone

        healthz: list[int] = []

        def hammer_healthz(seconds: float):
            phone = Browser(port)  # the same client as the phones: keep-alive http.client
            done = 0
            until = time.perf_counter() + seconds
            while time.perf_counter() < until:
                status, _ = phone.request("GET", "/healthz")
                done += status == 200
            with lock:
                healthz.append(done)

        def vote(index: int):
            """One vote as a phone makes it: GET the ballot page, then POST the ballot (both timed)."""
            phone = phones[index]
            begin = time.perf_counter()
            token = phone.token(f"/meetings/{meeting}/vote")
            choices = ("yes", "no", "abstain")
            form = {"ballot_id": str(ballot["id"]), "csrf_token": token,
                    **{f"item-{item}": choices[(index + i) % 3] for i, item in enumerate(ballot["items"])}}
            status, _ = phone.request("POST", f"/meetings/{meeting}/vote", form)
            vote_latency.append(time.perf_counter() - begin)
            outcomes.append(status)
            if index % 10 == 0:
                status, _ = phone.request("POST", f"/meetings/{meeting}/vote", form)
                second.append(status)

        def run(pool, job, indexes):
            for future in [pool.submit(job, i) for i in indexes]:
                try:
                    future.result()
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    errors.append(repr(exc))

        try:
            opener = threading.Thread(target=open_when_quorum, daemon=True)
            screens = [threading.Thread(target=screen, daemon=True) for _ in range(args.screens)]
            opener.start()
            for thread in screens:
                thread.start()
            start = time.perf_counter()
            cpu_before = cpu_snapshot(process.pid)
            # Phase 1: everyone logs in and checks in; the ballot opens at two thirds. Phase 2: everyone
            # votes (in two phases so that waiting phones never hold the client pool).
            with ThreadPoolExecutor(args.clients) as pool:
                run(pool, arrive, range(len(usernames)))
                arrived = time.perf_counter()
                cpu_after = cpu_snapshot(process.pid)
                if not opened.wait(30):
                    raise SystemExit("the ballot never opened (quorum not reached)")
                healthz_start = time.perf_counter()
                list(pool.map(hammer_healthz, [args.healthz_seconds] * args.clients))
                healthz_rate = sum(healthz) / (time.perf_counter() - healthz_start)
                voting_start = time.perf_counter()
                run(pool, vote, sorted(phones))
            wall = time.perf_counter() - start
            vote_wall = time.perf_counter() - voting_start
            stop.set()
            memory = worker_memory(process.pid)
        finally:
            stop.set()
            process.terminate()
            process.wait(20)

        from blueprints.ballots import tally, voting
        from blueprints.ballots.models import Ballot, BallotReceipt, SealedVote

        with app.app_context():
            receipts = db.session.scalar(select(func.count()).select_from(BallotReceipt)
                                         .where(BallotReceipt.ballot_id == ballot["id"]))
            sealed = db.session.scalar(select(func.count()).select_from(SealedVote)
                                       .where(SealedVote.ballot_id == ballot["id"]))
            begin = time.perf_counter()
            voting.close_ballot(ballot["id"])
            tally.verify(db.session.get(Ballot, ballot["id"]))
            tally.publish(ballot["id"])
            publish_time = time.perf_counter() - begin
            db.session.remove()
            db.engine.dispose()

    accepted = sum(1 for s in outcomes if s == 303)
    ordered = sorted(vote_latency) or [0.0]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"\nMeeting day, {backend}, gunicorn -w {args.workers}, {args.deputies} deputies ({args.clients} at once), "
          f"{args.items} items, {args.screens} screens polling every 2 s")
    print(f"votes accepted {accepted}; lost {max(0, accepted - receipts)}; duplicated {max(0, receipts - accepted)}; "
          f"sealed votes {sealed} (expected {accepted}); second votes {len(second)}, "
          f"all 409: {all(s == 409 for s in second)}; errors {len(errors)}{' ' + errors[0] if errors else ''}")
    print(f"login retries (the screens' password logins): {len(login_retries)}")
    print(f"sign in by pass + check in for all {arrived - start:.1f} s; voting for all {vote_wall:.1f} s; "
          f"total {wall:.1f} s")
    used = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
    print(f"CPU during sign-in by pass: gunicorn workers {used['workers']:.1f} s, database server "
          f"{used['database']:.1f} s, this client {used['client']:.1f} s; the machine busy {used['busy']:.1f} s, "
          f"idle {used['idle']:.1f} s ({os.cpu_count()} CPUs × {arrived - start:.1f} s)")
    votes_per_second = accepted / vote_wall if vote_wall else 0.0
    print(f"/healthz {healthz_rate:.0f} req/s; votes (GET ballot page + POST) {votes_per_second:.1f}/s; "
          f"ratio {votes_per_second / healthz_rate:.3f} (goal ≥ 0.25)")
    print(f"vote latency (GET + POST) p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
          f"(goal ≤ 200 ms)")
    if screen_latency:
        print(f"screen polls {len(screen_latency)}, p50 {statistics.median(screen_latency) * 1000:.0f} ms")
    print(f"close + tally + check + publish {publish_time * 1000:.0f} ms")
    if memory:
        print(f"peak memory per worker (VmHWM) {', '.join(f'{kb / 1024:.0f} MB' for kb in memory)}")
    return 0 if accepted == receipts == args.deputies and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
