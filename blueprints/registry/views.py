"""Staff pages for the registry: deputies, groups, stations, handling units, areas."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..core.audit import ACTION_LABELS
from ..core.confirm import confirm_page
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.flow import run_form
from ..core.htmx import is_htmx, render_page
from ..core.models import AREA_KIND_LABELS, Area, AuditEntry
from ..core.pagination import int_arg, page_number, paginate, parse_positive_int
from ..core.permissions import role_required
from ..core.versioning import check_version
from . import services
from .forms import AreaForm, DeputyForm, EndDeputyForm, GroupForm, MemberForm, StationForm, UnitForm
from .models import END_REASON_LABELS, LEVEL_LABELS, Deputy, DeputyGroup, GroupMembership, HandlingUnit, Station

bp = Blueprint("registry", __name__, url_prefix="/registry")


@bp.before_request
@role_required("staff")
def _staff_only():
    """Every registry page is for the deputy-affairs office (and the system administrator)."""


def _none():
    return [(0, _("（无）"))]


def _townships():
    return db.session.scalars(select(Area).where(Area.kind == "township").order_by(Area.name)).all()


def _choices(form, *, area=True, station=False, group=False):
    if area:
        form.area_id.choices = _none() + [(a.id, a.name) for a in _townships()]
    if station:
        form.station_id.choices = _none() + [
            (s.id, s.name) for s in db.session.scalars(select(Station).order_by(Station.name))
        ]
    if group:
        form.group_id.choices = _none() + [
            (g.id, g.name) for g in db.session.scalars(
                select(DeputyGroup).where(DeputyGroup.kind == "regional").order_by(DeputyGroup.name))
        ]


def _history(obj_type: str, obj_id: int):
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == obj_type, AuditEntry.object_id == obj_id)
        .order_by(AuditEntry.id.desc()).limit(30)
    ).all()


def _int_arg(name: str) -> int | None:
    return int_arg(name)


def _form(form, action, *, success, redirect_to, template: str, field: str = "name", **context):
    """The registry's form pages: core.flow.run_form, re-drawing ``template`` on a refusal."""
    return run_form(form, action, success=success, redirect_to=redirect_to, field=field,
                    render=lambda status: (render_template(template, form=form, **context), status))


def _regional_group(group_id: int | None) -> DeputyGroup | None:
    return db.session.get(DeputyGroup, group_id) if group_id else None


# ---- deputies --------------------------------------------------------------------------------

@bp.get("/")
def index():
    return redirect(url_for("registry.deputies"))


@bp.get("/deputies/")
def deputies():
    filters = {
        "q": request.args.get("q", "").strip()[:64],
        "level": request.args.get("level", ""),
        "status": request.args.get("status", "serving"),
        "station_id": _int_arg("station_id"),
        "group_id": _int_arg("group_id"),
        "area_id": _int_arg("area_id"),
    }
    if filters["level"] and filters["level"] not in LEVEL_LABELS:
        filters["level"] = ""
    if filters["status"] not in ("serving", "ended", "all"):
        filters["status"] = "serving"
    page = paginate(services.with_list_loading(services.deputy_query(**filters)), page_number(), per_page=50)
    # The rows fragment (an HTMX search) needs neither the filter choices nor the totals.
    full = {} if is_htmx() else {"townships": _townships(), "counts": services.counts()}
    return render_page(
        "registry/deputies.html", "registry/_deputy_rows.html", page=page, filters=filters,
        LEVEL_LABELS=LEVEL_LABELS, **full,
    )


def _deputy_values(form) -> dict:
    return {
        "name": form.name.data, "gender": form.gender.data, "level": form.level.data, "code": form.code.data,
        "term": form.term.data, "constituency": form.constituency.data, "occupation": form.occupation.data,
        "phone": form.phone.data, "area_id": form.area_id.data or None, "station_id": form.station_id.data or None,
    }


@bp.route("/deputies/new", methods=["GET", "POST"])
def deputy_new():
    form = DeputyForm()
    _choices(form, station=True, group=True)
    return _form(form, lambda f: services.create_deputy(_deputy_values(f), group=_regional_group(f.group_id.data)),
                 success=lambda deputy: _("代表 %(name)s 已添加。", name=deputy.name),
                 redirect_to=lambda deputy: url_for("registry.deputy_detail", deputy_id=deputy.id),
                 template="registry/deputy_form.html", deputy=None)


def _get_deputy(deputy_id: int) -> Deputy:
    return db.session.get(Deputy, deputy_id) or abort(404)


@bp.get("/deputies/<int:deputy_id>")
def deputy_detail(deputy_id: int):
    deputy = _get_deputy(deputy_id)
    return render_template("registry/deputy_detail.html", deputy=deputy, history=_history("deputy", deputy.id),
                           end_form=EndDeputyForm(), ACTION_LABELS=ACTION_LABELS)


@bp.route("/deputies/<int:deputy_id>/edit", methods=["GET", "POST"])
def deputy_edit(deputy_id: int):
    deputy = _get_deputy(deputy_id)
    group = deputy.regional_group
    form = DeputyForm(obj=deputy, data=None if request.method == "POST" else {
        "area_id": deputy.area_id or 0, "station_id": deputy.station_id or 0, "group_id": group.id if group else 0,
        "gender": deputy.gender or "",
    })
    _choices(form, station=True, group=True)
    def save(f):
        check_version(deputy, f.row_version.data)
        return services.update_deputy(deputy, _deputy_values(f), group=_regional_group(f.group_id.data))

    return _form(form, save,
                 success=_("已保存。"), redirect_to=url_for("registry.deputy_detail", deputy_id=deputy.id),
                 template="registry/deputy_form.html", deputy=deputy)


@bp.post("/deputies/<int:deputy_id>/end")
def deputy_end(deputy_id: int):
    deputy = _get_deputy(deputy_id)
    form = EndDeputyForm()

    def render(status):
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return render_template("registry/deputy_detail.html", deputy=deputy, history=_history("deputy", deputy.id),
                               end_form=form, ACTION_LABELS=ACTION_LABELS), status

    if deputy.ended_on is None and request.form.get("confirmed") != "1" and form.validate_on_submit():
        # ask once (core/confirm.py): the page says what ending the term does, the values ride along
        return confirm_page(
            _("终止 %(name)s 的代表资格", name=deputy.name),
            [_("终止日期：%(d)s；原因：%(r)s。", d=form.ended_on.data.isoformat(), r=END_REASON_LABELS.get(
                form.reason.data, form.reason.data)),
             _("该代表的账号立即停用，所有登录随即失效，不能再登录或投票。"),
             _("代表的记录和履职历史保留，公开页显示“已终止”。")],
            url_for("registry.deputy_end", deputy_id=deputy.id), _("确认终止代表资格"),
            url_for("registry.deputy_detail", deputy_id=deputy.id), danger=True,
            fields={"ended_on": form.ended_on.data.isoformat(), "reason": form.reason.data,
                    "note": form.note.data or ""})
    return run_form(form, lambda f: services.end_deputy(deputy, f.ended_on.data, f.reason.data, f.note.data),
                    success=_("%(name)s 的代表资格已终止，其账号已停用。", name=deputy.name),
                    redirect_to=url_for("registry.deputy_detail", deputy_id=deputy.id), render=render)


# ---- groups ----------------------------------------------------------------------------------

@bp.get("/groups/")
def groups():
    # Leaders and vice leaders only, and the sizes by one aggregate: a city's 1,000 groups hold
    # 11,000 memberships, which this page has no need to load.
    leaders = db.session.execute(
        select(GroupMembership.group_id, GroupMembership.role, Deputy.name)
        .join(Deputy, Deputy.id == GroupMembership.deputy_id)
        .where(GroupMembership.role.in_(("leader", "vice_leader"))).order_by(Deputy.sort_name, Deputy.id)
    ).all()
    roles: dict = {}
    for group_id, role, name in leaders:
        roles.setdefault((group_id, role), []).append(name)
    sizes = dict(db.session.execute(
        select(GroupMembership.group_id, func.count()).group_by(GroupMembership.group_id)).all())
    rows = db.session.scalars(
        select(DeputyGroup).options(selectinload(DeputyGroup.area)).order_by(DeputyGroup.kind.desc(), DeputyGroup.name)
    ).all()
    return render_template("registry/groups.html", groups=rows, roles=roles, sizes=sizes)


def _group_form_choices(form):
    _choices(form)
    form.liaison_user_id.choices = _none() + [
        (u.id, f"{u.display_name}（{u.username}）") for u in services.users_for_group_liaison()
    ]


def _group_values(form) -> dict:
    return {"name": form.name.data, "kind": form.kind.data, "speciality": form.speciality.data,
            "area_id": form.area_id.data or None, "liaison_user_id": form.liaison_user_id.data or None,
            "description": form.description.data}


@bp.route("/groups/new", methods=["GET", "POST"])
@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
def group_form(group_id: int | None = None):
    group = db.session.get(DeputyGroup, group_id) or abort(404) if group_id else None
    form = GroupForm(obj=group, data=None if request.method == "POST" or group is None else {
        "area_id": group.area_id or 0, "liaison_user_id": group.liaison_user_id or 0})
    _group_form_choices(form)
    return _form(form, lambda f: services.save_group(group, _group_values(f)), success=_("代表小组已保存。"),
                 redirect_to=lambda saved: url_for("registry.group_detail", group_id=saved.id),
                 template="registry/group_form.html", group=group)


MEMBER_CANDIDATES = 200  # a city has 11,000 deputies: the add-member list shows a search's first matches


def _deputy_label(deputy: Deputy) -> str:
    return f"{deputy.name}（{deputy.level_label}{'，' + deputy.code if deputy.code else ''}）"


def _member_candidates(group: DeputyGroup, q: str) -> tuple[list, int, bool]:
    """Choices for "add or change role": the group's serving members, then serving deputies matching q
    (name or 代表编号), at most MEMBER_CANDIDATES of them; how many of those were listed; whether more matched."""
    members = sorted((m.deputy for m in group.memberships if m.deputy.serving), key=lambda d: (d.name, d.id))
    stmt = select(Deputy).where(Deputy.ended_on.is_(None))
    if members:
        stmt = stmt.where(Deputy.id.not_in([d.id for d in members]))
    if q:
        stmt = stmt.where(or_(Deputy.name.contains(q, autoescape=True), Deputy.code.contains(q, autoescape=True)))
    others = db.session.scalars(stmt.order_by(Deputy.sort_name, Deputy.id).limit(MEMBER_CANDIDATES + 1)).all()
    others, more = others[:MEMBER_CANDIDATES], len(others) > MEMBER_CANDIDATES
    return [(d.id, _deputy_label(d)) for d in [*members, *others]], len(others), more


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group_detail(group_id: int):
    group = db.session.get(DeputyGroup, group_id, options=[
        selectinload(DeputyGroup.memberships).joinedload(GroupMembership.deputy)]) or abort(404)
    form = MemberForm()
    q = request.args.get("q", "").strip()[:32]
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "set")
        if action == "remove":
            # Any current member may be removed, an ended deputy too.
            form.deputy_id.choices = [(m.deputy_id, m.deputy.name) for m in group.memberships]
        else:
            # Only a serving deputy may be added; the one posted is checked, not a list of thousands.
            posted = parse_positive_int(request.form.get("deputy_id"))
            deputy = db.session.get(Deputy, posted) if posted else None
            form.deputy_id.choices = [(deputy.id, deputy.name)] if deputy is not None and deputy.serving else []
        try:
            if action == "remove" and form.validate_on_submit():
                services.remove_group_member(group, _get_deputy(form.deputy_id.data))
                flash(_("已移出小组。"), "success")
                return redirect(url_for("registry.group_detail", group_id=group.id))
            if action == "set" and form.validate_on_submit():
                services.set_group_member(group, _get_deputy(form.deputy_id.data), form.role.data)
                flash(_("小组成员已更新。"), "success")
                return redirect(url_for("registry.group_detail", group_id=group.id))
        except DomainError as exc:
            flash(exc.message, "error")
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        status = 422
    form.deputy_id.choices, found, more = _member_candidates(group, q)
    members = sorted(group.memberships, key=lambda m: (["leader", "vice_leader", "member"].index(m.role),
                                                      m.deputy.name))
    return render_template("registry/group_detail.html", group=group, members=members, form=form, q=q,
                           found=found, more=more, limit=MEMBER_CANDIDATES, history=_history("group", group.id),
                           ACTION_LABELS=ACTION_LABELS), status


# ---- stations --------------------------------------------------------------------------------

@bp.get("/stations/")
def stations():
    rows = db.session.scalars(select(Station).options(selectinload(Station.area)).order_by(Station.name)).all()
    return render_template("registry/stations.html", stations=rows)


@bp.route("/stations/new", methods=["GET", "POST"])
@bp.route("/stations/<int:station_id>/edit", methods=["GET", "POST"])
def station_form(station_id: int | None = None):
    station = db.session.get(Station, station_id) or abort(404) if station_id else None
    form = StationForm(obj=station, data=None if request.method == "POST" or station is None else {
        "area_id": station.area_id or 0})
    _choices(form)

    def save(f):
        values = {field: getattr(f, field).data for field in services.STATION_FIELDS}
        values["area_id"] = values["area_id"] or None
        check_version(station, f.row_version.data)
        return services.save_station(station, values)

    history = _history("station", station.id) if station else []
    return _form(form, save, success=_("联络站已保存。"), redirect_to=url_for("registry.stations"),
                 template="registry/station_form.html", station=station, history=history, ACTION_LABELS=ACTION_LABELS)


# ---- handling units --------------------------------------------------------------------------

@bp.get("/units/")
def units():
    rows = db.session.scalars(select(HandlingUnit).order_by(HandlingUnit.name)).all()
    return render_template("registry/units.html", units=rows)


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def unit_form(unit_id: int | None = None):
    unit = db.session.get(HandlingUnit, unit_id) or abort(404) if unit_id else None
    form = UnitForm(obj=unit)
    return _form(form, lambda f: services.save_unit(unit, {k: getattr(f, k).data for k in services.UNIT_FIELDS}),
                 success=_("承办单位已保存。"), redirect_to=url_for("registry.units"),
                 template="registry/unit_form.html", unit=unit)


# ---- areas -----------------------------------------------------------------------------------

@bp.get("/areas/")
def areas():
    counties = db.session.scalars(
        select(Area).where(Area.parent_id.is_(None))
        .options(selectinload(Area.children).selectinload(Area.children)).order_by(Area.name)
    ).all()
    return render_template("registry/areas.html", counties=counties, AREA_KIND_LABELS=AREA_KIND_LABELS)


@bp.route("/areas/new", methods=["GET", "POST"])
@bp.route("/areas/<int:area_id>/edit", methods=["GET", "POST"])
def area_form(area_id: int | None = None):
    area = db.session.get(Area, area_id) or abort(404) if area_id else None
    form = AreaForm(obj=area, data=None if request.method == "POST" or area is None else {
        "parent_id": area.parent_id or 0})
    if request.method == "GET" and area is None and _int_arg("parent_id"):
        form.parent_id.data = _int_arg("parent_id")
        parent = db.session.get(Area, form.parent_id.data)
        form.kind.data = {"county": "township", "township": "village"}.get(parent.kind if parent else "", "county")
    form.parent_id.choices = _none() + [
        (a.id, f"{a.full_name}（{a.kind_label}）") for a in db.session.scalars(
            select(Area).where(Area.kind != "village").order_by(Area.kind, Area.name))
    ]
    return _form(form, lambda f: services.save_area(area, {"name": f.name.data, "kind": f.kind.data,
                                                          "code": f.code.data, "parent_id": f.parent_id.data or None}),
                 success=_("行政区划已保存。"), redirect_to=url_for("registry.areas"),
                 template="registry/area_form.html", area=area)


from . import roster_views  # noqa: E402,F401  (registers the import/export routes on bp)
