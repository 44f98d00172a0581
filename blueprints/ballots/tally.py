"""Counting: paper entries (append-only), the tally with the passing rule, the integrity check and
publication."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..core import audit
from ..core.errors import DomainError, NotFound
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..core.transaction import transactional
from .errors import CountMismatch
from .models import CHOICE_LABELS, Ballot, BallotChoice, BallotItem, PaperCount, PaperCountValue
from .voting import VoteRefused, _ballot_or_404, turnout

log = logging.getLogger(__name__)


# Plain words for the public: 入选 / 未入选 (and why) / 得票相同，待主席团决定.
OUTCOME_LABELS = {"selected": "入选", "tie": "得票相同，待主席团决定",
                  "passed": "未入选（赞成票过半数，但名额已满）", "failed": "未入选（赞成票未超过全体代表的半数）"}


@dataclass
class ItemResult:
    item: BallotItem
    electronic: dict[str, int]
    paper: dict[str, int]
    total: dict[str, int] = field(default_factory=dict)
    passed: bool = False
    rank: int | None = None
    outcome: str = ""  # approve: selected / tie / passed / failed; rating: ''

    @property
    def yes(self) -> int:
        return self.total.get("yes", 0)

    @property
    def cast(self) -> int:
        return sum(self.total.values())

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, "")

    @property
    def satisfaction(self) -> float | None:
        """满意 + 基本满意 among the votes cast on this item (rating ballots)."""
        if not self.cast:
            return None
        return (self.total.get("satisfied", 0) + self.total.get("basic", 0)) / self.cast


def current_paper_counts(ballot_id: int) -> dict[int, PaperCount]:
    """The entry per item that no later correction replaced."""
    replaced = select(PaperCount.corrects_id).where(PaperCount.ballot_id == ballot_id,
                                                    PaperCount.corrects_id.is_not(None))
    rows = db.session.scalars(select(PaperCount).where(PaperCount.ballot_id == ballot_id,
                                                       PaperCount.id.not_in(replaced))
                              .options(selectinload(PaperCount.values))).all()
    return {row.item_id: row for row in rows}


def paper_log(ballot_id: int) -> list[PaperCount]:
    return db.session.scalars(select(PaperCount).where(PaperCount.ballot_id == ballot_id)
                              .options(selectinload(PaperCount.values)).order_by(PaperCount.id)).all()


# The paper-count form has one field per choice of the ballot's method, ``count_<choice>`` (forms.py),
# stored as one PaperCountValue row per choice.


@transactional
def enter_paper_count(ballot_id: int, item_id: int, values: list, actor, note: str | None = None) -> PaperCount:
    """Tellers enter (or correct) the paper count of one item, after the close. A refused count names
    its field (``count_<choice>``; ``values`` are in the order of the method's choices)."""
    from .forms import count_field

    ballot = _ballot_or_404(ballot_id, exclusive=True)
    if ballot.status != "closed":
        raise VoteRefused(_("只有截止后、公布前可以录入纸质票。"))
    item = db.session.get(BallotItem, item_id)
    if item is None or item.ballot_id != ballot.id:
        raise NotFound(_("项目不存在。"))
    choices, labels = ballot.rules.choices, ballot.rules.labels
    if len(values) != len(choices):
        raise DomainError(_("请为每个选项填写票数。"), field=count_field(choices[0]))
    numbers = []
    for value, name in zip(values, choices, strict=True):
        field_name = count_field(name)
        try:
            number = int(str(value).strip()) if str(value).strip().isascii() else None
        except ValueError:
            number = None
        if number is None:
            raise DomainError(_("%(c)s票数必须是整数。", c=labels[name]), field=field_name)
        if number < 0:
            raise DomainError(_("%(c)s票数不能为负数。", c=labels[name]), field=field_name)
        numbers.append(number)
    paper_voters = turnout(ballot.id)["paper"]
    if sum(numbers) > paper_voters:
        raise DomainError(_("票数合计 %(s)d 超过纸质投票代表人数 %(n)d。", s=sum(numbers), n=paper_voters),
                          field=count_field(choices[0]))
    previous = current_paper_counts(ballot.id).get(item.id)
    row = PaperCount(ballot_id=ballot.id, item_id=item.id, corrects_id=previous.id if previous else None,
                     note=(note or "").strip()[:255] or None, entered_by_id=actor.id if actor else None,
                     entered_by_name=actor.username if actor else "system")
    row.values = [PaperCountValue(choice=c, count=n) for c, n in zip(choices, numbers, strict=True)]
    db.session.add(row)
    db.session.flush()
    labels = "，".join(f"{labels[c]} {n}" for c, n in zip(choices, numbers, strict=True))
    action = "paper_correct" if previous else "paper_count"
    audit.record(action, "ballot", ballot.id, f"《{item.title}》纸质票：{labels}", actor=actor, note=row.note)
    return row


def tally(ballot: Ballot) -> list[ItemResult]:
    """Per-item totals (electronic + current paper counts), the passing rule and the ranking."""
    choices = ballot.choices
    electronic: dict[int, dict[str, int]] = {item.id: dict.fromkeys(choices, 0) for item in ballot.items}
    for item_id, choice, n in db.session.execute(
        select(BallotChoice.item_id, BallotChoice.choice, func.count()).where(BallotChoice.ballot_id == ballot.id)
        .group_by(BallotChoice.item_id, BallotChoice.choice)
    ):
        electronic[item_id][choice] = n
    paper_rows = current_paper_counts(ballot.id)
    results = []
    for item in ballot.items:
        row = paper_rows.get(item.id)
        counts = row.counts if row else {}
        paper = {c: counts.get(c, 0) for c in choices}
        total = {c: electronic[item.id][c] + paper[c] for c in choices}
        results.append(ItemResult(item=item, electronic=electronic[item.id], paper=paper, total=total))
    ballot.rules.decide(ballot, results)
    return results


def ranked(results: list[ItemResult]) -> list[ItemResult]:
    """Results as people read them: by rank (then yes votes), or by satisfaction on a rating ballot;
    the ballot's own order breaks ties. ``tally`` keeps ballot order for the rest of the code."""
    def key(r: ItemResult):
        if r.outcome:  # an approve ballot
            return (r.rank is None, r.rank or 0, -r.yes, r.item.position)
        return (r.satisfaction is None, -(r.satisfaction or 0), r.item.position)

    return sorted(results, key=key)


def rank_and_select(results: list[ItemResult], eligible: int, places: int | None) -> None:
    """Passes: yes from more than half of ALL deputies. Passing items ranked by yes; the first
    `places` are selected; items tied at the cut are marked as ties for the presidium."""
    passing = sorted((r for r in results if r.yes * 2 > eligible), key=lambda r: -r.yes)
    for r in results:
        r.passed = r.yes * 2 > eligible
        r.outcome = "failed"
    for r in passing:
        r.rank = 1 + sum(1 for other in passing if other.yes > r.yes)
    if places is None or len(passing) <= places:
        for r in passing:
            r.outcome = "selected"
        return
    cut = passing[places - 1].yes
    above = [r for r in passing if r.yes > cut]
    at_cut = [r for r in passing if r.yes == cut]
    for r in above:
        r.outcome = "selected"
    for r in at_cut:
        r.outcome = "selected" if len(above) + len(at_cut) <= places else "tie"
    for r in passing:
        if r.yes < cut:
            r.outcome = "passed"


def verify(ballot: Ballot, results: list[ItemResult] | None = None) -> dict:
    """Fail loudly unless every electronic voter chose once per item and paper counts do not exceed
    the paper voters."""
    results = results if results is not None else tally(ballot)
    figures = turnout(ballot.id)
    for r in results:
        electronic = sum(r.electronic.values())
        if electronic != figures["electronic"]:
            log.error("ballot %s item %s: %s electronic choices for %s electronic voters",
                      ballot.id, r.item.id, electronic, figures["electronic"])
            raise CountMismatch(f"ballot {ballot.id} item {r.item.id}: {electronic} choices "
                                f"≠ {figures['electronic']} electronic voters")
        if sum(r.paper.values()) > figures["paper"]:
            raise CountMismatch(f"ballot {ballot.id} item {r.item.id}: paper counts exceed paper voters")
    if ballot.eligible_count is not None and figures["voted"] > ballot.eligible_count:
        raise CountMismatch(f"ballot {ballot.id}: more voters than deputies")
    return figures


def result_markdown(ballot: Ballot, results: list[ItemResult], figures: dict, present: int) -> str:
    choices = ballot.choices
    lines = [f"会议：{ballot.meeting.title}", "",
             f"应到代表 {ballot.eligible_count} 名，实到 {present} 名；参加表决 {figures['voted']} 名"
             f"（电子表决 {figures['electronic']} 名，纸质选票 {figures['paper']} 名）。", ""]
    if ballot.rules.uses_yes_limit:
        lines += [f"通过规则：赞成票超过全体代表的半数（即不少于 {(ballot.eligible_count or 0) // 2 + 1} 票）"
                  + (f"，按赞成票多少排序，前 {ballot.places} 个项目入选。" if ballot.places else "。"), ""]
    for r in ranked(results):
        counts = "，".join(f"{CHOICE_LABELS[c]} {r.total[c]}" for c in choices)
        extra = ballot.rules.outcome_text(r)
        lines.append(f"- **{r.item.title}**：{counts}{extra}")
    return "\n".join(lines)


@transactional
def publish(ballot_id: int, actor=None) -> Ballot:
    """Freeze the ballot, post the result to the noticeboard and start tracking selected projects,
    all in ONE transaction: the ballot stays locked (FOR UPDATE) until the notice, the projects and
    the published state commit together; if any step fails, none of them is written."""
    from ..noticeboard.services import publish_notice
    from .meetings import counts as meeting_counts
    from .projects import projects_from_results

    ballot = _ballot_or_404(ballot_id, exclusive=True)
    if ballot.status != "closed":
        raise VoteRefused(_("只有已截止的表决可以公布结果。"))
    results = tally(ballot)
    try:
        figures = verify(ballot, results)
    except CountMismatch as exc:
        raise DomainError(_("计票核对不一致，结果不能公布，请联系管理员：%(e)s", e=str(exc))) from exc
    if figures["paper"]:
        entered = current_paper_counts(ballot.id)
        missing = [r.item.title for r in results if r.item.id not in entered]
        if missing:
            raise DomainError(_("还有项目未录入纸质票：%(t)s。", t="、".join(missing[:3])))
    present = meeting_counts(ballot.meeting_id)["present"]
    ballot.status = "published"
    ballot.published_at = utcnow()
    created = projects_from_results(ballot, results) if ballot.rules.creates_projects else []
    audit.record("publish", "ballot", ballot.id,
                 f"公布表决《{ballot.title}》结果" + (f"，{len(created)} 个项目列入民生实事" if created else ""),
                 actor=actor)
    notice = publish_notice("ballot_result", f"{ballot.title}表决结果",
                            result_markdown(ballot, results, figures, present),
                            source="ballots", source_ref=f"ballot-{ballot.id}", actor=actor)
    ballot.notice_id = notice.id
    return ballot


@transactional
def publish_candidates(ballot: Ballot, actor=None):
    """The candidate list (title, unit, budget, timeline) on the noticeboard before the vote."""
    from ..noticeboard.services import publish_notice

    if not ballot.items:
        raise DomainError(_("表决还没有项目。"))
    lines = [f"{ballot.meeting.title}将对以下候选项目进行票决：", ""]
    for item in ballot.items:
        parts = [p for p in (item.unit_name, f"预算 {item.budget} 万元" if item.budget is not None else None,
                             item.timeline) if p]
        lines.append(f"{item.position}. **{item.title}**" + (f"（{'，'.join(parts)}）" if parts else ""))
    audit.record("publish", "ballot", ballot.id, f"公示《{ballot.title}》候选项目", actor=actor)
    return publish_notice("ballot_result", f"{ballot.title}候选项目公示", "\n".join(lines),
                          source="ballots", source_ref=f"ballot-{ballot.id}-candidates", actor=actor)
