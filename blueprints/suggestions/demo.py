"""Demo suggestions for the demo county, drawn from the seed reports (北关区 and 新蔡县 in seed 002,
濉溪县 in seed 000): two sessions, every stage of 提、办、督、评, one carried over into this year."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import local_today
from ..core.transaction import transaction
from . import handling, services

# (subject, category, grounds, proposal, main unit, assisting unit): each goes to the unit that handles
# its topic (饮水安全 and 农田水利 → 水利局, 养老 → 民政局, 校园周边交通 → 公安局 with 教育局 ...).
SUBJECTS = [
    ("关于加快推进临涣镇卫生院建设的建议", "health", "临涣镇卫生院业务用房建于上世纪八十年代，门诊和住院用房不足，"
     "周边群众看病要到县城，就医不便。", "一、将卫生院改扩建列入年度计划；二、落实建设资金；三、年内开工建设。",
     "县卫生健康委员会", "县住房和城乡建设局"),
    ("关于保障农村老年人基本养老的建议", "social", "农村留守老人增多，敬老院床位不足，日间照料中心覆盖率低。",
     "新建社会办养老机构和社区日间照料中心，提高护理型床位比例。", "县民政局", "县卫生健康委员会"),
    ("关于加强农村道路桥梁养护和改造的建议", "transport", "部分农村公路年久失修，危桥影响群众出行安全。",
     "实施农村公路提质改造，开展危桥改造，落实养护资金。", "县交通运输局", "县农业农村局"),
    ("关于解决企业“用工难”劳动者“求职难”的建议", "economy", "开发区企业招工难与部分劳动者就业难并存。",
     "建立用工信息共享平台，定期举办招聘会，开展订单式技能培训。", "县人力资源和社会保障局", "县教育局"),
    ("关于改善城关镇老旧小区雨污管网的建议", "urban", "北关社区等老旧小区雨污管网堵塞，雨季积水严重。",
     "实施雨污分流改造，明确管网养护责任单位。", "县住房和城乡建设局", "县水利局"),
    ("关于推进农村生活垃圾分类处理的建议", "environment", "部分村庄垃圾收运不及时，乱堆乱放现象反弹。",
     "完善村级垃圾分类设施，建立长效保洁机制。", "县农业农村局", "市生态环境局青山县分局"),
    ("关于加强中小学校园周边交通安全的建议", "education", "上下学高峰时段校园周边交通拥堵，存在安全隐患。",
     "增设交通标志和减速设施，高峰时段安排警力疏导。", "县公安局", "县教育局"),
    ("关于提高农村饮水安全保障水平的建议", "agriculture", "部分村组供水管网老化，夏季用水高峰水压不足。",
     "实施农村供水管网改造，推进城乡供水一体化。", "县水利局", "县住房和城乡建设局"),
    ("关于完善城区公交线路的建议", "transport", "城区新建小区未通公交，群众出行不便。", "优化公交线路，增设站点。",
     "县交通运输局", "县住房和城乡建设局"),
    ("关于加大基层医疗人才引进力度的建议", "health", "乡镇卫生院医护人员缺乏，人才留不住。",
     "落实基层医务人员待遇，实行县管乡用。", "县卫生健康委员会", "县人力资源和社会保障局"),
    ("关于规范农贸市场管理的建议", "economy", "部分农贸市场占道经营，环境卫生差。", "改造提升农贸市场，加强日常监管。",
     "县市场监督管理局", "县住房和城乡建设局"),
    ("关于加强农田水利设施建设的建议", "agriculture", "部分沟渠淤塞，灌溉不畅。", "开展沟渠清淤，修缮泵站。",
     "县水利局", "县农业农村局"),
]
# The answers of the first five assigned (made[3:8]), each about its own subject: class, text, extra.
ANSWERS = [
    ("A", "已建立县级用工信息共享平台，今年举办专场招聘会6场，开展订单式技能培训420人次。", {}),
    ("B", "城关镇老旧小区雨污分流改造已列入城市更新项目，正在开展前期设计，明年汛期前完工。", {"days": 150}),
    ("C", "全县村级垃圾分类设施一次建成投资较大，今年先在3个村试点，其余分年度实施。",
     {"reasons": "项目投资大，当前县级财力无法一次承担，将积极争取上级资金。"}),
    ("A", "已在全县12所中小学周边增设交通标志和减速带，上下学高峰时段安排警力和护学岗疏导。", {}),
    ("B", "农村供水管网改造已列入明年城乡供水一体化工程，正在开展前期工作。", {"days": 150}),
]


def _users():
    staff = db.session.scalar(select(User).where(User.username == "staff"))
    deputies = db.session.scalars(select(User).where(User.role == "deputy").order_by(User.id).limit(40)).all()
    units = {u.unit_id: u for u in db.session.scalars(select(User).where(User.role == "unit"))}
    return staff, deputies, units


def demo(rng: random.Random | None = None) -> None:
    """Load the demo suggestions (called at the end of core.demo.load_demo_county), in one transaction:
the services called here nest in it and only flush."""
    from ..core.accounts import hash_password
    from ..registry.models import HandlingUnit

    rng = rng or random.Random(2026)
    today = local_today()
    staff, deputies, unit_users = _users()
    if staff is None or len(deputies) < 12:
        return
    with transaction():  # the whole demo of this area is one unit of work: all of it or nothing
        units = db.session.scalars(select(HandlingUnit).order_by(HandlingUnit.id)).all()
        # One account per handling unit so that every unit can answer (the demo's "unit" account is 住建局).
        password_hash = db.session.scalar(select(User.password_hash).where(User.username == "staff")) \
            or hash_password("demo-2026")
        for index, unit in enumerate(units, start=1):
            if unit.id not in unit_users:
                user = User(username=f"unit{index}", display_name=f"{unit.name} 办理员", role="unit", unit=unit,
                            password_hash=password_hash)
                db.session.add(user)
                unit_users[unit.id] = user
        db.session.flush()

        last = services.create_session("青山县十八届人大一次会议", today.year - 1, today - timedelta(days=360),
                                       today - timedelta(days=357), by=staff)
        current = services.create_session("青山县十八届人大二次会议", today.year, today - timedelta(days=20),
                                          today - timedelta(days=17), by=staff)

        # Last year's: answered B-class, rated basically satisfied, carried over into this year.
        old = services.create_draft({"title": "关于实施农村公路提质改造工程的建议", "category": "transport",
                                     "grounds": "五沟镇至南坪镇县道路面破损严重。",
                                     "proposal": "列入交通建设计划，分年度实施。"},
                                    by=deputies[0], session=last)
        services.submit(old, by=deputies[0])
        services.register(old, by=staff)
        traffic = next(u for u in units if u.name == "县交通运输局")
        handling.assign(old, traffic, by=staff)
        handling.reply(old, "该路段已列入明年交通建设计划，计划分两期实施。", "B", by=unit_users[traffic.id],
                       promised_on=today + timedelta(days=180))
        handling.rate(old, "basically", "希望加快进度。", by=deputies[0])
        services.carry_over(today.year, by=staff)
        services.set_accepting(last, False, by=staff)

        made = []
        unit_named = {u.name: u for u in units}
        for index, (title, category, grounds, proposal, _main, _assist) in enumerate(SUBJECTS):
            lead = deputies[index + 1]
            item = services.create_draft({"title": title, "category": category, "grounds": grounds,
                                          "proposal": proposal}, by=lead, session=current)
            cosigners = rng.sample(deputies[14:], 2)
            services.invite_cosigners(item, [u.deputy for u in cosigners], by=lead)
            services.answer_cosign(item, True, by=cosigners[0])
            made.append((item, lead))
        # Stages: 2 drafts, 1 returned by pre-review, the rest registered and taken further.
        for item, lead in made[2:]:
            services.submit(item, by=lead)
        services.review(made[2][0], "return", "请补充危桥数量、分布和养护资金缺口等数据。", by=staff)
        for item, _lead in made[3:]:
            services.review(item, "pass", None, by=staff)
            services.register(item, by=staff)
        rows = [(item, unit_named[SUBJECTS[i][4]], [unit_named[SUBJECTS[i][5]]])
                for i, (item, _l) in enumerate(made[3:11], start=3)]
        handling.assign_many(rows, by=staff, note="县人大常委会、县政府联合召开建议交办会。")
        for (item, _l), (_i, unit, _a) in zip(made[3:11], rows, strict=True):
            handling.add_contact(item, "before", "visit", today - timedelta(days=3),
                                 "登门听取领衔代表意见，了解建议背景。", by=unit_users[unit.id])
        for (item, _lead), (klass, text, extra) in zip(made[3:8], ANSWERS, strict=True):
            extra = {"promised_on": today + timedelta(days=extra["days"])} if "days" in extra else dict(extra)
            handling.reply(item, text, klass, by=unit_users[item.main_unit_id], **extra)
        handling.rate(made[3][0], "satisfied", "办理认真，效果明显。", by=made[3][1])
        handling.rate(made[4][0], "basically", None, by=made[4][1])
        handling.rate(made[5][0], "unsatisfied", "希望积极争取上级资金。", by=made[5][1])  # → 二次交办
        registered = [item for item, _l in made[3:]]
        leaders = _leaders(password_hash)
        for item in registered[: services.key_required(len(registered))]:
            services.set_key(item, True, leaders[0], by=staff)
        services.set_key(registered[5], True, leaders[1], by=staff)
        _supervision_demo(staff, leaders, registered, made, units, unit_users, old, current, today)


LEADERS = [("leader1", "县人大常委会副主任 刘明"), ("leader2", "县人大常委会委员 周红")]


def _leaders(password_hash: str) -> list[User]:
    """Demo leaders (常委会组成人员) with the demo password."""
    found = []
    for username, name in LEADERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=name, role="leader", password_hash=password_hash)
            db.session.add(user)
        found.append(user)
    db.session.flush()
    return found


def _supervision_demo(staff, leaders, registered, made, units, unit_users, old, current, today) -> None:
    """督 and 评 (issue 19): supervision records of leader1's two key suggestions, a plan with a late
    milestone and a missing one, a follow-up sample, a unit interview, a carried-over round, a link to
    last year's suggestion on the same matter, and the unit ranking published."""
    from . import followups, plans, rating, supervision

    first, second = registered[0], registered[1]
    supervision.add_record(first, today - timedelta(days=10), "site", "刘明、县卫健委主任、领衔代表及附议代表",
                           "九月底前完成卫生院改扩建选址，年内开工。", by=leaders[0])
    supervision.add_record(first, today - timedelta(days=2), "dispatch", "刘明、县卫健委、县财政局",
                           "落实首期建设资金 800 万元，每月报送进度。", by=leaders[0])
    supervision.add_record(second, today - timedelta(days=5), "forum", "刘明、县民政局、五沟镇政府、领衔代表",
                           "新建两处日间照料中心，护理型床位比例提高到 55%。", by=leaders[0])
    # Two suggestions assigned a month ago: one has its plan (one milestone past due), one has none.
    waiting = [item for item, _l in made[8:11]]
    for item in waiting:
        backdate(item, timedelta(days=30))
    db.session.flush()
    planned = waiting[0]
    plans.file_plan(planned, "成立专班，分三步推进：调研线路、征求意见、试运行。",
                    [("完成新建小区出行需求调研", today - timedelta(days=12)),
                     ("公布线路调整方案征求意见", today - timedelta(days=3)),
                     ("新线路试运行", today + timedelta(days=40))], by=unit_users[planned.main_unit_id])
    milestone = plans.plan_of(planned).milestones[0]
    plans.add_progress(planned, "已完成问卷调查 1,200 份，形成调研报告。", by=unit_users[planned.main_unit_id],
                       milestone_id=milestone.id, done=True)
    supervision.link_earlier(planned, old, by=staff)
    # 回访: two of the answered suggestions, one visited.
    sample = followups.draw_sample(current, "count", 2, by=staff, seed=37)
    followups.record_visit(sample.visits[0], today - timedelta(days=1), "代表工委 陈工作、领衔代表",
                           "实地查看，问题已基本解决，群众反映良好。", True, True, by=staff)
    # 约谈问效: the unit whose answer the deputy found unsatisfying.
    unsatisfied = made[5][0]
    supervision.record_interview(units[[u.id for u in units].index(unsatisfied.main_unit_id)], "interview",
                                 today - timedelta(days=1), "单位主要负责人", "说明答复不满意的原因，提出整改措施。",
                                 by=staff, session=current, outcome="承诺一个月内重新答复并登门沟通。")
    # 跨年滚动连办: last year's suggestion assigned again this year.
    supervision.assign_carried(old, units[1], today + timedelta(days=90), by=staff)
    rating.publish(current, by=staff)


def backdate(item, by: timedelta) -> None:
    """The suggestion's whole history up to its assignment moved ``by`` earlier (drafted, co-signed,
    submitted, registered, assigned a month ago), so no step comes before the one it follows."""
    from ..core.cases import backdate_case

    assigned = item.case.main_assignment.assigned_at
    for obj, names in [(item, ("created_at", "updated_at", "submitted_at", "registered_at")),
                       *((c, ("invited_at", "answered_at")) for c in item.cosigners),
                       *((r, ("at",)) for r in item.reviews),
                       *((r, ("revised_at",)) for r in item.revisions)]:
        for name in names:
            value = getattr(obj, name)
            if value is not None and value <= assigned:
                setattr(obj, name, value - by)
    backdate_case(item.case, by)
