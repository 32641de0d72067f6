"""Real receivers for the notification tests: an SMTP server (aiosmtpd) and an HTTP endpoint, both on
loopback, each recording what it got. No mocks: the dispatcher talks to them over sockets."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Mail:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "no text part"
        return part.get_content()

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, "no HTML part"
        return part.get_content()

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def event_id(self) -> str:
        return str(self.message["X-Tdcflow-Event-Id"])


class MailSink:
    """The aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mails: list[Mail] = []
        self.port = 0
        self.unknown: set[str] = set()  # mailboxes that do not exist here (550 at RCPT)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self._mails.append(Mail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    @property
    def mails(self) -> list[Mail]:
        with self._lock:
            return list(self._mails)

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.rcpt_tos]

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()


class _LoopbackController(Controller):
    """aiosmtpd's threaded controller on a port the system picks (port 0), read back once bound."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        self.handler.port = self.port
        super()._trigger_server()


def start_smtp(port: int = 0) -> tuple[Controller, MailSink]:
    """A working SMTP server on loopback (on ``port``, or one the system picks)."""
    sink = MailSink()
    controller = _LoopbackController(sink, hostname="127.0.0.1", port=port, server_hostname="mail.test")
    controller.start()
    return controller, sink


class DownSmtp:
    """A mail server that is down: it accepts each connection only to answer "421 Service not
    available" and hang up (as a relay in maintenance does), counting the connections."""

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self.connections = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self._socket.listen(16)
        self._socket.settimeout(0.05)
        self.port = self._socket.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.connections += 1
            with connection:
                connection.sendall(b"421 4.3.2 Service not available, closing transmission channel\r\n")

    def stop(self) -> None:
        """The port is free again (a working server may take it)."""
        self._stopping.set()
        self._thread.join(timeout=5)
        self._socket.close()


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("x-tdcflow-signature", ""), expected)


class Receiver:
    """A partner system's webhook endpoint on loopback. It can fail the next N requests (HTTP 500)
    or be down for good (its socket closed: connection refused) and come back on the same port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._failures = 0
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tdcflow"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    failing = receiver._failures > 0
                    if failing:
                        receiver._failures -= 1
                    status = 500 if failing else 202
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver._requests.append(Request(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Down: nothing listens on the port any more."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def fail_next(self, times: int) -> None:
        with self._lock:
            self._failures = times

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    @property
    def accepted(self) -> list[Request]:
        return [r for r in self.requests if r.accepted]
