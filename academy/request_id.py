"""A request id on every log line, from the web request into the Celery tasks it enqueues.

``RequestIdMiddleware`` (first in ``MIDDLEWARE``) takes the incoming ``X-Request-ID`` header when
it is a short id of safe characters (a proxy or load balancer that sets one), or makes a new one,
keeps it in a context variable until the response is closed (``request_finished``) and sends it back in the response's
``X-Request-ID`` header. ``academy.logging_config.RequestIdFilter`` puts it on every log record.

Celery (signals connected in ``academy.celery``): ``before_task_publish`` adds the current id to the
message headers of a task enqueued while it is set; in the worker, ``task_prerun`` sets it from the
headers for the task's run and ``task_postrun`` restores what was there before. A task run
in-process (no broker: ``CELERY_TASK_ALWAYS_EAGER``) simply keeps the request's id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar, Token

from django.core.signals import request_finished

HEADER = "X-Request-ID"
# The message header that carries the id to the worker.
TASK_HEADER = "academy_request_id"
# What an incoming id may look like: a UUID, a proxy's hex id, "req-123"... Anything else (too
# long, spaces, quotes, control characters) is replaced by a new id, never logged.
VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

request_id: ContextVar[str | None] = ContextVar("academy_request_id", default=None)
# The task being run in this worker process, "name[id]", for the log lines it writes.
running_task: ContextVar[str | None] = ContextVar("academy_task", default=None)

# task id -> the tokens to restore the context variables with after the task ran.
_task_tokens: dict[str, tuple[Token, Token]] = {}

# One line per request: method, view name (never the path, which may hold a token or a code),
# status and duration. The web server's access log has the path; this one has the request id.
request_logger = logging.getLogger("academy.requests")


def request_id_get() -> str | None:
    """The current request's id (or the id of the request that enqueued the running task)."""
    return request_id.get()


def request_id_clean(value: str | None) -> str | None:
    """``value`` if it is an acceptable request id, else None."""
    if value and VALID.fullmatch(value):
        return value
    return None


def request_id_new() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Every request: its id (the valid incoming ``X-Request-ID``, or a new one) in the context
    for log lines and in the response's ``X-Request-ID`` header; one ``academy.requests`` line
    when it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value = request_id_clean(request.headers.get(HEADER)) or request_id_new()
        request.request_id = value
        # Kept until the response is closed (request_finished): Django logs a refused or failed
        # request ("Not Found: ...") after the middleware has returned.
        request_id.set(value)
        started = time.monotonic()
        try:
            response = self.get_response(request)
        except BaseException:  # only what escapes Django's own handling (tests re-raise errors)
            request_id.set(None)
            raise
        match = getattr(request, "resolver_match", None)
        request_logger.info(
            "%s %s %s %.0f ms",
            request.method if request.method in KNOWN_METHODS else "other",
            (match.view_name if match is not None else None) or "-",
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        response.headers[HEADER] = value
        return response


def request_id_clear(**kwargs) -> None:
    """``request_finished``: the request is over, its id goes."""
    request_id.set(None)


request_finished.connect(request_id_clear, dispatch_uid="academy.request_id.clear")


# --- Celery signal receivers (connected in academy.celery) --------------------------------------


def task_headers_add(headers=None, **kwargs) -> None:
    """``before_task_publish``: the current request id goes with the message."""
    value = request_id.get()
    if value and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = value


def _carried(request) -> str | None:
    """The id in a task's message headers: a worker puts them on the request itself, a task run
    with ``apply(headers=...)`` under ``request.headers``."""
    return getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)


def task_started(task_id=None, task=None, **kwargs) -> None:  # noqa: A002 - Celery's argument name
    """``task_prerun``: the id the message brought (when it brought one) for this task's log lines."""
    carried = request_id_clean(_carried(task.request)) if task is not None else None
    if task_id is None or (carried is None and request_id.get() is not None):
        return  # run in-process inside a request: keep the request's id
    _task_tokens[task_id] = (request_id.set(carried), running_task.set(f"{task.name}[{task_id}]"))


def task_finished(task_id=None, **kwargs) -> None:
    """``task_postrun``: back to what the process had before the task."""
    tokens = _task_tokens.pop(task_id, None)
    if tokens is not None:
        request_id.reset(tokens[0])
        running_task.reset(tokens[1])
