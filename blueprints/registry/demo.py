"""The demo county (青山县) for the registry: areas, stations, handling units, groups, deputies and the
demo accounts. Deterministic: drawn from the seed documents with the demo's shared random generator.
Registered with core in ``blueprints/registry/__init__.py``; core runs it in its own transaction."""
from __future__ import annotations

import random

from ..core.accounts import hash_password
from ..core.areas import DemoContext
from ..core.demo import DEMO_DEPUTY_ACCOUNTS, DEMO_PASSWORD
from ..core.extensions import db
from ..core.models import Area, User
from .models import Deputy, DeputyGroup, GroupMembership, HandlingUnit, Station

COUNTY = "青山县"
TOWNSHIPS = {
    "城关镇": ["东街社区", "西街社区", "南关社区", "北关社区"],
    "临涣镇": ["临涣村", "南湖村", "古城村"],
    "百善镇": ["百善村", "黄庄村", "柳园村"],
    "孙疃镇": ["孙疃村", "前岭村", "后岭村"],
    "双堆集镇": ["双堆村", "尖谷堆村", "小李庄村"],
    "铁佛镇": ["铁佛村", "沈圩村", "杨柳村"],
    "南坪镇": ["南坪村", "大庄村", "陈集村"],
    "五沟镇": ["五沟村", "新庄村", "花园村"],
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Given names by the gender they are usually given to, so that a 秀英 is never a 男 deputy.
GIVEN_MALE = [
    "建国", "国强", "志刚", "永华", "春生", "晓东", "文军", "德明", "明辉", "学军", "立新", "伟", "磊",
    "军", "勇", "杰", "涛", "超", "强", "刚", "辉", "鹏", "斌", "宇", "浩", "峰", "波", "岩",
]
GIVEN_FEMALE = [
    "海燕", "秀英", "丽娟", "红梅", "桂兰", "玉兰", "淑珍", "凤英", "静", "敏", "芳", "娜", "艳", "霞",
    "婷", "琳", "颖", "慧", "洁", "秀兰", "春梅", "雪梅",
]
GIVEN = GIVEN_MALE + GIVEN_FEMALE  # contact people (no gender recorded)
OCCUPATIONS = [
    "{t}党委书记", "{t}镇长", "{t}卫生院院长", "{t}中心学校校长", "{t}派出所所长",
    "{t}农业服务中心主任", "{v}党支部书记", "{v}村委会主任", "{v}种植专业合作社理事长", "{v}乡村医生",
    "青山县第一中学教师", "青山县人民医院主治医师", "青山县某建材公司总经理", "青山县供电公司班组长",
    "个体工商户", "青山县人民法院法官", "青山县律师事务所律师", "青山县农商银行支行行长",
    "青山县某食品公司职工", "青山县环卫所环卫工人",
]
LEVEL_PLAN = [("national", 1), ("provincial", 6), ("city", 33), ("county", 150), ("township", 50)]
PROFESSIONAL = [("法制监督专业代表小组", "司法"), ("经济发展专业代表小组", "经济"),
                ("农业农村专业代表小组", "农业"), ("教科文卫专业代表小组", "教科文卫")]
STATIONS = [
    ("城关镇人大代表之家", "home", "城关镇"), ("临涣镇人大代表之家", "home", "临涣镇"),
    ("百善镇人大代表之家", "home", "百善镇"),
    ("城关镇东街社区代表活动室", "room", "城关镇"), ("孙疃镇代表活动室", "room", "孙疃镇"),
    ("双堆集镇代表活动室", "room", "双堆集镇"),
    ("铁佛镇人大代表联络站", "station", "铁佛镇"), ("南坪镇人大代表联络站", "station", "南坪镇"),
    ("五沟镇人大代表联络站", "station", "五沟镇"),
    ("县经济开发区代表联络点", "point", "城关镇"), ("临涣古城代表联络点", "point", "临涣镇"),
    ("百善镇黄庄村代表联络点", "point", "百善镇"),
]
UNITS = ["县住房和城乡建设局", "县交通运输局", "县教育局", "县卫生健康委员会", "县人力资源和社会保障局",
         "市生态环境局青山县分局", "县公安局", "县农业农村局", "县水利局", "县民政局", "县市场监督管理局"]


def _phone(rng: random.Random, used: set) -> str:
    while True:
        phone = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
        if phone not in used:
            used.add(phone)
            return phone


def load(ctx: DemoContext) -> None:
    """The county, its townships and villages, stations, units, groups, deputies and the demo
    accounts (runs first: every other area's demo builds on these)."""
    rng = ctx.rng
    county = Area(name=COUNTY, kind="county", code="340621")
    db.session.add(county)
    townships = {}
    for index, (name, villages) in enumerate(TOWNSHIPS.items(), start=1):
        township = Area(name=name, kind="township", parent=county, code=f"340621{index:03d}")
        townships[name] = township
        db.session.add(township)
        for v_index, village in enumerate(villages, start=1):
            db.session.add(Area(name=village, kind="village", parent=township,
                                code=f"340621{index:03d}{v_index:03d}"))
    db.session.flush()

    stations = []
    for name, kind, township in STATIONS:
        stations.append(Station(
            name=name, kind=kind, area=townships[township],
            address=f"{COUNTY}{township}人民路{rng.randint(1, 200)}号",
            # Opening hours only: the reception days come from the station's rule (stations area).
            opening_hours="工作日 8:30-12:00、14:30-17:30" if kind != "point" else "工作日 9:00-11:30",
            contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            contact_phone=f"0561-{rng.randint(6000000, 6999999)}",
        ))
    db.session.add_all(stations)
    units = [HandlingUnit(name=name, contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                          contact_phone=f"0561-{rng.randint(6000000, 6999999)}") for name in UNITS]
    db.session.add_all(units)

    groups = []
    for name in TOWNSHIPS:
        for suffix in ("第一代表小组", "第二代表小组"):
            groups.append(DeputyGroup(name=f"{name}{suffix}", kind="regional", area=townships[name]))
    for name, speciality in PROFESSIONAL:
        groups.append(DeputyGroup(name=name, kind="professional", speciality=speciality))
    db.session.add_all(groups)
    db.session.flush()

    used_phones: set[str] = set()
    deputies = []
    number = 0
    township_names = list(TOWNSHIPS)
    in_township = {name: [s for s in stations if s.area is townships[name]] for name in TOWNSHIPS}
    for level, count in LEVEL_PLAN:
        for _ in range(count):
            number += 1
            township = township_names[number % len(township_names)]
            village = rng.choice(TOWNSHIPS[township])
            gender = rng.choice("男男女")
            surname = rng.choice(SURNAMES)
            deputy = Deputy(
                code=f"QS{number:04d}", name=surname + rng.choice(GIVEN_MALE if gender == "男" else GIVEN_FEMALE),
                gender=gender, level=level,
                term={"national": "第十四届", "provincial": "第十四届", "city": "第八届",
                      "county": "第十八届", "township": "第十九届"}[level],
                constituency=f"{township}第{rng.randint(1, 9)}选区" if level in ("county", "township")
                else f"{COUNTY}代表团",
                occupation=rng.choice(OCCUPATIONS).format(t=township, v=village),
                phone=_phone(rng, used_phones), area=townships[township],
                # a deputy works at a station of their own township
                station=in_township[township][number % len(in_township[township])],
            )
            deputies.append(deputy)
    db.session.add_all(deputies)
    db.session.flush()

    regional = [g for g in groups if g.kind == "regional"]
    seen_in_township: dict[int, int] = {}
    for deputy in deputies:
        township_groups = [g for g in regional if g.area_id == deputy.area_id]
        position = seen_in_township[deputy.area_id] = seen_in_township.get(deputy.area_id, -1) + 1
        group = township_groups[position % len(township_groups)]
        db.session.add(GroupMembership(group=group, deputy=deputy, role="member"))
    db.session.flush()
    for group in regional:
        members = [m for m in group.memberships]
        members[0].role = "leader"
        members[1].role = "vice_leader"
    for offset, group in enumerate(g for g in groups if g.kind == "professional"):
        picked = deputies[offset * 9: offset * 9 + 8]
        for position, deputy in enumerate(picked):
            role = "leader" if position == 0 else "vice_leader" if position == 1 else "member"
            db.session.add(GroupMembership(group=group, deputy=deputy, role=role))

    # Every demo account shares one password; hash it once (scrypt is slow on purpose).
    password_hash = hash_password(DEMO_PASSWORD)
    liaison = User(username="liaison", display_name="周联络（城关镇人大代表之家）", role="liaison",
                   station=stations[0], password_hash=password_hash)
    db.session.add_all([
        User(username="admin", display_name="系统管理员", role="admin", password_hash=password_hash),
        User(username="staff", display_name="代表工委 陈工作", role="staff", password_hash=password_hash),
        liaison,
        User(username="clerk", display_name="会务组 孙计票", role="clerk", password_hash=password_hash),
        User(username="unit", display_name="县住建局 办理员", role="unit", unit=units[0],
             password_hash=password_hash),
    ])
    for index, deputy in enumerate(deputies[:DEMO_DEPUTY_ACCOUNTS], start=1):
        db.session.add(User(username=f"deputy{index}", display_name=deputy.name, role="deputy", deputy=deputy,
                            password_hash=password_hash))
    db.session.flush()
    for group in regional:
        if group.area_id == townships["城关镇"].id:
            group.liaison_user = liaison
