"""Rules of the ballots: roll and quorum, the state machine, one vote per deputy, validation,
paper counts, the passing rule, secrecy and publication."""
from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from blueprints.ballots import meetings, tally, voting
from blueprints.ballots.models import (
    Attendance,
    Ballot,
    BallotChoice,
    BallotReceipt,
    NamedVote,
    PaperCount,
    Project,
    SealedVote,
)
from blueprints.core.errors import Conflict, DomainError, Forbidden, NotFound
from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from tests.ballots_helpers import (
    few_secret_votes_close,  # noqa: F401 (a fixture)
    form_for,
    make_ballot,
    make_meeting,
)

pytestmark = pytest.mark.usefixtures("few_secret_votes_close")


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def vote_rows():
    """Receipts, sealed votes (one per electronic vote) and named votes."""
    return count(BallotReceipt), count(SealedVote), count(NamedVote)


def test_roll_has_serving_deputies_only_and_quorum_is_two_thirds(app):
    meeting, deputies = make_meeting(9, checked_in=5)
    figures = meetings.counts(meeting.id)
    assert figures == {"total": 9, "present": 5, "excused": 0, "absent": 4, "quorum": False, "quorum_needed": 6}
    meetings.check_in(meeting, deputies[5].id)
    with pytest.raises(Conflict, match="该代表已签到") as twice:  # twice is refused and changes nothing
        meetings.check_in(meeting, deputies[5].id)
    assert twice.value.status == 409
    assert meetings.counts(meeting.id) == {"total": 9, "present": 6, "excused": 0, "absent": 3, "quorum": True,
                                           "quorum_needed": 6}
    assert meetings.counts(meeting.id)["quorum"] is True
    assert meetings.quorum_met(2, 3) and not meetings.quorum_met(1, 3) and not meetings.quorum_met(0, 0)


def test_open_needs_quorum_and_items(app):
    meeting, _ = make_meeting(9, checked_in=5)
    ballot = make_ballot(meeting, 0, open_it=False)
    with pytest.raises(voting.VoteRefused, match="还没有项目"):
        voting.open_ballot(ballot.id)
    voting.add_item(ballot, "项目A")
    with pytest.raises(voting.VoteRefused, match="未达到全体代表三分之二"):
        voting.open_ballot(ballot.id)
    assert db.session.get(Ballot, ballot.id).status == "draft"


def test_state_machine_and_frozen_items(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)
    assert ballot.status == "open" and ballot.eligible_count == 3
    with pytest.raises(voting.VoteRefused, match="不能再修改"):
        voting.add_item(ballot, "晚到的项目")
    with pytest.raises(voting.VoteRefused, match="只有草稿"):
        voting.open_ballot(ballot.id)
    with pytest.raises(voting.VoteRefused, match="只有已截止"):
        tally.publish(ballot.id)
    voting.close_ballot(ballot.id)
    with pytest.raises(voting.VoteRefused, match="只有投票中"):
        voting.close_ballot(ballot.id)
    tally.publish(ballot.id)
    assert db.session.get(Ballot, ballot.id).status == "published"
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "ballot")).all()
    assert {"open", "close", "publish"} <= set(actions)


def test_vote_records_receipt_and_choices_once(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 3)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, ["yes", "no", "abstain"]), meeting.id)
    assert vote_rows() == (1, 1, 0) and count(BallotChoice) == 0  # one sealed box, no plaintext choice
    with pytest.raises(voting.VoteRefused, match="您已投票") as refused:
        voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, "no"), meeting.id)
    assert refused.value.status == 409
    assert vote_rows() == (1, 1, 0)


@pytest.mark.parametrize("case, kind, status, message", [
    ("not_checked_in", Forbidden, 403, "您尚未签到"),
    ("not_on_roll", Forbidden, 403, "不在本次会议"),
    ("draft", voting.VoteRefused, 409, "投票尚未开始"),
    ("closed", voting.VoteRefused, 409, "投票已截止"),
    ("wrong_meeting", NotFound, 404, "表决不存在"),
])
def test_vote_refusals_record_nothing(app, case, kind, status, message):
    meeting, deputies = make_meeting(4, checked_in=3)
    ballot = make_ballot(meeting, 2, open_it=case != "draft")
    deputy_id = deputies[0].id
    meeting_id = meeting.id
    if case == "not_checked_in":
        deputy_id = deputies[3].id
    elif case == "not_on_roll":
        from blueprints.registry.models import Deputy

        deputy_id = db.session.scalar(select(Deputy.id).where(Deputy.ended_on.is_not(None)))
    elif case == "closed":
        voting.close_ballot(ballot.id)
    elif case == "wrong_meeting":
        meeting_id = meeting.id + 1
    with pytest.raises(kind, match=message) as refused:
        voting.cast_vote(ballot.id, deputy_id, form_for(ballot), meeting_id)
    assert refused.value.status == status
    assert vote_rows() == (0, 0, 0)


@pytest.mark.parametrize("mutate, message", [
    (lambda f, b: f.pop(f"item-{b.items[0].id}"), "请对每个项目作出选择"),
    (lambda f, b: f.update({"item-999999": "yes"}), "不属于本次表决"),
    (lambda f, b: f.update({"item-abc": "yes"}), "不属于本次表决"),
    (lambda f, b: f.update({f"item-{b.items[0].id}": "satisfied"}), "选项无效"),
    (lambda f, b: f.update({f"item-{b.items[0].id}": ""}), "选项无效"),
])
def test_bad_forms_are_refused_and_record_nothing(app, mutate, message):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 3)
    form = form_for(ballot)
    mutate(form, ballot)
    with pytest.raises(voting.BadVote, match=message):
        voting.cast_vote(ballot.id, deputies[0].id, form, meeting.id)
    assert vote_rows() == (0, 0, 0)


def test_more_yes_than_the_limit_is_refused(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 3, max_yes=2)
    with pytest.raises(voting.BadVote, match="赞成票不能超过 2 个"):
        voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, "yes"), meeting.id)
    assert vote_rows() == (0, 0, 0)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, ["yes", "yes", "no"]), meeting.id)
    assert vote_rows() == (1, 1, 0)


def test_rating_ballot_accepts_only_rating_values(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2, method="rating")
    with pytest.raises(voting.BadVote):
        voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, "yes"), meeting.id)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, ["satisfied", "unsatisfied"]), meeting.id)
    voting.close_ballot(ballot.id)
    results = tally.tally(db.session.get(Ballot, ballot.id))
    assert results[0].total == {"satisfied": 1, "basic": 0, "unsatisfied": 0}
    assert results[0].satisfaction == 1.0 and results[1].satisfaction == 0.0


def test_secret_ballot_keeps_no_link_between_choice_and_deputy(app):
    meeting, deputies = make_meeting(5)
    ballot = make_ballot(meeting, 2, secret=True)
    for deputy in deputies:
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, ["yes", "no"]), meeting.id)
    columns = {c["name"] for c in inspect(db.engine).get_columns("ballot_choices")}
    assert columns == {"id", "ballot_id", "item_id", "choice"}  # no deputy, no time
    assert {c["name"] for c in inspect(db.engine).get_columns("ballot_sealed_votes")} == {
        "id", "ballot_id", "ciphertext"}
    assert count(NamedVote) == 0 and count(BallotChoice) == 0 and count(SealedVote) == 5
    lengths = {len(c) for c in db.session.scalars(select(SealedVote.ciphertext))}
    assert len(lengths) == 1  # every vote the same size
    voting.close_ballot(ballot.id)
    assert count(SealedVote) == 0
    assert db.session.get(Ballot, ballot.id).wrapped_private_key is None  # the box cannot be reopened
    ids = db.session.scalars(select(BallotChoice.id)).all()
    assert len(set(ids)) == 10 and all(len(i) == 32 for i in ids)
    receipt_columns = {c["name"] for c in inspect(db.engine).get_columns("ballot_receipts")}
    assert not receipt_columns & {"item_id", "choice"}


def test_stored_order_of_secret_choices_is_their_random_id_order_not_voting_order(app):
    """The table's physical order must not line up with the receipts (which are in voting order)."""
    from sqlalchemy import text

    meeting, deputies = make_meeting(12)
    ballot = make_ballot(meeting, 3, secret=True)
    for index, deputy in enumerate(deputies):
        choices = ["yes", "no", "abstain"] if index % 2 else ["no", "yes", "yes"]
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, choices), meeting.id)
    ballot_id = ballot.id
    voting.close_ballot(ballot_id)
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        stored = db.session.scalars(text("SELECT id FROM ballot_choices")).all()  # a plain table scan
        assert db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ballot_choices'")) \
            .rstrip().endswith("WITHOUT ROWID")
    else:
        stored = db.session.scalars(text("SELECT id FROM ballot_choices ORDER BY ctid")).all()
    assert len(stored) == 36 and stored == sorted(stored)
    after = tally.tally(db.session.get(Ballot, ballot_id))
    assert [r.total for r in after] == [{"yes": 6, "no": 6, "abstain": 0}, {"yes": 6, "no": 6, "abstain": 0},
                                        {"yes": 6, "no": 0, "abstain": 6}]
    assert count(BallotReceipt) == 12


def test_named_ballot_also_records_who_chose_what(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2, secret=False)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, ["yes", "no"]), meeting.id)
    named = db.session.scalars(select(NamedVote).order_by(NamedVote.item_id)).all()
    assert [(n.deputy_id, n.choice) for n in named] == [(deputies[0].id, "yes"), (deputies[0].id, "no")]
    assert vote_rows() == (1, 1, 2)  # a named ballot's named votes are public by design (plaintext)


def test_a_failure_mid_vote_leaves_nothing(app, monkeypatch):
    """A worker dying between the receipt and the sealed vote: the transaction never commits."""
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)

    def boom(**row):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(voting, "SealedVote", boom)
    with pytest.raises(RuntimeError):
        voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot), meeting.id)
    assert vote_rows() == (0, 0, 0)


def test_paper_voters_cannot_vote_electronically_and_counts_combine(app, users):
    clerk = users["clerk"]
    meeting, deputies = make_meeting(6)
    ballot = make_ballot(meeting, 2)
    voting.mark_paper(ballot.id, deputies[0].id, clerk)
    voting.mark_paper(ballot.id, deputies[1].id, clerk)
    with pytest.raises(voting.VoteRefused, match="该代表已投票"):
        voting.mark_paper(ballot.id, deputies[1].id, clerk)
    with pytest.raises(voting.VoteRefused, match="您已投票"):
        voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot), meeting.id)
    for deputy in deputies[2:]:
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, ["yes", "no"]), meeting.id)
    with pytest.raises(voting.VoteRefused, match="截止后"):
        tally.enter_paper_count(ballot.id, ballot.items[0].id, [1, 1, 0], clerk)
    voting.close_ballot(ballot.id)
    first = tally.enter_paper_count(ballot.id, ballot.items[0].id, [2, 0, 0], clerk)
    correction = tally.enter_paper_count(ballot.id, ballot.items[0].id, [1, 1, 0], clerk, "复核更正")
    assert correction.corrects_id == first.id and count(PaperCount) == 2  # nothing overwritten
    tally.enter_paper_count(ballot.id, ballot.items[1].id, [0, 2, 0], clerk)
    results = tally.tally(db.session.get(Ballot, ballot.id))
    assert results[0].total == {"yes": 5, "no": 1, "abstain": 0}
    assert results[1].total == {"yes": 0, "no": 6, "abstain": 0}
    assert tally.verify(db.session.get(Ballot, ballot.id)) == {"electronic": 4, "paper": 2, "voted": 6}


@pytest.mark.parametrize("values, message", [
    ([-1, 0, 0], "不能为负数"),
    ([2, 1, 0], "超过纸质投票代表人数 2"),
    (["x", 0, 0], "必须是整数"),
    (["１", 0, 0], "必须是整数"),
])
def test_bad_paper_counts_are_refused(app, users, values, message):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 1)
    voting.mark_paper(ballot.id, deputies[0].id, users["clerk"])
    voting.mark_paper(ballot.id, deputies[1].id, users["clerk"])
    voting.close_ballot(ballot.id)
    with pytest.raises(DomainError, match=message):
        tally.enter_paper_count(ballot.id, ballot.items[0].id, values, users["clerk"])
    assert count(PaperCount) == 0


def test_publish_needs_paper_counts_when_there_were_paper_voters(app, users):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 1)
    voting.mark_paper(ballot.id, deputies[0].id, users["clerk"])
    voting.close_ballot(ballot.id)
    with pytest.raises(DomainError, match="未录入纸质票"):
        tally.publish(ballot.id, users["staff"])
    assert db.session.get(Ballot, ballot.id).status == "closed"


def test_passing_rule_counts_all_deputies_and_marks_ties(app):
    meeting, deputies = make_meeting(10, checked_in=7)
    ballot = make_ballot(meeting, 4, places=2)
    plans = [["yes", "yes", "yes", "no"]] * 6 + [["no", "yes", "yes", "yes"]]
    for deputy, plan in zip(deputies, plans, strict=False):
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, plan), meeting.id)
    voting.close_ballot(ballot.id)
    results = tally.tally(db.session.get(Ballot, ballot.id))
    by_title = {r.item.title: r for r in results}
    # 10 deputies: passing needs 6 yes (more than half of ALL, not of the 7 present)
    assert by_title["项目1"].yes == 6 and by_title["项目1"].passed
    assert by_title["项目4"].yes == 1 and not by_title["项目4"].passed
    assert by_title["项目2"].rank == by_title["项目3"].rank == 1
    assert by_title["项目2"].outcome == by_title["项目3"].outcome == "selected"
    assert by_title["项目1"].outcome == "passed" and by_title["项目1"].rank == 3


@pytest.mark.parametrize("yes, places, outcomes", [
    ([9, 8, 8, 7], 2, ["selected", "tie", "tie", "passed"]),
    ([9, 8, 7, 3], 2, ["selected", "selected", "passed", "failed"]),
    ([9, 9, 9, 9], 3, ["tie", "tie", "tie", "tie"]),
    ([9, 5, 6, 8], None, ["selected", "failed", "selected", "selected"]),
    ([5, 5, 5, 5], 1, ["failed", "failed", "failed", "failed"]),
])
def test_rank_and_select(yes, places, outcomes):
    results = [tally.ItemResult(item=None, electronic={}, paper={}, total={"yes": y}) for y in yes]
    tally.rank_and_select(results, 10, places)
    assert [r.outcome for r in results] == outcomes


def test_verify_fails_loudly_when_counts_do_not_add_up(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot), meeting.id)
    voting.close_ballot(ballot.id)
    db.session.add(BallotChoice(ballot_id=ballot.id, item_id=ballot.items[0].id, choice="yes"))  # forged row
    db.session.commit()
    with pytest.raises(tally.CountMismatch):
        tally.verify(db.session.get(Ballot, ballot.id))
    with pytest.raises(DomainError, match="计票核对不一致"):
        tally.publish(ballot.id)
    assert db.session.get(Ballot, ballot.id).status == "closed"


def test_publish_posts_notice_and_creates_projects(app, users):
    from blueprints.noticeboard.models import Notice

    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 3, places=1)
    for deputy in deputies:
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, ["yes", "no", "yes"]), meeting.id)
    voting.close_ballot(ballot.id, users["staff"])
    tally.publish(ballot.id, users["staff"])
    ballot = db.session.get(Ballot, ballot.id)
    notice = db.session.get(Notice, ballot.notice_id)
    assert notice.category == "ballot_result" and "项目1" in notice.body and "赞成 3" in notice.body
    projects = db.session.scalars(select(Project)).all()
    # 项目1 and 项目3 tie for one place: neither is selected automatically
    assert projects == []
    assert "待主席团决定" in notice.body


def test_rating_ballot_for_the_year_and_progress_updates(app, users, county):
    from blueprints.ballots import projects

    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2, places=1)
    for deputy, plan in zip(deputies, [["yes", "no"]] * 3, strict=True):
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, plan), meeting.id)
    voting.close_ballot(ballot.id)
    tally.publish(ballot.id)
    project = db.session.scalar(select(Project))
    assert project.title == "项目1" and project.year == 2026
    staff = users["staff"]
    projects.post_update(project, 40, "主体完工", "道路硬化完成", staff)
    with pytest.raises(DomainError, match="0 到 100"):
        projects.post_update(project, 140, None, "x", staff)
    unit_user = users["unit"]
    with pytest.raises(DomainError, match="本单位"):
        projects.post_update(project, 50, None, "x", unit_user)
    assert db.session.get(Project, project.id).progress == 40
    rating = projects.create_rating_ballot(meeting, 2026)
    assert [i.project_id for i in rating.items] == [project.id] and rating.method == "rating"


def test_attendance_is_unique_per_meeting(app):
    from sqlalchemy.exc import IntegrityError

    meeting, deputies = make_meeting(2)
    db.session.add(Attendance(meeting_id=meeting.id, deputy_id=deputies[0].id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_check_in_records_attending_the_session_once(app):
    from blueprints.duties.models import Activity

    meeting, deputies = make_meeting(5, checked_in=0)
    meetings.check_in(meeting, deputies[0].id)
    with pytest.raises(Conflict, match="该代表已签到"):
        meetings.check_in(meeting, deputies[0].id)
    rows = db.session.scalars(select(Activity)).all()
    assert [(a.deputy_id, a.type_code, a.status, a.title) for a in rows] == [
        (deputies[0].id, "congress_session", "verified", meeting.title)]


# ---- one unit of work, refusals of the error family, constraint messages (issue 13) ------------------

def test_refusals_are_kinds_of_the_error_family():
    assert issubclass(voting.VoteRefused, Conflict) and voting.VoteRefused("x").status == 409
    assert issubclass(voting.BadVote, DomainError) and voting.BadVote("x").status == 422


def test_a_twin_receipt_is_refused_by_its_unique_constraint_as_already_voted(app, monkeypatch):
    """Two votes of one deputy in the same instant both pass the state check; the receipt's
    UNIQUE(ballot, deputy) refuses the second, and only that constraint says 您已投票."""
    from sqlalchemy.exc import IntegrityError

    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, ["yes", "no"]), meeting.id)
    monkeypatch.setattr(voting, "_check_voter", lambda *args, **kwargs: None)  # as if both checked at once
    with pytest.raises(voting.VoteRefused, match="^您已投票$") as refused:
        voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot, ["no", "no"]), meeting.id)
    assert isinstance(refused.value.__cause__, IntegrityError) and refused.value.status == 409
    with pytest.raises(voting.VoteRefused, match="^您已投票$"):
        voting.mark_paper(ballot.id, deputies[0].id)
    assert vote_rows() == (1, 1, 0)


def test_a_forged_paper_in_the_box_stops_the_close(app, monkeypatch):
    """A choice no form allows, sealed past the form check, is found when the box is opened: the
    close is refused with a message, the ballot stays open and its box untouched."""
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)
    voting.cast_vote(ballot.id, deputies[0].id, form_for(ballot), meeting.id)
    forged = {item.id: "maybe" for item in ballot.items}
    monkeypatch.setattr(voting, "parse_choices", lambda ballot, form: forged)
    voting.cast_vote(ballot.id, deputies[1].id, form_for(ballot), meeting.id)
    with pytest.raises(DomainError, match="票箱核对不一致") as refused:
        voting.close_ballot(ballot.id)
    assert refused.value.status == 422
    assert db.session.get(Ballot, ballot.id).status == "open"
    assert vote_rows() == (2, 2, 0) and count(BallotChoice) == 0


def _winning_ballot():
    """A closed ballot of 3 deputies where 项目1 is selected (so publishing creates a project)."""
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 3, places=1)
    for deputy in deputies:
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, ["yes", "no", "no"]), meeting.id)
    voting.close_ballot(ballot.id)
    return ballot.id


def test_publish_is_one_transaction_a_failure_after_the_notice_leaves_nothing(app, users, monkeypatch):
    from blueprints.noticeboard import services as noticeboard
    from blueprints.noticeboard.models import Notice

    ballot_id = _winning_ballot()
    real = noticeboard.publish_notice

    def notice_then_fail(*args, **kwargs):
        notice = real(*args, **kwargs)
        assert notice.id is not None  # the notice is written (flushed) ...
        raise RuntimeError("the step after publish_notice failed")  # ... and then publishing fails

    monkeypatch.setattr(noticeboard, "publish_notice", notice_then_fail)
    with pytest.raises(RuntimeError):
        tally.publish(ballot_id, users["staff"])
    db.session.expire_all()
    assert count(Notice) == 0 and count(Project) == 0
    ballot = db.session.get(Ballot, ballot_id)
    assert ballot.status == "closed" and ballot.published_at is None and ballot.notice_id is None
    assert count(AuditEntry, AuditEntry.action == "publish") == 0


def test_publish_commits_once(app, users):
    from sqlalchemy import event

    from blueprints.noticeboard.models import Notice

    ballot_id = _winning_ballot()
    commits = []
    listener = lambda conn: commits.append(conn)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        tally.publish(ballot_id, users["staff"])
    finally:
        event.remove(db.engine, "commit", listener)
    assert len(commits) == 1
    ballot = db.session.get(Ballot, ballot_id)
    assert ballot.status == "published" and db.session.get(Notice, ballot.notice_id) is not None
    assert db.session.scalars(select(Project.title)).all() == ["项目1"]


def test_a_refused_service_inside_a_callers_transaction_undoes_the_callers_work_too(app):
    """Services nest: the outermost block owns the commit; a refusal inside rolls back everything."""
    from blueprints.core.transaction import transaction

    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 1, open_it=False)
    with pytest.raises(voting.VoteRefused), transaction():
        voting.add_item(ballot, "项目2")
        voting.open_ballot(ballot.id)
        voting.open_ballot(ballot.id)  # refused: already open
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot.id)
    assert ballot.status == "draft" and [i.title for i in ballot.items] == ["项目1"]
