"""The public directory: deputies and stations as constituents see them (never private fields).
A composition of areas: the registry's deputies and stations, the duties' public summary, the
stations' reception calendar and the noticeboard's station notices.

Every page is public, answers GET, works without JavaScript and costs a fixed number of SQL queries
whatever the data size. The only write is a staff upload of a deputy's photo.

Stable addresses (printed QR codes point at them): /deputies/, /deputies/<id>, /stations/,
/stations/<id>, /stations/<id>/qr.svg (and /deputies/<id>/qr.svg).

QR codes point at ``PUBLIC_BASE_URL`` when it is configured (``core.qr.public_url``).
"""
from __future__ import annotations

import zlib
from itertools import groupby
from xml.sax.saxutils import escape

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..core.extensions import db
from ..core.flow import run_action
from ..core.htmx import is_htmx, render_page
from ..core.models import Area
from ..core.pagecache import cached_public_page
from ..core.pagination import MAX_ID, int_arg, page_number, paginate
from ..core.permissions import role_required
from ..core.publicfacts import remembered
from ..core.qr import public_url, qr_response, svg_response
from ..registry.models import (
    LEVEL_LABELS,
    STATION_KIND_LABELS,
    Deputy,
    DeputyGroup,
    DeputyPhoto,
    GroupMembership,
    Station,
)
from ..registry.services import PHOTO_MAX_BYTES, save_deputy_photo
from .views import bp

PER_PAGE = 20
# Avatar backgrounds: white text on each is at least 4.5:1.
AVATAR_COLOURS = ("#b3261e", "#0b4f8a", "#1e6b34", "#7a4b00", "#6a1b9a", "#00695c", "#4e342e", "#37474f")


# ---- helpers ---------------------------------------------------------------------------------

def _id_arg(name: str) -> int | None:
    return int_arg(name)


def _check_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        abort(404)
    return value


@remembered
def _townships() -> tuple:
    """(id, name) rows of the townships, for the filters: plain rows, not 100 ORM objects per page."""
    return tuple(db.session.execute(select(Area.id, Area.name).where(Area.kind == "township")
                                    .order_by(Area.name, Area.id)).all())


def _get_deputy(deputy_id: int) -> Deputy:
    return db.session.get(Deputy, _check_id(deputy_id)) or abort(404)


def _active_station(station_id: int) -> Station:
    station = db.session.scalar(
        select(Station).where(Station.id == _check_id(station_id), Station.active).options(joinedload(Station.area))
    )
    return station or abort(404)


def _station_notices(station: Station) -> list:
    """The station's public notices, from the noticeboard's service (imported when called)."""
    from ..noticeboard.services import public_notices_for_station

    return list(public_notices_for_station(station, limit=5))


# ---- deputies --------------------------------------------------------------------------------

MAX_GROUP_CHOICES = 100  # a city has 1,000 groups: a list that long helps nobody and weighs the page


@remembered
def _group_choices(area_id: int | None) -> tuple:
    """All groups in a county-sized registry; in a city, the chosen township's and the professional ones.
    One query: the wanted groups sort first, and one row past the limit tells which case this is.
    (id, name, kind, area_id) rows: the filter needs no more than that."""
    wanted = DeputyGroup.kind == "professional"
    if area_id:
        wanted = or_(wanted, DeputyGroup.area_id == area_id)
    first = case((wanted, 0), else_=1)
    rows = db.session.execute(
        select(DeputyGroup.id, DeputyGroup.name, DeputyGroup.kind, DeputyGroup.area_id, first.label("rank"))
        .order_by(first, DeputyGroup.name, DeputyGroup.id).limit(MAX_GROUP_CHOICES + 1)
    ).all()
    if len(rows) <= MAX_GROUP_CHOICES:
        return tuple(rows)
    return tuple(row for row in rows[:MAX_GROUP_CHOICES] if row.rank == 0)


@bp.get("/deputies/")
@cached_public_page
def deputies():
    filters = {
        "q": request.args.get("q", "").strip()[:32],
        "level": request.args.get("level", ""),
        "area_id": _id_arg("area_id"),
        "group_id": _id_arg("group_id"),
    }
    if filters["level"] not in LEVEL_LABELS:
        filters["level"] = ""

    stmt = select(Deputy).where(Deputy.ended_on.is_(None))
    if filters["q"]:
        # autoescape: a typed % or _ is text, not a wildcard.
        stmt = stmt.where(Deputy.name.contains(filters["q"], autoescape=True))
    if filters["level"]:
        stmt = stmt.where(Deputy.level == filters["level"])
    if filters["area_id"]:
        stmt = stmt.where(Deputy.area_id == filters["area_id"])
    if filters["group_id"]:
        stmt = stmt.where(Deputy.id.in_(
            select(GroupMembership.deputy_id).where(GroupMembership.group_id == filters["group_id"])))
    stmt = stmt.order_by(Deputy.sort_name, Deputy.id).options(
        joinedload(Deputy.area),
        joinedload(Deputy.station),
        selectinload(Deputy.memberships).joinedload(GroupMembership.group),
    )
    # A name search scans the table whatever the index: count and page in that one scan.
    page = paginate(stmt, page_number(), per_page=PER_PAGE, count_in_page=bool(filters["q"]))
    args = {key: value for key, value in filters.items() if value}

    full = {}
    if not is_htmx():  # the rows fragment needs no filter choices
        townships = _townships()
        names = {a.id: a.name for a in townships}
        groups = list(_group_choices(filters["area_id"]))  # a copy: sorted below
        # Regional groups under their township's name, then the professional groups.
        groups.sort(key=lambda g: (g.kind == "professional", g.area_id not in names, names.get(g.area_id, "")))
        professional, other = _("专业代表小组"), _("其他代表小组")  # once, not once per group
        group_options = [
            (label, list(items)) for label, items in groupby(
                groups, key=lambda g: professional if g.kind == "professional" else names.get(g.area_id) or other)
        ]
        full = {"townships": townships, "group_options": group_options}
    return render_page(
        "site/directory/deputies.html", "site/directory/_deputy_rows.html",
        page=page, filters=filters, args=args, LEVEL_LABELS=LEVEL_LABELS, **full,
    )


@bp.get("/deputies/<int:deputy_id>")
@cached_public_page
def deputy(deputy_id: int):
    deputy = db.session.scalar(
        select(Deputy).where(Deputy.id == _check_id(deputy_id)).options(
            joinedload(Deputy.area),
            joinedload(Deputy.station),
            selectinload(Deputy.memberships).joinedload(GroupMembership.group),
        )
    ) or abort(404)
    photo_at = db.session.scalar(select(DeputyPhoto.updated_at).where(DeputyPhoto.deputy_id == deputy.id))
    # The version in the address lets browsers keep a photo an hour and still see a new one at once.
    photo_url = url_for("site.deputy_photo", deputy_id=deputy.id,
                        v=int(photo_at.timestamp()) if photo_at else None)
    memberships = sorted(deputy.memberships, key=lambda m: (m.group.kind != "regional", m.group.name))
    from ..duties.services import public_summary

    return render_template(
        "site/directory/deputy.html", deputy=deputy, memberships=memberships,
        duty_summary=public_summary(deputy.id),
        photo_url=photo_url, has_photo=photo_at is not None,
        can_upload=current_user.is_authenticated and current_user.has_role("staff"),
        photo_max_mb=PHOTO_MAX_BYTES // (1024 * 1024),
    )


def avatar_svg(deputy: Deputy) -> str:
    """A placeholder portrait: the first character of the name on a coloured circle."""
    initial = escape((deputy.name or "?").strip()[:1] or "?")
    label = escape(deputy.name or "", {'"': "&quot;"})
    colour = AVATAR_COLOURS[zlib.crc32(f"{deputy.id}".encode()) % len(AVATAR_COLOURS)]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" width="120" height="120" '
        f'role="img" aria-label="{label}">'
        f'<circle cx="60" cy="60" r="60" fill="{colour}"/>'
        '<text x="60" y="60" dy="0.35em" text-anchor="middle" font-size="56" fill="#ffffff" '
        'font-family="system-ui, \'Noto Sans CJK SC\', \'PingFang SC\', \'Microsoft YaHei\', sans-serif">'
        f"{initial}</text></svg>"
    )


@bp.get("/deputies/<int:deputy_id>/photo")
def deputy_photo(deputy_id: int):
    deputy = _get_deputy(deputy_id)
    photo = db.session.get(DeputyPhoto, deputy.id)
    if photo is None:
        return svg_response(avatar_svg(deputy))
    response = make_response(photo.data)
    response.headers["Content-Type"] = photo.content_type
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.last_modified = photo.updated_at
    return response


@bp.post("/deputies/<int:deputy_id>/photo")
@role_required("staff")
def deputy_photo_upload(deputy_id: int):
    deputy = _get_deputy(deputy_id)
    upload = request.files.get("photo")
    data = upload.stream.read(PHOTO_MAX_BYTES + 1) if upload else b""
    _result, error = run_action(lambda: save_deputy_photo(deputy, data))
    if error is not None:
        flash(error.message, "error")
    else:
        flash(_("照片已更新。"), "success")
    return redirect(url_for("site.deputy", deputy_id=deputy.id))


@bp.get("/deputies/<int:deputy_id>/qr.svg")
def deputy_qr(deputy_id: int):
    deputy = _get_deputy(deputy_id)
    filename = _("代表二维码-%(name)s.svg", name=deputy.name) if request.args.get("download") == "1" else None
    return qr_response(public_url("site.deputy", deputy_id=deputy.id), filename)


@bp.get("/deputies/<int:deputy_id>/message-qr.svg")
def deputy_message_qr(deputy_id: int):
    """The QR code printed for a deputy: it opens 给代表留言 with this deputy already chosen."""
    deputy = _get_deputy(deputy_id)
    filename = _("给代表留言二维码-%(name)s.svg", name=deputy.name) if request.args.get("download") == "1" else None
    return qr_response(public_url("messages.new_message", deputy_id=deputy.id), filename)


# ---- stations --------------------------------------------------------------------------------

@bp.get("/stations/")
@cached_public_page
def stations():
    rows = db.session.scalars(
        select(Station).where(Station.active).outerjoin(Station.area)
        .options(contains_eager(Station.area))
        .order_by(Area.name.is_(None), Area.name, Area.id, Station.name, Station.id)
    ).all()
    deputy_counts = dict(db.session.execute(
        select(Deputy.station_id, func.count()).where(Deputy.ended_on.is_(None), Deputy.station_id.is_not(None))
        .group_by(Deputy.station_id)
    ).all())
    by_township = [
        (area, list(items)) for area, items in groupby(rows, key=lambda s: s.area)
    ]
    from ..stations.calendar import rule_texts

    return render_template(
        "site/directory/stations.html", by_township=by_township, total=len(rows), deputy_counts=deputy_counts,
        STATION_KIND_LABELS=STATION_KIND_LABELS, rules=rule_texts(s.id for s in rows),
    )


@bp.get("/stations/<int:station_id>")
@cached_public_page
def station(station_id: int):
    station = _active_station(station_id)
    serving = db.session.scalars(
        select(Deputy).where(Deputy.station_id == station.id, Deputy.ended_on.is_(None))
        .order_by(Deputy.sort_name, Deputy.id)
    ).all()
    from ..stations.calendar import rule_texts, upcoming_days

    return render_template(
        "site/directory/station.html", station=station, deputies=serving, notices=_station_notices(station),
        reception_days=upcoming_days(station.id, limit=8), rule_text=rule_texts([station.id]).get(station.id),
    )


@bp.get("/stations/<int:station_id>/qr.svg")
def station_qr(station_id: int):
    station = _active_station(station_id)
    filename = _("联络站二维码-%(name)s.svg", name=station.name) if request.args.get("download") == "1" else None
    return qr_response(public_url("site.station", station_id=station.id), filename)
