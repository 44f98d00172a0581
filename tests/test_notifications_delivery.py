"""Delivery of the outbox to a real SMTP server (aiosmtpd on a loopback port) and a local webhook:
retries with backoff, attempts recorded, quiet hours for SMS, the daily digest, several deliverers at
once, a deliverer killed mid-run, and no address or number in any log line."""
from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from blueprints.core.extensions import db
from blueprints.core.timeutil import LOCAL_TZ
from blueprints.notifications import delivery, services
from blueprints.notifications.channels import verify_signature
from blueprints.notifications.models import DeliveryAttempt, OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=LOCAL_TZ).astimezone(UTC)  # 12:00 in Asia/Shanghai
EMAIL, MOBILE = "unit-head@example.org", "13812345678"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp(app):
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="rdgw@example.org")
    handler.port = port
    yield handler
    controller.stop()


class Gateway(BaseHTTPRequestHandler):
    answers: list = []
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        status = self.answers.pop(0) if self.answers else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(app):
    Gateway.answers, Gateway.received = [], []
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(SMS_PROVIDER="webhook", SMS_WEBHOOK_URL=f"http://127.0.0.1:{server.server_port}/sms",
                      SMS_WEBHOOK_SECRET="s3cret")
    yield Gateway
    server.shutdown()


@pytest.fixture
def unit_user(users):
    services.set_contact(users["unit"].id, email=EMAIL, mobile=MOBILE)
    return users["unit"]


def queue(user, n=1, kind="case_assigned", now=NOON, subject="交办：县城路灯不亮"):
    for i in range(n):
        services.notify([user.id], kind, f"{subject} {i + 1}" if n > 1 else subject,
                        "请于三个月内办理并答复。", link=f"/cases/{i + 1}", now=now)


def statuses() -> dict:
    db.session.rollback()  # a fresh read: other processes may have written
    return {m.id: m.status for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))}


def test_chinese_email_to_a_real_smtp_server_then_nothing_more(smtp, unit_user):
    queue(unit_user, kind="deadline")  # deadline: inbox + email + sms by default
    result = delivery.deliver(now=NOON)
    assert (result.sent, result.failed) == (2, 0)  # the e-mail and the SMS (log provider)
    [mail] = smtp.messages
    assert mail["Subject"] == "交办：县城路灯不亮" and mail["To"] == EMAIL
    assert mail["Message-ID"].startswith("<notification-")
    assert "请于三个月内办理并答复。" in mail.get_body(("plain",)).get_content()
    assert "<h2>交办：县城路灯不亮</h2>" in mail.get_body(("html",)).get_content()
    assert set(statuses().values()) == {"sent"}
    assert db.session.scalar(select(func.count()).select_from(DeliveryAttempt)
                             .where(DeliveryAttempt.outcome == "sent")) == 2
    assert delivery.deliver(now=NOON + timedelta(hours=1)).sent == 0
    assert len(smtp.messages) == 1


def test_a_down_server_is_retried_with_backoff_and_each_attempt_recorded(app, smtp, unit_user):
    services.set_preference(None, "case_assigned", "sms", False)
    queue(unit_user)
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    result = delivery.deliver(now=NOON)
    assert (result.sent, result.retried) == (0, 1)
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "queued" and message.attempts == 1
    first_due = message.due_at
    assert first_due >= NOON + timedelta(seconds=59)
    assert delivery.deliver(now=NOON + timedelta(seconds=30)).retried == 0  # not due yet
    delivery.deliver(now=first_due + timedelta(seconds=1))
    db.session.expire_all()
    message = db.session.scalar(select(OutboxMessage))
    assert message.attempts == 2 and message.due_at - first_due >= timedelta(seconds=119)  # doubled
    app.config["MAIL_PORT"] = smtp.port
    assert delivery.deliver(now=message.due_at + timedelta(seconds=1)).sent == 1
    attempts = db.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
    assert [a.outcome for a in attempts] == ["error", "error", "sent"]
    assert all("ConnectionRefused" in a.detail for a in attempts[:2])
    assert len(smtp.messages) == 1


def test_gives_up_after_the_last_attempt(app, smtp, unit_user):
    app.config.update(NOTIFY_MAX_ATTEMPTS=2, MAIL_PORT=free_port())
    services.set_preference(None, "case_assigned", "sms", False)
    queue(unit_user)
    delivery.deliver(now=NOON)
    delivery.deliver(now=NOON + timedelta(hours=1))
    assert list(statuses().values()) == ["failed"]
    assert delivery.deliver(now=NOON + timedelta(days=1)).sent == 0


def test_a_refused_recipient_fails_at_once_and_the_log_does_not_name_it(smtp, users, caplog):
    services.set_contact(users["unit"].id, email="refused-13812345678@example.org", mobile=None)
    queue(users["unit"])
    with caplog.at_level(logging.DEBUG):
        result = delivery.deliver(now=NOON)
    assert result.failed == 1 and list(statuses().values()) == ["failed"]
    attempt = db.session.scalar(select(DeliveryAttempt))
    assert "refused" in attempt.detail and "example.org" not in attempt.detail and "1381234" not in attempt.detail
    ours = [r for r in caplog.records if r.name != "mail.log"]  # mail.log: the test's own SMTP server
    assert ours
    for record in ours:
        line = record.getMessage()
        assert "example.org" not in line and "13812345678" not in line


def test_sms_waits_for_quiet_hours_to_end(app, unit_user, caplog):
    night = datetime(2026, 12, 1, 23, 30, tzinfo=LOCAL_TZ).astimezone(UTC)
    services.set_preference(None, "case_assigned", "email", False)
    queue(unit_user, now=night)
    sms = db.session.scalar(select(OutboxMessage))
    assert sms.due_at.astimezone(LOCAL_TZ) == datetime(2026, 12, 2, 8, 0, tzinfo=LOCAL_TZ)
    assert delivery.deliver(now=night + timedelta(hours=1)).sent == 0
    assert delivery.deliver(now=datetime(2026, 12, 2, 7, 59, tzinfo=LOCAL_TZ)).sent == 0
    with caplog.at_level(logging.INFO):
        assert delivery.deliver(now=datetime(2026, 12, 2, 8, 1, tzinfo=LOCAL_TZ)).sent == 1
    lines = [r.getMessage() for r in caplog.records]
    assert any("SMS (log provider)" in line and "交办：县城路灯不亮" in line for line in lines)
    assert not any(MOBILE in line or MOBILE[-8:] in line for line in lines)


def test_an_sms_retry_falling_at_night_waits_for_the_morning():
    assert services.next_sms_time(datetime(2026, 12, 1, 21, 59, tzinfo=LOCAL_TZ)).hour == 21
    late = services.next_sms_time(datetime(2026, 12, 1, 22, 0, tzinfo=LOCAL_TZ)).astimezone(LOCAL_TZ)
    assert (late.day, late.hour) == (2, 8)
    early = services.next_sms_time(datetime(2026, 12, 2, 3, 0, tzinfo=LOCAL_TZ)).astimezone(LOCAL_TZ)
    assert (early.day, early.hour) == (2, 8)


def test_webhook_provider_signs_and_retries(app, gateway, unit_user):
    services.set_preference(None, "case_assigned", "email", False)
    queue(unit_user)
    gateway.answers = [503]
    assert delivery.deliver(now=NOON).retried == 1
    assert delivery.deliver(now=NOON + timedelta(minutes=2)).sent == 1
    headers, body = gateway.received[-1]
    payload = json.loads(body)
    assert payload["to"] == MOBILE and "交办：县城路灯不亮" in payload["text"]
    assert verify_signature("s3cret", headers["X-Timestamp"], body, headers["X-Signature"])
    assert not verify_signature("other", headers["X-Timestamp"], body, headers["X-Signature"])
    assert headers["X-Message-Id"] == str(payload["id"])


def test_webhook_4xx_is_permanent(app, gateway, unit_user):
    services.set_preference(None, "case_assigned", "email", False)
    queue(unit_user)
    gateway.answers = [400]
    assert delivery.deliver(now=NOON).failed == 1


def test_daily_digest_folds_the_days_emails_into_one(app, smtp, users):
    services.set_contact(users["unit"].id, email=EMAIL, mobile=None, email_digest=True)
    early = datetime(2026, 12, 1, 6, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    queue(users["unit"], n=3, now=early)
    assert delivery.deliver(now=early).sent == 0  # before NOTIFY_DIGEST_HOUR (08:00)
    result = delivery.deliver(now=NOON)
    assert (result.digests, result.sent) == (1, 1)
    [mail] = smtp.messages
    assert "共 3 条" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert all(f"交办：县城路灯不亮 {i}" in text for i in (1, 2, 3))
    queue(users["unit"], n=1, now=NOON)
    assert delivery.deliver(now=NOON + timedelta(hours=2)).sent == 0  # one digest a day
    tomorrow = NOON + timedelta(days=1)
    assert delivery.deliver(now=tomorrow).sent == 1
    assert len(smtp.messages) == 2


# ---- several processes, and a process killed ----------------------------------------------------

def child_env(database_url: str, smtp, **extra) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "SECRET_KEY": "t",
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port), "MAIL_DEFAULT_SENDER": "rdgw@example.org",
            **{k: str(v) for k, v in extra.items()}}


def queue_emails(user, n: int) -> None:
    services.set_preference(None, "general", "inbox", False)
    for i in range(n):
        services.notify([user.id], "general", f"通知 {i + 1}", "正文")


def received_ids(smtp) -> list[str]:
    return [m["Message-ID"] for m in smtp.messages]


def test_several_deliverers_at_once_send_each_message_once(database_url, smtp, unit_user):
    queue_emails(unit_user, 60)
    db.session.rollback()
    children = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "notify", "deliver"], cwd=ROOT,
                                 env=child_env(database_url, smtp, NOTIFY_BATCH_SIZE=5),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(3)]
    outputs = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), outputs
    ids = received_ids(smtp)
    assert len(ids) == 60 and len(set(ids)) == 60
    assert set(statuses().values()) == {"sent"}
    workers = set(db.session.scalars(select(DeliveryAttempt.worker)))
    assert len(workers) >= 2  # they really shared the work
    for out, err in outputs:
        assert EMAIL not in out + err


CRASH = """
import os, signal, sys
from app import create_app
from blueprints.notifications import delivery
after, where = int(sys.argv[1]), sys.argv[2]
app = create_app()
done = [0]
mark_sent = delivery.mark_sent
def crashing(item, worker):
    done[0] += 1
    if where == "after-mark":
        mark_sent(item, worker)
    if done[0] >= after:
        os.kill(os.getpid(), signal.SIGKILL)
    if where != "after-mark":
        mark_sent(item, worker)
delivery.mark_sent = crashing
with app.app_context():
    delivery.deliver()
"""


def run_crashing(database_url, smtp, after: int, where: str):
    child = subprocess.run([sys.executable, "-c", CRASH, str(after), where], cwd=ROOT, timeout=120,
                           env=child_env(database_url, smtp, NOTIFY_BATCH_SIZE=8, NOTIFY_LEASE_SECONDS=3),
                           capture_output=True, text=True)
    assert child.returncode == -9, child.stderr


def deliver_after_lease(database_url, smtp):
    time.sleep(3.2)  # the dead deliverer's lease (NOTIFY_LEASE_SECONDS=3) runs out
    child = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "notify", "deliver"], cwd=ROOT,
                           env=child_env(database_url, smtp, NOTIFY_LEASE_SECONDS=3), timeout=120,
                           capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    return child


def test_killed_after_recording_a_send_resends_nothing_and_loses_nothing(database_url, smtp, unit_user):
    queue_emails(unit_user, 20)
    db.session.rollback()
    run_crashing(database_url, smtp, 5, "after-mark")
    assert len(smtp.messages) == 5
    before = statuses()
    assert list(before.values()).count("sent") == 5
    assert list(before.values()).count("sending") == 3  # the rest of its claimed batch, leased
    deliver_after_lease(database_url, smtp)
    ids = received_ids(smtp)
    assert len(ids) == 20 and len(set(ids)) == 20  # every message once
    assert set(statuses().values()) == {"sent"}


def test_killed_between_send_and_record_resends_only_that_one_with_the_same_message_id(
        database_url, smtp, unit_user):
    queue_emails(unit_user, 10)
    db.session.rollback()
    run_crashing(database_url, smtp, 3, "before-mark")
    assert len(smtp.messages) == 3 and list(statuses().values()).count("sent") == 2
    deliver_after_lease(database_url, smtp)
    ids = received_ids(smtp)
    assert len(set(ids)) == 10 and len(ids) == 11
    [repeated] = [i for i in set(ids) if ids.count(i) == 2]
    assert repeated == ids[2]  # the third message, the one in flight, under the same Message-ID


def test_a_pass_that_outlives_its_lease_leaves_the_rest(app, smtp, unit_user, monkeypatch):
    services.set_preference(None, "case_assigned", "sms", False)
    queue(unit_user, n=4)
    app.config["NOTIFY_LEASE_SECONDS"] = 10
    clock = iter([0.0, 1.0, 6.0, 6.0, 6.0])
    monkeypatch.setattr(delivery, "_clock", lambda: next(clock))
    assert delivery.deliver(now=NOON, batch_size=4).sent == 1  # the second send would start past the margin
    assert list(statuses().values()).count("sending") == 3  # taken again once their lease has run out


def test_cli_once_and_the_log_names_no_address(database_url, smtp, unit_user):
    services.set_preference(None, "case_assigned", "inbox", False)
    queue(unit_user, n=3)
    db.session.rollback()
    child = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "notify", "deliver"], cwd=ROOT,
                           env=child_env(database_url, smtp, SMS_PROVIDER="log"), timeout=120,
                           capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    sms_now = delivery.sms_allowed(datetime.now(UTC))  # the child runs on the real clock
    assert f"已发送 {6 if sms_now else 3} 条" in child.stdout
    assert ("SMS (log provider)" in child.stderr) == sms_now
    assert "message #1 (email, case_assigned) sent" in child.stderr
    for line in (child.stdout + child.stderr).splitlines():
        assert EMAIL not in line and MOBILE not in line
