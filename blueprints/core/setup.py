"""Bringing a database up to date, and the demo county on first start."""
from __future__ import annotations

import sys

from flask_migrate import upgrade
from sqlalchemy import func, select, text

from .extensions import db
from .models import User
from .transaction import transaction


def prepare_database(load_demo: bool = False, out=sys.stdout) -> None:
    """Apply every migration; with load_demo, load the demo county into an empty database."""
    upgrade()
    if not load_demo:
        return
    if db.session.scalar(select(func.count()).select_from(User)):
        print("数据库中已有数据，不再载入演示数据。", file=out)
    else:
        from .demo import load_demo_county

        load_demo_county()
        analyze_database()
        print("已载入演示县的数据。", file=out)
    from .demo import DEMO_PASSWORD

    print(f"演示账号（密码均为 {DEMO_PASSWORD}）：admin, staff, liaison, clerk, unit, unit1 … unit8, "
          "deputy1 … deputy200", file=out)


def analyze_database() -> None:
    """Refresh the query planner's statistics. Without them SQLite picks a range index and sorts,
    instead of reading the notices list in index order (25 ms instead of 0.1 ms at 20,000 notices).
    PostgreSQL's autovacuum does this by itself; on SQLite run `flask --app app analyze` nightly."""
    with transaction():
        db.session.execute(text("ANALYZE"))
