"""Log lines (``LOGGING`` in settings, academy.logging_config): JSON objects by default in
production, plain text elsewhere, ``LOG_FORMAT`` to choose; each line carries the request id.

Run in a fresh Python process, as the web process configures logging at start."""

from __future__ import annotations

import json

from academy.tests.test_settings import production, run

REQUEST_PROBE = """
import django
django.setup()
from django.test import Client
response = Client().get("/no-such-page/?email=someone@example.org", HTTP_X_REQUEST_ID="req-log-probe")
import logging
logging.getLogger("academy.probe").info("outside any request")
print(response["X-Request-ID"])
"""

FORMAT_PROBE = """
import django
django.setup()
from django.conf import settings
print(settings.LOGGING["handlers"]["console"]["formatter"])
"""


def log_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_json_lines_carry_the_request_id_and_nothing_else_is_printed():
    result = run(["-c", REQUEST_PROBE], LOG_FORMAT="json", ALLOWED_HOSTS="testserver")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "req-log-probe"
    lines = log_lines(result.stderr)  # every line of the log is a JSON object
    requests = [line for line in lines if line["logger"] == "academy.requests"]
    assert len(requests) == 1
    assert requests[0]["request_id"] == "req-log-probe"
    assert requests[0]["message"].startswith("GET - 404 ")
    assert requests[0]["level"] == "INFO"
    assert requests[0]["time"].endswith("+00:00")
    # Django's own line about the request, written after the middleware has returned, too.
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found and not_found[0]["request_id"] == "req-log-probe"
    outside = [line for line in lines if line["logger"] == "academy.probe"]
    assert outside == [{**outside[0], "request_id": "-", "message": "outside any request"}]
    # The request line names the view, never the path or its query.
    assert "someone@example.org" not in requests[0]["message"]


def test_plain_lines_for_a_terminal_carry_the_request_id_too():
    result = run(["-c", REQUEST_PROBE], LOG_FORMAT="plain", ALLOWED_HOSTS="testserver")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if " academy.requests " in line)
    assert "INFO academy.requests [req-log-probe] GET - 404 " in line


def test_production_logs_json_by_default_and_development_plain():
    assert run(["-c", FORMAT_PROBE], **production()).stdout.strip() == "json"
    assert run(["-c", FORMAT_PROBE], unset=("LOG_FORMAT",)).stdout.strip() == "plain"
    assert run(["-c", FORMAT_PROBE], **production(LOG_FORMAT="plain")).stdout.strip() == "plain"


def test_an_unknown_log_format_refuses_to_start():
    result = run(["-c", FORMAT_PROBE], LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or plain" in result.stderr
