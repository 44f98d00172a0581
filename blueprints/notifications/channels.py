"""Channels and SMS providers: small classes in registries.

A channel turns an outbox row into something sent. ``inbox`` is written at once by services.notify
(it is a row in the same database, nothing to deliver); ``email`` and ``sms`` are sent by the
deliverer. Adding an SMS provider (a county's 阿里云短信 / 腾讯云短信 / carrier gateway)::

    @sms_provider("mygateway")
    class MyGateway(SmsProvider):
        def send(self, message, config): ...   # raise DeliveryError on failure

and set ``SMS_PROVIDER=mygateway``. Nothing here writes an address or a number to the log.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_DIGITS = re.compile(r"\+?\d[\d\s-]{6,}\d")


def scrub(text: object) -> str:
    """An error text without e-mail addresses or phone numbers (SMTP errors quote the recipient)."""
    return _DIGITS.sub("***", _EMAIL.sub("***@***", str(text)))[:500]


class DeliveryError(Exception):
    """The message was not sent; ``permanent`` ones are not retried."""

    def __init__(self, detail: str, *, permanent: bool = False):
        super().__init__(scrub(detail))
        self.permanent = permanent


CHANNELS: dict[str, type[Channel]] = {}
SMS_PROVIDERS: dict[str, type[SmsProvider]] = {}


def channel(name: str):
    def decorate(cls):
        cls.name = name
        CHANNELS[name] = cls
        return cls

    return decorate


def sms_provider(name: str):
    def decorate(cls):
        cls.name = name
        SMS_PROVIDERS[name] = cls
        return cls

    return decorate


class Channel:
    name = ""

    def __init__(self, config):
        self.config = config

    def send(self, message) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def message_id(message, config) -> str:
    """The same Message-ID every time this row is sent: a resend after a crash is recognisable."""
    domain = (config.get("MAIL_DEFAULT_SENDER") or "localhost").rpartition("@")[2].strip("> ") or "localhost"
    return f"<notification-{message.id}@{domain}>"


@channel("email")
class EmailChannel(Channel):
    """SMTP with MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS (STARTTLS), MAIL_USERNAME, MAIL_PASSWORD,
    MAIL_DEFAULT_SENDER. One connection is kept for a whole delivery run."""

    def __init__(self, config):
        super().__init__(config)
        self._smtp = None

    def _connection(self):
        if self._smtp is None:
            server = self.config.get("MAIL_SERVER")
            if not server:
                raise DeliveryError("MAIL_SERVER is not set")
            smtp = smtplib.SMTP(server, int(self.config.get("MAIL_PORT") or 25), timeout=30)
            if self.config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if self.config.get("MAIL_USERNAME"):
                smtp.login(self.config["MAIL_USERNAME"], self.config.get("MAIL_PASSWORD") or "")
            self._smtp = smtp
        return self._smtp

    def send(self, message) -> None:
        from .render import email_html

        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.config.get("MAIL_DEFAULT_SENDER") or "noreply@localhost"
        mail["To"] = message.address
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message, self.config)
        mail.set_content(message.body + (f"\n\n{message.link}" if message.link else ""))
        mail.add_alternative(email_html(message), subtype="html")
        try:
            self._connection().send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            raise DeliveryError(f"recipient refused: {exc}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


@channel("sms")
class SmsChannel(Channel):
    def __init__(self, config):
        super().__init__(config)
        name = config.get("SMS_PROVIDER") or "log"
        if name not in SMS_PROVIDERS:
            raise DeliveryError(f"unknown SMS_PROVIDER {name!r}", permanent=True)
        self.provider = SMS_PROVIDERS[name]()

    def send(self, message) -> None:
        self.provider.send(message, self.config)


class SmsProvider:
    name = ""

    def send(self, message, config) -> None:
        raise NotImplementedError


def sms_text(message) -> str:
    return f"【{message.subject}】{message.body}"[:300]


@sms_provider("log")
class LogProvider(SmsProvider):
    """Development: writes what would be sent to the application log, without the number."""

    def send(self, message, config) -> None:
        log.info("SMS (log provider) message #%s to user #%s: %s", message.id, message.user_id,
                 scrub(sms_text(message)))


@sms_provider("webhook")
class WebhookProvider(SmsProvider):
    """POSTs JSON {"id", "to", "text", "kind"} to SMS_WEBHOOK_URL. Headers: X-Timestamp and
    X-Signature = hex HMAC-SHA256(SMS_WEBHOOK_SECRET, timestamp + "." + body); X-Message-Id lets
    the gateway drop a resend after a crash. A 2xx answer is success, 4xx is permanent."""

    def send(self, message, config) -> None:
        url, secret = config.get("SMS_WEBHOOK_URL"), config.get("SMS_WEBHOOK_SECRET")
        if not url or not secret:
            raise DeliveryError("SMS_WEBHOOK_URL and SMS_WEBHOOK_SECRET must be set", permanent=True)
        if not url.startswith(("https://", "http://")):
            raise DeliveryError("SMS_WEBHOOK_URL must be an http(s) URL", permanent=True)
        body = json.dumps({"id": message.id, "to": message.address, "text": sms_text(message),
                           "kind": message.kind}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Timestamp": timestamp,
                   "X-Signature": signature, "X-Message-Id": str(message.id)}
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
        try:
            timeout = float(config.get("SMS_WEBHOOK_TIMEOUT", 10))
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"gateway answered HTTP {exc.code}", permanent=400 <= exc.code < 500
                                and exc.code not in (408, 429)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"gateway unreachable: {type(exc).__name__}") from None


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """For a gateway (and the tests): is this request signed with ``secret``?"""
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


