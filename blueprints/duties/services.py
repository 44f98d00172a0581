"""Activity operations: logging (by a deputy, or by staff/liaison for many deputies at once),
verification, resubmission, recorded corrections, attachments, and for the other areas
``record_activity`` (write) and the read functions at the end (other areas never query the Activity
model themselves). Scoring lives in scoring.py, reports to voters in reports.py.

Every operation is one unit of work (``@transactional``): called alone it commits; called inside a
caller's ``with transaction():`` it only flushes. A duplicate that races past the checks is refused
by its constraint, with the message registered in models.py."""
from __future__ import annotations

import functools
from datetime import date, datetime
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..core import areas, audit, counters
from ..core.errors import DomainError, Forbidden
from ..core.extensions import db
from ..core.timeutil import local_today, to_local, utcnow
from ..core.transaction import transactional
from ..notifications import events as notification_events
from ..registry.models import Deputy, DeputyGroup, GroupMembership
from .models import (
    ACTIVITY_TYPES,
    MAX_DURATION_MINUTES,
    Activity,
    ActivityAttachment,
    ActivityCorrection,
    CongressTerm,
)

MAX_TITLE = 120
MAX_PLACE = 128
MAX_DESCRIPTION = 2000
MAX_ATTACHMENTS = 5
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
# Extension → (content type, leading bytes): what a file says it is, checked against what it contains.
ATTACHMENT_TYPES = {
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".pdf": ("application/pdf", b"%PDF-"),
}
EDITABLE_FIELDS = ("type_code", "occurred_on", "title", "place", "duration_minutes", "description")


# ---- who may do what ---------------------------------------------------------------------------

def liaison_deputy_ids(user):
    """The deputies a liaison looks after: members of the groups they are liaison of, and the
    deputies of their station. A subquery, so that a queue of any size stays one query."""
    in_groups = (select(GroupMembership.deputy_id).join(DeputyGroup, DeputyGroup.id == GroupMembership.group_id)
                 .where(DeputyGroup.liaison_user_id == user.id))
    if user.station_id:
        return in_groups.union(select(Deputy.id).where(Deputy.station_id == user.station_id))
    return in_groups


def may_manage(user, deputy_id: int) -> bool:
    """Staff manage every deputy; a liaison those of their groups and station."""
    if user.has_role("staff"):
        return True
    if user.role == "liaison":
        return db.session.scalar(select(Deputy.id).where(
            Deputy.id == deputy_id, Deputy.id.in_(liaison_deputy_ids(user)))) is not None
    return False


def _require_manage(user, deputy_id: int) -> None:
    if not may_manage(user, deputy_id):
        raise Forbidden(_("您无权为该代表登记或核实履职活动。"))


def term_window(deputy: Deputy) -> tuple[date | None, date | None]:
    """The dates of the deputy's term (届), when the office has entered them."""
    if not deputy.term:
        return None, None
    term = db.session.scalar(select(CongressTerm).where(CongressTerm.level == deputy.level,
                                                        CongressTerm.name == deputy.term))
    return (term.starts_on, term.ends_on) if term else (None, None)


# ---- checks --------------------------------------------------------------------------------------

def _clean(values: dict) -> dict:
    """Normalise and check an activity's fields; every refusal names its form field."""
    out = {k: values.get(k) for k in EDITABLE_FIELDS}
    if out["type_code"] not in ACTIVITY_TYPES:
        raise DomainError(_("请选择活动类型。"), field="type_code")
    out["title"] = (out["title"] or "").strip()
    if not out["title"]:
        raise DomainError(_("请填写活动名称。"), field="title")
    if len(out["title"]) > MAX_TITLE:
        raise DomainError(_("活动名称不能超过 %(n)d 个字。", n=MAX_TITLE), field="title")
    out["place"] = (out["place"] or "").strip() or None
    if out["place"] and len(out["place"]) > MAX_PLACE:
        raise DomainError(_("地点不能超过 %(n)d 个字。", n=MAX_PLACE), field="place")
    out["description"] = (out["description"] or "").replace("\r\n", "\n").strip() or None
    if out["description"] and len(out["description"]) > MAX_DESCRIPTION:
        raise DomainError(_("简要情况不能超过 %(n)d 个字。", n=MAX_DESCRIPTION), field="description")
    minutes = out["duration_minutes"]
    if minutes is not None and not 0 < minutes <= MAX_DURATION_MINUTES:
        raise DomainError(_("活动时长应大于 0，且不超过 7 天（168 小时）。"), field="duration_minutes")
    if not isinstance(out["occurred_on"], date):
        raise DomainError(_("请填写活动日期。"), field="occurred_on")
    return out


def _check_date(deputy: Deputy, when: date, windows: dict | None = None) -> None:
    if when > local_today():
        raise DomainError(_("活动日期不能晚于今天。"), field="occurred_on")
    if windows is None:
        start, _end = term_window(deputy)
    else:  # many deputies of one term: look the term up once
        key = (deputy.level, deputy.term)
        if key not in windows:
            windows[key] = term_window(deputy)
        start = windows[key][0]
    if start and when < start:
        raise DomainError(_("活动日期早于该代表本届任期的开始（%(d)s）。", d=start.isoformat()), field="occurred_on")
    if deputy.ended_on and when > deputy.ended_on:
        raise DomainError(_("活动日期晚于该代表资格终止的日期（%(d)s）。", d=deputy.ended_on.isoformat()),
                          field="occurred_on")


def check_attachment(filename: str, data: bytes) -> str:
    """The content type of an accepted file, or a refusal naming why."""
    name = (filename or "").lower()
    ext = name[name.rfind("."):] if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise DomainError(_("附件只能是 JPG、PNG 图片或 PDF 文件。"), field="files")
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise DomainError(_("每个附件不能超过 %(n)d MB。", n=ATTACHMENT_MAX_BYTES // (1024 * 1024)), field="files")
    content_type, magic = ATTACHMENT_TYPES[ext]
    if not data.startswith(magic):
        raise DomainError(_("文件“%(f)s”的内容与扩展名不符。", f=filename), field="files")
    return content_type


def _checked_files(files: list[tuple[str, bytes]], already: int = 0) -> list[ActivityAttachment]:
    """The attachments to add, every file checked before anything changes."""
    if already + len(files) > MAX_ATTACHMENTS:
        raise DomainError(_("每项活动最多上传 %(n)d 个附件。", n=MAX_ATTACHMENTS), field="files")
    return [ActivityAttachment(filename=filename[-128:], content_type=check_attachment(filename, data),
                               size=len(data), data=data) for filename, data in files]


# ---- the service other areas call ----------------------------------------------------------------

def _checked_recorded(type_code: str, when: date | datetime, title: str, source: str,
                      source_ref: str) -> tuple[date, str]:
    """What record_activity and record_activity_once both refuse; (the local date, the trimmed title)."""
    if type_code not in ACTIVITY_TYPES:
        raise DomainError(_("未知的履职活动类型：%(t)s", t=type_code))
    if isinstance(when, datetime):
        when = to_local(when).date()
    title = (title or "").strip()[:MAX_TITLE]
    if not title or not source or not source_ref:
        raise DomainError(_("自动登记履职活动需要活动名称和来源。"))
    return when, title


def record_activity(deputy_id: int, type_code: str, when: date | datetime, title: str, *, source: str,
                    source_ref: str, verified: bool = True, place: str | None = None,
                    duration_minutes: int | None = None, description: str | None = None,
                    actor=None) -> Activity:
    """Record an activity another area already knows about (a reception-day duty served, a suggestion
    submitted, a vote cast at the session), so that nobody types it again.

    - Idempotent on (source, source_ref, deputy_id), which is a UNIQUE constraint: calling it again
      with the same triple returns the existing row unchanged (a retried request adds nothing).
      ``source`` names the calling area (e.g. "stations", "ballots", "suggestions"), ``source_ref`` the
      calling object (e.g. "duty:123"); both at most 32 / 64 characters.
    - ``when`` is a date, or an aware datetime (taken in Asia/Shanghai); its year picks the points rules.
    - ``verified=True`` (the default): the calling area's own record is the proof, so it counts at once.
    - Does NOT commit: it flushes inside a SAVEPOINT and leaves the commit to the caller's transaction
      (``with transaction():``), so the activity is stored together with the caller's own change, or
      not at all. A concurrent twin loses only its SAVEPOINT, never the caller's work.
    - Raises DomainError for an unknown type_code or a missing title. It does not apply the date
      checks of self-logging (the calling area's record is the authority).
    """
    when, title = _checked_recorded(type_code, when, title, source, source_ref)
    lookup = select(Activity).where(Activity.source == source, Activity.source_ref == source_ref,
                                    Activity.deputy_id == deputy_id)
    existing = db.session.scalar(lookup)
    if existing is not None:
        return existing
    now = utcnow()  # recorded and (when verified) verified at one moment, not the flush's a little later
    activity = Activity(deputy_id=deputy_id, type_code=type_code, occurred_on=when, year=when.year, title=title,
                        place=place, duration_minutes=duration_minutes, description=description,
                        status="verified" if verified else "pending", source=source[:32],
                        source_ref=source_ref[:64], created_by_id=actor.id if actor else None,
                        verified_at=now if verified else None, created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():  # a concurrent twin loses only this savepoint, not the caller's work
            db.session.add(activity)
    except IntegrityError:
        return db.session.scalar(lookup)
    return activity


def record_activity_once(deputy_id: int, type_code: str, when: date | datetime, title: str, *, source: str,
                         source_ref: str, actor=None) -> None:
    """``record_activity`` for a hot path (a meeting pass's check-in): a verified activity inserted in ONE
    statement, or nothing if the (source, source_ref, deputy_id) row already exists
    (INSERT … ON CONFLICT DO NOTHING on that UNIQUE key; no lookup, no savepoint). Returns nothing;
    does not commit."""
    when, title = _checked_recorded(type_code, when, title, source, source_ref)
    now = utcnow()
    connection = db.session.connection()
    # Core on the session's connection (no ORM statement machinery), so the change counters are told here.
    counters.note(db.session(), Activity.__tablename__)
    connection.execute(_insert_once(), {
        "deputy_id": deputy_id, "type_code": type_code, "occurred_on": when, "year": when.year, "title": title,
        "status": "verified", "source": source[:32], "source_ref": source_ref[:64],
        "created_by_id": actor.id if actor else None, "verified_at": now, "created_at": now, "updated_at": now})


_ONCE_COLUMNS = ("deputy_id", "type_code", "occurred_on", "year", "title", "status", "source", "source_ref",
                 "created_by_id", "verified_at", "created_at", "updated_at")


@functools.cache
def _insert_once():
    """INSERT … ON CONFLICT DO NOTHING as text, the same on SQLite and PostgreSQL: SQLAlchemy cannot cache
    its dialects' on-conflict INSERT, so it compiled one on every call (a third of a scan's statement
    cost); the bound values keep the columns' own types. Every column with a default is given."""
    table = Activity.__table__
    return text(f"INSERT INTO {table.name} ({', '.join(_ONCE_COLUMNS)}) "  # noqa: S608 - constant names only
                f"VALUES ({', '.join(':' + name for name in _ONCE_COLUMNS)}) "
                "ON CONFLICT (source, source_ref, deputy_id) DO NOTHING"
                ).bindparams(*[bindparam(name, type_=table.c[name].type) for name in _ONCE_COLUMNS])


# ---- logging -------------------------------------------------------------------------------------

@transactional
def log_activity(deputy: Deputy, values: dict, actor, *, nonce: str,
                 files: list[tuple[str, bytes]] | None = None) -> Activity:
    """A deputy logs their own activity (pending until verified). ``nonce`` is the form's one-time
    token: a double click submits it twice and the UNIQUE key refuses the second."""
    if actor.deputy_id != deputy.id:
        raise Forbidden(_("只能登记本人的履职活动。"))
    values = _clean(values)
    _check_date(deputy, values["occurred_on"])
    if not nonce or db.session.scalar(select(Activity.id).where(
            Activity.source == "self", Activity.source_ref == nonce, Activity.deputy_id == deputy.id)):
        raise DomainError(_("该活动已经提交过，请勿重复提交。"))
    same = db.session.scalar(select(Activity.id).where(
        Activity.deputy_id == deputy.id, Activity.type_code == values["type_code"],
        Activity.occurred_on == values["occurred_on"], Activity.title == values["title"]))
    if same:
        raise DomainError(_("同一天已登记过同名的同类活动，请勿重复登记。"), field="title")
    attachments = _checked_files(files or [])
    activity = Activity(deputy_id=deputy.id, year=values["occurred_on"].year, status="pending", source="self",
                        source_ref=nonce[:64], created_by_id=actor.id, attachments=attachments, **values)
    db.session.add(activity)
    db.session.flush()
    audit.record("create", "activity", activity.id,
                 f"{deputy.name}登记履职活动《{activity.title}》", actor=actor)
    return activity


@transactional
def log_for_many(deputy_ids: list[int], values: dict, actor, *, nonce: str) -> list[Activity]:
    """Staff or a liaison log one activity (a group inspection) for many deputies at once. It is
    verified at once: the person who organised it vouches for it. All or nothing."""
    values = _clean(values)
    ids = sorted(set(deputy_ids))
    if not ids:
        raise DomainError(_("请至少选择一名代表。"), field="deputy_ids")
    deputies = db.session.scalars(select(Deputy).where(Deputy.id.in_(ids)).order_by(Deputy.sort_name, Deputy.id)).all()
    if len(deputies) != len(ids):
        raise DomainError(_("所选代表中有不存在的记录。"), field="deputy_ids")
    if not actor.has_role("staff"):
        allowed = set(db.session.scalars(select(Deputy.id).where(
            Deputy.id.in_(ids), Deputy.id.in_(liaison_deputy_ids(actor)))))
        if allowed != set(ids):
            raise Forbidden(_("您无权为该代表登记或核实履职活动。"))
    ended = [d.name for d in deputies if d.ended_on is not None and d.ended_on < values["occurred_on"]]
    if ended:
        raise DomainError(_("以下代表的代表资格已终止，不能登记：%(names)s", names="、".join(ended)),
                          field="deputy_ids")
    windows: dict = {}
    for deputy in deputies:
        _check_date(deputy, values["occurred_on"], windows)
    if not nonce or db.session.scalar(select(Activity.id).where(Activity.source == "batch",
                                                                Activity.source_ref == nonce)):
        raise DomainError(_("该活动已经提交过，请勿重复提交。"))
    now = utcnow()
    created = [Activity(deputy_id=d.id, year=values["occurred_on"].year, status="verified", source="batch",
                        source_ref=nonce[:64], created_by_id=actor.id, verified_by_id=actor.id, verified_at=now,
                        **values) for d in deputies]
    db.session.add_all(created)
    db.session.flush()
    audit.record("create", "activity", created[0].id,
                 f"为 {len(created)} 名代表登记履职活动《{values['title']}》", actor=actor,
                 changes={"deputies": [None, [d.name for d in deputies]]})
    return created


# ---- verification --------------------------------------------------------------------------------

def _check_verifier(activity: Activity, actor) -> None:
    if actor.deputy_id is not None and actor.deputy_id == activity.deputy_id:
        raise DomainError(_("不能核实本人的履职活动。"))
    _require_manage(actor, activity.deputy_id)
    if activity.status != "pending":
        raise DomainError(_("该活动当前状态为“%(s)s”，只能核实待核实的活动。", s=activity.status_label))


@transactional
def verify(activity: Activity, actor) -> None:
    _check_verifier(activity, actor)
    activity.status, activity.verified_by_id, activity.verified_at = "verified", actor.id, utcnow()
    activity.return_reason = None
    audit.record("verify", "activity", activity.id, f"核实通过《{activity.title}》", actor=actor,
                 changes={"status": ["pending", "verified"]})


@transactional
def return_activity(activity: Activity, actor, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("退回时请写明原因。"), field="reason")
    if len(reason) > 255:
        raise DomainError(_("退回原因不能超过 255 个字。"), field="reason")
    _check_verifier(activity, actor)
    activity.status, activity.return_reason = "returned", reason
    notification_events.activity_returned(activity, reason)
    audit.record("return", "activity", activity.id, f"退回《{activity.title}》", actor=actor,
                 changes={"status": ["pending", "returned"]}, note=reason)


@transactional
def resubmit(activity: Activity, values: dict, actor, files: list[tuple[str, bytes]] | None = None) -> None:
    """The deputy corrects a pending or returned activity; it waits for verification again."""
    if actor.deputy_id != activity.deputy_id:
        raise Forbidden(_("只能修改本人的履职活动。"))
    if activity.status == "verified":
        raise DomainError(_("已核实的活动不能直接修改；如需更正，请联系代表工委登记更正（更正会留痕）。"))
    values = _clean(values)
    _check_date(activity.deputy, values["occurred_on"])
    attachments = _checked_files(files or [], already=len(activity.attachments))
    before = audit.snapshot(activity, EDITABLE_FIELDS)
    for key, value in values.items():
        setattr(activity, key, value)
    activity.year = values["occurred_on"].year
    activity.status, activity.return_reason = "pending", None
    activity.attachments.extend(attachments)
    audit.record("update", "activity", activity.id, f"修改并重新提交《{activity.title}》", actor=actor,
                 changes=audit.diff(before, audit.snapshot(activity, EDITABLE_FIELDS)))


@transactional
def correct(activity: Activity, values: dict, actor, reason: str) -> ActivityCorrection:
    """Staff correct a verified activity: the change is kept as a correction row and in the audit log."""
    if not actor.has_role("staff"):
        raise Forbidden(_("只有代表工委可以更正已核实的活动。"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请写明更正原因。"), field="reason")
    values = _clean(values)
    _check_date(activity.deputy, values["occurred_on"])
    before = audit.snapshot(activity, EDITABLE_FIELDS)
    changes = audit.diff(before, audit.snapshot(SimpleNamespace(**values), EDITABLE_FIELDS))
    if not changes:
        raise DomainError(_("没有需要更正的内容。"))
    for key, value in values.items():
        setattr(activity, key, value)
    activity.year = values["occurred_on"].year
    correction = ActivityCorrection(
        activity=activity, by_id=actor.id, reason=reason[:255],
        changes="\n".join(f"{k}: {old} → {new}" for k, (old, new) in changes.items()))
    db.session.add(correction)
    audit.record("correct", "activity", activity.id, f"更正已核实活动《{activity.title}》", actor=actor,
                 changes=changes, note=reason)
    return correction


# ---- queries -------------------------------------------------------------------------------------

def pending_queue(user):
    """Pending activities the user may verify, oldest first (a statement, for pagination)."""
    stmt = select(Activity).where(Activity.status == "pending").order_by(Activity.id)
    if not user.has_role("staff"):
        stmt = stmt.where(Activity.deputy_id.in_(liaison_deputy_ids(user)))
    if user.deputy_id:
        stmt = stmt.where(Activity.deputy_id != user.deputy_id)
    return stmt


def deputy_activities(deputy_id: int, year: int | None = None):
    stmt = select(Activity).where(Activity.deputy_id == deputy_id).order_by(
        Activity.occurred_on.desc(), Activity.id.desc())
    if year:
        stmt = stmt.where(Activity.year == year)
    return stmt


def search_deputies(q: str, user, limit: int = 20) -> list[Deputy]:
    stmt = select(Deputy).where(Deputy.ended_on.is_(None)).order_by(Deputy.sort_name, Deputy.id).limit(limit)
    if q:
        stmt = stmt.where(or_(Deputy.name.contains(q, autoescape=True), Deputy.code == q))
    if not user.has_role("staff"):
        stmt = stmt.where(Deputy.id.in_(liaison_deputy_ids(user)))
    return db.session.scalars(stmt).all()


# ---- what other areas read (they never query the Activity model themselves) ------------------------

def activities_for_project_picker(type_codes, since_year: int, exclude_ids, limit: int = 300) -> list[Activity]:
    """Verified activities of the given types from ``since_year`` on, not in ``exclude_ids`` (a list
    or a SELECT of ids), newest first, each with its deputy loaded: what staff may link to a project."""
    return db.session.scalars(
        select(Activity).options(joinedload(Activity.deputy))
        .where(Activity.type_code.in_(type_codes), Activity.status == "verified",
               Activity.year >= since_year, Activity.id.not_in(exclude_ids))
        .order_by(Activity.occurred_on.desc(), Activity.id.desc()).limit(limit)).all()


def verified_activities_among(ids) -> list[Activity]:
    """The verified activities whose id is in ``ids`` (a list or a SELECT of ids), newest first, each
    with its deputy loaded (a project's linked inspections on its public page)."""
    return db.session.scalars(
        select(Activity).options(joinedload(Activity.deputy))
        .where(Activity.id.in_(ids), Activity.status == "verified")
        .order_by(Activity.occurred_on.desc(), Activity.id)).all()


def activities_by_ids(ids) -> list[Activity]:
    """The activities with these ids (any status); missing ids are simply absent."""
    ids = list(ids)
    if not ids:
        return []
    return db.session.scalars(select(Activity).where(Activity.id.in_(ids))).all()


def recorded_deputy_ids(source: str, source_ref: str) -> set[int]:
    """Deputies who already have the activity another area recorded under (source, source_ref)."""
    return set(db.session.scalars(select(Activity.deputy_id).where(
        Activity.source == source, Activity.source_ref == source_ref)))


def public_summary(deputy_id: int) -> list[tuple[int, list[tuple[str, int]], int]]:
    """The public profile: verified activity counts by year and type (no titles, places or notes),
    newest year first, from one GROUP BY query. [(year, [(type label, n)], year total)]"""
    rows = db.session.execute(
        select(Activity.year, Activity.type_code, func.count()).where(
            Activity.deputy_id == deputy_id, Activity.status == "verified")
        .group_by(Activity.year, Activity.type_code)).all()
    order = list(ACTIVITY_TYPES)
    years: dict[int, list] = {}
    for year, code, n in rows:
        years.setdefault(year, []).append((code, n))
    return [(year, [(ACTIVITY_TYPES[c], n) for c, n in sorted(items, key=lambda i: order.index(i[0]))],
             sum(n for _c, n in items)) for year, items in sorted(years.items(), reverse=True)]


@areas.count_query
def waiting_to_verify(user):
    """The workspace count: activities waiting for this user's verification (SQL, run with the others)."""
    return select(func.count()).select_from(pending_queue(user).order_by(None).subquery())


@areas.count_query
def waiting_returned(user):
    """A deputy's workspace: their activities returned for correction (SQL, run with the others)."""
    return select(func.count(Activity.id)).where(Activity.deputy_id == user.deputy_id, Activity.status == "returned")
