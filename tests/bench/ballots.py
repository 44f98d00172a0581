"""Meeting-day voting through the real view: 500 deputies vote on a 20-item ballot.

    python -m tests.bench.ballots                          # a temporary SQLite file
    python -m tests.bench.ballots --database URL --reset   # e.g. a throwaway PostgreSQL database

Two ballots of the same meeting: one voted by 500 deputies one after another, one by 500 deputies from
--threads threads at once while --screens projector clients poll /meetings/<id>/screen. Each vote is a
POST to /meetings/<id>/vote through the Flask test client (CSRF off, sessions set directly so that the
scrypt login is not measured). Prints latency, wall time, votes accepted / lost / duplicated (a second
vote by 50 deputies must all answer 409), and the time to close, tally and publish. In-process only:
nothing leaves the machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from blueprints.core.extensions import db

from .registry import app_for, log, prepare_database


def build(url: str, n_deputies: int, n_items: int, reset: bool, *, password_hash: str = "unused",  # noqa: S107 (not a password)
          labels: tuple[str, ...] = ("逐个投票", "并发投票"), checked_in: bool = True) -> dict:
    from blueprints.ballots import meetings, voting
    from blueprints.ballots.models import Attendance
    from blueprints.core.models import User
    from blueprints.registry.models import Deputy

    prepare_database(url, reset)
    app = app_for(url)
    with app.app_context():
        now = datetime.now(UTC)
        db.session.execute(insert(Deputy), [
            {"name": f"代表{i:04d}", "level": "county", "term": "第十八届", "created_at": now, "updated_at": now}
            for i in range(n_deputies)])
        deputy_ids = db.session.scalars(select(Deputy.id).order_by(Deputy.id)).all()
        db.session.execute(insert(User), [
            {"username": f"d{i:04d}", "display_name": f"代表{i:04d}", "role": "deputy", "deputy_id": d,
             "password_hash": password_hash, "active": True, "session_token": f"bench{i}", "created_at": now}
            for i, d in enumerate(deputy_ids)])
        db.session.commit()
        meeting = meetings.create_meeting("青山县第十八届人民代表大会第二次会议", "county", "第十八届", None)
        if checked_in:
            db.session.execute(Attendance.__table__.update().where(Attendance.meeting_id == meeting.id)
                               .values(checked_in_at=now))
            db.session.commit()
        ballots = []
        for label in labels:
            ballot = voting.create_ballot(meeting, f"民生实事项目票决（{label}）", "approve", True, None, 10)
            for i in range(n_items):
                voting.add_item(ballot, f"候选项目{i + 1:02d}", "县住房和城乡建设局", 100 + i, "2026年底")
            if checked_in:
                voting.open_ballot(ballot.id)
            ballots.append({"id": ballot.id, "items": [item.id for item in ballot.items]})
        users = db.session.execute(select(User.id, User.session_token).where(User.role == "deputy")
                                   .order_by(User.id)).all()
        result = {"meeting": meeting.id, "ballots": ballots, "users": [f"{u}:{t}" for u, t in users],
                  "token": meeting.checkin_token}
        db.session.remove()
        db.engine.dispose()
    return result


def client_for(app, user_key: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_key
        session["_fresh"] = True
    return client


def vote_form(ballot: dict, n: int) -> dict:
    choices = ("yes", "no", "abstain")
    return {"ballot_id": str(ballot["id"]),
            **{f"item-{item}": choices[(n + i) % 3] for i, item in enumerate(ballot["items"])}}


def cast(app, meeting: int, user_key: str, form: dict) -> tuple[float, int]:
    client = client_for(app, user_key)
    start = time.perf_counter()
    response = client.post(f"/meetings/{meeting}/vote", data=form)
    return time.perf_counter() - start, response.status_code


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


def counts(app, ballot_id: int) -> tuple[int, int]:
    from blueprints.ballots.models import BallotReceipt, SealedVote

    with app.app_context():
        receipts = db.session.scalar(select(func.count()).select_from(BallotReceipt)
                                     .where(BallotReceipt.ballot_id == ballot_id))
        sealed = db.session.scalar(select(func.count()).select_from(SealedVote)
                                   .where(SealedVote.ballot_id == ballot_id))
        db.session.remove()
    return receipts, sealed


def report_integrity(app, ballot: dict, accepted: int, n_deputies: int) -> None:
    receipts, sealed = counts(app, ballot["id"])
    print(f"  accepted {accepted}, receipts {receipts}, sealed votes {sealed} (expected {accepted}); "
          f"lost {max(0, accepted - receipts)}, duplicated {max(0, receipts - accepted)}")


def close_tally_publish(app, ballot_id: int) -> None:
    from blueprints.ballots import tally, voting
    from blueprints.ballots.models import Ballot

    with app.app_context():
        start = time.perf_counter()
        voting.close_ballot(ballot_id)
        closed = time.perf_counter()
        results = tally.tally(db.session.get(Ballot, ballot_id))
        tally.verify(db.session.get(Ballot, ballot_id), results)
        tallied = time.perf_counter()
        tally.publish(ballot_id)
        published = time.perf_counter()
        db.session.remove()
    print(f"  close {1000 * (closed - start):.1f} ms, tally + check {1000 * (tallied - closed):.1f} ms, "
          f"publish (tally again, notice, projects) {1000 * (published - tallied):.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", metavar="URL", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    parser.add_argument("--deputies", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--screens", type=int, default=5, help="projector clients polling during the threaded run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        log(f"building: {args.deputies} deputies, 2 ballots of {args.items} items on {url.split('@')[-1]}")
        ids = build(url, args.deputies, args.items, args.reset)
        app = app_for(url)
        meeting, users = ids["meeting"], ids["users"]
        print(f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}; "
              f"{args.deputies} deputies, {args.items} items per ballot")

        ballot = ids["ballots"][0]
        start = time.perf_counter()
        samples = [cast(app, meeting, user, vote_form(ballot, n)) for n, user in enumerate(users)]
        wall = time.perf_counter() - start
        accepted = sum(1 for _, status in samples if status == 303)
        print(f"sequential: {len(samples)} votes in {wall:.2f} s ({len(samples) / wall:.0f} votes/s); "
              f"{percentiles([s for s, _ in samples])}")
        report_integrity(app, ballot, accepted, args.deputies)

        ballot = ids["ballots"][1]
        stop = threading.Event()
        screen_samples: list[float] = []

        def poll(key: str) -> None:
            client = client_for(app, key)
            while not stop.is_set():
                begin = time.perf_counter()
                client.get(f"/meetings/{meeting}/screen", headers={"HX-Request": "true"})
                screen_samples.append(time.perf_counter() - begin)
                stop.wait(0.5)  # 4x the real 2 s polling rate per screen

        pollers = [threading.Thread(target=poll, args=(users[i],), daemon=True) for i in range(args.screens)]
        for poller in pollers:
            poller.start()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            samples = list(pool.map(lambda pair: cast(app, meeting, pair[1], vote_form(ballot, pair[0])),
                                    enumerate(users)))
        wall = time.perf_counter() - start
        stop.set()
        for poller in pollers:
            poller.join(5)
        accepted = sum(1 for _, status in samples if status == 303)
        print(f"threaded ({args.threads} threads, {args.screens} screens polling): {len(samples)} votes in "
              f"{wall:.2f} s ({len(samples) / wall:.0f} votes/s); {percentiles([s for s, _ in samples])}")
        if screen_samples:
            print(f"  screen polls: {len(screen_samples)}, {percentiles(screen_samples)}")
        report_integrity(app, ballot, accepted, args.deputies)
        with ThreadPoolExecutor(args.threads) as pool:
            again = list(pool.map(lambda pair: cast(app, meeting, pair[1], vote_form(ballot, pair[0] + 1)),
                                  enumerate(users[:50])))
        print(f"  second votes by 50 deputies: {sum(1 for _, s in again if s == 409)} answered 409; "
              f"receipts still {counts(app, ballot['id'])[0]}")
        for ballot in ids["ballots"]:
            print(f"ballot {ballot['id']}:")
            close_tally_publish(app, ballot["id"])
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
