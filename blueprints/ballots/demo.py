"""Demo data for the ballots area: a year of 民生实事 in 青山县, from collection to the satisfaction vote.

Project names follow seed 003 (武穴's 2024 township projects: parks, an old street, a model village
area, a tea-hill resettlement site, a radish industrial park, a culture square)."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import local_today, utcnow
from ..core.transaction import transaction
from ..registry.models import HandlingUnit

CANDIDATES = [
    ("城关镇老街改造升级", "城关镇东街、西街", "县住房和城乡建设局", 1200, "2026年12月底前"),
    ("临涣镇和美乡村示范片建设", "临涣镇临涣村、石桥村", "县农业农村局", 900, "2026年11月底前"),
    ("青山体育公园", "城关镇滨河路", "县住房和城乡建设局", 1500, "2026年10月底前"),
    ("登高山公园步道", "城关镇登高山", "县住房和城乡建设局", 600, "2026年9月底前"),
    ("茶山安置点配套设施", "石门乡茶山安置点", "县住房和城乡建设局", 450, "2026年8月底前"),
    ("萝卜产业园冷链仓储", "临涣镇产业园", "县农业农村局", 800, "2026年12月底前"),
    ("乡镇卫生院发热门诊改造", "各乡镇卫生院", "县卫生健康委员会", 700, "2026年10月底前"),
    ("中心小学食堂提档", "临涣镇中心小学", "县教育局", 300, "2026年8月底前"),
]
PUBLIC_PROPOSALS = [
    ("东街菜市场旁增设公厕", "东街菜市场北侧空地", "赶集的人多，附近没有厕所。", "accepted", None),
    ("老街路灯更换", "城关镇西街", "晚上太暗，老人出门不方便。", "merged", "并入“城关镇老街改造升级”"),
    ("建设高尔夫球场", "城郊", "发展旅游。", "rejected", "不属于民生实事征集范围（不涉及群众基本生活需求）。"),
]


def demo(seed: int = 2026) -> None:
    """Collection, a meeting with a published ballot (electronic and paper votes), tracked projects,
    and next year's meeting with the satisfaction ballot open for the demo deputies: one transaction
    (the services it calls nest in it)."""
    with transaction():
        _demo(seed)


def _demo(seed: int) -> None:
    from . import meetings, proposals, tally, voting
    from .models import Attendance, Proposal, ProposalCall

    rng = random.Random(seed)
    staff = db.session.scalar(select(User).where(User.username == "staff"))
    clerk = db.session.scalar(select(User).where(User.username == "clerk"))
    units = {u.name: u for u in db.session.scalars(select(HandlingUnit))}
    today = local_today()

    # 征集: last year's call (closed) with screened proposals; this year's call open.
    call = ProposalCall(title=f"{today.year}年度县级民生实事候选项目征集", deadline=today - timedelta(days=90),
                        description="围绕群众急难愁盼问题，征集本年度县级民生实事候选项目。",
                        scope_in="道路、供水、教育、医疗、养老、文体设施、农村人居环境等直接惠及群众的项目。",
                        scope_out="楼堂馆所、营利性项目、已列入部门常规计划的项目。")
    db.session.add(call)
    db.session.flush()
    accepted = []
    for title, where, unit_name, cost, timeline in CANDIDATES:
        proposal = Proposal(call_id=call.id, source="department", title=title, content=f"建设地点：{where}",
                            unit_id=units[unit_name].id, cost_estimate=cost, timeline=timeline, status="accepted",
                            public_reason="列入候选项目")
        db.session.add(proposal)
        accepted.append(proposal)
    db.session.flush()
    for title, where, why, status, reason in PUBLIC_PROPOSALS:
        db.session.add(Proposal(call_id=call.id, source="public", title=title, content=where, reason=why,
                                status=status, public_reason=reason,
                                merged_into_id=accepted[0].id if status == "merged" else None))
    db.session.flush()
    proposals.create_call(f"{today.year + 1}年度县级民生实事候选项目征集", today + timedelta(days=60),
                          "欢迎群众通过网上、代表联络站提出明年的民生实事项目建议。", actor=staff)

    # 票决: the congress session; most deputies check in, a few vote on paper.
    meeting = meetings.create_meeting("青山县第十八届人民代表大会第二次会议", "county", "第十八届",
                                      date(today.year, 1, 12), staff)
    roll = db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)
                              .order_by(Attendance.deputy_id)).all()
    present = [a for a in roll if rng.random() < 0.92]
    for attendance in present:
        attendance.checked_in_at = utcnow()
        attendance.checked_in_by_id = clerk.id
    db.session.flush()
    ballot = voting.create_ballot(meeting, f"{today.year}年度县级民生实事项目票决", "approve", True, 6, 5, staff)
    for proposal in accepted:
        voting.add_item(ballot, proposal.title, proposal.unit.name, proposal.cost_estimate, proposal.timeline,
                        proposal_id=proposal.id, actor=staff)
    tally.publish_candidates(ballot, staff)
    voting.open_ballot(ballot.id, staff)
    popularity = [0.93, 0.88, 0.81, 0.64, 0.79, 0.55, 0.86, 0.72]
    paper = present[:4]
    for attendance in paper:
        voting.mark_paper(ballot.id, attendance.deputy_id, clerk)
    db.session.refresh(ballot)
    items = ballot.items
    for attendance in present[4:]:
        plan, yes = {}, 0
        for item, p in sorted(zip(items, popularity, strict=True), key=lambda pair: -pair[1]):
            choice = "yes" if rng.random() < p and yes < 6 else rng.choice(["no", "abstain"])
            yes += choice == "yes"
            plan[f"item-{item.id}"] = choice
        voting.cast_vote(ballot.id, attendance.deputy_id, plan, meeting.id)
    voting.close_ballot(ballot.id, staff)
    for item, p in zip(items, popularity, strict=True):
        yes = min(len(paper), round(len(paper) * p))
        tally.enter_paper_count(ballot.id, item.id, [yes, len(paper) - yes, 0], clerk)
    tally.publish(ballot.id, staff)

    _demo_progress(staff, today)
    db.session.flush()
    _demo_inspection(staff, today)

    # 评价: next session, the satisfaction ballot is open for the deputies (log in as deputy41 … deputy190).
    evaluation = meetings.create_meeting("青山县第十八届人民代表大会第三次会议", "county", "第十八届", None, staff)
    db.session.execute(Attendance.__table__.update().where(Attendance.meeting_id == evaluation.id)
                       .values(checked_in_at=utcnow(), checked_in_by_id=clerk.id))
    db.session.flush()
    from .projects import create_rating_ballot

    rating = create_rating_ballot(evaluation, today.year, staff)
    voting.open_ballot(rating.id, staff)
    _demo_township_session(staff, clerk, today, rng)
    _demo_progress(staff, today)  # the township's projects too
    _demo_group_notice(staff, today)


TOWNSHIP_CANDIDATES = [
    ("镇区文化广场提升", 180, "2026年10月底前"),
    ("老街排水管网改造", 260, "2026年9月底前"),
    ("和美乡村示范点建设", 320, "2026年11月底前"),
    ("村级养老服务站", 90, "2026年8月底前"),
]


def _demo_township_session(staff, clerk, today, rng) -> None:
    """镇人代会: the township with the most township deputies holds its own session and chooses its own
    livelihood projects; the roll is its deputies only (not every township deputy of the county)."""
    from ..core.models import Area
    from ..registry.models import Deputy
    from . import meetings, tally, voting
    from .models import Attendance

    township_id, _count = db.session.execute(
        select(Deputy.area_id, func.count()).join(Area, Area.id == Deputy.area_id)
        .where(Deputy.level == "township", Deputy.ended_on.is_(None), Area.kind == "township")
        .group_by(Deputy.area_id).order_by(func.count().desc(), Deputy.area_id).limit(1)).one()
    township = db.session.get(Area, township_id)
    meeting = meetings.create_meeting(f"{township.name}第十九届人民代表大会第五次会议", "township", "第十九届",
                                      date(today.year, 1, 8), staff, area_id=township.id)
    db.session.execute(Attendance.__table__.update().where(Attendance.meeting_id == meeting.id)
                       .values(checked_in_at=utcnow(), checked_in_by_id=clerk.id))
    db.session.flush()
    ballot = voting.create_ballot(meeting, f"{today.year}年度{township.name}民生实事项目票决", "approve", True,
                                  None, 2, staff)
    for title, cost, timeline in TOWNSHIP_CANDIDATES:
        voting.add_item(ballot, f"{township.name}{title}", f"{township.name}人民政府", cost, timeline, actor=staff)
    voting.open_ballot(ballot.id, staff)
    db.session.refresh(ballot)
    popularity = [0.9, 0.8, 0.6, 0.3]
    roll = db.session.scalars(select(Attendance.deputy_id).where(Attendance.meeting_id == meeting.id)
                              .order_by(Attendance.deputy_id)).all()
    for deputy_id in roll:
        plan = {f"item-{item.id}": "yes" if rng.random() < p else rng.choice(["no", "abstain"])
                for item, p in zip(ballot.items, popularity, strict=True)}
        voting.cast_vote(ballot.id, deputy_id, plan, meeting.id)
    voting.close_ballot(ballot.id, staff)
    tally.publish(ballot.id, staff)


def _demo_progress(staff, today) -> None:
    """监督: the units post progress on the selected projects that have none yet, as far as the time of
    year makes credible (a project chosen in January is mostly finished by December, not at 30 %)."""
    from .models import Project, ProjectUpdate

    expected = today.month * 100 // 12
    started = select(ProjectUpdate.project_id)
    for index, project in enumerate(db.session.scalars(select(Project).where(Project.id.not_in(started))
                                                       .order_by(Project.id))):
        unit_user = db.session.scalar(select(User).where(User.role == "unit", User.unit_id == project.unit_id))
        author = unit_user or staff
        level = max(30, expected + (-15, 0, 10)[index % 3])
        steps = [step for step in ((30, "完成立项和招标"), (65, "主体工程完工"), (100, "竣工验收")) if step[0] <= level]
        for progress, milestone in steps:
            db.session.add(ProjectUpdate(project_id=project.id, progress=progress, milestone=milestone,
                                         note=f"{project.title}：{milestone}。", posted_by_id=author.id,
                                         posted_by_name=author.username))
            project.progress = progress
        project.status = "done" if project.progress == 100 else "in_progress"
    db.session.flush()


def _demo_inspection(staff, today) -> None:
    """代表视察: five county deputies inspected the first project (a duty activity each), linked to it."""
    from ..duties.services import record_activity
    from ..registry.models import Deputy
    from .models import Project
    from .projects import link_inspection

    project = db.session.scalars(select(Project).order_by(Project.id)).first()
    deputy_ids = db.session.scalars(select(Deputy.id).where(Deputy.level == "county", Deputy.ended_on.is_(None))
                                    .order_by(Deputy.id).limit(5)).all()
    if project is None or not deputy_ids:
        return
    day = min(today, max(date(today.year, 1, 20), today - timedelta(days=20)))
    outing = [record_activity(d, "inspection", day, f"视察民生实事项目：{project.title}", source="batch",
                              source_ref="demo-project-inspection", place=project.unit_name, actor=staff)
              for d in deputy_ids]
    db.session.flush()
    link_inspection(project, [a.id for a in outing], staff)


def _demo_group_notice(staff, today) -> None:
    """代表小组活动通知: the first group with at least three serving members who have accounts; one answers
    参加, one asked for leave (approved), one asked for leave (waiting), the rest have not answered."""
    from ..registry.models import Deputy, DeputyGroup, GroupMembership
    from . import occasions

    for group in db.session.scalars(select(DeputyGroup).order_by(DeputyGroup.id)):
        users = db.session.scalars(
            select(User).join(Deputy, Deputy.id == User.deputy_id)
            .join(GroupMembership, GroupMembership.deputy_id == Deputy.id)
            .where(GroupMembership.group_id == group.id, Deputy.ended_on.is_(None), User.active.is_(True))
            .order_by(User.id)).all()
        if len(users) >= 3:
            break
    else:
        return
    notice, *_ = occasions.send_occasion(
        "group", f"{group.name}集中视察农村人居环境整治", today + timedelta(days=7),
        "请小组代表按时集合，视察农村人居环境整治情况，会后座谈。", "镇政府门前", "上午 9:00", staff,
        group_id=group.id)
    occasions.reply(notice, users[0], "attend")
    approved = occasions.reply(notice, users[1], "leave", "参加市里培训")
    occasions.decide_leave(approved, True, None, staff)
    occasions.reply(notice, users[2], "leave", "家中有事")
