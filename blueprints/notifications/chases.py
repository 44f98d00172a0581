"""催办: staff (for any case), or a deputy (for their own suggestion or case) chase the main unit. The
chase is logged on the item (a CaseStep ``chase``, shown in its history), notifies the unit, and is
weighted by who sent it — 代表 1, 代表工委 2, 领导 4 — so that the supervision list sorts by pressure.

The weight follows the account, not a choice on the form: a ``leader`` account (常委会组成人员, issue 19)
chases the key suggestions it leads (``Suggestion.key_leader_id``) with weight 4; staff always weigh 2;
the deputy who raised the item 1."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import cases as core_cases
from ..core.cases import Case, CaseAssignment, CaseStep
from ..core.errors import Conflict, DomainError, Forbidden, clean_text
from ..core.extensions import db
from ..core.transaction import transaction
from . import services
from .models import CHASE_LABELS, CHASE_WEIGHTS, Chase

core_cases.ACTIONS.setdefault("chase", "催办")  # the step's label in the item's history
MAX_NOTE = 500


def led_case_ids(leader_id: int):
    """The cases of the key suggestions this leader leads (a SELECT of case ids; empty without the area)."""
    if "suggestions" not in current_app.extensions["areas"].names:
        return select(Case.id).where(Case.id.is_(None))
    from ..suggestions.models import Suggestion

    return select(Suggestion.case_id).where(Suggestion.key_leader_id == leader_id, Suggestion.is_key.is_(True),
                                            Suggestion.case_id.is_not(None))


def sender_for(user, case: Case) -> str:
    if user.has_role("staff"):
        return "staff"
    if user.role == "leader" and user.active:
        if case.id in db.session.scalars(led_case_ids(user.id)).all():
            return "leadership"
        raise Forbidden(_("领导只能催办本人牵头督办的重点建议。"))
    if user.role == "deputy" and user.deputy_id is not None and user.deputy_id == case.deputy_id:
        return "deputy"
    raise Forbidden(_("您无权催办此件。"))


def chase(case_id: int, *, by, note: str | None = None) -> Chase:
    with transaction():
        case = db.session.get(Case, case_id)
        if case is None:
            from ..core.errors import NotFound

            raise NotFound(_("没有这件事项。"))
        sender = sender_for(by, case)
        item = case.main_assignment
        if case.status != "assigned" or item is None or item.state != "pending":
            raise Conflict(_("此件当前不在办理中，不能催办。"))
        note = clean_text(note, _("催办意见"), MAX_NOTE, "note", required=False) or ""
        row = Chase(case_id=case.id, unit_id=item.unit_id, by_id=by.id, sender=sender,
                    weight=CHASE_WEIGHTS[sender], note=note)
        db.session.add(row)
        logged = f"{CHASE_LABELS[sender]}催办" + (f"：{note}" if note else "")
        db.session.add(CaseStep(case=case, action="chase", actor_id=by.id, actor_name=by.display_name,
                                unit_id=item.unit_id, note=logged))
        from .reminders import case_link

        services.notify(unit_id=item.unit_id, kind="chase",
                        subject=_("催办：%(t)s", t=case.title),
                        body=_("%(who)s催办此件（期限 %(d)s）。", who=CHASE_LABELS[sender], d=item.deadline.isoformat())
                        + (f"\n{note}" if note else ""), link=case_link(case), about=("cases", case.id))
    return row


def supervision(*, deputy_id: int | None = None, leader_id: int | None = None, sort: str = "pressure"):
    """Assigned items with their chase pressure (sum of weights) and count; by pressure or deadline."""
    pressure = (select(Chase.case_id, func.sum(Chase.weight).label("pressure"), func.count().label("chases"))
                .group_by(Chase.case_id).subquery())
    query = (select(Case, CaseAssignment, func.coalesce(pressure.c.pressure, 0), func.coalesce(pressure.c.chases, 0))
             .join(CaseAssignment, (CaseAssignment.case_id == Case.id) & (CaseAssignment.role == "main")
                   & (CaseAssignment.state == "pending") & (CaseAssignment.round == Case.round))
             .outerjoin(pressure, pressure.c.case_id == Case.id)
             .where(Case.status == "assigned"))
    if deputy_id is not None:
        query = query.where(Case.deputy_id == deputy_id)
    if leader_id is not None:
        query = query.where(Case.id.in_(led_case_ids(leader_id)))
    if sort == "deadline":
        query = query.order_by(CaseAssignment.deadline, Case.id)
    elif sort == "pressure":
        query = query.order_by(func.coalesce(pressure.c.pressure, 0).desc(), CaseAssignment.deadline, Case.id)
    else:
        raise DomainError(_("未知的排序方式。"))
    return query
