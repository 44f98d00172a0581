"""Registry rules, called directly on the services (blueprints/registry/services.py).

Every refusal is a DomainError with a Chinese message, and a refused operation writes nothing:
neither the record nor an audit row.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.models import Area, AuditEntry, User
from blueprints.registry import services
from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership, HandlingUnit, Station

CJK = re.compile(r"[\u4e00-\u9fff]")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_rows(action: str | None = None, obj_type: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if obj_type:
        stmt = stmt.where(AuditEntry.object_type == obj_type)
    return db.session.scalars(stmt).all()


def refused(func_, *args, **kwargs) -> DomainError:
    """Call a service that must refuse; return its DomainError after checking the message is Chinese."""
    with pytest.raises(DomainError) as info:
        func_(*args, **kwargs)
    assert CJK.search(info.value.message), info.value.message
    return info.value


def fresh(obj):
    """The row as the database has it now (not what the session remembers)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def deputy_values(**overrides) -> dict:
    values = {"name": "王芳", "level": "county", "gender": "女", "phone": "13905610000",
              "constituency": "城关镇第3选区", "occupation": "城关镇中心学校校长"}
    values.update(overrides)
    return values


# ---- create / update: validation -------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "   ", None])
def test_create_deputy_requires_a_name(app, name):
    error = refused(services.create_deputy, deputy_values(name=name))
    assert error.field == "name"
    assert "姓名" in error.message
    assert count(Deputy) == 0
    assert audit_rows() == []


@pytest.mark.parametrize("level", ["mayor", "", None, "县"])
def test_create_deputy_refuses_an_unknown_level(app, level):
    error = refused(services.create_deputy, deputy_values(level=level))
    assert error.field == "level"
    assert "层级" in error.message
    assert count(Deputy) == 0
    assert audit_rows() == []


@pytest.mark.parametrize("phone", ["12345", "1390561000a", "23905610000", "139056100001", "+86 1390561000"])
def test_create_deputy_refuses_a_bad_phone(app, phone):
    error = refused(services.create_deputy, deputy_values(phone=phone))
    assert error.field == "phone"
    assert "手机号码" in error.message
    assert count(Deputy) == 0
    assert count(GroupMembership) == 0
    assert audit_rows() == []


def test_create_deputy_refuses_an_unknown_gender(app):
    error = refused(services.create_deputy, deputy_values(gender="男性x"))
    assert error.field == "gender"
    assert count(Deputy) == 0


def test_create_deputy_refuses_a_name_longer_than_the_column(app):
    """Same answer on SQLite (which would store it) and PostgreSQL (which would raise a DataError)."""
    error = refused(services.create_deputy, deputy_values(name="王" * 33))
    assert error.field == "name"
    assert "32" in error.message
    assert count(Deputy) == 0


@pytest.mark.parametrize(("raw", "stored"), [
    ("+86 139 0561 0000", "13905610000"),
    ("+8613905610000", "13905610000"),
    ("139 0561 0000", "13905610000"),
    ("\u3000139\u30000561\u30000000 ", "13905610000"),
    ("0557-1234567", "0557-1234567"),
    ("", None),
    (None, None),
])
def test_create_deputy_normalises_the_phone(app, raw, stored):
    deputy = services.create_deputy(deputy_values(phone=raw))
    assert fresh(deputy).phone == stored


def test_update_deputy_with_a_bad_phone_changes_nothing(app, make_deputy):
    deputy = make_deputy(name="李四", phone="13905610000", occupation="农民")
    refused(services.update_deputy, deputy, deputy_values(name="李四", phone="12345", occupation="教师"))
    db.session.rollback()
    again = fresh(deputy)
    assert (again.phone, again.occupation) == ("13905610000", "农民")
    assert audit_rows() == []


def test_update_deputy_writes_the_change_and_an_audit_row(app, make_deputy):
    deputy = make_deputy(name="李四", phone="13905610000", occupation="农民")
    services.update_deputy(deputy, deputy_values(name="李四", phone="+86 139 0561 0009", occupation="教师"))
    again = fresh(deputy)
    assert (again.phone, again.occupation, again.level) == ("13905610009", "教师", "county")
    (entry,) = audit_rows("update", "deputy")
    assert entry.object_id == deputy.id
    assert entry.changes["occupation"] == ["农民", "教师"]
    assert entry.changes["phone"] == ["13905610000", "13905610009"]


def test_update_deputy_that_changes_nothing_writes_no_audit_row(app, make_deputy):
    deputy = make_deputy(**deputy_values())
    services.update_deputy(deputy, deputy_values())
    assert audit_rows("update") == []


# ---- create / update: uniqueness in the database ---------------------------------------------

def test_duplicate_name_and_phone_is_refused_by_the_database(app):
    first = services.create_deputy(deputy_values())
    # Written differently, but the same number once normalised.
    error = refused(services.create_deputy, deputy_values(phone="+86 139 0561 0000", occupation="另一单位"))
    assert "同名" in error.message
    assert count(Deputy) == 1
    assert db.session.scalar(select(Deputy.occupation)) == "城关镇中心学校校长"
    assert [e.object_id for e in audit_rows()] == [first.id]


def test_same_name_with_another_phone_is_a_different_deputy(app):
    services.create_deputy(deputy_values(phone="13905610000"))
    services.create_deputy(deputy_values(phone="13905610001"))
    assert count(Deputy) == 2


def test_the_database_itself_holds_name_and_phone_unique(app, make_deputy):
    make_deputy(name="王芳", phone="13905610000")
    db.session.add(Deputy(name="王芳", phone="13905610000", level="city"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert count(Deputy) == 1


def test_duplicate_code_is_refused_on_create(app):
    services.create_deputy(deputy_values(code="QS0001"))
    error = refused(services.create_deputy, deputy_values(name="李四", phone="13905610001", code="QS0001"))
    assert "编号" in error.message
    assert count(Deputy) == 1
    assert len(audit_rows("create")) == 1


def test_duplicate_code_is_refused_on_update_and_the_record_stays(app):
    services.create_deputy(deputy_values(code="QS0001"))
    other = services.create_deputy(deputy_values(name="李四", phone="13905610001", code="QS0002",
                                                 occupation="农民"))
    refused(services.update_deputy, other, deputy_values(name="李四", phone="13905610001", code="QS0001",
                                                         occupation="教师"))
    again = fresh(other)
    assert (again.code, again.occupation) == ("QS0002", "农民")
    assert audit_rows("update") == []


def test_update_to_another_deputys_name_and_phone_is_refused(app):
    services.create_deputy(deputy_values(name="王芳", phone="13905610000"))
    other = services.create_deputy(deputy_values(name="王芳", phone="13905610001"))
    refused(services.update_deputy, other, deputy_values(name="王芳", phone="13905610000"))
    assert fresh(other).phone == "13905610001"


# ---- regional group --------------------------------------------------------------------------

def test_create_deputy_joins_the_regional_group(app, county):
    group = county["groups"][0]
    deputy = services.create_deputy(deputy_values(), group=group)
    again = fresh(deputy)
    assert [(m.group.name, m.role) for m in again.memberships] == [("城关镇代表小组", "member")]
    assert again.regional_group.name == "城关镇代表小组"


def test_update_deputy_moves_to_another_regional_group_and_keeps_professional_ones(app, county):
    town_group, professional = county["groups"]
    other_town = services.save_group(None, {"name": "临涣镇代表小组", "kind": "regional"})
    deputy = services.create_deputy(deputy_values(), group=town_group)
    services.set_group_member(professional, deputy, "member")

    services.update_deputy(fresh(deputy), deputy_values(), group=db.session.get(DeputyGroup, other_town.id))
    again = fresh(deputy)
    assert sorted(m.group.name for m in again.memberships) == ["临涣镇代表小组", "法制监督专业代表小组"]
    entry = audit_rows("update", "deputy")[-1]
    assert entry.changes["group"] == ["城关镇代表小组", "临涣镇代表小组"]

    services.update_deputy(again, deputy_values(), group=None)
    assert [m.group.name for m in fresh(deputy).memberships] == ["法制监督专业代表小组"]


# ---- ending a deputy (代表退出机制) ------------------------------------------------------------

def test_end_deputy_keeps_the_record_and_ends_the_account(app, users, county):
    user = users["deputy"]
    deputy = user.deputy
    services.set_group_member(county["groups"][0], deputy, "leader")
    token_before = user.session_token

    services.end_deputy(deputy, date(2025, 3, 1), "job_change", "  调任外省  ")

    again = fresh(deputy)
    assert again is not None  # history kept: nothing deleted
    assert (again.ended_on, again.end_reason, again.end_note) == (date(2025, 3, 1), "job_change", "调任外省")
    assert not again.serving and again.status_label == "已终止"
    assert [(m.group.name, m.role) for m in again.memberships] == [("城关镇代表小组", "leader")]
    account = db.session.get(User, user.id)
    assert account.active is False
    assert account.session_token != token_before
    (entry,) = audit_rows("end", "deputy")
    assert entry.object_id == deputy.id
    assert entry.changes["ended_on"] == [None, "2025-03-01"]
    assert entry.note.strip() == "调任外省"


def test_end_deputy_without_an_account(app, make_deputy):
    deputy = make_deputy(name="李四")
    services.end_deputy(deputy, date(2025, 3, 1), "death")
    assert fresh(deputy).end_reason == "death"
    assert fresh(deputy).end_note is None


def test_ending_twice_is_refused(app, make_deputy):
    deputy = make_deputy(name="李四")
    services.end_deputy(deputy, date(2025, 3, 1), "job_change")
    error = refused(services.end_deputy, fresh(deputy), date(2025, 4, 1), "illness")
    assert "2025-03-01" in error.message
    again = fresh(deputy)
    assert (again.ended_on, again.end_reason) == (date(2025, 3, 1), "job_change")
    assert len(audit_rows("end")) == 1


@pytest.mark.parametrize(("ended_on", "reason", "field"), [
    (date(2025, 3, 1), "bored", "reason"),
    (date(2025, 3, 1), "", "reason"),
    (None, "job_change", "ended_on"),
])
def test_end_deputy_needs_a_date_and_a_known_reason(app, make_deputy, ended_on, reason, field):
    deputy = make_deputy(name="李四")
    error = refused(services.end_deputy, deputy, ended_on, reason)
    assert error.field == field
    assert fresh(deputy).serving
    assert audit_rows() == []


def test_an_ended_deputy_cannot_join_a_group(app, make_deputy, county):
    deputy = make_deputy(name="李四")
    services.end_deputy(deputy, date(2025, 3, 1), "resigned")
    refused(services.set_group_member, county["groups"][0], fresh(deputy), "member")
    assert count(GroupMembership) == 0


# ---- groups ----------------------------------------------------------------------------------

def test_one_leader_per_group(app, make_deputy, county):
    group = county["groups"][0]
    first, second = make_deputy(name="王芳"), make_deputy(name="李四")
    services.set_group_member(group, first, "leader")
    error = refused(services.set_group_member, group, second, "leader")
    assert "已有组长" in error.message
    rows = db.session.execute(select(GroupMembership.deputy_id, GroupMembership.role)).all()
    assert rows == [(first.id, "leader")]
    # A member promoted while a leader is in office is refused the same way.
    services.set_group_member(group, second, "member")
    refused(services.set_group_member, group, second, "leader")
    assert db.session.scalar(select(GroupMembership.role).where(GroupMembership.deputy_id == second.id)) == "member"


def test_the_database_enforces_one_leader_per_group(app, make_deputy, county):
    group = county["groups"][0]
    first, second = make_deputy(name="王芳"), make_deputy(name="李四")
    db.session.add(GroupMembership(group=group, deputy=first, role="leader"))
    db.session.commit()
    db.session.add(GroupMembership(group=group, deputy=second, role="leader"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Leaders of different groups do not collide.
    db.session.add(GroupMembership(group=county["groups"][1], deputy=second, role="leader"))
    db.session.commit()
    assert count(GroupMembership) == 2


def test_leader_can_hand_over(app, make_deputy, county):
    group = county["groups"][0]
    first, second = make_deputy(name="王芳"), make_deputy(name="李四")
    services.set_group_member(group, first, "leader")
    services.set_group_member(group, first, "member")
    services.set_group_member(group, second, "leader")
    assert [d.name for d in fresh(group).members_with_role("leader")] == ["李四"]


def test_vice_leaders_and_removal(app, make_deputy, county):
    group = county["groups"][0]
    a, b = make_deputy(name="王芳"), make_deputy(name="李四")
    services.set_group_member(group, a, "vice_leader")
    services.set_group_member(group, b, "vice_leader")  # several vice leaders are fine
    assert sorted(d.name for d in fresh(group).members_with_role("vice_leader")) == ["李四", "王芳"]

    services.remove_group_member(group, a)
    assert [m.deputy.name for m in fresh(group).memberships] == ["李四"]
    assert db.session.get(Deputy, a.id) is not None  # the deputy stays, only the membership goes
    entry = audit_rows("update", "group")[-1]
    assert entry.changes["member"] == ["王芳:vice_leader", None]
    refused(services.remove_group_member, group, a)  # not a member any more


def test_unknown_role_is_refused(app, make_deputy, county):
    refused(services.set_group_member, county["groups"][0], make_deputy(name="王芳"), "chair")
    assert count(GroupMembership) == 0


def test_professional_group_with_speciality(app):
    group = services.save_group(None, {"name": "财经专业代表小组", "kind": "professional", "speciality": "经济"})
    again = fresh(group)
    assert (again.kind, again.speciality, again.kind_label) == ("professional", "经济", "专业代表小组")
    (entry,) = audit_rows("create", "group")
    assert entry.changes["speciality"] == [None, "经济"]


def test_duplicate_group_name_is_refused(app, county):
    before = count(DeputyGroup)
    error = refused(services.save_group, None, {"name": " 城关镇代表小组 ", "kind": "regional"})
    assert error.field == "name"
    assert count(DeputyGroup) == before
    assert audit_rows("create", "group") == []


def test_renaming_a_group_onto_another_is_refused(app, county):
    town_group, professional = county["groups"]
    refused(services.save_group, professional, {"name": town_group.name, "kind": "professional"})
    assert fresh(professional).name == "法制监督专业代表小组"


@pytest.mark.parametrize(("values", "field"), [
    ({"name": "", "kind": "regional"}, "name"),
    ({"name": "新小组", "kind": "social"}, "kind"),
])
def test_group_needs_a_name_and_kind(app, values, field):
    assert refused(services.save_group, None, values).field == field
    assert count(DeputyGroup) == 0


# ---- stations --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "label"), [
    ("home", "代表之家"), ("room", "代表活动室"), ("station", "代表联络站"), ("point", "代表联络点"),
])
def test_station_kinds(app, kind, label):
    station = services.save_station(None, {"name": f"测试{label}", "kind": kind})
    assert fresh(station).kind_label == label


def test_station_unknown_kind_is_refused(app):
    assert refused(services.save_station, None, {"name": "某站", "kind": "office"}).field == "kind"
    assert count(Station) == 0


def test_station_with_coordinates(app):
    station = services.save_station(None, {
        "name": "城关镇人大代表之家", "kind": "home", "latitude": Decimal("33.456789"),
        "longitude": Decimal("116.123456"), "contact_phone": "0557 1234567",
    })
    again = fresh(station)
    assert (again.latitude, again.longitude) == (Decimal("33.456789"), Decimal("116.123456"))
    assert again.contact_phone == "05571234567"


@pytest.mark.parametrize(("lat", "lon", "field"), [
    (Decimal("33.1"), None, "latitude"),
    (None, Decimal("116.1"), "latitude"),
    (Decimal("90.5"), Decimal("116.1"), "latitude"),
    (Decimal("-91"), Decimal("116.1"), "latitude"),
    (Decimal("33.1"), Decimal("180.01"), "longitude"),
    (Decimal("33.1"), Decimal("-181"), "longitude"),
])
def test_station_coordinates_both_or_neither_and_in_range(app, lat, lon, field):
    error = refused(services.save_station, None, {"name": "某站", "kind": "station", "latitude": lat,
                                                  "longitude": lon})
    assert error.field == field
    assert count(Station) == 0


def test_station_bad_contact_phone_is_refused(app):
    assert refused(services.save_station, None, {"name": "某站", "kind": "station",
                                                 "contact_phone": "12345"}).field == "contact_phone"
    assert count(Station) == 0


def test_duplicate_station_name_is_refused(app, county):
    before = count(Station)
    error = refused(services.save_station, None, {"name": "城关镇人大代表之家", "kind": "room"})
    assert "同名" in error.message
    assert count(Station) == before
    assert audit_rows("create", "station") == []


def test_station_update_is_audited(app, county):
    station = county["stations"][0]
    services.save_station(station, {"name": station.name, "kind": "home", "opening_hours": "每月5日 9:00-11:30"})
    assert fresh(station).opening_hours == "每月5日 9:00-11:30"
    (entry,) = audit_rows("update", "station")
    assert entry.changes == {"opening_hours": [None, "每月5日 9:00-11:30"]}


# ---- handling units --------------------------------------------------------------------------

def test_duplicate_unit_name_is_refused(app, county):
    error = refused(services.save_unit, None, {"name": "县住房和城乡建设局"})
    assert error.field == "name"
    assert count(HandlingUnit) == 1


def test_unit_create_and_rename(app):
    unit = services.save_unit(None, {"name": "县教育局", "contact_phone": "+86 139 0561 0000", "active": True})
    assert fresh(unit).contact_phone == "13905610000"
    services.save_unit(fresh(unit), {"name": "县教育和体育局", "active": True})
    assert fresh(unit).name == "县教育和体育局"
    assert [e.action for e in audit_rows(obj_type="unit")] == ["create", "update"]


def test_unit_needs_a_name(app):
    refused(services.save_unit, None, {"name": "  "})
    assert count(HandlingUnit) == 0


# ---- administrative areas --------------------------------------------------------------------

def test_area_hierarchy_accepted(app):
    root = services.save_area(None, {"name": "青山县", "kind": "county"})
    town = services.save_area(None, {"name": "城关镇", "kind": "township", "parent_id": root.id})
    village = services.save_area(None, {"name": "东街社区", "kind": "village", "parent_id": town.id})
    assert fresh(village).full_name == "青山县城关镇东街社区"


@pytest.mark.parametrize(("kind", "parent", "message"), [
    ("county", "county", "县(区)不能有上级"),
    ("county", "township", "县(区)不能有上级"),
    ("township", None, "上级必须是县(区)"),
    ("township", "township", "上级必须是县(区)"),
    ("township", "village", "上级必须是县(区)"),
    ("village", None, "上级必须是乡镇(街道)"),
    ("village", "county", "上级必须是乡镇(街道)"),
    ("village", "village", "上级必须是乡镇(街道)"),
])
def test_area_hierarchy_rules(app, county, kind, parent, message):
    parents = {"county": county["county"], "township": county["townships"][0],
               "village": db.session.scalar(select(Area).where(Area.kind == "village").limit(1)), None: None}
    before = count(Area)
    parent_area = parents[parent]
    error = refused(services.save_area, None, {"name": "新区划", "kind": kind,
                                               "parent_id": parent_area.id if parent_area else None})
    assert message in error.message
    assert error.field == "parent_id"
    assert count(Area) == before


def test_area_unknown_kind_and_missing_name(app):
    assert refused(services.save_area, None, {"name": "某地", "kind": "province"}).field == "kind"
    assert refused(services.save_area, None, {"name": " ", "kind": "county"}).field == "name"
    assert count(Area) == 0


def test_duplicate_area_name_under_one_parent_is_refused(app, county):
    town = county["townships"][0]
    before = count(Area)
    refused(services.save_area, None, {"name": "城关镇", "kind": "township", "parent_id": county["county"].id})
    refused(services.save_area, None, {"name": "东街社区", "kind": "village", "parent_id": town.id})
    assert count(Area) == before
    # The same village name under another township is a different place.
    services.save_area(None, {"name": "东街社区", "kind": "village", "parent_id": county["townships"][1].id})
    assert count(Area) == before + 1


def test_duplicate_county_name_is_refused(app, county):
    """Counties have no parent, so UNIQUE(parent_id, name) alone would let a second 青山县 in."""
    refused(services.save_area, None, {"name": "青山县", "kind": "county"})
    assert db.session.scalar(select(func.count()).select_from(Area).where(Area.kind == "county")) == 1


def test_area_with_children_cannot_change_level(app, county):
    town = county["townships"][0]  # has a village under it
    error = refused(services.save_area, town, {"name": town.name, "kind": "county", "parent_id": None})
    assert error.field == "kind"
    again = fresh(town)
    assert (again.kind, again.parent_id) == ("township", county["county"].id)


def test_area_cannot_be_its_own_parent(app, county):
    root = county["county"]
    refused(services.save_area, root, {"name": root.name, "kind": "township", "parent_id": root.id})
    assert fresh(root).kind == "county"


# ---- the staff list query --------------------------------------------------------------------

def test_deputy_query_filters(app, county):
    town_a, town_b = county["townships"]
    station = county["stations"][0]
    group = county["groups"][0]
    a = services.create_deputy(deputy_values(name="王芳", phone="13905610000", code="QS0001",
                                             area_id=town_a.id, station_id=station.id), group=group)
    b = services.create_deputy(deputy_values(name="李四", phone="13905610001", level="township",
                                             area_id=town_b.id, occupation="临涣镇农技站站长"))
    c = services.create_deputy(deputy_values(name="王五", phone="13905610002", level="city"))
    services.end_deputy(c, date(2025, 1, 1), "other")

    def names(**filters):
        return [d.name for d in db.session.scalars(services.deputy_query(**filters))]

    assert names() == ["李四", "王芳"]  # pinyin order: Lǐ, Wáng Fāng
    assert names(status="all") == ["李四", "王芳", "王五"]  # Wáng Fāng before Wáng Wǔ
    assert names(status="ended") == ["王五"]
    assert names(q="王", status="all") == ["王芳", "王五"]
    assert names(q="QS0001") == ["王芳"]
    assert names(q="农技站") == ["李四"]
    assert names(level="township") == ["李四"]
    assert names(area_id=town_a.id) == ["王芳"]
    assert names(station_id=station.id) == ["王芳"]
    assert names(group_id=group.id) == ["王芳"]
    assert names(q="王", level="township") == []
    assert {a.id, b.id} == {d.id for d in db.session.scalars(services.deputy_query())}


def test_deputy_query_treats_like_wildcards_as_text(app):
    services.create_deputy(deputy_values(name="王芳"))
    services.create_deputy(deputy_values(name="李_四", phone="13905610001"))
    assert [d.name for d in db.session.scalars(services.deputy_query(q="_"))] == ["李_四"]
    assert [d.name for d in db.session.scalars(services.deputy_query(q="%"))] == []


def test_counts(app, make_deputy):
    make_deputy(name="王芳")
    make_deputy(name="李四")
    services.end_deputy(make_deputy(name="王五"), date(2025, 1, 1), "other")
    assert services.counts() == {"serving": 2, "ended": 1}


# ---- the database is the final word: a violated constraint says which rule ------------------------

def test_a_taken_code_is_refused_by_its_constraint_with_its_own_message(app):
    services.create_deputy({"name": "李四", "level": "county", "code": "QS0001"})
    error = refused(services.create_deputy, {"name": "王芳", "level": "county", "code": "QS0001"})
    assert "代表编号重复" in error.message and error.field == "code" and error.status == 422
    assert count(Deputy) == 1 and len(audit_rows("create", "deputy")) == 1


def test_a_service_inside_a_callers_transaction_only_flushes(app):
    from blueprints.core.transaction import transaction

    with pytest.raises(RuntimeError), transaction():
        services.create_deputy({"name": "李四", "level": "county"})
        assert db.session.scalar(select(func.count()).select_from(Deputy)) == 1  # flushed
        raise RuntimeError("the caller fails afterwards")
    assert count(Deputy) == 0 and audit_rows("create", "deputy") == []
