"""Delivering 10,000 queued e-mails to a local SMTP server (aiosmtpd on a loopback port).

    python -m tests.bench.notifications                          # a temporary SQLite file
    python -m tests.bench.notifications --database URL --reset   # e.g. a throwaway PostgreSQL database
    python -m tests.bench.notifications --workers 2              # several deliverer processes at once

Prints messages per second for queueing (notify() in batches of 100 per transaction) and for delivery
(claim → send → mark sent, one transaction per message), and checks that every message arrived once.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from blueprints.core.extensions import db
from blueprints.core.models import User
from blueprints.core.transaction import transaction

from .registry import app_for, log, prepare_database

ROOT = Path(__file__).resolve().parents[2]


class Counter:
    def __init__(self):
        self.ids = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.ids.append(line)
                break
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database or f"sqlite:///{tmp}/bench.db"
    prepare_database(url, args.reset)
    app = app_for(url)
    from blueprints.notifications import delivery, services

    counter = Counter()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="rdgw@example.org")
    with app.app_context():
        with transaction():
            users = [User(username=f"u{i}", display_name=f"用户{i}", role="unit", password_hash="x")
                     for i in range(100)]
            db.session.add_all(users)
        for user in users:
            services.set_contact(user.id, email=f"u{user.id}@example.org", mobile=None)
        services.set_preference(None, "general", "inbox", False)
        started = time.perf_counter()
        per_user = args.messages // len(users)
        for n in range(per_user):
            with transaction():
                services.notify([u.id for u in users], "general", f"通知第 {n + 1} 号", "请按时办理。", link="/x")
        queued = time.perf_counter() - started
        total = per_user * len(users)
        log(f"queued {total} e-mails in {queued:.1f} s: {total / queued:.0f} messages/s")
        db.session.remove()
        started = time.perf_counter()
        if args.workers == 1:
            result = delivery.deliver()
            sent = result.sent
        else:
            env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "SECRET_KEY": "bench",
                   "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port), "MAIL_DEFAULT_SENDER": "rdgw@example.org"}
            children = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "notify", "deliver"],
                                         cwd=ROOT, env=env, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
            for child in children:
                child.wait()
            sent = len(counter.ids)
        elapsed = time.perf_counter() - started
    controller.stop()
    dialect = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{dialect}, {args.workers} deliverer(s): {sent} e-mails delivered in {elapsed:.1f} s: "
          f"{sent / elapsed:.0f} messages/s; received {len(counter.ids)}, distinct {len(set(counter.ids))}")


if __name__ == "__main__":
    main()
