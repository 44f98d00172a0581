"""What other areas call (one line each, inside their own transaction) when a step waits for a deputy."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from ..core.extensions import db
from ..core.models import User
from .services import notify


def deputy_users(deputy_ids: Iterable[int]) -> list[int]:
    ids = list(deputy_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(User.id).where(User.deputy_id.in_(ids), User.active.is_(True))))


def cosign_invited(suggestion, deputy_ids: Iterable[int]) -> None:
    notify(deputy_users(deputy_ids), "deputy_step", _("附议邀请：%(t)s", t=suggestion.title),
           _("领衔代表邀请您附议这件建议，请在工作台确认或谢绝。"), link=f"/suggestions/{suggestion.id}/work",
           about=("suggestions", suggestion.id))


def suggestion_returned(suggestion, comment: str | None) -> None:
    notify(deputy_users([suggestion.lead_deputy_id]), "deputy_step", _("建议退回修改：%(t)s", t=suggestion.title),
           _("预审意见：%(c)s", c=comment or ""), link=f"/suggestions/{suggestion.id}/work",
           about=("suggestions", suggestion.id))


def activity_returned(activity, reason: str) -> None:
    notify(deputy_users([activity.deputy_id]), "deputy_step", _("履职活动被退回：%(t)s", t=activity.title),
           _("退回原因：%(r)s。请修改后重新提交。", r=reason), link=f"/me/activities/{activity.id}/edit",
           about=("duty_activities", activity.id))
