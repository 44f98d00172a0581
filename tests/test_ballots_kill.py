"""A worker process killed mid-vote (SIGKILL between the receipt and the sealed vote): the vote is absent,
nothing stays locked, and the deputy can then vote normally."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from blueprints.ballots import voting
from blueprints.ballots.models import BallotChoice, BallotReceipt, SealedVote
from blueprints.core.extensions import db
from tests.ballots_helpers import form_for, make_ballot, make_meeting

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import json, sys, time
from app import create_app
from blueprints.ballots import voting
from tests.conftest import BASE_CONFIG
args = json.loads(sys.argv[1])
app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": args["url"]})
with app.app_context():
    def hang(**row):
        print("receipt written, sealed vote pending", flush=True)
        time.sleep(60)
    voting.SealedVote = hang
    voting.cast_vote(args["ballot"], args["deputy"], args["form"], args["meeting"])
"""


def test_killed_worker_leaves_no_half_vote(app, database_url):
    meeting, deputies = make_meeting(3)
    ballot = make_ballot(meeting, 3)
    form = form_for(ballot)
    args = {"url": database_url, "ballot": ballot.id, "deputy": deputies[0].id, "form": form, "meeting": meeting.id}
    db.session.rollback()
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = child.stdout.readline()
        assert "receipt written" in line
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(BallotReceipt)) == 0
    assert db.session.scalar(select(func.count()).select_from(BallotChoice)) == 0
    assert db.session.scalar(select(func.count()).select_from(SealedVote)) == 0
    voting.cast_vote(ballot.id, deputies[0].id, form, meeting.id)  # nothing left locked
    assert db.session.scalar(select(func.count()).select_from(SealedVote)) == 1
