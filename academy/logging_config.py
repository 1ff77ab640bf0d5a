"""Log lines for operators: one JSON object per line (``LOG_FORMAT=json``, the production default)
or plain text for a developer's terminal (``LOG_FORMAT=plain``), both with the request id.

Used from ``LOGGING`` in settings, by the web processes and the Celery worker alike (the worker
keeps Django's logging: ``academy.celery`` tells Celery not to replace it). ``RequestIdFilter``
adds ``request_id`` (``-`` outside a request or task) and ``task`` (``name[id]`` while a worker
runs a task) to every record; ``JsonFormatter`` writes the record's time (UTC, ISO 8601), level,
logger, message, request id, task, process id and, when there is one, the exception.

Log messages of Academy's own name no person: ids, counts and kinds of error, never an email
address or a name (docs/operations.md).
"""

from __future__ import annotations

import datetime
import json
import logging

from .request_id import request_id_get, running_task


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` and ``record.task`` (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_get() or "-"
        record.task = running_task.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, ``request_id``,
    ``task`` (when a task runs), ``process``, and ``exception`` (the formatted traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_get() or "-",
            "process": record.process,
        }
        task = getattr(record, "task", None) or running_task.get()
        if task and task != "-":
            line["task"] = task
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)
