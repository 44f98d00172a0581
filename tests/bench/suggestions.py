"""Suggestions benchmark: 5 sessions × 1,000 suggestions over 100 handling units, with full histories
(cases, main and assisting assignments, step logs, answers, ratings, co-signers, 三沟通 contacts,
carry-overs).

    python -m tests.bench.suggestions                         # a temporary SQLite file
    python -m tests.bench.suggestions --database URL --reset  # e.g. a throwaway PostgreSQL database

It builds the data with bulk INSERTs (the services are exercised by the tests), then measures through
the Flask test client: the public register of the latest session (first page and an HTMX filter), its
statistics page, a unit's inbox and the .xlsx export of the whole register (5,000 rows): SQL query
count and median time of --repeat requests. The goals (issue 7): register, statistics and inbox ≤ 10
queries whatever the size; the export of 5,000 suggestions ≤ 5 s.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from blueprints.core.cases import Case, CaseAssignment, CaseRating, CaseStep
from blueprints.core.extensions import db
from blueprints.core.models import User
from blueprints.registry.models import Deputy, HandlingUnit
from blueprints.suggestions.models import (
    CongressSession,
    Suggestion,
    SuggestionAnswer,
    SuggestionCarryOver,
    SuggestionContact,
    SuggestionCosigner,
)
from tests.bench.registry import PASSWORD, app_for, counting, log, prepare_database

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
SUBJECTS = ["加快推进{t}卫生院建设", "改善{t}农村道路通行条件", "加强{t}中小学校舍维修", "完善{t}养老服务设施",
            "治理{t}河道污染", "增设{t}公交线路", "解决{t}农田灌溉用水", "规范{t}农贸市场管理"]
TOWNS = ["城关镇", "临涣镇", "百善镇", "孙疃镇", "双堆集镇", "铁佛镇", "南坪镇", "五沟镇"]
CATS = ["health", "transport", "education", "social", "environment", "transport", "agriculture", "economy"]


def build(url: str, sessions: int, per_session: int, units: int, reset: bool) -> dict:
    from blueprints.core.accounts import hash_password

    prepare_database(url, reset)
    app = app_for(url)
    rng = random.Random(7)
    started = time.perf_counter()
    with app.app_context():
        s = db.session
        password = hash_password(PASSWORD)
        s.execute(insert(HandlingUnit), [{"id": i, "name": f"县第{i}承办单位", "active": True}
                                         for i in range(1, units + 1)])
        n_deputies = 600
        now = datetime.now(UTC)
        s.execute(insert(Deputy), [{"id": i, "name": rng.choice(SURNAMES) + rng.choice(SURNAMES), "level": "county",
                                    "created_at": now, "updated_at": now} for i in range(1, n_deputies + 1)])
        s.execute(insert(User), [
            {"id": 1, "username": "staff", "display_name": "代表工委", "role": "staff", "password_hash": password,
             "session_token": "t1", "failed_logins": 0, "created_at": now, "active": True},
            {"id": 2, "username": "unit", "display_name": "第1单位", "role": "unit", "password_hash": password,
             "session_token": "t2", "failed_logins": 0, "created_at": now, "active": True, "unit_id": 1}])
        this_year = date.today().year
        rows = {k: [] for k in ("sessions", "suggestions", "cases", "assignments", "steps", "ratings", "answers",
                                "cosigners", "contacts", "carry")}
        sid = 0
        for index in range(sessions):
            year = this_year - sessions + 1 + index
            opens = date(year, 1, 10)
            rows["sessions"].append({"id": index + 1, "name": f"县十八届人大{index + 1}次会议", "year": year,
                                     "opens_on": opens, "closes_on": opens + timedelta(days=3),
                                     "accepting": index == sessions - 1, "created_at": now})
            for number in range(1, per_session + 1):
                sid += 1
                roll = rng.random()
                status = ("registered" if roll < 0.05 else "assigned" if roll < 0.25 else "answered" if roll < 0.35
                          else "closed")
                unit = rng.randint(1, units) if status != "registered" else None
                assigned_at = datetime(year, 2, 1, tzinfo=UTC)
                deadline = (opens + timedelta(days=100)) if year < this_year else date.today() + timedelta(
                    days=rng.randint(-20, 80))
                answered = status in ("answered", "closed")
                klass = rng.choice("AAABBC") if answered else None
                on_time = rng.random() < 0.9 if answered else None
                rating = (rng.choice(["satisfied"] * 6 + ["basically"] * 3 + ["unsatisfied"])
                          if status == "closed" else None)
                town = rng.choice(TOWNS)
                subject = rng.randrange(len(SUBJECTS))
                title = f"关于{SUBJECTS[subject].format(t=town)}的建议"
                lead = rng.randint(1, n_deputies)
                carried = (year + 1 if status == "closed" and year < this_year and (klass == "B" or rating ==
                           "unsatisfied") else None)
                rows["cases"].append({"id": sid, "source": "suggestion", "source_ref": f"suggestion:{sid}",
                                      "status": {"registered": "new", "assigned": "assigned", "answered": "sent",
                                                 "closed": "closed"}[status],
                                      "title": title, "body": "案据与方案", "receipt_code": f"B{sid:07d}",
                                      "deputy_id": lead, "round": 1, "created_at": now, "updated_at": now})
                rows["suggestions"].append({
                    "id": sid, "session_id": index + 1, "number": number, "lead_deputy_id": lead, "title": title,
                    "grounds": f"{town}群众反映强烈，现状亟待改善。" * 3,
                    "proposal": "一、列入计划；二、落实资金；三、限期完成。",
                    "category": CATS[subject], "status": status, "revision": 1, "timing": "session",
                    "submitted_at": now, "registered_at": now, "case_id": sid, "round": 1, "main_unit_id": unit,
                    "deadline": deadline if unit else None, "reply_class": klass,
                    "answered_at": assigned_at + timedelta(days=60) if answered else None,
                    "answered_on_time": on_time, "rating": rating, "reply_withheld": False,
                    "is_key": number % 7 == 0, "key_leader": "常委会副主任" if number % 7 == 0 else None,
                    "carried_to_year": carried, "created_at": now, "updated_at": now})
                for deputy in rng.sample(range(1, n_deputies + 1), 2):
                    if deputy != lead:
                        rows["cosigners"].append({"suggestion_id": sid, "deputy_id": deputy, "state": "confirmed",
                                                  "invited_at": now, "answered_at": now})
                steps = ["open"]
                if unit:
                    state = "replied" if answered else "pending"
                    rows["assignments"].append({
                        "case_id": sid, "unit_id": unit, "role": "main", "round": 1, "state": state,
                        "deadline": deadline, "assigned_at": assigned_at, "extended": False,
                        "reply": "答复正文" if answered else None, "reply_class": klass,
                        "replied_at": assigned_at + timedelta(days=60) if answered else None})
                    rows["assignments"].append({
                        "case_id": sid, "unit_id": (unit % units) + 1, "role": "assist", "round": 1,
                        "state": "pending", "deadline": deadline, "assigned_at": assigned_at, "extended": False})
                    rows["contacts"].append({"suggestion_id": sid, "unit_id": unit, "round": 1, "stage": "before",
                                             "way": "visit", "contacted_on": assigned_at.date(),
                                             "content": "登门听取代表意见", "recorded_at": now})
                    steps.append("assign")
                if answered:
                    rows["answers"].append({"suggestion_id": sid, "round": 1, "unit_id": unit, "reply_class": klass,
                                            "text": "经研究，答复如下……" * 5, "deadline": deadline,
                                            "reasons": "受条件所限" if klass == "C" else None,
                                            "promised_on": date(year + 1, 6, 30) if klass == "B" else None,
                                            "on_time": on_time, "answered_at": assigned_at + timedelta(days=60)})
                    steps += ["reply", "send"]
                if rating:
                    rows["ratings"].append({"case_id": sid, "round": 1, "rating": rating, "rater": "deputy",
                                            "rated_at": now})
                    steps += ["rate", "close"]
                if carried:
                    rows["carry"].append({"suggestion_id": sid, "year": carried,
                                          "reason": "unsatisfied" if rating == "unsatisfied" else "B",
                                          "carried_at": now})
                rows["steps"] += [{"case_id": sid, "at": now, "actor_name": "system", "action": a} for a in steps]
        for model, key in ((CongressSession, "sessions"), (Case, "cases"), (Suggestion, "suggestions"),
                           (CaseAssignment, "assignments"), (CaseStep, "steps"), (CaseRating, "ratings"),
                           (SuggestionAnswer, "answers"), (SuggestionCosigner, "cosigners"),
                           (SuggestionContact, "contacts"), (SuggestionCarryOver, "carry")):
            for start in range(0, len(rows[key]), 5000):
                s.execute(insert(model), rows[key][start:start + 5000])
        s.commit()
        if url.startswith("postgresql"):  # explicit ids were inserted: move the sequences past them
            from sqlalchemy import text

            for table in ("handling_units", "deputies", "users", "congress_sessions", "cases", "suggestions"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                               f"(SELECT max(id) FROM {table}))"))
        from blueprints.core.setup import analyze_database

        analyze_database()
        db.engine.dispose()
    return {"seconds": time.perf_counter() - started, "suggestions": sid, "steps": len(rows["steps"]),
            "assignments": len(rows["assignments"]), "latest_session": sessions}


def measure(url: str, pages: list[tuple[str, str, str, dict]], repeat: int) -> dict:
    app = app_for(url)
    clients = {}
    for user in {p[1] for p in pages}:
        clients[user] = app.test_client()
        response = clients[user].post("/login", data={"username": user, "password": PASSWORD})
        assert response.status_code == 302, f"login failed for {user}: {response.status_code}"
    with app.app_context():
        engine = db.engine
    results = {}
    for label, user, path, headers in pages:
        client = clients[user]
        response = client.get(path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        with counting(engine) as statements:
            response = client.get(path, headers=headers)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        results[label] = (len(statements), statistics.median(times), len(response.data))
    with app.app_context():
        db.engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", metavar="URL", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--per-session", type=int, default=1_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-suggestions-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'suggestions.db'}"
        backend = url.split(":", 1)[0]
        log(f"building {args.sessions} × {args.per_session:,} suggestions over {args.units} units ({backend})")
        built = build(url, args.sessions, args.per_session, args.units, args.reset)
        latest = built["latest_session"]
        pages = [
            ("public register, page 1", "staff", f"/suggestions/sessions/{latest}/", {}),
            ("public register, filter (HTMX rows)", "staff", f"/suggestions/sessions/{latest}/?q=卫生院&reply_class=A",
             {"HX-Request": "true"}),
            ("public register, last page", "staff", f"/suggestions/sessions/{latest}/?page=20", {}),
            ("statistics page", "staff", f"/suggestions/sessions/{latest}/stats", {}),
            ("unit inbox (unit 1, open)", "unit", "/unit/suggestions/", {}),
            ("unit inbox (unit 1, all)", "unit", "/unit/suggestions/?state=all", {}),
            ("staff list", "staff", "/manage/suggestions/", {}),
            ("supervision list", "staff", "/manage/suggestions/supervision", {}),
        ]
        log(f"measuring pages ({args.repeat} requests each)")
        results = measure(url, pages, args.repeat)
        log("measuring the .xlsx export of the whole register")
        export = measure(url, [("export .xlsx, whole register", "staff", "/manage/suggestions/export.xlsx", {})],
                         max(1, min(3, args.repeat)))

    total = built["suggestions"]
    print()
    print(f"Suggestions benchmark — {backend}, {args.sessions} sessions × {args.per_session:,} = {total:,} "
          f"suggestions, {args.units} units")
    print(f"built in {built['seconds']:.1f} s ({built['assignments']:,} assignments, {built['steps']:,} steps)")
    print()
    print(f"{'page':<40}{'queries':>9}{'median ms':>11}{'KiB':>8}")
    for label, (queries, seconds, size) in {**results, **export}.items():
        print(f"{label:<40}{queries:>9}{seconds * 1000:>11.1f}{size / 1024:>8.0f}")
    print()
    for label in ("public register, page 1", "statistics page", "unit inbox (unit 1, open)"):
        queries = results[label][0]
        print(f"goal: {label} ≤ 10 queries — {'met' if queries <= 10 else 'MISSED'} ({queries})")
    seconds = export["export .xlsx, whole register"][1]
    print(f"goal: export of {total:,} suggestions ≤ 5 s — {'met' if seconds <= 5 else 'MISSED'} ({seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
