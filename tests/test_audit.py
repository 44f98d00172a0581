"""The audit log: every change by staff appends who/what/old → new; rows can be neither updated nor
deleted (ORM listener and database trigger); the staff page lists and filters them."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from flask_login import login_user
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from blueprints.core import accounts, audit
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from blueprints.core.timeutil import local_today
from blueprints.registry import services

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")  # conftest: an empty flask.g per request


@contextmanager
def acting_as(app, user):
    """A request in which ``user`` is logged in, as when a service is called from a view."""
    with app.test_request_context():
        login_user(user)
        yield


def entries(**where) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return db.session.scalars(stmt).all()


def count_entries() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


# ---- what gets written -----------------------------------------------------------------------

def test_creating_a_deputy_is_audited_with_actor_and_new_values(app, users):
    with acting_as(app, users["staff"]):
        deputy = services.create_deputy({"name": "李四", "level": "county", "gender": "女",
                                         "phone": "13800138000"})
    [entry] = entries(object_type="deputy", object_id=deputy.id)
    assert entry.action == "create"
    assert (entry.actor_id, entry.actor_name) == (users["staff"].id, "staff")
    assert "李四" in entry.summary
    assert entry.changes["name"] == [None, "李四"]
    assert entry.changes["level"] == [None, "county"]
    assert entry.changes["phone"] == [None, "13800138000"]
    assert entry.at is not None


def test_editing_a_deputy_records_old_and_new_values(app, users):
    with acting_as(app, users["staff"]):
        deputy = services.create_deputy({"name": "李四", "level": "county", "occupation": "教师"})
        services.update_deputy(deputy, {"name": "李四", "level": "city", "occupation": "校长",
                                        "phone": "13800138000"})
    [entry] = entries(object_type="deputy", object_id=deputy.id, action="update")
    assert (entry.actor_id, entry.actor_name) == (users["staff"].id, "staff")
    assert entry.changes == {"level": ["county", "city"], "occupation": ["教师", "校长"],
                             "phone": [None, "13800138000"]}


def test_saving_without_changes_writes_no_audit_row(app, users):
    with acting_as(app, users["staff"]):
        deputy = services.create_deputy({"name": "李四", "level": "county"})
        before = count_entries()
        services.update_deputy(deputy, {"name": "李四", "level": "county"})
    assert count_entries() == before


def test_ending_a_deputy_is_audited(app, users):
    with acting_as(app, users["staff"]):
        deputy = services.create_deputy({"name": "王五", "level": "township"})
        services.end_deputy(deputy, date(2026, 3, 1), "job_change", "调往外地工作")
    [entry] = entries(object_type="deputy", object_id=deputy.id, action="end")
    assert (entry.actor_id, entry.actor_name) == (users["staff"].id, "staff")
    assert entry.changes == {"ended_on": [None, "2026-03-01"], "end_reason": [None, "job_change"]}
    assert entry.note == "调往外地工作"


def test_a_refused_change_writes_no_audit_row(app, users):
    from blueprints.core.errors import DomainError

    before = count_entries()
    with acting_as(app, users["staff"]), pytest.raises(DomainError):
        services.create_deputy({"name": "李四", "level": "galactic"})
    assert count_entries() == before


def test_change_through_a_page_names_the_logged_in_user(client, auth, users):
    auth.login("staff")
    response = client.post("/registry/deputies/new", data={"name": "赵六", "level": "county", "gender": "",
                                                           "area_id": 0, "station_id": 0, "group_id": 0})
    assert response.status_code == 303
    [entry] = [e for e in entries(object_type="deputy", action="create") if "赵六" in e.summary]
    assert (entry.actor_id, entry.actor_name) == (users["staff"].id, "staff")


def test_without_a_logged_in_user_the_actor_is_system(app):
    entry = audit.record("import", "roster", None, "命令行导入名册")
    db.session.commit()
    assert (entry.actor_id, entry.actor_name) == (None, "system")


def test_diff_lists_only_changed_fields():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}
    assert audit.diff({}, {"name": "x"}) == {"name": [None, "x"]}


# ---- append-only -----------------------------------------------------------------------------

@pytest.fixture
def entry(app, users):
    entry = audit.record("create", "area", 1, "原始记录", changes={"name": [None, "青山县"]}, actor=users["staff"])
    db.session.commit()
    return entry.id


def stored_summary(entry_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(select(AuditEntry.summary).where(AuditEntry.id == entry_id))


def test_orm_cannot_update_an_audit_row(app, entry):
    row = db.session.get(AuditEntry, entry)
    row.summary = "篡改"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    assert stored_summary(entry) == "原始记录"


def test_orm_cannot_delete_an_audit_row(app, entry):
    db.session.delete(db.session.get(AuditEntry, entry))
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    assert stored_summary(entry) == "原始记录"


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET summary = 'x'",
    "UPDATE audit_entries SET actor_name = 'someone else'",
    "DELETE FROM audit_entries",
])
def test_raw_sql_cannot_change_audit_rows(app, entry, statement):
    with pytest.raises(DBAPIError) as caught:
        db.session.execute(text(statement))
        db.session.commit()
    assert "append-only" in str(caught.value)
    db.session.rollback()
    assert stored_summary(entry) == "原始记录"
    assert count_entries() == 1


@pytest.mark.parametrize("statement", [
    update(AuditEntry).values(summary="x"),
    delete(AuditEntry),
])
def test_bulk_orm_statements_are_stopped_by_the_database(app, entry, statement):
    """Bulk statements skip the ORM's per-object events; the trigger still refuses them."""
    with pytest.raises(DBAPIError):
        db.session.execute(statement.execution_options(synchronize_session=False))
        db.session.commit()
    db.session.rollback()
    assert stored_summary(entry) == "原始记录"


def test_appending_still_works_after_a_refused_change(app, entry, users):
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM audit_entries"))
    db.session.rollback()
    audit.record("update", "area", 1, "第二条", actor=users["staff"])
    db.session.commit()
    assert [e.summary for e in entries()] == ["原始记录", "第二条"]


# ---- the staff page --------------------------------------------------------------------------

@pytest.fixture
def history(app, users):
    """A deputy created, another created and ended, and an account created by the admin."""
    with acting_as(app, users["staff"]):
        services.create_deputy({"name": "李四", "level": "county"})
        wang = services.create_deputy({"name": "王五", "level": "county"})
        services.end_deputy(wang, date(2026, 3, 1), "resigned")
    accounts.create_user("newclerk", "a long enough passphrase", "clerk", actor=users["admin"])


def test_staff_sees_the_audit_log(client, auth, history):
    auth.login("staff")
    response = client.get("/audit/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for summary in ("新建代表 李四", "新建代表 王五", "终止代表资格 王五", "新建账号 newclerk"):
        assert summary in page
    assert "操作日志" in page


def test_audit_log_filters_by_object_type(client, auth, history):
    auth.login("staff")
    page = client.get("/audit/?object_type=user").get_data(as_text=True)
    assert "新建账号 newclerk" in page
    assert "新建代表 李四" not in page
    page = client.get("/audit/?object_type=deputy").get_data(as_text=True)
    assert "新建代表 李四" in page and "终止代表资格 王五" in page
    assert "新建账号 newclerk" not in page


def test_audit_log_filters_by_action(client, auth, history):
    auth.login("staff")
    page = client.get("/audit/?action=end").get_data(as_text=True)
    assert "终止代表资格 王五" in page
    assert "新建代表 李四" not in page and "新建账号 newclerk" not in page


def test_audit_log_filters_by_actor_and_date(client, auth, history):
    auth.login("staff")
    page = client.get("/audit/?actor=admin").get_data(as_text=True)
    assert "新建账号 newclerk" in page and "新建代表 李四" not in page
    today = local_today()
    page = client.get(f"/audit/?start={today.isoformat()}&end={today.isoformat()}").get_data(as_text=True)
    assert "新建代表 李四" in page
    tomorrow = (today + timedelta(days=1)).isoformat()
    page = client.get(f"/audit/?start={tomorrow}").get_data(as_text=True)
    assert "新建代表 李四" not in page and "没有符合条件的记录" in page


def test_audit_log_bad_date_gets_a_chinese_message(client, auth, history):
    auth.login("staff")
    response = client.get("/audit/?start=31/01/2026")
    assert response.status_code == 400  # issue 17: an impossible filter is a 400 with its message
    page = response.get_data(as_text=True)
    assert "日期格式应为" in page
    assert "新建代表 李四" in page  # the bad filter is ignored, not applied


def test_audit_log_htmx_request_gets_only_the_rows(client, auth, history):
    auth.login("staff")
    response = client.get("/audit/?object_type=deputy", headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "新建代表 李四" in page and "<html" not in page
    assert "HX-Request" in response.headers.get("Vary", "")


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit", "clerk"])
def test_audit_log_is_forbidden_to_other_roles(client, auth, history, role):
    auth.login(role)
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "新建代表 李四" not in response.get_data(as_text=True)


def test_the_audit_page_offers_no_way_to_change_rows(client, auth, history):
    auth.login("admin")
    page = client.get("/audit/").get_data(as_text=True)
    main = page.split("</header>", 1)[1]  # the header holds only the logout form
    assert "新建代表 李四" in main
    assert 'method="post"' not in main
    assert client.post("/audit/").status_code == 405
