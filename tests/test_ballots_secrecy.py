"""The ballot box against a database reader (README "Secret ballots: the threat model").

An outsider who reads every table (and, on SQLite, every byte of the database and WAL files) while a
secret ballot is open finds no plaintext choice; after the close, the plaintext choices carry nothing
that lines them up with the receipts. The tally equals a recount of the sealed votes made before the
close deletes them. Fewer than 5 electronic votes do not close a secret ballot; non-canonical item
keys are refused; an open ballot stops the upgrade.
"""
from __future__ import annotations

import os
import re
import stat
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select, text

from blueprints.ballots import sealing, tally, voting
from blueprints.ballots.models import Ballot, BallotChoice, BallotReceipt, SealedVote
from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from tests.ballots_helpers import form_for, make_ballot, make_meeting

WORDS = {"yes", "no", "abstain", "satisfied", "basic", "unsatisfied"}
# Every voter's plan: deputy i chooses PLANS[i % 4] on the 3 items.
PLANS = [["yes", "no", "abstain"], ["abstain", "abstain", "yes"], ["no", "yes", "yes"], ["abstain", "no", "no"]]


def _vote_everyone(n: int = 8):
    meeting, deputies = make_meeting(n)
    ballot = make_ballot(meeting, 3, secret=True)
    for index, deputy in enumerate(deputies):
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, PLANS[index % 4]), meeting.id)
    ballot_id = ballot.id
    db.session.remove()
    return meeting, deputies, ballot_id


def every_row():
    """What a reader with SELECT on every table sees: (table, row) for every row of every table."""
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as conn:
        for table in metadata.tables.values():
            for row in conn.execute(select(table)):
                yield table.name, row


def plaintext_choices_anywhere() -> list:
    found = []
    for name, row in every_row():
        for value in row:
            if isinstance(value, str) and (value in WORDS or re.search(r'"(yes|no|abstain)"', value)):
                found.append((name, value))
    return found


def sqlite_files() -> list[Path]:
    path = Path(db.engine.url.database)
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def bare_word_in_files(word: bytes) -> int:
    """Occurrences of a choice word in the SQLite files that are not inside the CHECK constraints'
    SQL ('abstain' in quotes): a stored choice or a JSON paper would show it bare or in double quotes."""
    hits = 0
    for path in sqlite_files():
        data = path.read_bytes()
        hits += sum(1 for m in re.finditer(re.escape(word), data) if data[m.start() - 1:m.start()] != b"'")
    return hits


def test_an_outsider_reading_every_table_finds_no_choice_while_the_ballot_is_open(app):
    _vote_everyone()
    assert db.session.scalar(select(func.count()).select_from(BallotChoice)) == 0
    assert db.session.scalar(select(func.count()).select_from(SealedVote)) == 8
    assert plaintext_choices_anywhere() == []
    if db.engine.dialect.name == "sqlite":
        assert bare_word_in_files(b"abstain") == 0  # database, WAL and shared-memory files, every byte
    else:
        # xmin links a receipt to the rows written in its transaction: only the opaque sealed vote.
        linked = db.session.execute(text(
            "SELECT count(*) FROM ballot_receipts r JOIN ballot_choices c ON c.xmin = r.xmin")).scalar()
        assert linked == 0
        sealed_linked = db.session.execute(text(
            "SELECT count(*) FROM ballot_receipts r JOIN ballot_sealed_votes s ON s.xmin = r.xmin")).scalar()
        assert sealed_linked == 8  # what the reader gets: voter -> ciphertext, which says nothing


def test_after_the_close_no_choice_lines_up_with_a_receipt(app):
    meeting, deputies, ballot_id = _vote_everyone()
    ciphertexts = list(db.session.scalars(select(SealedVote.ciphertext)))
    voting.close_ballot(ballot_id)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(SealedVote)) == 0
    assert db.session.get(Ballot, ballot_id).wrapped_private_key is None
    assert db.session.scalar(select(func.count()).select_from(BallotChoice)) == 24
    if db.engine.dialect.name == "sqlite":
        wal = Path(f"{db.engine.url.database}-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and truncated after the close
        data = b"".join(p.read_bytes() for p in sqlite_files())
        assert not any(c in data for c in ciphertexts)  # secure_delete zeroed the sealed votes
        assert bare_word_in_files(b"abstain") > 0  # the search above does see stored choices
        rows = db.session.execute(text("SELECT id FROM ballot_choices")).scalars().all()
    else:
        # One transaction wrote every choice: one xmin, the close's, shared with no receipt.
        xmins = db.session.execute(text("SELECT DISTINCT xmin::text FROM ballot_choices")).scalars().all()
        assert len(xmins) == 1
        assert db.session.execute(text("SELECT count(*) FROM ballot_receipts r JOIN ballot_choices c"
                                       " ON c.xmin = r.xmin")).scalar() == 0
        rows = db.session.execute(text("SELECT id FROM ballot_choices ORDER BY ctid")).scalars().all()
    assert rows == sorted(rows)  # stored in random-id order, whatever order the deputies voted in
    receipt_columns = set(BallotReceipt.__table__.c.keys())
    assert not receipt_columns & {"item_id", "choice"}


def test_the_tally_equals_a_recount_of_the_sealed_votes(app):
    meeting, deputies, ballot_id = _vote_everyone(11)
    ballot = db.session.get(Ballot, ballot_id)
    key = sealing.unwrap_private_key(ballot.id, ballot.wrapped_private_key)
    recount = Counter()
    for ciphertext in db.session.scalars(select(SealedVote.ciphertext).where(SealedVote.ballot_id == ballot_id)):
        for item_id, choice in sealing.open_sealed(key, ciphertext).items():
            recount[item_id, choice] += 1
    expected = Counter()
    for index in range(11):
        for item, choice in zip(ballot.items, PLANS[index % 4], strict=True):
            expected[item.id, choice] += 1
    assert recount == expected
    voting.close_ballot(ballot_id)
    results = tally.tally(db.session.get(Ballot, ballot_id))
    assert Counter({(r.item.id, c): n for r in results for c, n in r.electronic.items() if n}) == recount


def test_every_sealed_vote_of_a_ballot_has_the_same_length(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2, secret=True)
    for deputy, plan in zip(deputies, [["yes", "no"], ["abstain", "abstain"], ["no", "no"]], strict=True):
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot, plan), meeting.id)
    assert len({len(c) for c in db.session.scalars(select(SealedVote.ciphertext))}) == 1


def test_the_wrapped_key_needs_the_secret_key(app):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 1)
    wrapped = db.session.get(Ballot, ballot.id).wrapped_private_key
    sealing.unwrap_private_key(ballot.id, wrapped)
    secret = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret"
    try:
        with pytest.raises(Exception, match="[Dd]ecrypt"):
            sealing.unwrap_private_key(ballot.id, wrapped)
    finally:
        app.config["SECRET_KEY"] = secret


def test_a_secret_ballot_with_fewer_than_5_electronic_votes_does_not_close(app, users):
    meeting, deputies = make_meeting(8)
    ballot = make_ballot(meeting, 2, secret=True)
    for deputy in deputies[:4]:
        voting.cast_vote(ballot.id, deputy.id, form_for(ballot), meeting.id)
    with pytest.raises(voting.VoteRefused, match="少于 5 张") as refused:
        voting.close_ballot(ballot.id)
    assert refused.value.status == 409
    assert db.session.get(Ballot, ballot.id).status == "open"
    assert db.session.scalar(select(func.count()).select_from(SealedVote)) == 4
    voting.cast_vote(ballot.id, deputies[4].id, form_for(ballot), meeting.id)
    voting.close_ballot(ballot.id)
    assert db.session.get(Ballot, ballot.id).status == "closed"


def test_a_paper_only_or_named_ballot_closes_with_few_votes(app, users):
    meeting, deputies = make_meeting(6)
    paper = make_ballot(meeting, 1, secret=True)
    voting.mark_paper(paper.id, deputies[0].id, users["clerk"])
    voting.close_ballot(paper.id)  # no electronic vote: nothing to expose
    named = make_ballot(meeting, 1, secret=False)
    voting.cast_vote(named.id, deputies[0].id, form_for(named), meeting.id)
    voting.close_ballot(named.id)  # a named ballot is public by design
    assert {b.status for b in db.session.scalars(select(Ballot))} == {"closed"}


@pytest.mark.parametrize("key", ["item-0{id}", "item-00{id}", "item-+{id}", "item- {id}", "item-{id}.0"])
def test_a_second_spelling_of_an_item_key_is_refused(app, key):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 2)
    form = {**form_for(ballot, "yes"), key.format(id=ballot.items[0].id): "no"}
    with pytest.raises(DomainError) as refused:
        voting.cast_vote(ballot.id, deputies[0].id, form, meeting.id)
    assert refused.value.status == 422
    assert db.session.scalar(select(func.count()).select_from(BallotReceipt)) == 0


def test_a_non_canonical_key_on_the_phone_page_is_422_and_records_nothing(client, auth, make_user):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 1)
    make_user("deputy", "d0", deputy=deputies[0])
    auth.login("d0")
    item = ballot.items[0].id
    response = client.post(f"/meetings/{meeting.id}/vote",
                           data={"ballot_id": str(ballot.id), f"item-{item}": "yes", f"item-0000{item}": "no"})
    assert response.status_code == 422 and "项目编号重复或不规范" in response.text
    assert db.session.scalar(select(func.count()).select_from(BallotReceipt)) == 0


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_the_sqlite_files_are_readable_by_the_owner_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite files")
    meeting, deputies = make_meeting(3)
    make_ballot(meeting, 1)
    for path in sqlite_files():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_upgrade_refuses_a_ballot_open_for_voting(tmp_path):
    """0008 cannot seal votes already stored in plaintext: the operator is told to close the ballot."""
    from alembic import command
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import BASE_CONFIG
    from tests.data.demo_dump import insert_rows, read
    from tests.test_upgrade import DUMP, empty_database

    dump = read(DUMP)
    assert "open" in {row[dump["tables"]["ballots"]["columns"].index("status")]
                      for row in dump["tables"]["ballots"]["rows"]}
    with empty_database(tmp_path) as url:
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision=dump["revision"])
            with db.engine.begin() as conn:
                insert_rows(conn, dump["tables"])
            config = app.extensions["migrate"].migrate.get_config()
            with pytest.raises(RuntimeError, match=r"ballots still open for voting: #2 .*Close them"):
                command.upgrade(config, "head")  # what `flask db upgrade` runs (it logs this and exits 1)
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == dump["revision"]
            db.engine.dispose()
