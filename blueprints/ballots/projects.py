"""Selected projects (民生实事) tracked to completion, and the year-end satisfaction ballot."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit
from ..core.errors import DomainError, Forbidden
from ..core.extensions import db
from ..core.timeutil import local_today
from ..core.transaction import transactional
from .models import Ballot, Project, ProjectInspection, ProjectUpdate, Proposal


def projects_from_results(ballot: Ballot, results) -> list[Project]:
    """A project per selected item, in the caller's transaction (tally.publish)."""
    year = (ballot.meeting.held_on or local_today()).year
    created = []
    for r in results:
        if r.outcome != "selected":
            continue
        unit_id = None
        if r.item.proposal_id:
            proposal = db.session.get(Proposal, r.item.proposal_id)
            unit_id = proposal.unit_id if proposal else None
        project = Project(year=year, title=r.item.title, unit_id=unit_id, unit_name=r.item.unit_name,
                          budget=r.item.budget, timeline=r.item.timeline, source_item_id=r.item.id)
        db.session.add(project)
        created.append(project)
    db.session.flush()
    return created


@transactional
def post_update(project: Project, progress, milestone: str | None, note: str | None, actor) -> ProjectUpdate:
    try:
        progress = int(str(progress).strip())
    except (TypeError, ValueError):
        raise DomainError(_("进度必须是 0 到 100 之间的整数。"), field="progress") from None
    if not 0 <= progress <= 100:
        raise DomainError(_("进度必须是 0 到 100 之间的整数。"), field="progress")
    if actor.role == "unit" and (actor.unit_id is None or actor.unit_id != project.unit_id):
        raise DomainError(_("只能填报本单位承办的项目。"))
    milestone = (milestone or "").strip()[:120] or None
    note = (note or "").strip()[:5000] or None
    if not milestone and not note and progress == project.progress:
        raise DomainError(_("请填写进展情况或节点。"), field="note")
    update = ProjectUpdate(project_id=project.id, progress=progress, milestone=milestone, note=note,
                           posted_by_id=actor.id, posted_by_name=actor.username)
    db.session.add(update)
    project.progress = progress
    project.status = "done" if progress == 100 else ("in_progress" if progress > 0 else "planned")
    audit.record("progress", "project", project.id, f"《{project.title}》进度 {progress}%", actor=actor)
    return update


def public_projects(year: int | None = None) -> list[Project]:
    stmt = select(Project).order_by(Project.year.desc(), Project.id)
    if year:
        stmt = stmt.where(Project.year == year)
    return db.session.scalars(stmt).all()


@transactional
def create_rating_ballot(meeting, year: int, actor=None) -> Ballot:
    """Year-end evaluation: a secret satisfaction ballot with one item per project of the year, created
    whole (ballot and items in one transaction) or not at all."""
    from .voting import add_item, create_ballot

    projects = public_projects(year)
    if not projects:
        raise DomainError(_("%(y)d 年没有民生实事项目。", y=year))
    ballot = create_ballot(meeting, f"{year}年民生实事项目满意度测评", "rating", True, actor=actor)
    for project in projects:
        add_item(ballot, project.title, project.unit_name, project.budget, project.timeline,
                 project_id=project.id, actor=actor)
    return ballot


# ---- deputies' inspections of a project (代表视察) ------------------------------------------------
# The inspection itself is a duty activity (logged by the deputy, or by staff for a whole group at
# /duties/batch); here staff link it to the project it looked at.

INSPECTION_TYPES = ("inspection", "survey", "law_check")


def _grouped(activities) -> list[dict]:
    """One entry per outing: a group inspection logged at once shares its batch reference."""
    groups: dict = {}
    for a in activities:
        key = f"{a.source}:{a.source_ref}" if a.source == "batch" else f"one:{a.id}"
        group = groups.setdefault(key, {"key": key, "occurred_on": a.occurred_on, "title": a.title,
                                        "type": a.type_label, "ids": [], "names": []})
        group["ids"].append(a.id)
        group["names"].append(a.deputy.name)
    return list(groups.values())


def linkable_inspections(project: Project, limit: int = 300) -> list[dict]:
    """Verified inspections, surveys and law checks from the project's year on, not linked yet."""
    from ..duties.services import activities_for_project_picker

    linked = select(ProjectInspection.activity_id).where(ProjectInspection.project_id == project.id)
    return _grouped(activities_for_project_picker(INSPECTION_TYPES, project.year, linked, limit))


def project_inspections(project: Project) -> list[dict]:
    """The linked inspections, for the public page: date, title and the deputies who went."""
    from ..duties.services import verified_activities_among

    linked = select(ProjectInspection.activity_id).where(ProjectInspection.project_id == project.id)
    return _grouped(verified_activities_among(linked))


@transactional
def link_inspection(project: Project, activity_ids: list[int], actor) -> int:
    """Link verified inspection activities to the project; returns how many were linked."""
    from ..duties.services import activities_by_ids

    if not actor.has_role("staff"):
        raise Forbidden(_("只有代表工委工作人员可以关联代表视察。"))
    ids = sorted(set(activity_ids))
    if not ids:
        raise DomainError(_("请选择要关联的代表视察活动。"), field="activity_ids")
    activities = activities_by_ids(ids)
    if len(activities) != len(ids):
        raise DomainError(_("所选履职活动不存在。"), field="activity_ids")
    if any(a.type_code not in INSPECTION_TYPES for a in activities):
        raise DomainError(_("只能关联视察、调研或执法检查活动。"), field="activity_ids")
    if any(a.status != "verified" for a in activities):
        raise DomainError(_("只能关联已核实的履职活动。"), field="activity_ids")
    linked = set(db.session.scalars(select(ProjectInspection.activity_id).where(
        ProjectInspection.project_id == project.id, ProjectInspection.activity_id.in_(ids))))
    new = [i for i in ids if i not in linked]
    if not new:
        raise DomainError(_("所选活动已经关联到本项目。"), field="activity_ids")
    db.session.add_all(ProjectInspection(project_id=project.id, activity_id=i, linked_by_id=actor.id) for i in new)
    title = next(a.title for a in activities if a.id == new[0])
    audit.record("link_inspection", "project", project.id,
                 f"为项目《{project.title}》关联代表视察《{title}》（{len(new)} 条履职活动）", actor=actor)
    # A twin request that linked them first: the UNIQUE(project, activity) refuses this one (models.py).
    return len(new)
