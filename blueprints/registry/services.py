"""Registry operations. Each public function is one unit of work (``core.transaction``: nested in the
caller's when there is one) and raises DomainError on bad input. A duplicate that only the database
can see is refused by its constraint, with the message registered in models.py."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..core import audit
from ..core.accounts import end_sessions
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import AREA_KINDS, Area, User
from ..core.timeutil import utcnow
from ..core.transaction import transactional
from .models import (
    END_REASONS,
    GROUP_KINDS,
    GROUP_ROLES,
    LEVELS,
    STATION_KINDS,
    Deputy,
    DeputyGroup,
    DeputyPhoto,
    GroupMembership,
    HandlingUnit,
    Station,
)

# Mobile (11 digits from 13x–19x) or a landline with area code (0557-1234567).
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")

DEPUTY_FIELDS = ("code", "name", "gender", "level", "term", "constituency", "occupation", "phone",
                 "area_id", "station_id", "ended_on", "end_reason", "end_note")
GROUP_FIELDS = ("name", "kind", "speciality", "area_id", "liaison_user_id", "description")
STATION_FIELDS = ("name", "code", "kind", "area_id", "address", "opening_hours", "contact_name", "contact_phone",
                  "latitude", "longitude", "description", "active")
UNIT_FIELDS = ("name", "code", "contact_name", "contact_phone", "active")
AREA_FIELDS = ("name", "kind", "code", "parent_id")


def normalize_phone(raw: str | None) -> str | None:
    """Strip spaces and a +86 prefix; None for empty. Raises DomainError for a malformed number."""
    if raw is None:
        return None
    phone = re.sub(r"[\s\u3000]", "", str(raw))
    if phone.endswith(".0"):  # Excel turned the number into a float
        phone = phone[:-2]
    if phone.startswith("+86"):
        phone = phone[3:]
    if not phone:
        return None
    if not PHONE_RE.match(phone):
        raise DomainError(_("手机号码“%(p)s”格式不正确，应为 11 位手机号或带区号的固定电话。", p=raw), field="phone")
    return phone


# ---- deputies --------------------------------------------------------------------------------

def deputy_query(q: str = "", level: str = "", status: str = "serving", station_id: int | None = None,
                 group_id: int | None = None, area_id: int | None = None):
    """Deputies matching the staff list's filters (they combine), ordered by name. No loader options:
    callers add their own (the list page uses ``with_list_loading``, the export its own)."""
    stmt = select(Deputy)
    if q:
        # contains(autoescape=True): a typed % or _ is text, not a wildcard.
        stmt = stmt.where(or_(*(column.contains(q, autoescape=True) for column in (
            Deputy.name, Deputy.code, Deputy.constituency, Deputy.occupation))))
    if level:
        stmt = stmt.where(Deputy.level == level)
    if status == "serving":
        stmt = stmt.where(Deputy.ended_on.is_(None))
    elif status == "ended":
        stmt = stmt.where(Deputy.ended_on.is_not(None))
    if station_id:
        stmt = stmt.where(Deputy.station_id == station_id)
    if area_id:
        stmt = stmt.where(Deputy.area_id == area_id)
    if group_id:
        stmt = stmt.where(Deputy.id.in_(select(GroupMembership.deputy_id).where(GroupMembership.group_id == group_id)))
    return stmt.order_by(Deputy.sort_name, Deputy.id)


def with_list_loading(stmt):
    """Load what a row of the staff list shows in a fixed number of queries whatever the page size:
    station and area joined to the page's rows, memberships with their groups in one more query."""
    return stmt.options(
        joinedload(Deputy.station),
        joinedload(Deputy.area),
        selectinload(Deputy.memberships).joinedload(GroupMembership.group),
    )


def _check_deputy(values: dict) -> dict:
    values = dict(values)
    values["name"] = (values.get("name") or "").strip()
    if not values["name"]:
        raise DomainError(_("请填写姓名。"), field="name")
    if values.get("level") not in LEVELS:
        raise DomainError(_("请选择代表层级。"), field="level")
    if values.get("gender") in ("", None):
        values["gender"] = None
    elif values["gender"] not in ("男", "女"):
        raise DomainError(_("性别只能是“男”或“女”。"), field="gender")
    values["phone"] = normalize_phone(values.get("phone"))
    for key in ("code", "term", "constituency", "occupation"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip() or None
    _check_lengths(Deputy, values, DEPUTY_LABELS)
    return values


DEPUTY_LABELS = {"name": "姓名", "code": "代表编号", "term": "届次", "constituency": "选区/选举单位",
                 "occupation": "工作单位及职务", "end_note": "说明"}


def _check_lengths(model, values: dict, labels: dict) -> None:
    """Refuse text longer than its column, the same on SQLite (which would store it) and PostgreSQL
    (which would fail with a DataError instead of a clear message)."""
    for key, label in labels.items():
        value = values.get(key)
        limit = getattr(model.__table__.c[key].type, "length", None)
        if isinstance(value, str) and limit and len(value) > limit:
            raise DomainError(_("“%(label)s”不能超过 %(n)d 个字符。", label=label, n=limit), field=key)


def _set_regional_group(deputy: Deputy, group: DeputyGroup | None) -> None:
    for membership in list(deputy.memberships):
        if membership.group.kind == "regional" and membership.group is not group:
            deputy.memberships.remove(membership)
    if group is not None and all(m.group is not group for m in deputy.memberships):
        deputy.memberships.append(GroupMembership(group=group, role="member"))


@transactional
def create_deputy(values: dict, group: DeputyGroup | None = None) -> Deputy:
    values = _check_deputy(values)
    deputy = Deputy(**{k: values.get(k) for k in DEPUTY_FIELDS if k in values})
    db.session.add(deputy)
    _set_regional_group(deputy, group)
    db.session.flush()
    audit.record("create", "deputy", deputy.id, f"新建代表 {deputy.name}",
                 changes=audit.diff({}, audit.snapshot(deputy, DEPUTY_FIELDS)))
    return deputy


@transactional
def update_deputy(deputy: Deputy, values: dict, group: DeputyGroup | None = None) -> Deputy:
    values = _check_deputy(values)
    before = audit.snapshot(deputy, DEPUTY_FIELDS)
    before_group = deputy.regional_group.name if deputy.regional_group else None
    for key in DEPUTY_FIELDS:
        if key in values and key not in ("ended_on", "end_reason", "end_note"):
            setattr(deputy, key, values[key])
    _set_regional_group(deputy, group)
    db.session.flush()
    changes = audit.diff(before, audit.snapshot(deputy, DEPUTY_FIELDS))
    if before_group != (group.name if group else None):
        changes["group"] = [before_group, group.name if group else None]
    if changes:
        audit.record("update", "deputy", deputy.id, f"修改代表 {deputy.name}", changes=changes)
    return deputy


@transactional
def end_deputy(deputy: Deputy, ended_on: date, reason: str, note: str | None = None) -> Deputy:
    """The exit mechanism: the record and its history stay; login and voting stop at once."""
    if not deputy.serving:
        raise DomainError(_("该代表的代表资格已于 %(d)s 终止。", d=deputy.ended_on.isoformat()))
    if reason not in END_REASONS:
        raise DomainError(_("请选择终止原因。"), field="reason")
    if ended_on is None:
        raise DomainError(_("请填写终止日期。"), field="ended_on")
    note = (note or "").strip() or None
    _check_lengths(Deputy, {"end_note": note}, {"end_note": "说明"})
    deputy.ended_on = ended_on
    deputy.end_reason = reason
    deputy.end_note = note
    if deputy.user is not None:
        deputy.user.active = False
        end_sessions(deputy.user)
    audit.record("end", "deputy", deputy.id, f"终止代表资格 {deputy.name}",
                 changes={"ended_on": [None, ended_on.isoformat()], "end_reason": [None, reason]}, note=note)
    return deputy


# ---- groups ----------------------------------------------------------------------------------

def _check_group(values: dict) -> dict:
    values = dict(values)
    values["name"] = (values.get("name") or "").strip()
    if not values["name"]:
        raise DomainError(_("请填写小组名称。"), field="name")
    if values.get("kind") not in GROUP_KINDS:
        raise DomainError(_("请选择小组类型。"), field="kind")
    _check_lengths(DeputyGroup, values, {"name": "小组名称", "speciality": "专业领域"})
    return values


@transactional
def save_group(group: DeputyGroup | None, values: dict) -> DeputyGroup:
    values = _check_group(values)
    creating = group is None
    group = group or DeputyGroup()
    before = {} if creating else audit.snapshot(group, GROUP_FIELDS)
    for key in GROUP_FIELDS:
        if key in values:
            setattr(group, key, values[key] or None if key != "kind" else values[key])
    db.session.add(group)
    db.session.flush()
    changes = audit.diff(before, audit.snapshot(group, GROUP_FIELDS))
    if changes:
        audit.record("create" if creating else "update", "group", group.id,
                     f"{'新建' if creating else '修改'}代表小组 {group.name}", changes=changes)
    return group


@transactional
def set_group_member(group: DeputyGroup, deputy: Deputy, role: str) -> GroupMembership:
    """Add a deputy to a group or change their role in it (one 组长 per group)."""
    if role not in GROUP_ROLES:
        raise DomainError(_("未知的小组职务。"), field="role")
    if not deputy.serving:
        raise DomainError(_("%(name)s 的代表资格已终止，不能加入小组。", name=deputy.name))
    membership = db.session.scalar(
        select(GroupMembership).where(GroupMembership.group_id == group.id, GroupMembership.deputy_id == deputy.id)
    )
    old_role = membership.role if membership else None
    if membership is None:
        membership = GroupMembership(group=group, deputy=deputy, role=role)
        db.session.add(membership)
    membership.role = role
    db.session.flush()
    audit.record("update", "group", group.id, f"代表小组 {group.name}：{deputy.name} 任{membership.role_label}",
                 changes={"member": [f"{deputy.name}:{old_role}" if old_role else None, f"{deputy.name}:{role}"]})
    return membership


@transactional
def remove_group_member(group: DeputyGroup, deputy: Deputy) -> None:
    membership = db.session.scalar(
        select(GroupMembership).where(GroupMembership.group_id == group.id, GroupMembership.deputy_id == deputy.id)
    )
    if membership is None:
        raise DomainError(_("%(name)s 不在该小组中。", name=deputy.name))
    db.session.delete(membership)
    audit.record("update", "group", group.id, f"代表小组 {group.name}：移出 {deputy.name}",
                 changes={"member": [f"{deputy.name}:{membership.role}", None]})


# ---- stations, units, areas ------------------------------------------------------------------

def _check_short_code(values: dict, own_accounts) -> None:
    """A unit's or station's short code (简称代码): the username its account gets when accounts are issued
    (issuing.py). Letters, digits, - and _ (2–32); not another account's username. An account already
    issued keeps its username: the code is read only when issuing."""
    import re

    from ..core.models import User

    code = (values.get("code") or "").strip()
    values["code"] = code or None
    if not code:
        return
    if not re.fullmatch(r"[A-Za-z0-9_-]{2,32}", code):
        raise DomainError(_("简称代码只能用字母、数字、- 和 _，2 到 32 个字符。"), field="code")
    taken = db.session.scalar(select(User).where(func.lower(User.username) == code.lower()))
    if taken is not None and taken.id not in own_accounts:
        raise DomainError(_("简称代码“%(c)s”已被其他账号用作用户名。", c=code), field="code")


@transactional
def save_station(station: Station | None, values: dict) -> Station:
    values = dict(values)
    if "code" in values:
        from ..core.models import User

        _check_short_code(values, set(db.session.scalars(select(User.id).where(
            User.station_id == station.id, User.role == "liaison"))) if station else set())
    values["name"] = (values.get("name") or "").strip()
    if not values["name"]:
        raise DomainError(_("请填写联络站名称。"), field="name")
    if values.get("kind") not in STATION_KINDS:
        raise DomainError(_("请选择阵地类型（家、室、站、点）。"), field="kind")
    _check_lengths(Station, values, {"name": "名称", "address": "地址", "opening_hours": "开放时间",
                                     "contact_name": "联系人"})
    if values.get("contact_phone"):
        try:
            values["contact_phone"] = normalize_phone(values["contact_phone"])
        except DomainError as exc:
            exc.field = "contact_phone"
            raise
    lat, lon = values.get("latitude"), values.get("longitude")
    if (lat is None) != (lon is None):
        raise DomainError(_("经度和纬度需同时填写，或同时留空。"), field="latitude")
    if lat is not None and not (-90 <= lat <= 90):
        raise DomainError(_("纬度应在 -90 到 90 之间。"), field="latitude")
    if lon is not None and not (-180 <= lon <= 180):
        raise DomainError(_("经度应在 -180 到 180 之间。"), field="longitude")
    return _save_simple(station or Station(), station is None, values, STATION_FIELDS, "station", "联络站")


@transactional
def save_unit(unit: HandlingUnit | None, values: dict) -> HandlingUnit:
    values = dict(values)
    if "code" in values:
        from ..core.models import User

        _check_short_code(values, set(db.session.scalars(select(User.id).where(
            User.unit_id == unit.id, User.role == "unit"))) if unit else set())
    values["name"] = (values.get("name") or "").strip()
    if not values["name"]:
        raise DomainError(_("请填写单位名称。"), field="name")
    _check_lengths(HandlingUnit, values, {"name": "单位名称", "contact_name": "联系人"})
    if values.get("contact_phone"):
        try:
            values["contact_phone"] = normalize_phone(values["contact_phone"])
        except DomainError as exc:
            exc.field = "contact_phone"
            raise
    return _save_simple(unit or HandlingUnit(), unit is None, values, UNIT_FIELDS, "unit", "承办单位")


@transactional
def save_area(area: Area | None, values: dict) -> Area:
    values = dict(values)
    values["name"] = (values.get("name") or "").strip()
    if not values["name"]:
        raise DomainError(_("请填写区划名称。"), field="name")
    if values.get("kind") not in AREA_KINDS:
        raise DomainError(_("请选择区划级别。"), field="kind")
    parent = db.session.get(Area, values["parent_id"]) if values.get("parent_id") else None
    expected_parent = {"county": None, "township": "county", "village": "township"}[values["kind"]]
    if (parent.kind if parent else None) != expected_parent:
        messages = {
            None: _("县(区)不能有上级区划。"),
            "county": _("乡镇(街道)的上级必须是县(区)。"),
            "township": _("村(社区)的上级必须是乡镇(街道)。"),
        }
        raise DomainError(messages[expected_parent], field="parent_id")
    if area is not None and parent is not None and parent.id == area.id:
        raise DomainError(_("区划不能以自己为上级。"), field="parent_id")
    if area is not None and values["kind"] != area.kind and area.children:
        # A township with villages turned into a county would leave villages directly under a county.
        raise DomainError(_("该区划下还有下级区划，不能修改其级别。"), field="kind")
    if parent is None:
        # UNIQUE(parent_id, name) does not cover counties: NULL parents never collide in SQL.
        same = select(Area.id).where(Area.parent_id.is_(None), Area.name == values["name"])
        if area is not None:
            same = same.where(Area.id != area.id)
        if db.session.scalar(same.limit(1)) is not None:
            raise DomainError(_("已有同名的县(区)。"), field="name")
    values["code"] = (values.get("code") or "").strip() or None
    _check_lengths(Area, values, {"name": "名称", "code": "区划代码"})
    return _save_simple(area or Area(), area is None, values, AREA_FIELDS, "area", "行政区划")


def _save_simple(obj, creating: bool, values: dict, fields: tuple, obj_type: str, label: str):
    before = {} if creating else audit.snapshot(obj, fields)
    for key in fields:
        if key in values:
            value = values[key]
            setattr(obj, key, value.strip() or None if isinstance(value, str) and key != "name" else value)
    db.session.add(obj)
    db.session.flush()
    changes = audit.diff(before, audit.snapshot(obj, fields))
    if changes:
        audit.record("create" if creating else "update", obj_type, obj.id,
                     f"{'新建' if creating else '修改'}{label} {obj.name}", changes=changes)
    return obj


# ---- photos (shown in the public directory) ---------------------------------------------------

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def photo_type(data: bytes) -> str | None:
    """The image type by content (magic bytes), whatever the file name or browser claims."""
    for magic, content_type in PHOTO_TYPES:
        if data.startswith(magic):
            return content_type
    return None


@transactional
def save_deputy_photo(deputy: Deputy, data: bytes) -> DeputyPhoto:
    """Store a deputy's public photo (JPEG or PNG, at most 2 MB) with an audit row."""
    if not data:
        raise DomainError(_("请选择要上传的照片。"), field="photo")
    if len(data) > PHOTO_MAX_BYTES:
        raise DomainError(_("照片不能超过 %(n)d MB，请压缩后重新上传。", n=PHOTO_MAX_BYTES // (1024 * 1024)),
                          field="photo")
    content_type = photo_type(data)
    if content_type is None:
        raise DomainError(_("照片只能是 JPEG 或 PNG 格式的图片。"), field="photo")
    photo = db.session.get(DeputyPhoto, deputy.id)
    replacing = photo is not None
    if photo is None:
        photo = DeputyPhoto(deputy_id=deputy.id)
        db.session.add(photo)
    photo.content_type = content_type
    photo.data = data
    photo.updated_at = utcnow()
    audit.record("update", "deputy", deputy.id,
                 f"更换代表照片 {deputy.name}（{content_type}，{len(data) // 1024 or 1} KB）",
                 changes={"photo": ["已有" if replacing else None, content_type]})
    return photo


def counts() -> dict:
    """Serving and ended deputies, in one query."""
    total, ended = db.session.execute(select(func.count(), func.count(Deputy.ended_on)).select_from(Deputy)).one()
    return {"serving": total - ended, "ended": ended}


def users_for_group_liaison():
    return db.session.scalars(select(User).where(User.role.in_(("liaison", "staff"))).order_by(User.display_name))
