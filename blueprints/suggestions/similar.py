"""Similar suggestions of earlier sessions, shown as a hint while a deputy drafts (鄂州 shows them while
drafting; a hint, not a wizard step: Decidim removed its comparator step as cumbersome, #12283).

    similar(title, *, session_id=None, limit=5) -> list[(Suggestion, score)]

Chinese has no spaces, so the title is cut into character bigrams (the boilerplate 关于…的建议 dropped);
one query finds public suggestions of other, earlier sessions whose 案由 contains any of them (LIKE), and
they are ranked by how many bigrams they share. This is a plain LIKE scan, not the full-text index that
issue 19 §5 asks for (not built in this round).
"""
from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..core.extensions import db
from .models import PUBLIC_STATUSES, CongressSession, Suggestion

STOP = re.compile(r"关于|的建议|建议|问题|进一步|加强|加快|推进|的|和|与|及")
MAX_BIGRAMS = 12
MIN_SHARED = 2


def bigrams(text: str) -> list[str]:
    out = []
    for run in re.findall(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+", STOP.sub(" ", text or "")):
        grams = [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else []
        out.extend(g for g in grams if g not in out)
    return out[:MAX_BIGRAMS]


def similar(title: str | None, *, session_id: int | None = None, limit: int = 5) -> list[tuple[Suggestion, int]]:
    grams = bigrams((title or "")[:120])
    if len(grams) < MIN_SHARED:
        return []
    stmt = (select(Suggestion).join(CongressSession, CongressSession.id == Suggestion.session_id)
            .where(Suggestion.status.in_(PUBLIC_STATUSES), or_(*[Suggestion.title.contains(g, autoescape=True)
                                                                for g in grams]))
            .options(joinedload(Suggestion.session)).order_by(Suggestion.id.desc()).limit(300))
    if session_id:
        current = db.session.get(CongressSession, session_id)
        if current is not None:
            stmt = stmt.where(Suggestion.session_id != current.id, CongressSession.opens_on < current.opens_on)
    scored = [(item, sum(g in item.title for g in grams)) for item in db.session.scalars(stmt)]
    scored = [pair for pair in scored if pair[1] >= MIN_SHARED]
    scored.sort(key=lambda pair: (-pair[1], -pair[0].id))
    return scored[:limit]
