"""The demo: `notify remind` then `notify deliver` sends Chinese e-mails to example.org addresses;
running both again sends nothing more."""
from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from blueprints.core.extensions import db
from blueprints.notifications import delivery, reminders
from blueprints.notifications.models import NotificationContact, OutboxMessage


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp(demo):
    handler = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    demo.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="rdgw@example.org",
                       SMS_PROVIDER="log")
    yield handler
    controller.stop()


def test_demo_remind_then_deliver_sends_chinese_emails_once(demo, smtp):
    assert db.session.scalar(select(func.count()).select_from(NotificationContact)
                             .where(NotificationContact.email.like("%@example.org"))) > 200
    queued = reminders.remind()
    assert queued > 0
    result = delivery.deliver()
    assert result.sent > 0 and result.failed == 0
    mails = list(smtp.messages)
    assert mails and all(m["To"].endswith("@example.org") for m in mails)
    subjects = [m["Subject"] for m in mails]
    assert any(s.startswith(("办理期限提醒", "已超期", "明天到期", "今天到期", "进度通报提醒")) for s in subjects)
    assert any("超期件日报" in s for s in subjects)
    assert reminders.remind() == 0
    again = delivery.deliver()
    assert again.sent == 0 and len(smtp.messages) == len(mails)
    waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status.in_(("queued", "sending")),
                                       OutboxMessage.channel == "email"))
    assert waiting == 0
