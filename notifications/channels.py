"""The channels that leave the building: e-mail over SMTP, webhooks (partners, the SMS gateway).

In-app notifications need no sending: the dispatcher writes them with the event's deliveries.
Every message carries its idempotency key (``X-Tdcflow-Event-Id``, the e-mail's Message-ID), so
a receiver can drop the one duplicate a crash between sending and marking may cause.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from workflows.clock import now
from workflows.config import Settings

WEBHOOK_TIMEOUT = 5.0  # seconds
SMTP_TIMEOUT = 10.0  # seconds; with SEND_BATCH the worst case stays within the claim's lease
USER_AGENT = "tdcflow-webhook/1"


class DeliveryError(Exception):
    """Sending failed; ``permanent`` failures are not retried (they go to the dead letters at once)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Email:
    to: str
    to_name: str | None
    subject: str
    text: str
    html: str | None
    idempotency_key: str
    event_id: str | None


@dataclass(frozen=True)
class Endpoint:
    """Where a webhook goes (read from the Webhook row when the delivery is claimed)."""

    url: str
    secret: str
    active: bool


# -- e-mail -----------------------------------------------------------------------------------------


def message_id(idempotency_key: str, mail_from: str) -> str:
    """A Message-ID that is the same at every attempt of the same delivery."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "tdcflow.local"
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _qp_utf8() -> Charset:
    charset = Charset("utf-8")
    charset.body_encoding = QP  # readable in the raw message, 7-bit safe for any relay
    return charset


def build_email(settings: Settings, email: Email) -> Message:
    """multipart/alternative (text, then HTML), UTF-8 quoted-printable; headers RFC 2047-encoded.

    Built with the classic ``email.mime`` classes and ``Header``: the modern policy's header
    folding (Python 3.11) can drop the space between two encoded words of a long Vietnamese
    subject ("việc cần" arrives as "việccần"); ``Header`` keeps every space inside the words.
    """
    message = MIMEMultipart("alternative")
    message["Subject"] = Header(email.subject, "utf-8")
    message["From"] = formataddr(parseaddr(settings.mail_from), charset="utf-8")
    message["To"] = formataddr((email.to_name or "", email.to), charset="utf-8")
    message["Date"] = format_datetime(now())
    message["Message-ID"] = message_id(email.idempotency_key, settings.mail_from)
    message["X-Tdcflow-Event-Id"] = email.event_id or email.idempotency_key
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.attach(MIMEText(email.text, "plain", _qp_utf8()))
    if email.html:
        message.attach(MIMEText(email.html, "html", _qp_utf8()))
    return message


class Mailer:
    """One SMTP connection for a run of the dispatcher, opened on first use, reopened after an error.

    When the server cannot be reached, the rest of the run's e-mails fail at once with the same
    error (each is retried later with backoff) instead of each waiting for its own timeout.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("no SMTP host configured")
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: str | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        smtp: smtplib.SMTP
        if s.smtp_port == 465:  # implicit TLS (SMTPS)
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT)
        try:
            if not isinstance(smtp, smtplib.SMTP_SSL):
                smtp.ehlo()
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, email: Email) -> None:
        if self._unreachable is not None:
            raise DeliveryError(self._unreachable)
        message = build_email(self.settings, email)
        sender = parseaddr(self.settings.mail_from)[1]
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self._unreachable = f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port}: {exc}"[:2000]
                raise DeliveryError(self._unreachable) from exc
        try:
            self._smtp.send_message(message, from_addr=sender, to_addrs=[email.to])
        except smtplib.SMTPRecipientsRefused as exc:
            # The server keeps talking; a 5xx for the address is final (no such mailbox).
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"SMTP refused {email.to}: {exc.recipients}"[:2000],
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}"[:2000]) from exc

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- webhooks ---------------------------------------------------------------------------------------


def json_body(data: dict[str, Any]) -> str:
    """The exact text that is signed and sent (kept on the delivery, the same at every attempt)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: a 3xx counts as a failure (no silent re-POST as GET)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def post_json(endpoint: Endpoint, body: str, event_id: str, timeout: float = WEBHOOK_TIMEOUT) -> int:
    """POST the body, signed; a 2xx is a delivery, anything else raises ``DeliveryError``."""
    if not endpoint.active:
        raise DeliveryError("webhook is disabled", permanent=True)
    raw = body.encode("utf-8")
    request = urllib.request.Request(
        endpoint.url,
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Tdcflow-Event-Id": event_id,
            "X-Tdcflow-Signature": signature(endpoint.secret, raw),
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
        raise DeliveryError(f"HTTP {exc.code} from {endpoint.url}: {detail}"[:2000]) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{endpoint.url}: {reason}"[:2000]) from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from {endpoint.url}")
    return status


def event_body(event_id: str, event_type: str, created_at: str, payload: dict[str, Any]) -> str:
    """A partner webhook's body."""
    return json_body({"id": event_id, "type": event_type, "created_at": created_at, "dossier": payload})


def sms_body(event_id: str, phone: str, text: str) -> str:
    """The SMS gateway's body: the number and a short Vietnamese text (and the id, to drop repeats)."""
    return json_body({"id": event_id, "to": phone, "text": text})
