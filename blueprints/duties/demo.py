"""Demo data for duty registration, drawn from the seeds: the year's published points rules, a term,
a year of activities for every demo deputy (receptions on the fixed reception days, group
inspections, surveys, monthly public-opinion items, training), some waiting for verification,
one returned, an absence, and reports to voters (about 20% of deputies a year)."""
from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

from sqlalchemy import select

from ..core.demo import last_office_day, office_moment
from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import LOCAL_TZ, local_today
from ..core.transaction import transaction
from ..registry.models import Deputy
from . import scoring
from .models import Absence, Activity, CongressTerm, VoterReport

TITLES = {
    "reception": ("在{s}参加固定接待日接待选民", "{s}“局长进站”主题接待"),
    "inspection": ("参加代表小组视察农村饮水安全工程", "视察城区老旧小区改造项目", "视察民生实事项目进展"),
    "survey": ("调研农村养老服务中心运营情况", "调研中小学课后服务", "调研农贸市场食品安全"),
    "law_check": ("参加《食品安全法》执法检查",),
    "contact": ("走访联系选民中心户", "电话回访反映问题的群众"),
    "group_activity": ("参加代表小组集中学习和活动", "代表小组“码上办”问题梳理会"),
    "training": ("参加县人大代表履职培训班",),
    "public_opinion": ("反映农村道路路灯缺失问题", "反映小区加装电梯协调难问题", "反映学校周边交通拥堵问题"),
    "standing_committee": ("列席县人大常委会第十二次会议",),
    "congress_session": ("出席县第十八届人民代表大会第三次会议",),
}


def load(seed: int = 2026) -> None:
    """One unit of work: the area's demo data is stored whole or not at all."""
    with transaction():
        _load(seed)


def _load(seed: int) -> None:
    rng = random.Random(seed)
    times = random.Random(f"{seed}-activity-times")  # apart from ``rng``: the county's facts stay the same
    today = local_today()
    year = today.year
    staff = db.session.scalar(select(User).where(User.role == "staff"))
    db.session.add(CongressTerm(level="county", name="第十八届", starts_on=date(year - 3, 1, 1)))
    for level in ("township", "city"):
        db.session.add(CongressTerm(level=level, name="本届", starts_on=date(year - 3, 1, 1)))
    db.session.flush()
    scoring.ensure_year(year - 1)
    scoring.ensure_year(year)
    deputies = db.session.scalars(select(Deputy).where(Deputy.ended_on.is_(None)).order_by(Deputy.id)).all()
    start = date(year, 1, 1)
    # Activities up to the last office day: one held on the Saturday the demo is loaded is not filed yet.
    span = max(1, (max(start, last_office_day()) - start).days)
    n = 0
    for deputy in deputies:
        if deputy.level == "county" and not deputy.term:
            deputy.term = "第十八届"
        station = deputy.station.name if deputy.station else "代表联络站"
        for _ in range(rng.randint(2, 14)):
            code = rng.choice(list(TITLES))
            when = start + timedelta(days=rng.randint(0, span))
            status = rng.choices(("verified", "pending", "returned"), (85, 12, 3))[0]
            n += 1
            # Filed a few days after the activity, verified a few days later, both in office hours.
            filed = office_moment(when + timedelta(days=times.randint(0, 3)), times)
            checked = office_moment(filed.astimezone(LOCAL_TZ).date() + timedelta(days=times.randint(1, 5)), times)
            checked = max(checked, filed)
            db.session.add(Activity(
                deputy_id=deputy.id, type_code=code, occurred_on=when, year=year,
                title=rng.choice(TITLES[code]).format(s=station), place=station if code == "reception" else None,
                duration_minutes=rng.choice((60, 120, 180, 240)), status=status, source="self" if status != "verified"
                else "demo", source_ref=f"demo-{n}", verified_at=checked if status == "verified" else None,
                created_at=filed, updated_at=checked if status == "verified" else filed,
                verified_by_id=staff.id if staff and status == "verified" else None,
                return_reason="请补充活动照片或签到表" if status == "returned" else None))
    db.session.flush()
    if deputies:
        db.session.add(Absence(deputy_id=deputies[-1].id, occurred_on=start + timedelta(days=min(40, span)),
                               year=year, note="未请假缺席县第十八届人民代表大会第三次会议"))
    for deputy in deputies[: max(1, len(deputies) // 5)]:
        held = rng.random() < 0.6
        db.session.add(VoterReport(
            deputy_id=deputy.id, scheduled_on=today - timedelta(days=rng.randint(5, 200)) if held
            else today + timedelta(days=rng.randint(3, 60)), place=deputy.station.name if deputy.station else "村委会",
            constituency=deputy.constituency, held=held, attendance=rng.randint(30, 80) if held else None,
            questions="村道何时硬化？学校门口能否增设红绿灯？" if held else None,
            paper_satisfied=rng.randint(20, 40) if held else 0, paper_basic=rng.randint(0, 8) if held else 0,
            paper_unsatisfied=rng.randint(0, 2) if held else 0, qr_token=secrets.token_urlsafe(16)))
    db.session.flush()
    if staff is not None:
        scoring.publish_rules(year, staff)
