"""Notice operations: write, schedule, publish, take down, revise (keeping versions), attach files,
and the queries behind the public pages. Other areas publish through publish_notice().

Every write is one unit of work (``core.transaction``): called on its own it commits; called inside a
caller's ``with transaction():`` (``ballots.tally.publish``, ...) it only flushes, so the caller's
rows and the notice commit together or not at all."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select, text, union_all
from sqlalchemy.orm import joinedload, selectinload

from ..core import audit
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.pagecache import changes_at
from ..core.publicfacts import remembered
from ..core.timeutil import UTCDateTime, utcnow
from ..core.transaction import transactional
from .models import CATEGORIES, SCOPES, Notice, NoticeAttachment, NoticeVersion

MAX_TITLE = 120
MAX_BODY = 20_000
MAX_ATTACHMENTS = 10
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
NOTICE_FIELDS = ("category", "title", "body", "scope", "area_id", "station_id", "pinned", "publish_at",
                 "take_down_at")

# What a file says it is, checked against what it contains.
ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def public_clause(now: datetime | None = None):
    now = now or utcnow()
    return and_(Notice.publish_at.is_not(None), Notice.publish_at <= now,
                or_(Notice.take_down_at.is_(None), Notice.take_down_at > now))


# ---- reading ---------------------------------------------------------------------------------

def public_notices(category: str | None = None, area_id: int | None = None, q: str | None = None):
    """Published notices, pinned first then newest. area_id: the township's and its stations' notices."""
    stmt = (select(Notice).where(public_clause())
            .options(joinedload(Notice.area), joinedload(Notice.station))  # one query, not three
            .order_by(Notice.pinned.desc(), Notice.publish_at.desc(), Notice.id.desc()))
    if category:
        stmt = stmt.where(Notice.category == category)
    if area_id:
        from ..registry.models import Station

        stmt = stmt.where(or_(Notice.area_id == area_id,
                              Notice.station_id.in_(select(Station.id).where(Station.area_id == area_id))))
    if q:
        # Titles only: scanning every body grows with the archive (60 ms at 20,000 notices on SQLite),
        # and a notice's title names what it is about.
        stmt = stmt.where(Notice.title.contains(q, autoescape=True))
    return stmt


def get_public_notice(notice_id: int) -> Notice | None:
    return db.session.scalar(select(Notice).where(Notice.id == notice_id, public_clause())
                             .options(selectinload(Notice.attachments)))


def _latest_ids_sql(per_category: int):
    """One small LIMIT per category, read in (category, publish_at, id) index order, glued with UNION ALL.
    Written as text once: building the same nine-part select() every request cost more than running it."""
    public = "publish_at IS NOT NULL AND publish_at <= :now AND (take_down_at IS NULL OR take_down_at > :now)"
    parts = [
        f"SELECT id FROM (SELECT id FROM notices WHERE category = :c{i} AND {public} "  # noqa: S608 (no user text)
        f"ORDER BY publish_at DESC, id DESC LIMIT {int(per_category)}) AS latest_{i}"
        for i in range(len(CATEGORIES))
    ]
    return text(" UNION ALL ".join(parts)).bindparams(
        bindparam("now", type_=UTCDateTime()), *(bindparam(f"c{i}", key) for i, key in enumerate(CATEGORIES)))


_LATEST_IDS = _latest_ids_sql(3)


def latest_by_category(per_category: int = 3) -> dict[str, list[Notice]]:
    """The newest few notices of every category, whatever the size of the archive."""
    statement = _LATEST_IDS if per_category == 3 else _latest_ids_sql(per_category)
    ids = db.session.scalars(statement, {"now": utcnow()}).all()
    rows = db.session.scalars(
        select(Notice).where(Notice.id.in_(ids)).order_by(Notice.publish_at.desc(), Notice.id.desc())
    ).all() if ids else []
    grouped: dict[str, list[Notice]] = {key: [] for key in CATEGORIES}
    for notice in rows:
        grouped[notice.category].append(notice)
    return {key: items for key, items in grouped.items() if items}


def pinned_notices(limit: int = 5) -> list[Notice]:
    return db.session.scalars(
        select(Notice).where(public_clause(), Notice.pinned).order_by(Notice.publish_at.desc()).limit(limit)
    ).all()


def public_notices_for_station(station, limit: int = 5) -> list[Notice]:
    """The station's own notices and its township's, newest first."""
    ids = _station_notice_ids(station.id, station.area_id, limit)
    if not ids:
        return []
    return db.session.scalars(select(Notice).where(Notice.id.in_(ids))
                              .order_by(Notice.pinned.desc(), Notice.publish_at.desc(), Notice.id.desc())).all()


@remembered
def _station_notice_ids(station_id: int, area_id: int | None, limit: int) -> tuple[int, ...]:
    """Two small indexed lookups joined with UNION ALL (one OR over both columns would make the planner walk
    every published notice); remembered (core/publicfacts.py: building them cost more than the page's rows)."""
    order = (Notice.pinned.desc(), Notice.publish_at.desc(), Notice.id.desc())
    clause = public_clause()
    parts = [select(Notice.id).where(clause, Notice.station_id == station_id).order_by(*order).limit(limit)]
    if area_id:
        parts.append(select(Notice.id).where(clause, Notice.scope == "township", Notice.area_id == area_id)
                     .order_by(*order).limit(limit))
    ids = union_all(*(part.subquery().select() for part in parts)).subquery()
    return tuple(db.session.scalars(select(Notice.id).where(Notice.id.in_(select(ids.c.id)))
                                    .order_by(*order).limit(limit)).all())


@changes_at
def next_window_change(now: datetime) -> datetime | None:
    """When the next notice appears or is taken down on schedule (public pages change then)."""
    times = [db.session.scalar(select(func.min(column)).where(column > now))
             for column in (Notice.publish_at, Notice.take_down_at)]
    return min((t for t in times if t is not None), default=None)


def feed_notices(limit: int = 50) -> list[Notice]:
    return db.session.scalars(
        select(Notice).where(public_clause()).order_by(Notice.publish_at.desc(), Notice.id.desc()).limit(limit)
    ).all()


# ---- writing ---------------------------------------------------------------------------------

def _check(values: dict) -> dict:
    values = dict(values)
    values["title"] = (values.get("title") or "").strip()
    values["body"] = (values.get("body") or "").replace("\r\n", "\n").strip()
    if not values["title"]:
        raise DomainError(_("请填写标题。"), field="title")
    if len(values["title"]) > MAX_TITLE:
        raise DomainError(_("标题不能超过 %(n)d 个字符。", n=MAX_TITLE), field="title")
    if len(values["body"]) > MAX_BODY:
        raise DomainError(_("正文不能超过 %(n)d 个字符。", n=MAX_BODY), field="body")
    if values.get("category") not in CATEGORIES:
        raise DomainError(_("请选择公示栏目。"), field="category")
    scope = values.get("scope") or "county"
    if scope not in SCOPES:
        raise DomainError(_("请选择公示范围。"), field="scope")
    values["scope"] = scope
    if scope == "county":
        values["area_id"] = values["station_id"] = None
    elif scope == "township":
        values["station_id"] = None
        if not values.get("area_id"):
            raise DomainError(_("公示范围为乡镇时，请选择乡镇。"), field="area_id")
    elif scope == "station":
        if not values.get("station_id"):
            raise DomainError(_("公示范围为联络站时，请选择联络站。"), field="station_id")
        from ..registry.models import Station

        station = db.session.get(Station, values["station_id"])
        if station is None:
            raise DomainError(_("联络站不存在。"), field="station_id")
        values["area_id"] = station.area_id
    publish_at, take_down_at = values.get("publish_at"), values.get("take_down_at")
    if take_down_at is not None and publish_at is not None and take_down_at <= publish_at:
        raise DomainError(_("撤下时间必须晚于发布时间。"), field="take_down_at")
    if take_down_at is not None and publish_at is None:
        raise DomainError(_("草稿不能设置撤下时间，请先设置发布时间。"), field="take_down_at")
    values["pinned"] = bool(values.get("pinned"))
    return values


@transactional
def create_notice(values: dict, actor=None, *, source: str | None = None, source_ref: str | None = None) -> Notice:
    values = _check(values)
    notice = Notice(**{k: values.get(k) for k in NOTICE_FIELDS}, created_by=actor, source=source,
                    source_ref=source_ref)
    db.session.add(notice)
    db.session.flush()
    audit.record("create", "notice", notice.id, f"新建公示《{notice.title}》", actor=actor,
                 changes={"status": [None, notice.status()]})
    return notice


@transactional
def update_notice(notice: Notice, values: dict, actor=None) -> Notice:
    """Edit a notice. Once it has been public, the earlier text is kept as a version and the notice
    shows 已更新; its publication time can no longer move."""
    values = _check(values)
    now = utcnow()
    was_public = notice.publish_at is not None and notice.publish_at <= now
    if was_public:
        values["publish_at"] = notice.publish_at
        if values.get("take_down_at") is not None and values["take_down_at"] <= notice.publish_at:
            raise DomainError(_("撤下时间必须晚于发布时间。"), field="take_down_at")
    before = audit.snapshot(notice, NOTICE_FIELDS)
    text_changed = any(values[k] != getattr(notice, k) for k in ("category", "title", "body"))
    if was_public and text_changed:
        db.session.add(NoticeVersion(
            notice=notice, version=notice.version, category=notice.category, title=notice.title,
            body=notice.body, valid_from=notice.revised_at or notice.publish_at, replaced_at=now,
            replaced_by=actor,
        ))
        notice.version += 1
        notice.revised_at = now
    for key in NOTICE_FIELDS:
        setattr(notice, key, values.get(key))
    changes = audit.diff(before, audit.snapshot(notice, NOTICE_FIELDS))
    changes.pop("body", None)
    if text_changed:
        changes["body"] = ["…", "…"] if was_public else changes.get("body")
    if changes or text_changed:
        audit.record("update", "notice", notice.id, f"修改公示《{notice.title}》", actor=actor,
                     changes={k: v for k, v in changes.items() if v is not None})
    return notice


@transactional
def publish_now(notice: Notice, actor=None) -> None:
    now = utcnow()
    if notice.is_public(now):
        raise DomainError(_("该公示已在发布中。"))
    if notice.publish_at is not None and notice.publish_at <= now:
        raise DomainError(_("该公示已撤下。撤下后不能重新发布，请另建一条公示。"))
    notice.publish_at = now
    if notice.take_down_at is not None and notice.take_down_at <= now:
        notice.take_down_at = None
    audit.record("publish", "notice", notice.id, f"发布公示《{notice.title}》", actor=actor)


@transactional
def take_down(notice: Notice, actor=None, reason: str | None = None) -> None:
    now = utcnow()
    if not notice.is_public(now):
        raise DomainError(_("只有正在发布的公示才能撤下。"))
    notice.take_down_at = now
    audit.record("take_down", "notice", notice.id, f"撤下公示《{notice.title}》", actor=actor, note=reason)


@transactional
def set_pinned(notice: Notice, pinned: bool, actor=None) -> None:
    if notice.pinned == pinned:
        return
    notice.pinned = pinned
    audit.record("update", "notice", notice.id, f"{'置顶' if pinned else '取消置顶'}公示《{notice.title}》",
                 actor=actor, changes={"pinned": [not pinned, pinned]})


@transactional
def delete_draft(notice: Notice, actor=None) -> None:
    if notice.publish_at is not None:
        raise DomainError(_("只有草稿可以删除；已发布或计划发布的公示只能撤下。"))
    audit.record("delete", "notice", notice.id, f"删除公示草稿《{notice.title}》", actor=actor)
    db.session.delete(notice)


@transactional
def publish_notice(category: str, title: str, body: str, *, scope: str = "county", area=None, station=None,
                   source: str | None = None, source_ref: str | None = None, pinned: bool = False,
                   publish_at: datetime | None = None, actor=None) -> Notice:
    """For other areas (reception schedules, ballot results, suggestion results): publish now, or
    revise the notice this source published before under the same source_ref (kept as a version)."""
    values = {"category": category, "title": title, "body": body, "scope": scope,
              "area_id": area.id if area else None, "station_id": station.id if station else None,
              "pinned": pinned, "publish_at": publish_at or utcnow(), "take_down_at": None}
    existing = None
    if source and source_ref:
        existing = db.session.scalar(select(Notice).where(Notice.source == source, Notice.source_ref == source_ref))
    if existing is not None:
        return update_notice(existing, values, actor)
    return create_notice(values, actor, source=source, source_ref=source_ref)


# ---- attachments -----------------------------------------------------------------------------

def sniff_attachment(filename: str, data: bytes) -> str:
    """The content type of an allowed file, checked by its content; DomainError otherwise."""
    name = (filename or "").lower()
    extension = name[name.rfind("."):] if "." in name else ""
    expected = ATTACHMENT_TYPES.get(extension)
    if expected is None:
        raise DomainError(_("只能上传 PDF、PNG、JPG 图片或 Excel (.xlsx) 文件。"), field="file")
    if not data:
        raise DomainError(_("上传的文件是空的。"), field="file")
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise DomainError(_("附件不能超过 %(n)d MB。", n=ATTACHMENT_MAX_BYTES // (1024 * 1024)), field="file")
    ok = {
        "application/pdf": data.startswith(b"%PDF-"),
        "image/png": data.startswith(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg": data.startswith(b"\xff\xd8\xff"),
    }.get(expected)
    if expected.endswith("spreadsheetml.sheet"):
        ok = _is_xlsx(data)
        if ok:
            from ..core.xlsx import check_archive

            check_archive(data)  # a zip bomb is not stored for others to open
    if not ok:
        raise DomainError(_("文件内容与扩展名不符：“%(f)s”不是真正的 %(e)s 文件。", f=filename,
                            e=extension.lstrip(".").upper()), field="file")
    return expected


def _is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


@transactional
def add_attachment(notice: Notice, filename: str, data: bytes, actor=None) -> NoticeAttachment:
    content_type = sniff_attachment(filename, data)
    if len(notice.attachments) >= MAX_ATTACHMENTS:
        raise DomainError(_("每条公示最多 %(n)d 个附件。", n=MAX_ATTACHMENTS), field="file")
    safe_name = filename.replace("/", "_").replace("\\", "_").strip()[-200:] or "附件"
    attachment = NoticeAttachment(notice=notice, filename=safe_name, content_type=content_type, size=len(data),
                                  data=data)
    db.session.add(attachment)
    db.session.flush()
    audit.record("update", "notice", notice.id, f"公示《{notice.title}》添加附件 {safe_name}", actor=actor)
    return attachment


@transactional
def remove_attachment(attachment: NoticeAttachment, actor=None) -> None:
    notice = attachment.notice
    audit.record("update", "notice", notice.id, f"公示《{notice.title}》删除附件 {attachment.filename}", actor=actor)
    db.session.delete(attachment)
