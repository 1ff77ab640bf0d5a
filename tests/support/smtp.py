"""A real SMTP server for tests and benches: aiosmtpd on 127.0.0.1, in a thread of this process.

``SmtpSink`` keeps every message it accepts (``messages``), counts the SMTP sessions that
greeted it (``connections``: one per connection Django's SMTP backend opens), and can be made to
misbehave: ``refuse`` maps addresses to a reply for RCPT (e.g. ``"550 5.1.1 No such user"`` for
a permanent refusal, ``"451 4.3.0 Try again later"`` for a temporary one), ``refuse_all`` gives
that reply to every recipient, and ``on_message`` is called with each message's number (1, 2, ...)
before it is kept and may return a reply that refuses it instead (a hook that can, say, kill the
worker sending it). ``stop()`` closes the port (clients get "connection refused") and ``start()``
opens it again on the same port.

Point Django at it with ``sink.email_settings(settings)`` (this process) or ``sink.email_url``
(a worker's ``EMAIL_URL``).

    with SmtpSink() as sink:
        ...
        assert sink.recipients() == Counter({"a@example.org": 1})
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.controller import Controller

# aiosmtpd logs every connection at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SinkMessage:
    number: int
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    connection: int  # which SMTP session (1, 2, ...) delivered it

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def text(self) -> str:
        """The plain-text part, decoded."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        session.sink_connection = self.sink._connected()
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        session.sink_connection = self.sink._connected()
        return f"250 {server.hostname}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.refuse_all or self.sink.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self.sink._received(envelope, getattr(session, "sink_connection", 0))


class SmtpSink:
    """An SMTP server that accepts (and keeps) messages; see the module's docstring."""

    def __init__(self, port: int | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.refuse: dict[str, str] = {}
        self.refuse_all: str | None = None
        self.on_message: Callable[[int], str | None] | None = None
        self.messages: list[SinkMessage] = []
        self.connections = 0
        self.offered = 0  # messages offered (DATA received), kept or not
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # --- running ---------------------------------------------------------------------------
    def start(self) -> SmtpSink:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=10)
            controller.start()
            self._controller = controller
            # Controller.start() opens (and drops) one connection of its own to check the server.
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- pointing Django at it ---------------------------------------------------------------
    @property
    def email_url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def email_settings(self, settings) -> None:
        """Send this process's email here (pytest-django's ``settings`` fixture, or overrides)."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = self.host
        settings.EMAIL_PORT = self.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10

    # --- what it received --------------------------------------------------------------------
    def recipients(self) -> Counter:
        """How many messages each address was sent (lower case)."""
        with self._lock:
            return Counter(addr.lower() for m in self.messages for addr in m.rcpt_tos)

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until at least ``count`` messages have been kept."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= count:
                return True
            time.sleep(0.05)
        return self.count() >= count

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.connections = 0
            self.offered = 0

    # --- called from the server's thread -----------------------------------------------------
    def _connected(self) -> int:
        with self._lock:
            self.connections += 1
            return self.connections

    def _received(self, envelope, connection: int) -> str:
        with self._lock:
            self.offered += 1
            number = self.offered
        if self.on_message is not None:
            reply = self.on_message(number)
            if reply:
                return reply
        with self._lock:
            self.messages.append(
                SinkMessage(
                    number=number,
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=bytes(envelope.content or b""),
                    connection=connection,
                )
            )
        return "250 Message accepted for delivery"
