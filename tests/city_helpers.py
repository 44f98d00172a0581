"""A city-sized county built by bulk inserts (plain functions: tests/test_workspaces_city.py, tests/bench).

``build_city(deputies)`` fills an empty, migrated database in seconds: every table the workspace counts
look at gets rows in the states they count (new, assigned, overdue, due within 7 days, extension requested
and decided, pending and returned activities, submitted and registered suggestions, answered ones not yet
rated, co-signing and motion invitations, an open ballot, meeting notices not answered, reception days with
and without visits, duty tomorrow). Everything scales with ``deputies`` (11,000 is the city; 110 a small
county built the same way), so a query count that grows with the data shows as a difference.

Accounts (password tests.conftest.PASSWORD): ``staff``; ``deputy1`` … (deputy accounts, ``deputy1`` is
deputy 1); ``liaison1`` … (one per station, liaison of the groups with the same number modulo the
stations); ``unit1`` … (one per handling unit). Rows carry explicit ids (1, 2, …), so the caller can
name them; on PostgreSQL the id sequences are moved past them at the end.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, insert, text

from blueprints.ballots.models import Attendance, Ballot, BallotReceipt, Meeting
from blueprints.ballots.notice_models import MeetingNotice, NoticeReply
from blueprints.core.cases import Case, CaseAssignment, CaseStep
from blueprints.core.extensions import db
from blueprints.core.models import Area, User
from blueprints.core.timeutil import local_today
from blueprints.duties.models import Activity
from blueprints.motions.models import Motion, MotionSigner
from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership, HandlingUnit, Station
from blueprints.stations.models import DutyAssignment, Reception, ReceptionDay
from blueprints.suggestions.models import CongressSession, Suggestion, SuggestionCosigner
from blueprints.suggestions.supervision_models import HandlingPlan, PlanMilestone

CITY = 11_000
SMALL = 110
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉兵辉鹏飞斌宇浩凯玲燕"
LEVELS = ("county", "county", "township", "township", "city", "provincial")
RECEPTION_OFFSETS = (1, 0, -3, -7, -14, -21, -28, 3, 7, 14)  # days from today; +1 first: deputy 1 on duty tomorrow
RECORDED_OFFSETS = (-7, -21)  # past reception days with a visit recorded (the others count as unrecorded)


def sizes(deputies: int) -> dict[str, int]:
    """How many of each, in proportion to the deputies (the city: 400 stations, 1,000 groups)."""
    k = deputies / CITY
    return {
        "deputies": deputies, "townships": max(2, round(40 * k)), "stations": max(4, round(400 * k)),
        "groups": max(10, round(1000 * k)), "units": max(4, round(100 * k)),
        "deputy_accounts": max(6, round(200 * k)), "cases": max(60, round(6000 * k)),
        "suggestions": max(60, round(3000 * k)), "activities": max(200, round(20_000 * k)),
        "motions": max(12, round(200 * k)),
    }


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(model).execution_options(render_nulls=True), rows[start:start + 5000])


def build_city(deputies: int = CITY, password_hash: str = "x") -> dict:  # noqa: S107 (a hash, not a password)
    """Fill the (empty, migrated) database; returns the sizes used. Commits."""
    n = sizes(deputies)
    today = local_today()
    now = datetime.now(UTC)
    n_dep, n_st, n_units = n["deputies"], n["stations"], n["units"]

    # areas: the county, its townships, three villages each
    areas = [{"id": 1, "name": "城市", "kind": "county", "parent_id": None}]
    townships = list(range(2, 2 + n["townships"]))
    areas += [{"id": t, "name": f"第{t - 1}街道", "kind": "township", "parent_id": 1} for t in townships]
    villages = []
    for t in townships:
        for v in range(3):
            villages.append(len(areas) + 1)
            areas.append({"id": len(areas) + 1, "name": f"第{t - 1}街道第{v + 1}社区", "kind": "village",
                          "parent_id": t})
    _bulk(Area, areas)
    _bulk(Station, [{"id": s, "name": f"第{s:03d}号代表联络站", "kind": "station", "code": f"st{s}",
                     "area_id": townships[s % len(townships)], "active": True} for s in range(1, n_st + 1)])
    _bulk(HandlingUnit, [{"id": u, "name": f"第{u:03d}承办单位", "code": f"un{u}", "active": True}
                         for u in range(1, n_units + 1)])

    def station_of(deputy_id: int) -> int:
        return (deputy_id - 1) % n_st + 1

    _bulk(Deputy, [{
        "id": d, "code": f"DB{d:06d}", "name": SURNAMES[d % len(SURNAMES)] + GIVEN[(d * 7) % len(GIVEN)] + str(d),
        "sort_name": f"dep{d:06d}", "gender": "女" if d % 3 == 0 else "男", "level": LEVELS[d % len(LEVELS)],
        "phone": f"139{d:08d}", "area_id": villages[d % len(villages)], "station_id": station_of(d),
    } for d in range(1, n_dep + 1)])

    # accounts: staff, one liaison per station, one per unit, the first deputies
    users = [{"id": 1, "username": "staff", "display_name": "代表工委", "role": "staff", "deputy_id": None,
              "station_id": None, "unit_id": None}]
    liaison_of = {}
    for s in range(1, n_st + 1):
        liaison_of[s] = len(users) + 1
        users.append({"id": len(users) + 1, "username": f"liaison{s}", "display_name": f"联络员{s}", "role": "liaison",
                      "deputy_id": None, "station_id": s, "unit_id": None})
    unit_user = {}
    for u in range(1, n_units + 1):
        unit_user[u] = len(users) + 1
        users.append({"id": len(users) + 1, "username": f"unit{u}", "display_name": f"第{u:03d}承办单位",
                      "role": "unit", "deputy_id": None, "station_id": None, "unit_id": u})
    for d in range(1, n["deputy_accounts"] + 1):
        users.append({"id": len(users) + 1, "username": f"deputy{d}", "display_name": f"代表{d}", "role": "deputy",
                      "deputy_id": d, "station_id": None, "unit_id": None})
    for row in users:
        row.update(password_hash=password_hash, active=True, password_state="chosen")
    _bulk(User, users)

    # groups (one in twenty professional), each deputy in one; a station's liaison looks after its groups
    n_groups = n["groups"]
    _bulk(DeputyGroup, [{
        "id": g, "name": f"第{g:04d}代表小组", "kind": "professional" if g % 20 == 0 else "regional",
        "area_id": None if g % 20 == 0 else townships[g % len(townships)],
        "liaison_user_id": liaison_of[(g - 1) % n_st + 1],
    } for g in range(1, n_groups + 1)])
    _bulk(GroupMembership, [{"group_id": (d - 1) % n_groups + 1, "deputy_id": d, "role": "member"}
                            for d in range(1, n_dep + 1)])

    session_id = 1
    _bulk(CongressSession, [{"id": session_id, "name": f"{today.year}年人代会", "year": today.year,
                             "opens_on": date(today.year, 1, 10), "accepting": True}])

    # 群众诉求: a fifth new, two fifths assigned (deadlines from 15 days late to 24 ahead, a tenth with an
    # extension requested), the rest answered or closed; deputies' 社情民意 among them
    sources = ("reception", "message", "kiosk", "deputy")
    statuses = ("new", "assigned", "assigned", "answered", "closed")
    cases, assignments, steps = [], [], []
    for c in range(1, n["cases"] + 1):
        status, source = statuses[c % 5], sources[c % 4]
        cases.append({"id": c, "source": source, "status": status, "title": f"群众诉求{c}", "body": "反映的问题",
                      "station_id": (c // 5) % n_st + 1,  # five in a row at a station: every status
                      "deputy_id": (c * 7) % n_dep + 1 if source == "deputy" else None,
                      "created_at": now - timedelta(days=c % 60), "updated_at": now,
                      "answered_at": now - timedelta(days=1) if status in ("answered", "closed") else None})
        if status == "new":
            continue
        unit = (c // 5) % n_units + 1
        extension = status == "assigned" and c % 10 == 1
        replied = status != "assigned"
        assignments.append({
            "case_id": c, "unit_id": unit, "role": "main", "state": "replied" if replied else "pending",
            "deadline": today + timedelta(days=c % 40 - 15), "assigned_at": now - timedelta(days=20),
            "replied_at": now - timedelta(days=1) if replied else None, "reply": "已办理" if replied else None,
            "extension_until": today + timedelta(days=40) if extension else None,
            "extension_reason": "需要协调" if extension else None,
        })
        if status == "assigned" and c % 10 == 6:
            steps.append({"case_id": c, "at": now - timedelta(days=c % 9), "actor_name": "代表工委",
                          "action": "extension_approve" if c % 20 == 6 else "extension_refuse", "unit_id": unit})

    # 代表建议: drafts, submitted, registered, assigned (with their case and the main unit's assignment),
    # answered (half rated), closed; plans with overdue milestones for a third of the assigned ones
    sug_statuses = ("draft", "submitted", "registered", "assigned", "assigned", "answered", "closed")
    suggestions, plans, milestones, cosigners = [], [], [], []
    number = 0
    next_case = n["cases"]
    for s in range(1, n["suggestions"] + 1):
        status = sug_statuses[s % len(sug_statuses)]
        lead = 1 if s % 50 == 5 else (s * 13) % n_dep + 1  # deputy 1 leads some (answered ones to rate)
        row = {"id": s, "session_id": session_id, "number": None, "lead_deputy_id": lead,
               "title": f"关于第{s}件事的建议", "grounds": "理由", "proposal": "办法", "status": status,
               "case_id": None, "main_unit_id": None, "deadline": None, "rating": None,
               "submitted_at": None if status == "draft" else now - timedelta(days=30)}
        if status not in ("draft", "submitted"):
            number += 1
            row["number"] = number
        if status in ("assigned", "answered", "closed"):
            next_case += 1
            unit = (s - 1) % n_units + 1
            row.update(case_id=next_case, main_unit_id=unit, deadline=today + timedelta(days=s % 30 - 5))
            if status == "answered" and s % 4 == 1:
                row["rating"] = "satisfied"
            cases.append({"id": next_case, "source": "suggestion", "status": "assigned" if status == "assigned" else
                          "answered", "title": row["title"], "body": "", "station_id": None, "deputy_id": None,
                          "created_at": now, "updated_at": now, "answered_at": None})
            pending = status == "assigned"
            assignments.append({
                "case_id": next_case, "unit_id": unit, "role": "main", "state": "pending" if pending else "replied",
                "deadline": row["deadline"], "assigned_at": now - timedelta(days=20 + s % 10),
                "replied_at": None if pending else now, "reply": None if pending else "已答复",
                "extension_until": today + timedelta(days=30) if pending and s % 9 == 0 else None,
                "extension_reason": "需要协调" if pending and s % 9 == 0 else None,
            })
            if pending and s % 3 == 0:
                plans.append({"id": len(plans) + 1, "suggestion_id": s, "round": 1, "unit_id": unit, "summary": "方案"})
                milestones.append({"plan_id": len(plans), "title": "第一阶段", "due_on": today - timedelta(days=3),
                                   "done_on": None})
        suggestions.append(row)
        invited = {1 if s % 40 == 0 else (s * 13 + 101) % n_dep + 1, (s * 13 + 202) % n_dep + 1} - {lead}
        for cosigner in sorted(invited):  # two co-signers; invitations still open on drafts
            cosigners.append({"suggestion_id": s, "deputy_id": cosigner,
                              "state": "invited" if status == "draft" else "confirmed",
                              "answered_at": None if status == "draft" else now})
    _bulk(Case, cases)
    _bulk(CaseAssignment, assignments)
    _bulk(CaseStep, steps)
    _bulk(Suggestion, suggestions)
    _bulk(SuggestionCosigner, cosigners)
    _bulk(HandlingPlan, plans)
    _bulk(PlanMilestone, milestones)

    # 履职活动: a third pending, a sixth returned
    activity_status = ("pending", "verified", "pending", "verified", "returned", "verified")
    _bulk(Activity, [{
        "deputy_id": 1 if a % 100 == 4 else (a * 17) % n_dep + 1, "type_code": "survey",
        "occurred_on": today - timedelta(days=a % 200), "year": (today - timedelta(days=a % 200)).year,
        "title": f"调研活动{a}", "status": activity_status[a % len(activity_status)], "source": "self",
        "source_ref": f"city-{a}",
    } for a in range(1, n["activities"] + 1)])

    # 议案: submitted ones to review, drafts with invitations to co-sign
    motions, signers = [], []
    for m in range(1, n["motions"] + 1):
        draft = m % 2 == 0
        motions.append({"id": m, "session_id": session_id, "number": None if draft else m,
                        "lead_deputy_id": m * 3 % n_dep + 1, "title": f"关于第{m}项的议案", "grounds": "理由",
                        "proposal": "方案",
                        "status": "draft" if draft else "submitted"})
        for signer in {1 if m % 6 == 0 else m * 5 % n_dep + 1, m * 11 % n_dep + 1} - {m * 3 % n_dep + 1}:
            signers.append({"motion_id": m, "deputy_id": signer, "state": "invited" if draft else "confirmed",
                            "answered_at": None if draft else now})
    _bulk(Motion, motions)
    _bulk(MotionSigner, signers)

    # a meeting today with every deputy on its roll and a ballot open (the even deputies have voted), and
    # a meeting next week whose notice a quarter of the roll has answered
    _bulk(Meeting, [{"id": 1, "title": "人民代表大会", "level": "county", "held_on": today},
                    {"id": 2, "title": "代表培训会", "level": "county", "held_on": today + timedelta(days=7)}])
    _bulk(Attendance, [{"meeting_id": 1, "deputy_id": d} for d in range(1, n_dep + 1)]
          + [{"meeting_id": 2, "deputy_id": d} for d in range(1, n_dep + 1, 2)])
    _bulk(Ballot, [{"id": 1, "meeting_id": 1, "title": "民生实事项目票决", "status": "open", "opened_at": now,
                    "eligible_count": n_dep}])
    _bulk(BallotReceipt, [{"ballot_id": 1, "deputy_id": d} for d in range(2, n_dep + 1, 2)])
    _bulk(MeetingNotice, [{"id": 1, "meeting_id": 2, "body": "请准时参加培训。", "place": "会议中心"}])
    _bulk(NoticeReply, [{"notice_id": 1, "deputy_id": d, "answer": "attend"} for d in range(3, n_dep + 1, 4)])

    # reception days at every station (today, tomorrow, the past four weeks, the weeks ahead), two deputies
    # of the station on duty each day; visits recorded on two of the past days
    days, duties, receptions = [], [], []
    for s in range(1, n_st + 1):
        members = list(range(s, n_dep + 1, n_st))
        for j, offset in enumerate(RECEPTION_OFFSETS):
            day_id = len(days) + 1
            days.append({"id": day_id, "station_id": s, "day": today + timedelta(days=offset), "start_time": time(9),
                         "end_time": time(11, 30), "status": "scheduled"})
            for deputy in {members[(2 * j) % len(members)], members[(2 * j + 1) % len(members)]}:
                duties.append({"reception_day_id": day_id, "deputy_id": deputy, "station_id": s,
                               "day": today + timedelta(days=offset)})
            if offset in RECORDED_OFFSETS:
                receptions.append({"station_id": s, "reception_day_id": day_id, "category": "other",
                                   "summary": "群众来访", "visited_at": now - timedelta(days=-offset)})
    _bulk(ReceptionDay, days)
    _bulk(DutyAssignment, duties)
    _bulk(Reception, receptions)
    db.session.commit()
    _move_sequences()
    return n


def _move_sequences() -> None:
    """PostgreSQL: every id sequence past the explicit ids inserted (SQLite needs nothing)."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not isinstance(table.c.id.type, Integer):
            continue
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 (metadata names)
            f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false) "
            f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL"))
    db.session.commit()
