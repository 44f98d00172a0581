"""Registry benchmark: a city-sized roster (11,000 deputies, 400 stations, 1,000 groups).

    python -m tests.bench.registry                         # temporary SQLite files
    python -m tests.bench.registry --database URL --reset  # e.g. a throwaway PostgreSQL database
    BENCH_DATABASE_URL=postgresql+psycopg://... python -m tests.bench.registry --reset

It builds a small (200 deputies) and a large (11,000 deputies) database the same way: migrations via
flask_migrate.upgrade, 400 stations and 1,000 groups inserted in bulk, then the deputies imported from
an in-memory .xlsx roster with ``roster.import_roster``. It prints the import, re-import and export
times and, for the staff deputy list and its search, the SQL query count and the median time of
--repeat requests through the Flask test client, logged in as a staff user.

On PostgreSQL the public schema of the given database is dropped and rebuilt (twice: small, then
large), so it refuses to run on a database with tables unless --reset is given.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import create_engine, event, insert, inspect, select, text

from app import create_app
from blueprints.core.accounts import hash_password
from blueprints.core.extensions import db
from blueprints.core.models import Area, User
from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership, Station

PASSWORD = "demo-2026"
HEADERS = ["代表编号", "姓名", "性别", "层级", "选区", "代表小组", "联络站", "工作单位及职务", "手机"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉兵辉鹏飞斌宇浩凯秀兰玲燕"
LEVELS = [("全国", 1), ("省", 4), ("市", 15), ("县", 40), ("乡镇", 40)]  # share of each level, per cent
KINDS = ("home", "room", "station", "point")
SPECIALITIES = ("司法", "经济", "农业", "生态", "教科文卫", "社会建设", "民族宗教", "城乡建设")
SEARCH_SURNAME = "王"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def app_for(url: str):
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False, "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "SERVER_NAME": None,
    })


def prepare_database(url: str, reset: bool) -> None:
    """An empty, migrated database at url."""
    from flask_migrate import upgrade

    if url.startswith("postgresql"):
        engine = create_engine(url)
        tables = inspect(engine).get_table_names()
        if tables and not reset:
            engine.dispose()
            raise SystemExit(f"{url.split('@')[-1]} already has tables ({len(tables)}); "
                             "pass --reset to drop its public schema (a throwaway database only).")
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = app_for(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


# ---- building the city -----------------------------------------------------------------------

def station_name(i: int) -> str:
    return f"第{i + 1:03d}号代表{('之家', '活动室', '联络站', '联络点')[i % 4]}"


def group_name(i: int) -> str:
    return f"第{i + 1:04d}代表小组"


def create_places(n_stations: int, n_groups: int) -> dict:
    """Areas, stations and groups in bulk, and the staff account. Returns names for the roster."""
    db.session.execute(insert(Area), [{"name": f"第{c + 1}区", "kind": "county"} for c in range(10)])
    counties = db.session.scalars(select(Area.id).order_by(Area.id)).all()
    db.session.execute(insert(Area), [
        {"name": f"第{c + 1}区第{t + 1}街道", "kind": "township", "parent_id": county}
        for c, county in enumerate(counties) for t in range(10)
    ])
    townships = db.session.scalars(select(Area.id).where(Area.kind == "township").order_by(Area.id)).all()
    db.session.execute(insert(Station), [
        {"name": station_name(i), "kind": KINDS[i % 4], "area_id": townships[i % len(townships)],
         "address": f"第{i + 1}号路{i % 97 + 1}号", "opening_hours": "每月5日、25日 9:00-11:30", "active": True}
        for i in range(n_stations)
    ])
    n_professional = n_groups // 20
    db.session.execute(insert(DeputyGroup), [
        {"name": group_name(i), "kind": "regional" if i >= n_professional else "professional",
         "speciality": None if i >= n_professional else SPECIALITIES[i % len(SPECIALITIES)],
         "area_id": townships[i % len(townships)] if i >= n_professional else None}
        for i in range(n_groups)
    ])
    db.session.add(User(username="staff", display_name="代表工委", role="staff", password_hash=hash_password(PASSWORD)))
    db.session.commit()
    return {"stations": [station_name(i) for i in range(n_stations)],
            "groups": [group_name(i) for i in range(n_professional, n_groups)]}


def roster_rows(n: int, places: dict):
    levels = [level for level, share in LEVELS for _ in range(share)]
    groups, stations = places["groups"], places["stations"]
    for i in range(n):
        surname = SURNAMES[i % len(SURNAMES)]
        given = GIVEN[(i * 7) % len(GIVEN)] + (GIVEN[(i * 13) % len(GIVEN)] if i % 3 else "")
        yield [
            f"DB{i + 1:06d}" if i % 2 == 0 else None,  # half the rows carry a 代表编号
            surname + given,
            "女" if i % 5 in (1, 3) else "男",
            levels[i % len(levels)],
            f"第{i % 300 + 1}选区",
            groups[i % len(groups)],
            stations[i % len(stations)],
            f"某单位{i % 500 + 1}职员",
            f"139{i:08d}",  # unique, so name + phone is unique
        ]


def roster_xlsx(n: int, places: dict) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("代表名册")
    sheet.append(HEADERS)
    for row in roster_rows(n, places):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def insert_deputies_directly(n: int, places: dict) -> None:
    """Fallback when the roster import is not there: the same rows, inserted in bulk."""
    level_keys = {"全国": "national", "省": "provincial", "市": "city", "县": "county", "乡镇": "township"}
    station_ids = dict(db.session.execute(select(Station.name, Station.id)).all())
    group_ids = dict(db.session.execute(select(DeputyGroup.name, DeputyGroup.id)).all())
    rows = list(roster_rows(n, places))
    # render_nulls: rows with and without a 代表编号 go in the same batches (else one INSERT per row).
    db.session.execute(insert(Deputy).execution_options(render_nulls=True), [
        {"code": r[0], "name": r[1], "gender": r[2], "level": level_keys[r[3]], "constituency": r[4],
         "station_id": station_ids[r[6]], "occupation": r[7], "phone": r[8]} for r in rows
    ])
    ids = dict(db.session.execute(select(Deputy.phone, Deputy.id)).all())
    db.session.execute(insert(GroupMembership), [
        {"group_id": group_ids[r[5]], "deputy_id": ids[r[8]], "role": "member"} for r in rows
    ])
    db.session.commit()


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


def build(url: str, n_deputies: int, n_stations: int, n_groups: int, reset: bool) -> dict:
    """A migrated database with the city in it; returns the import figures."""
    figures: dict = {"deputies": n_deputies}
    prepare_database(url, reset)
    app = app_for(url)
    with app.app_context():
        places = create_places(n_stations, n_groups)
        data, seconds = timed(roster_xlsx, n_deputies, places)
        figures["xlsx_bytes"], figures["xlsx_seconds"] = len(data), seconds
        try:
            from blueprints.registry.roster import export_roster, import_roster
        except ImportError:
            log("roster import unavailable: inserting the deputies directly")
            print("roster import unavailable")
            insert_deputies_directly(n_deputies, places)
            figures["import"] = None
        else:
            staff = db.session.scalar(select(User).where(User.username == "staff"))
            result, seconds = timed(import_roster, data, "roster.xlsx", actor=staff)
            figures["import"] = (seconds, result)
            db.session.remove()  # a new session, as a second run of the command would have
            staff = db.session.scalar(select(User).where(User.username == "staff"))
            result, seconds = timed(import_roster, data, "roster.xlsx", actor=staff)
            figures["reimport"] = (seconds, result)
            db.session.remove()
            exported, seconds = timed(export_roster)
            figures["export"] = (seconds, len(exported))
            db.session.remove()
        count = db.session.scalar(select(db.func.count()).select_from(Deputy))
        assert count == n_deputies, f"expected {n_deputies} deputies, found {count}"
        figures["first_group_id"] = db.session.scalar(
            select(DeputyGroup.id).where(DeputyGroup.kind == "regional").order_by(DeputyGroup.id).limit(1))
        db.session.remove()
        db.engine.dispose()
    return figures


# ---- measuring pages -------------------------------------------------------------------------

@contextmanager
def counting(engine):
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def measure_pages(url: str, pages: list[tuple[str, str, dict]], repeat: int) -> dict:
    """{label: (queries, median seconds, bytes)} for each (label, path, headers), logged in as staff.
    Requests run without an outer app context, so each one has its own session as in production."""
    app = app_for(url)
    client = app.test_client()
    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 302, f"login failed: {response.status_code}"
    with app.app_context():
        engine = db.engine
    results = {}
    for label, path, headers in pages:
        response = client.get(path, headers=headers)  # warm up (templates, connection pool)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        with counting(engine) as statements:
            response = client.get(path, headers=headers)
        size = len(response.data)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        results[label] = (len(statements), statements, statistics.median(times), size)
    with app.app_context():
        db.engine.dispose()
    return results


# ---- report ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", metavar="URL", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="database URL (default: $BENCH_DATABASE_URL, else temporary SQLite files)")
    parser.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    parser.add_argument("--deputies", type=int, default=11_000)
    parser.add_argument("--small", type=int, default=200, help="deputies in the small database")
    parser.add_argument("--stations", type=int, default=400)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=20, help="requests per page for the median")
    parser.add_argument("--show-sql", action="store_true", help="print the list page's SQL statements")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        if args.database:  # one database, rebuilt for each size
            urls = {"small": args.database, "large": args.database}
        else:
            urls = {"small": f"sqlite:///{Path(tmp) / 'small.db'}", "large": f"sqlite:///{Path(tmp) / 'large.db'}"}
        backend = urls["large"].split(":", 1)[0]
        log(f"database: {backend} {urls['large'].split('@')[-1]}")

        measured = {}
        builds = {}
        for size, n in (("small", args.small), ("large", args.deputies)):
            log(f"building the {size} database: {n:,} deputies, {args.stations} stations, {args.groups:,} groups")
            builds[size] = build(urls[size], n, args.stations, args.groups, args.reset or size == "large")
            pages = [
                ("list /registry/deputies/", "/registry/deputies/", {}),
                (f"search ?q={SEARCH_SURNAME}", f"/registry/deputies/?q={SEARCH_SURNAME}", {}),
                (f"search ?q={SEARCH_SURNAME} (HTMX rows)", f"/registry/deputies/?q={SEARCH_SURNAME}",
                 {"HX-Request": "true"}),
                ("list, last page", f"/registry/deputies/?page={max(1, -(-n // 50))}", {}),
                ("group page /registry/groups/<id>", f"/registry/groups/{builds[size]['first_group_id']}", {}),
                ("groups list /registry/groups/", "/registry/groups/", {}),
                ("stations list /registry/stations/", "/registry/stations/", {}),
            ]
            log(f"measuring pages on the {size} database ({args.repeat} requests each)")
            measured[size] = measure_pages(urls[size], pages, args.repeat)

    large = builds["large"]
    print()
    print(f"Registry benchmark — {backend}, {args.stations} stations, {args.groups:,} groups")
    print()
    print(f"roster file: {args.deputies:,} rows, {large['xlsx_bytes'] / 1024:,.0f} KiB, "
          f"written in {large['xlsx_seconds']:.2f} s")
    if large.get("import"):
        print(f"{'step':<34}{'seconds':>9}  result")
        for label, key in (("import (new roster)", "import"), ("import again (same file)", "reimport")):
            seconds, result = large[key]
            print(f"{label:<34}{seconds:>9.2f}  created {result.created:,}, updated {result.updated:,}, "
                  f"unchanged {result.unchanged:,}, groups created {result.groups_created}, "
                  f"stations created {result.stations_created}")
        seconds, size = large["export"]
        print(f"{'export_roster (.xlsx)':<34}{seconds:>9.2f}  {size / 1024:,.0f} KiB")
        goal = "met" if large["import"][0] <= 10 else "MISSED"
        print(f"goal: import of {args.deputies:,} rows ≤ 10 s — {goal}")
    else:
        print("roster import unavailable: deputies were inserted directly, no import figures")
    print()
    small_n, large_n = f"{args.small:,}", f"{args.deputies:,}"
    print(f"{'page (staff, logged in)':<38}{'queries':>9}{'queries':>9}{'median ms':>11}{'median ms':>11}"
          f"{'KiB':>8}")
    print(f"{'  (deputies in the database)':<38}{small_n:>9}{large_n:>9}{small_n:>11}{large_n:>11}{large_n:>8}")
    for label in measured["large"]:
        s, b = measured["small"][label], measured["large"][label]
        print(f"{label:<38}{s[0]:>9}{b[0]:>9}{s[2] * 1000:>11.1f}{b[2] * 1000:>11.1f}{b[3] / 1024:>8.0f}")
    print()
    for label in ("list /registry/deputies/", f"search ?q={SEARCH_SURNAME}"):
        s, b = measured["small"][label][0], measured["large"][label][0]
        verdict = "met" if s == b and b <= 8 else "MISSED"
        print(f"goal: {label}: same query count at {small_n} and {large_n} deputies, ≤ 8 — {verdict} ({s} / {b})")
    if args.show_sql:
        print()
        for statement in measured["large"]["list /registry/deputies/"][1]:
            print(" ".join(statement.split())[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
