"""The public site: the home page, composed of what several areas show the public (the registry's
counts and stations, the stations' reception days and answered messages, the noticeboard's pinned
and latest notices). The public directory (``directory.py``) hangs on the same blueprint.

No area imports this package: it is the one place that knows them all on the public side, so that
``noticeboard`` need not import ``stations`` or ``duties``."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core.extensions import db
from ..core.pagecache import cached_public_page
from ..core.publicfacts import remembered
from ..core.timeutil import LOCAL_TZ
from ..noticeboard import services as notices
from ..noticeboard.models import CATEGORIES
from ..registry.models import Deputy, Station
from ..stations.calendar import rule_texts, todays_receptions
from ..stations.services import answered_this_year

bp = Blueprint("site", __name__)


@remembered
def _registry_counts() -> tuple[int, int]:
    """Serving deputies and active stations, in one statement (remembered: core/publicfacts.py)."""
    return tuple(db.session.execute(select(
        select(func.count()).select_from(Deputy).where(Deputy.ended_on.is_(None)).scalar_subquery(),
        select(func.count()).select_from(Station).where(Station.active).scalar_subquery(),
    )).one())


@bp.get("/")
@cached_public_page
def home():
    now_local = datetime.now(LOCAL_TZ)
    serving, active = _registry_counts()
    counts = {"deputies": serving, "stations": active, "answered": answered_this_year()}
    stations = db.session.scalars(
        select(Station).where(Station.active).options(joinedload(Station.area))
        .order_by(Station.name).limit(6)
    ).all()
    return render_template("site/home.html", counts=counts, stations=stations, today_days=todays_receptions(),
                           rules=rule_texts(s.id for s in stations),
                           pinned=notices.pinned_notices(), latest=notices.latest_by_category(),
                           CATEGORIES=CATEGORIES, year=now_local.year)


from . import directory  # noqa: E402,F401  (registers the directory's routes on bp)
