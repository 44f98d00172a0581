"""Selected projects (民生实事) tracked to completion, and the year-end satisfaction ballot."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..core import audit
from ..core.errors import DomainError
from ..core.extensions import db
from ..core.timeutil import local_today
from .models import Ballot, Project, ProjectUpdate, Proposal


def projects_from_results(ballot: Ballot, results) -> list[Project]:
    """A project per selected item (the caller commits)."""
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
    db.session.commit()
    return update


def public_projects(year: int | None = None) -> list[Project]:
    stmt = select(Project).order_by(Project.year.desc(), Project.id)
    if year:
        stmt = stmt.where(Project.year == year)
    return db.session.scalars(stmt).all()


def create_rating_ballot(meeting, year: int, actor=None) -> Ballot:
    """Year-end evaluation: a secret satisfaction ballot with one item per project of the year."""
    from .voting import add_item, create_ballot

    projects = public_projects(year)
    if not projects:
        raise DomainError(_("%(y)d 年没有民生实事项目。", y=year))
    ballot = create_ballot(meeting, f"{year}年民生实事项目满意度测评", "rating", True, actor=actor)
    for project in projects:
        add_item(ballot, project.title, project.unit_name, project.budget, project.timeline,
                 project_id=project.id, actor=actor)
    return ballot
