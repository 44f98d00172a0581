"""Ballots: drafting, opening, voting, paper voters and closing.

Concurrency: every write is one unit of work (core.transaction) that first locks the ballot row:
voting, marking paper voters and editing a draft take a shared lock (FOR SHARE), opening and closing
an exclusive one (FOR UPDATE). On PostgreSQL a close therefore waits for votes in flight and later
votes see the closed state; on SQLite every write transaction begins IMMEDIATE, which serialises
writers. The UNIQUE(ballot, deputy) receipt makes a second vote fail even if two arrive in the same
instant: its IntegrityError becomes "您已投票" (registered in models.py); any other violation says
which rule it broke.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from nacl.exceptions import CryptoError
from sqlalchemy import delete, func, select, text

from ..core import audit
from ..core.errors import DomainError, Forbidden, NotFound
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..core.transaction import after_commit, transactional
from . import frozen, methods, sealing
from .errors import BadVote, CountMismatch, VoteRefused  # callers also know them as voting.BadVote, voting.VoteRefused
from .meetings import counts as meeting_counts
from .models import (
    METHODS,
    Attendance,
    Ballot,
    BallotItem,
    BallotReceipt,
    NamedVote,
    SealedVote,
    random_id,
)

log = logging.getLogger(__name__)
# A secret ballot is not closed with 1 to 4 electronic votes: their tally would tell who chose what.
# (Config BALLOT_MIN_SECRET_VOTES; tests of other rules lower it to vote with three deputies.)
MIN_SECRET_ELECTRONIC_VOTES = 5



def _locked_ballot(ballot_id: int, *, exclusive: bool) -> Ballot | None:
    """The ballot row, read afresh and locked until the transaction ends (call inside one)."""
    stmt = (select(Ballot).where(Ballot.id == ballot_id)
            .with_for_update(read=not exclusive)
            .execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def _ballot_or_404(ballot_id: int, *, exclusive: bool) -> Ballot:
    ballot = _locked_ballot(ballot_id, exclusive=exclusive)
    if ballot is None:
        raise NotFound(_("表决不存在。"))
    return ballot


# ---- drafting -------------------------------------------------------------------------------

def _positive_or_none(value, field: str, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(_("%(label)s必须是正整数。", label=label), field=field) from None
    if number <= 0 or number > 1000:
        raise DomainError(_("%(label)s必须是 1 到 1000 之间的整数。", label=label), field=field)
    return number


@transactional
def create_ballot(meeting, title: str, method: str, secret: bool, max_yes=None, places=None, actor=None) -> Ballot:
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写表决事项名称。"), field="title")
    if len(title) > 120:
        raise DomainError(_("名称不能超过 120 个字符。"), field="title")
    if method not in METHODS:
        raise DomainError(_("请选择表决方式。"), field="method")
    max_yes = _positive_or_none(max_yes, "max_yes", _("赞成票上限"))
    places = _positive_or_none(places, "places", _("入选名额"))
    max_yes, places = methods.get(method).settings(max_yes, places)
    ballot = Ballot(meeting_id=meeting.id, title=title, method=method, secret=bool(secret),
                    max_yes=max_yes, places=places)
    db.session.add(ballot)
    db.session.flush()
    audit.record("create", "ballot", ballot.id, f"新建表决《{title}》", actor=actor)
    return ballot


def _require_draft(ballot: Ballot) -> Ballot:
    """Lock the ballot (shared: opening waits for the edit) and refuse unless it is still a draft."""
    ballot = _ballot_or_404(ballot.id, exclusive=False)
    if ballot.status != "draft":
        raise VoteRefused(_("表决已开始，项目、方式和名单不能再修改。"))
    return ballot


@transactional
def add_item(ballot: Ballot, title: str, unit_name: str | None = None, budget=None, timeline: str | None = None,
             proposal_id: int | None = None, project_id: int | None = None, actor=None) -> BallotItem:
    ballot = _require_draft(ballot)
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写项目名称。"), field="title")
    if len(title) > 120:
        raise DomainError(_("项目名称不能超过 120 个字符。"), field="title")
    if budget not in (None, ""):
        try:
            budget = Decimal(str(budget))
        except InvalidOperation:
            raise DomainError(_("预算必须是数字（万元）。"), field="budget") from None
        if not budget.is_finite():  # NaN, sNaN, Infinity: comparing them raises InvalidOperation
            raise DomainError(_("预算必须是数字（万元）。"), field="budget")
        if budget < 0 or budget >= Decimal("1e12"):
            raise DomainError(_("预算必须是非负数（万元）。"), field="budget")
    else:
        budget = None
    position = (db.session.scalar(select(func.max(BallotItem.position)).where(BallotItem.ballot_id == ballot.id))
                or 0) + 1
    item = BallotItem(ballot_id=ballot.id, position=position, title=title, unit_name=(unit_name or "").strip()[:64]
                      or None, budget=budget, timeline=(timeline or "").strip()[:64] or None,
                      proposal_id=proposal_id, project_id=project_id)
    db.session.add(item)
    db.session.flush()
    audit.record("update", "ballot", ballot.id, f"表决《{ballot.title}》增加项目《{title}》", actor=actor)
    return item


@transactional
def remove_item(ballot: Ballot, item_id: int, actor=None) -> None:
    ballot = _require_draft(ballot)
    item = db.session.get(BallotItem, item_id)
    if item is None or item.ballot_id != ballot.id:
        raise NotFound(_("项目不存在。"))
    audit.record("update", "ballot", ballot.id, f"表决《{ballot.title}》删除项目《{item.title}》", actor=actor)
    db.session.delete(item)


@transactional
def open_ballot(ballot_id: int, actor=None) -> Ballot:
    ballot = _ballot_or_404(ballot_id, exclusive=True)
    if ballot.status != "draft":
        raise VoteRefused(_("只有草稿状态的表决可以开始投票。"))
    if not ballot.items:
        raise VoteRefused(_("表决还没有项目，不能开始投票。"))
    figures = meeting_counts(ballot.meeting_id)
    if not figures["quorum"]:
        raise VoteRefused(_("签到代表 %(p)d 名，未达到全体代表三分之二（%(n)d 名），不能开始表决。",
                            p=figures["present"], n=figures["quorum_needed"]))
    if ballot.max_yes and ballot.max_yes > len(ballot.items):
        ballot.max_yes = len(ballot.items)
    ballot.status = "open"
    ballot.opened_at = utcnow()
    ballot.public_key, ballot.wrapped_private_key = sealing.new_key_pair(ballot.id)
    ballot.eligible_count = figures["total"]  # the passing rule counts ALL deputies; fixed from now on
    audit.record("open", "ballot", ballot.id,
                 f"开始表决《{ballot.title}》：应到 {figures['total']} 名，实到 {figures['present']} 名", actor=actor)
    return ballot


def open_ballot_box(ballot: Ballot) -> list[dict[int, str]]:
    """Every sealed vote of the ballot, opened and checked: one choice per item, allowed values, the
    yes limit; as many votes as electronic receipts. Raises CountMismatch otherwise."""
    if ballot.wrapped_private_key is None:
        raise CountMismatch(f"ballot {ballot.id}: the ballot box has no key")
    key = sealing.unwrap_private_key(ballot.id, ballot.wrapped_private_key)
    allowed = set(ballot.choices)
    item_ids = {item.id for item in ballot.items}
    papers = []
    for ciphertext in db.session.scalars(select(SealedVote.ciphertext).where(SealedVote.ballot_id == ballot.id)):
        try:
            paper = sealing.open_sealed(key, ciphertext)
        except (CryptoError, ValueError) as exc:  # a forged box, bad JSON (UnicodeDecodeError is a ValueError)
            raise CountMismatch(f"ballot {ballot.id}: a sealed vote cannot be opened ({exc})") from exc
        if set(paper) != item_ids or not set(paper.values()) <= allowed:
            raise CountMismatch(f"ballot {ballot.id}: a sealed vote does not match the ballot's items")
        try:
            ballot.rules.validate(ballot, paper)
        except BadVote as exc:
            raise CountMismatch(f"ballot {ballot.id}: a sealed vote breaks the method's rule") from exc
        papers.append(paper)
    electronic = db.session.scalar(select(func.count()).select_from(BallotReceipt).where(
        BallotReceipt.ballot_id == ballot.id, BallotReceipt.channel == "electronic"))
    if len(papers) != electronic:
        raise CountMismatch(f"ballot {ballot.id}: {len(papers)} sealed votes for {electronic} electronic voters")
    return papers


def _write_choices(ballot_id: int, papers: list[dict[int, str]]) -> None:
    """The plaintext choices of every paper, in random-id order (a shuffle), in ONE INSERT (one
    statement, one transaction: on PostgreSQL they share their xmin, on SQLite their commit; neither
    follows the voting order)."""
    rows = [[random_id(), item_id, choice] for paper in papers for item_id, choice in paper.items()]
    if not rows:
        return
    rows.sort()  # by the random id: a uniformly random order, and the table's own key order
    payload = json.dumps(rows, separators=(",", ":"))
    if db.session.get_bind().dialect.name == "postgresql":
        sql = ("INSERT INTO ballot_choices (id, ballot_id, item_id, choice)"
               " SELECT r->>0, :ballot_id, (r->>1)::integer, r->>2"
               " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r")
    else:
        sql = ("INSERT INTO ballot_choices (id, ballot_id, item_id, choice)"
               " SELECT json_extract(value, '$[0]'), :ballot_id, json_extract(value, '$[1]'),"
               " json_extract(value, '$[2]') FROM json_each(:rows)")
    db.session.execute(text(sql), {"ballot_id": ballot_id, "rows": payload})


def _clean_storage() -> None:
    """After the close commits: leave no old page with a sealed vote or the ballot's key behind.
    SQLite: secure_delete (set before the delete) zeroed the freed cells; a TRUNCATE checkpoint copies
    the WAL into the database and empties it. PostgreSQL: VACUUM (which cannot run inside a
    transaction, hence a connection of its own in autocommit) removes the dead row versions."""
    raw = db.engine.raw_connection()
    try:
        if db.engine.dialect.name == "postgresql":
            raw.dbapi_connection.autocommit = True
            try:
                with raw.dbapi_connection.cursor() as cursor:
                    cursor.execute("VACUUM ballot_sealed_votes, ballots")
            finally:
                raw.dbapi_connection.autocommit = False
        elif db.engine.dialect.name == "sqlite":
            # Without waiting: a TRUNCATE checkpoint that waits for readers holds the write lock
            # meanwhile and would stall the next votes. Busy: the WAL is emptied by a later checkpoint
            # (what it holds is sealed votes and the shuffled choices, no link either way).
            cursor = raw.cursor()
            cursor.execute("PRAGMA busy_timeout = 0")
            try:
                busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute("PRAGMA busy_timeout = 10000")
                cursor.close()
            if busy and busy[0]:
                log.warning("ballot box: the WAL checkpoint after the close was blocked by a reader")
    finally:
        raw.close()


@transactional
def close_ballot(ballot_id: int, actor=None) -> Ballot:
    """Close the vote and open the ballot box: the sealed votes are opened and checked, their choices
    written in shuffled order in one statement, the sealed votes deleted and the ballot's private key
    erased, all in this transaction; the storage is cleaned after the commit."""
    ballot = _ballot_or_404(ballot_id, exclusive=True)  # waits for every vote in flight
    if ballot.status != "open":
        raise VoteRefused(_("只有投票中的表决可以截止。"))
    figures = turnout(ballot.id)
    least = current_app.config.get("BALLOT_MIN_SECRET_VOTES", MIN_SECRET_ELECTRONIC_VOTES)
    if ballot.secret and 0 < figures["electronic"] < least:
        raise VoteRefused(_("无记名投票的电子票只有 %(n)d 张，少于 %(m)d 张时公布计票会暴露代表的选择，"
                            "不能截止：请其余代表继续电子投票。", n=figures["electronic"], m=least))
    try:
        papers = open_ballot_box(ballot)
    except CountMismatch as exc:
        log.error("%s", exc)
        raise DomainError(_("票箱核对不一致，不能截止，请联系管理员：%(e)s", e=str(exc))) from exc
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("PRAGMA secure_delete = ON"))  # this connection: deleted cells are zeroed
    _write_choices(ballot.id, papers)
    db.session.execute(delete(SealedVote).where(SealedVote.ballot_id == ballot.id))
    ballot.status = "closed"
    ballot.closed_at = utcnow()
    ballot.wrapped_private_key = None
    after_commit(_clean_storage)
    audit.record("close", "ballot", ballot.id, f"截止表决《{ballot.title}》：已投票 {figures['voted']} 名",
                 actor=actor)
    return ballot


# ---- voting ---------------------------------------------------------------------------------

def parse_choices(ballot: Ballot, form: Mapping[str, str]) -> dict[int, str]:
    """{item_id: choice} from fields item-<id>; refuses unknown items, unknown values, gaps and
    more yes votes than the ballot allows."""
    allowed = ballot.choices
    items = frozen.items_of(ballot)
    item_ids = set(items.ids)
    chosen: dict[int, str] = {}
    for key in form:
        if not key.startswith("item-"):
            continue
        raw = key[5:]
        if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) not in item_ids:
            raise BadVote(_("选票中有不属于本次表决的项目。"))
        if raw != str(int(raw)):  # item-09 beside item-9: one item, two answers; never "the last wins"
            raise BadVote(_("选票格式无效：项目编号重复或不规范。"), field=key)
        values = form.getlist(key) if hasattr(form, "getlist") else [form[key]]
        if len(values) != 1 or values[0] not in allowed:
            raise BadVote(_("选项无效：每个项目只能选择一项。"), field=key)
        chosen[int(raw)] = values[0]
    missing = [item_id for item_id in items.ids if item_id not in chosen]
    if missing:
        raise BadVote(_("请对每个项目作出选择（未选：%(t)s）。", t="、".join(items.titles[i] for i in missing[:3])),
                      field=f"item-{missing[0]}")
    ballot.rules.validate(ballot, chosen)
    return chosen


def _check_voter(ballot: Ballot, meeting_id: int | None, deputy_id: int, *, clerk: bool = False) -> None:
    """The deputy may vote now: the ballot is open, the deputy on the roll, checked in, not voted yet.
    A deputy refused is Forbidden (403); a clerk marking someone who cannot vote gets 422 / 409."""
    if meeting_id is not None and ballot.meeting_id != meeting_id:
        raise NotFound(_("表决不存在。"))
    if ballot.status == "draft":
        raise VoteRefused(_("投票尚未开始。"))
    if ballot.status != "open":
        raise VoteRefused(_("投票已截止。"))
    # The roll row and the receipt in one statement (a vote is on the meeting day's hot path).
    row = db.session.execute(
        select(Attendance.checked_in_at,
               select(BallotReceipt.channel).where(BallotReceipt.ballot_id == ballot.id,
                                                   BallotReceipt.deputy_id == deputy_id)
               .scalar_subquery().label("channel"))
        .where(Attendance.meeting_id == ballot.meeting_id, Attendance.deputy_id == deputy_id)).first()
    if row is None:
        if clerk:
            raise DomainError(_("该代表不在本次会议的名单中。"))
        raise Forbidden(_("您不在本次会议的代表名单中。"))
    if row.checked_in_at is None:
        if clerk:
            raise VoteRefused(_("该代表尚未签到。"))
        raise Forbidden(_("您尚未签到，签到后才能投票。"))
    if row.channel is not None:
        if clerk:
            raise VoteRefused(_("该代表已投票。"))
        raise VoteRefused(_("您已投票") if row.channel == "electronic" else _("您已投票（已登记为纸质投票）"))


def seal_paper(ballot: Ballot, chosen: dict[int, str]) -> bytes:
    """The whole vote as one sealed box, the same length for every vote of the ballot."""
    longest = max(len(c) for c in ballot.choices)
    paper = sealing.canonical(chosen, list(frozen.items_of(ballot).ids), longest)
    return sealing.seal(ballot.public_key, paper)


@transactional
def cast_vote(ballot_id: int, deputy_id: int, form: Mapping[str, str], meeting_id: int | None = None) -> str:
    """Record one deputy's vote: the receipt (with the tracker) and ONE sealed box of the whole vote,
    in one transaction, or nothing at all. No plaintext choice is written (a named ballot also keeps
    its public named votes). Returns the tracker (选票核验码)."""
    ballot = _ballot_or_404(ballot_id, exclusive=False)
    _check_voter(ballot, meeting_id, deputy_id)
    chosen = parse_choices(ballot, form)
    ciphertext = seal_paper(ballot, chosen)
    code = sealing.tracker(ciphertext)
    db.session.add(BallotReceipt(ballot_id=ballot.id, deputy_id=deputy_id, channel="electronic", tracker=code))
    db.session.flush()  # the unique receipt first: a twin arriving at the same instant stops here (您已投票)
    db.session.add(SealedVote(ballot_id=ballot.id, ciphertext=ciphertext))
    if not ballot.secret:
        db.session.add_all(NamedVote(ballot_id=ballot.id, item_id=item_id, deputy_id=deputy_id, choice=choice)
                           for item_id, choice in chosen.items())
    return code


@transactional
def mark_paper(ballot_id: int, deputy_id: int, actor=None) -> None:
    """The deputy votes on paper: a receipt with channel 'paper' (no electronic vote afterwards)."""
    from ..registry.models import Deputy

    ballot = _ballot_or_404(ballot_id, exclusive=False)
    _check_voter(ballot, None, deputy_id, clerk=True)
    db.session.add(BallotReceipt(ballot_id=ballot.id, deputy_id=deputy_id, channel="paper",
                                 marked_by_id=actor.id if actor else None))
    db.session.flush()
    name = db.session.get(Deputy, deputy_id).name
    audit.record("paper_voter", "ballot", ballot.id, f"代表 {name} 改用纸质选票投票", actor=actor)


def has_voted(ballot_id: int, deputy_id: int) -> str | None:
    return db.session.scalar(select(BallotReceipt.channel).where(BallotReceipt.ballot_id == ballot_id,
                                                                 BallotReceipt.deputy_id == deputy_id))


def turnout(ballot_id: int) -> dict:
    rows = db.session.execute(select(BallotReceipt.channel, func.count()).where(BallotReceipt.ballot_id == ballot_id)
                              .group_by(BallotReceipt.channel)).all()
    by = dict(rows)
    return {"electronic": by.get("electronic", 0), "paper": by.get("paper", 0),
            "voted": by.get("electronic", 0) + by.get("paper", 0)}


def tracker_of(ballot_id: int, deputy_id: int) -> str | None:
    """The deputy's own 选票核验码 for this ballot (electronic votes only)."""
    return db.session.scalar(select(BallotReceipt.tracker).where(BallotReceipt.ballot_id == ballot_id,
                                                                 BallotReceipt.deputy_id == deputy_id))


def trackers(ballot_id: int) -> list[str]:
    """Every tracker of the ballot, sorted (so their order says nothing about the voting order)."""
    return list(db.session.scalars(select(BallotReceipt.tracker).where(
        BallotReceipt.ballot_id == ballot_id, BallotReceipt.tracker.is_not(None)).order_by(BallotReceipt.tracker)))


def normalise_tracker(raw: str | None) -> str:
    """What a deputy types (any case, with or without the hyphen or spaces) as XXXX-XXXX, or ''."""
    code = "".join(ch for ch in (raw or "").upper() if ch.isascii() and ch.isalnum())[:16]
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else ""
