"""Registry pages as the deputy-affairs office (staff) uses them, through the Flask test client."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select

from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry, User
from blueprints.registry import services
from blueprints.registry.models import Deputy, DeputyGroup, GroupMembership, Station

TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_rows(action: str, obj_type: str) -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action, AuditEntry.object_type == obj_type)
        .order_by(AuditEntry.id)
    ).all()


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def text(response) -> str:
    return response.get_data(as_text=True)


@contextmanager
def count_queries():
    """SQL statements sent to the database (transaction control like SQLite's BEGIN is not a query)."""
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not TRANSACTION_CONTROL.match(statement):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


@pytest.fixture
def staff(client, auth, users):
    response = auth.login("staff")
    assert response.status_code == 302
    return users["staff"]


def form_data(**overrides) -> dict:
    data = {"name": "王芳", "gender": "女", "level": "county", "code": "", "term": "第十八届",
            "constituency": "城关镇第3选区", "occupation": "城关镇中心学校校长", "phone": "13905610000",
            "area_id": "0", "station_id": "0", "group_id": "0"}
    data.update(overrides)
    return data


# ---- access ----------------------------------------------------------------------------------

def test_registry_needs_a_login(client):
    response = client.get("/registry/deputies/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit", "clerk"])
def test_registry_is_for_staff_only(client, auth, users, role):
    auth.login(role)
    assert client.get("/registry/deputies/").status_code == 403
    assert client.post("/registry/deputies/new", data=form_data()).status_code == 403
    assert count(Deputy) == 1  # only the deputy account's own record


def test_admin_may_use_the_registry(client, auth, users):
    auth.login("admin")
    assert client.get("/registry/deputies/").status_code == 200


# ---- the list --------------------------------------------------------------------------------

def test_list_defaults_to_serving_deputies(client, staff, make_deputy):
    make_deputy(name="王芳", phone="13905610000")
    ended = make_deputy(name="李四", phone="13905610001")
    services.end_deputy(ended, date(2025, 3, 1), "job_change")

    page = text(client.get("/registry/deputies/"))
    assert "王芳" in page and "李四" not in page
    assert "在任 2 人，已终止 1 人" in page  # the deputy account's record and 王芳 serve

    page = text(client.get("/registry/deputies/?status=ended"))
    assert "李四" in page and "王芳" not in page
    assert '<span class="badge">已终止</span>' in page

    page = text(client.get("/registry/deputies/?status=all"))
    assert "李四" in page and "王芳" in page


def test_unknown_status_falls_back_to_serving(client, staff, make_deputy):
    make_deputy(name="王芳", phone="13905610000")
    services.end_deputy(make_deputy(name="李四", phone="13905610001"), date(2025, 3, 1), "job_change")
    page = text(client.get("/registry/deputies/?status=bogus"))
    assert "王芳" in page and "李四" not in page
    assert '<option value="serving" selected>' in page


def test_search_matches_the_name(client, staff, make_deputy):
    make_deputy(name="王芳", phone="13905610000")
    make_deputy(name="李四", phone="13905610001")
    page = text(client.get("/registry/deputies/?q=王"))
    assert "王芳" in page and "李四" not in page
    page = text(client.get("/registry/deputies/?q=赵"))
    assert "没有符合条件的代表" in page


def test_filters_level_and_area(client, staff, make_deputy, county):
    town_a, town_b = county["townships"]
    make_deputy(name="王芳", phone="13905610000", level="county", area_id=town_a.id)
    make_deputy(name="李四", phone="13905610001", level="township", area_id=town_b.id)
    page = text(client.get("/registry/deputies/?level=township"))
    assert "李四" in page and "王芳" not in page
    page = text(client.get(f"/registry/deputies/?area_id={town_a.id}"))
    assert "王芳" in page and "李四" not in page
    page = text(client.get(f"/registry/deputies/?area_id={town_a.id}&level=township"))
    assert "王芳" not in page and "李四" not in page
    # An unknown level is ignored rather than an error.
    page = text(client.get("/registry/deputies/?level=mayor"))
    assert "王芳" in page and "李四" in page


def test_pagination(client, staff, make_deputy):
    for i in range(60):
        make_deputy(name=f"王{i:03d}", phone=f"139056100{i:02d}")
    # Ordered by name: the deputy account's 代表 first, then 王000 … 王059, 50 to a page.
    first = text(client.get("/registry/deputies/"))
    assert "王000" in first and "王048" in first and "王049" not in first
    assert "第 1 / 2 页，共 61 条" in first
    second = client.get("/registry/deputies/?page=2")
    assert second.status_code == 200
    assert "王049" in text(second) and "王059" in text(second) and "王000" not in text(second)
    assert client.get("/registry/deputies/?page=3").status_code == 404
    assert client.get("/registry/deputies/?page=abc").status_code == 404
    assert client.get("/registry/deputies/?page=0").status_code == 404
    assert client.get("/registry/deputies/?page=-1").status_code == 404
    # Filters carry over to the other pages.
    assert "王059" in text(client.get("/registry/deputies/?q=王&page=2"))
    assert client.get("/registry/deputies/?q=王059&page=2").status_code == 404


def test_page_one_of_an_empty_list_is_not_an_error(client, staff):
    response = client.get("/registry/deputies/?q=没有这个人")
    assert response.status_code == 200
    assert "共 0 条" in text(response)


def test_htmx_search_returns_only_the_rows(client, staff, make_deputy):
    make_deputy(name="王芳", phone="13905610000")
    make_deputy(name="李四", phone="13905610001")
    response = client.get("/registry/deputies/?q=王", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and "<form" not in body
    assert "<tbody>" in body and "王芳" in body and "李四" not in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_htmx_history_restore_gets_the_whole_page(client, staff, make_deputy):
    make_deputy(name="王芳", phone="13905610000")
    response = client.get("/registry/deputies/?q=王", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    body = text(response)
    assert body.lstrip().startswith("<!doctype html>")
    assert 'id="deputy-rows"' in body and "王芳" in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_full_page_also_varies_on_hx_request(client, staff):
    response = client.get("/registry/deputies/")
    assert "<html" in text(response)
    assert "HX-Request" in response.headers.get("Vary", "")


# ---- create and edit -------------------------------------------------------------------------

def test_create_deputy_through_the_form(client, staff, county):
    group, station, town = county["groups"][0], county["stations"][0], county["townships"][0]
    response = client.post("/registry/deputies/new", data=form_data(
        phone="+86 139 0561 0000", group_id=str(group.id), station_id=str(station.id), area_id=str(town.id)))
    assert response.status_code == 303
    deputy = db.session.scalar(select(Deputy).where(Deputy.name == "王芳"))
    assert response.headers["Location"].endswith(f"/registry/deputies/{deputy.id}")
    assert (deputy.phone, deputy.station_id, deputy.area_id, deputy.term) == (
        "13905610000", station.id, town.id, "第十八届")
    assert deputy.regional_group.id == group.id
    (entry,) = audit_rows("create", "deputy")
    assert (entry.object_id, entry.actor_id, entry.actor_name) == (deputy.id, staff.id, "staff")
    detail = text(client.get(response.headers["Location"]))
    assert "王芳" in detail and "城关镇代表小组" in detail and "新建代表" in detail


def test_create_form_refuses_a_33_character_name(client, staff):
    before = count(Deputy)
    response = client.post("/registry/deputies/new", data=form_data(name="王" * 33))
    assert response.status_code == 422
    assert "不能超过 32 个字符" in text(response)
    assert count(Deputy) == before
    assert audit_rows("create", "deputy") == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "请填写姓名"),
    ("phone", "12345", "手机号码“12345”格式不正确"),
    ("phone", "1390561000a", "格式不正确"),
])
def test_create_form_shows_chinese_errors(client, staff, field, value, message):
    before = count(Deputy)
    response = client.post("/registry/deputies/new", data=form_data(**{field: value}))
    assert response.status_code == 422
    assert message in text(response)
    assert count(Deputy) == before


def test_create_form_refuses_a_duplicate(client, staff, make_deputy):
    make_deputy(name="王芳", phone="13905610000")
    before = count(Deputy)
    response = client.post("/registry/deputies/new", data=form_data(phone="139 0561 0000"))
    assert response.status_code == 422
    assert "已有同名且手机号相同的代表" in text(response)
    assert count(Deputy) == before


def test_create_form_refuses_an_unknown_level(client, staff):
    response = client.post("/registry/deputies/new", data=form_data(level="mayor"))
    assert response.status_code == 422
    assert count(Deputy) == 1


def test_edit_deputy_through_the_form(client, staff, make_deputy, county):
    deputy = make_deputy(name="王芳", phone="13905610000", occupation="农民")
    response = client.get(f"/registry/deputies/{deputy.id}/edit")
    assert response.status_code == 200 and 'value="农民"' in text(response)

    group = county["groups"][0]
    response = client.post(f"/registry/deputies/{deputy.id}/edit",
                           data=form_data(occupation="城关镇中心学校校长", group_id=str(group.id)))
    assert response.status_code == 303
    again = fresh(deputy)
    assert again.occupation == "城关镇中心学校校长"
    assert again.regional_group.name == "城关镇代表小组"
    (entry,) = audit_rows("update", "deputy")
    assert entry.actor_name == "staff"
    assert entry.changes["occupation"] == ["农民", "城关镇中心学校校长"]
    assert entry.changes["group"] == [None, "城关镇代表小组"]


def test_edit_form_refuses_a_33_character_name(client, staff, make_deputy):
    deputy = make_deputy(name="王芳", phone="13905610000")
    response = client.post(f"/registry/deputies/{deputy.id}/edit", data=form_data(name="李" * 33))
    assert response.status_code == 422
    assert "不能超过 32 个字符" in text(response)
    assert fresh(deputy).name == "王芳"
    assert audit_rows("update", "deputy") == []


def test_edit_form_refuses_a_taken_code(client, staff, make_deputy):
    make_deputy(name="李四", phone="13905610001", code="QS0001")
    deputy = make_deputy(name="王芳", phone="13905610000", code="QS0002")
    response = client.post(f"/registry/deputies/{deputy.id}/edit", data=form_data(code="QS0001"))
    assert response.status_code == 422
    assert "代表编号重复" in text(response)
    assert fresh(deputy).code == "QS0002"


def test_missing_deputy_is_404(client, staff):
    assert client.get("/registry/deputies/9999").status_code == 404
    assert client.get("/registry/deputies/9999/edit").status_code == 404
    assert client.post("/registry/deputies/9999/end", data={"ended_on": "2025-03-01",
                                                            "reason": "job_change"}).status_code == 404


# ---- ending a deputy -------------------------------------------------------------------------

def test_end_deputy_through_the_page(client, staff, users, county):
    deputy = users["deputy"].deputy
    services.set_group_member(county["groups"][0], deputy, "member")
    token = users["deputy"].session_token
    data = {"ended_on": "2025-03-01", "reason": "job_change", "note": "调任外省"}
    # asked once: the confirmation page says what happens and carries the values; nothing changed yet
    asked = client.post(f"/registry/deputies/{deputy.id}/end", data=data)
    assert asked.status_code == 200 and "账号立即停用" in text(asked) and 'name="confirmed" value="1"' in text(asked)
    assert 'name="note" value="调任外省"' in text(asked) and fresh(deputy).serving
    response = client.post(f"/registry/deputies/{deputy.id}/end", data={**data, "confirmed": "1"})
    assert response.status_code == 303
    again = fresh(deputy)
    assert (again.ended_on, again.end_reason, again.end_note) == (date(2025, 3, 1), "job_change", "调任外省")
    assert len(again.memberships) == 1  # history kept
    account = db.session.get(User, users["deputy"].id)
    assert not account.active and account.session_token != token
    (entry,) = audit_rows("end", "deputy")
    assert entry.actor_name == "staff" and entry.object_id == deputy.id

    detail = text(client.get(f"/registry/deputies/{deputy.id}"))
    assert "已终止" in detail
    assert "2025年3月1日" in detail and "工作调动" in detail and "调任外省" in detail
    assert "终止代表资格…" not in detail  # no second end form
    listing = text(client.get("/registry/deputies/?status=ended"))
    link = f'href="/registry/deputies/{deputy.id}"'
    assert link in listing and '<span class="badge">已终止</span>' in listing
    assert link not in text(client.get("/registry/deputies/"))


def test_ending_twice_through_the_page_is_refused(client, staff, make_deputy):
    deputy = make_deputy(name="王芳", phone="13905610000")
    data = {"ended_on": "2025-03-01", "reason": "job_change", "confirmed": "1"}
    assert client.post(f"/registry/deputies/{deputy.id}/end", data=data).status_code == 303
    response = client.post(f"/registry/deputies/{deputy.id}/end",
                           data={"ended_on": "2025-04-01", "reason": "illness"})
    assert response.status_code == 422
    assert "已于 2025-03-01 终止" in text(response)
    again = fresh(deputy)
    assert (again.ended_on, again.end_reason) == (date(2025, 3, 1), "job_change")
    assert len(audit_rows("end", "deputy")) == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"ended_on": "", "reason": "job_change"}, "请填写终止日期"),
    ({"ended_on": "2025/13/45", "reason": "job_change"}, "终止日期"),
    ({"ended_on": "2025-03-01", "reason": "bored"}, None),
])
def test_end_form_errors(client, staff, make_deputy, data, message):
    deputy = make_deputy(name="王芳", phone="13905610000")
    response = client.post(f"/registry/deputies/{deputy.id}/end", data=data)
    assert response.status_code == 422
    if message:
        assert message in text(response)
    assert fresh(deputy).serving
    assert audit_rows("end", "deputy") == []


def test_an_ended_deputy_is_logged_out_and_cannot_log_in(app, users):
    deputy_client = app.test_client()
    assert deputy_client.post("/login", data={"username": "deputy", "password": "demo-2026"}).status_code == 302
    assert deputy_client.get("/workspace/").status_code == 200

    services.end_deputy(users["deputy"].deputy, date(2025, 3, 1), "resigned")

    response = deputy_client.get("/workspace/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = deputy_client.post("/login", data={"username": "deputy", "password": "demo-2026"})
    assert response.status_code == 200
    assert "已停用" in text(response) or "已终止" in text(response)


# ---- groups ----------------------------------------------------------------------------------

def test_group_member_add_leader_and_remove(client, staff, make_deputy, county):
    group = county["groups"][0]
    a = make_deputy(name="王芳", phone="13905610000")
    b = make_deputy(name="李四", phone="13905610001")
    url = f"/registry/groups/{group.id}"

    response = client.post(url, data={"action": "set", "deputy_id": str(a.id), "role": "leader"})
    assert response.status_code == 302
    response = client.post(url, data={"action": "set", "deputy_id": str(b.id), "role": "leader"})
    assert response.status_code == 422
    assert "已有组长" in text(response)
    response = client.post(url, data={"action": "set", "deputy_id": str(b.id), "role": "vice_leader"})
    assert response.status_code == 302
    roles = dict(db.session.execute(select(GroupMembership.deputy_id, GroupMembership.role)).all())
    assert roles == {a.id: "leader", b.id: "vice_leader"}
    page = text(client.get(url))
    assert "组长" in page and "副组长" in page and "成员（2 人）" in page

    response = client.post(url, data={"action": "remove", "deputy_id": str(a.id), "role": "member"})
    assert response.status_code == 302
    assert db.session.scalars(select(GroupMembership.deputy_id)).all() == [b.id]
    assert len(audit_rows("update", "group")) == 3


def test_an_ended_member_can_still_be_removed(client, staff, make_deputy, county):
    group = county["groups"][0]
    deputy = make_deputy(name="王芳", phone="13905610000")
    services.set_group_member(group, deputy, "member")
    services.end_deputy(fresh(deputy), date(2025, 3, 1), "job_change")
    page = text(client.get(f"/registry/groups/{group.id}"))
    assert "王芳" in page and "已终止" in page
    response = client.post(f"/registry/groups/{group.id}",
                           data={"action": "remove", "deputy_id": str(deputy.id), "role": "member"})
    assert response.status_code == 302
    assert count(GroupMembership) == 0


def test_an_ended_deputy_cannot_be_added_through_the_page(client, staff, make_deputy, county):
    group = county["groups"][0]
    deputy = make_deputy(name="王芳", phone="13905610000")
    services.end_deputy(deputy, date(2025, 3, 1), "job_change")
    response = client.post(f"/registry/groups/{group.id}",
                           data={"action": "set", "deputy_id": str(deputy.id), "role": "member"})
    assert response.status_code == 422
    assert "flash-error" in text(response) and "不是有效的选择" in text(response)
    assert count(GroupMembership) == 0


def test_group_create_professional_and_duplicate(client, staff, county):
    response = client.post("/registry/groups/new", data={
        "name": "财经专业代表小组", "kind": "professional", "speciality": "经济", "area_id": "0",
        "liaison_user_id": "0", "description": ""})
    assert response.status_code == 303
    group = db.session.scalar(select(DeputyGroup).where(DeputyGroup.name == "财经专业代表小组"))
    assert (group.kind, group.speciality) == ("professional", "经济")
    assert len(audit_rows("create", "group")) == 1

    before = count(DeputyGroup)
    response = client.post("/registry/groups/new", data={
        "name": "城关镇代表小组", "kind": "regional", "area_id": "0", "liaison_user_id": "0"})
    assert response.status_code == 422
    assert "已有同名的代表小组" in text(response)
    assert count(DeputyGroup) == before


def test_groups_list(client, staff, make_deputy, county):
    town_group = county["groups"][0]
    services.set_group_member(town_group, make_deputy(name="王芳", phone="13905610000"), "leader")
    services.set_group_member(town_group, make_deputy(name="李四", phone="13905610001"), "vice_leader")
    services.set_group_member(town_group, make_deputy(name="赵六", phone="13905610002"), "member")
    services.set_group_member(county["groups"][1], make_deputy(name="钱七", phone="13905610003"), "vice_leader")
    page = text(client.get("/registry/groups/"))
    rows = {re.search(r">([^<]*小组)</a>", row).group(1): re.findall(r"<td[^>]*>([^<]*)</td>", row)
            for row in re.findall(r"<tr><td[^>]*><a.*?</tr>", page, re.S)}
    # name, kind, township/speciality, leader, vice leader, size
    assert rows["城关镇代表小组"] == ["代表小组", "城关镇", "王芳", "李四", "3"]
    assert rows["法制监督专业代表小组"] == ["专业代表小组", "司法", "", "钱七", "1"]


def test_group_page_finds_deputies_to_add(client, staff, make_deputy, county):
    group = county["groups"][0]
    member = make_deputy(name="王芳", phone="13905610000", code="QS0001")
    services.set_group_member(group, member, "member")
    make_deputy(name="李四", phone="13905610001", code="QS0002")
    services.end_deputy(make_deputy(name="李五", phone="13905610003"), date(2025, 3, 1), "other")

    def options(page):
        select_html = re.search(r'<select[^>]*name="deputy_id".*?</select>', page, re.S).group(0)
        return re.findall(r"<option[^>]*>([^<（]*)", select_html)

    assert options(text(client.get(f"/registry/groups/{group.id}"))) == ["王芳", "代表", "李四"]
    assert options(text(client.get(f"/registry/groups/{group.id}?q=李"))) == ["王芳", "李四"]  # 李五 has ended
    assert options(text(client.get(f"/registry/groups/{group.id}?q=QS0002"))) == ["王芳", "李四"]
    page = text(client.get(f"/registry/groups/{group.id}?q=赵"))
    assert options(page) == ["王芳"] and "没有找到“赵”" in page


def test_group_page_search_lists_at_most_the_limit(client, staff, make_deputy, county, monkeypatch):
    from blueprints.registry import views

    monkeypatch.setattr(views, "MEMBER_CANDIDATES", 2)
    for i in range(4):
        make_deputy(name=f"王{i}", phone=f"1390561000{i}")
    page = text(client.get(f"/registry/groups/{county['groups'][0].id}?q=王"))
    assert "王0" in page and "王1" in page and "王2" not in page
    assert "前 2 位" in page
    # A deputy not in the list can still be added: the post is checked, not the list.
    other = db.session.scalar(select(Deputy).where(Deputy.name == "王3"))
    response = client.post(f"/registry/groups/{county['groups'][0].id}",
                           data={"action": "set", "deputy_id": str(other.id), "role": "member"})
    assert response.status_code == 302
    assert db.session.scalars(select(GroupMembership.deputy_id)).all() == [other.id]


# ---- stations, units, areas ------------------------------------------------------------------

def station_form(**overrides) -> dict:
    data = {"name": "临涣镇人大代表活动室", "kind": "room", "area_id": "0", "address": "临涣镇政府一楼",
            "opening_hours": "每月5日", "contact_name": "", "contact_phone": "", "latitude": "",
            "longitude": "", "description": "", "active": "y"}
    data.update(overrides)
    return data


def test_station_create_edit_and_refusals(client, staff, county):
    response = client.post("/registry/stations/new", data=station_form(latitude="33.5", longitude="116.25"))
    assert response.status_code == 303
    station = db.session.scalar(select(Station).where(Station.name == "临涣镇人大代表活动室"))
    assert (station.kind, float(station.latitude), float(station.longitude)) == ("room", 33.5, 116.25)
    assert len(audit_rows("create", "station")) == 1

    response = client.post(f"/registry/stations/{station.id}/edit", data=station_form(latitude="33.5"))
    assert response.status_code == 422
    assert "经度和纬度需同时填写" in text(response)
    assert fresh(station).longitude is not None

    response = client.post("/registry/stations/new", data=station_form(name="另一站", latitude="95",
                                                                       longitude="116"))
    assert response.status_code == 422
    assert "纬度应在 -90 到 90 之间" in text(response)

    before = count(Station)
    response = client.post("/registry/stations/new", data=station_form(name="城关镇人大代表之家"))
    assert response.status_code == 422
    assert "已有同名的联络站" in text(response)
    assert count(Station) == before
    assert "城关镇人大代表之家" in text(client.get("/registry/stations/"))


def test_unit_create_and_duplicate(client, staff, county):
    response = client.post("/registry/units/new", data={"name": "县教育局", "contact_name": "",
                                                        "contact_phone": "", "active": "y"})
    assert response.status_code == 303
    response = client.post("/registry/units/new", data={"name": "县教育局", "active": "y"})
    assert response.status_code == 422
    assert "已有同名的承办单位" in text(response)
    assert "县教育局" in text(client.get("/registry/units/"))


def test_area_pages(client, staff, county):
    town = county["townships"][0]
    response = client.post("/registry/areas/new", data={"name": "西街社区", "kind": "village", "code": "",
                                                        "parent_id": str(town.id)})
    assert response.status_code == 303
    response = client.post("/registry/areas/new", data={"name": "北关村", "kind": "village", "code": "",
                                                        "parent_id": str(county["county"].id)})
    assert response.status_code == 422
    assert "村(社区)的上级必须是乡镇(街道)" in text(response)
    page = text(client.get("/registry/areas/"))
    assert "西街社区" in page and "北关村" not in page


# ---- the list's query count does not grow with the roster ------------------------------------

def _spread_deputies(n: int, start: int, groups, stations, towns):
    for i in range(start, start + n):
        deputy = Deputy(name=f"代表{i:03d}", phone=f"1390561{i:04d}", level="county",
                        station=stations[i % len(stations)], area=towns[i % len(towns)])
        db.session.add(deputy)
        db.session.add(GroupMembership(group=groups[i % len(groups)], deputy=deputy, role="member"))
        if i % 3 == 0:  # some belong to a professional group as well
            db.session.add(GroupMembership(group=groups[-1], deputy=deputy, role="member"))
    db.session.commit()


def _list_queries(client, url="/registry/deputies/", **kwargs) -> int:
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(statements)


def test_list_query_count_does_not_grow(client, staff, county):
    towns = county["townships"]
    stations = [*county["stations"], Station(name="第三联络站", kind="point", area=towns[0])]
    groups = [county["groups"][0], DeputyGroup(name="临涣镇代表小组", kind="regional", area=towns[1]),
              county["groups"][1]]
    db.session.add_all(stations + groups)
    db.session.commit()

    _spread_deputies(5, 0, groups, stations, towns)
    small = _list_queries(client)
    small_search = _list_queries(client, "/registry/deputies/?q=代表")
    small_fragment = _list_queries(client, "/registry/deputies/?q=代表", headers={"HX-Request": "true"})

    _spread_deputies(55, 5, groups, stations, towns)
    large = _list_queries(client)
    assert "第 1 / 2 页" in text(client.get("/registry/deputies/"))
    assert large == small, (small, large)
    assert small <= 8, small
    assert _list_queries(client, "/registry/deputies/?q=代表") == small_search <= 8
    assert _list_queries(client, "/registry/deputies/?q=代表", headers={"HX-Request": "true"}) == small_fragment
    assert small_fragment <= small
