"""The request id (academy.request_id): taken from a proxy's ``X-Request-ID`` when it is a short id
of safe characters, made otherwise, sent back on the response, and carried in the message headers
into the Celery tasks the request enqueues, where the worker's log lines show it."""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from django.urls import reverse

from academy import request_id
from academy.celery import app
from academy.models import Invitation, User
from tests.support.workers import celery_worker_process, redis_flushdb, require_worker_services, worker_env_for_tests


@app.task(name="academy.tests.test_request_id.request_id_seen")
def request_id_seen() -> tuple[str | None, str | None]:
    """What a task sees while it runs (tests only; run in this process with ``apply``)."""
    return request_id.request_id_get(), request_id.running_task.get()


# --- The header ----------------------------------------------------------------------------------


def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first = client.get(reverse("healthz"))["X-Request-ID"]
    second = client.get(reverse("healthz"))["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("incoming", ["3f2b8c1e-7d4a-4e5b-9c6f-0a1b2c3d4e5f", "req-42", "a", "abc.DEF_9"])
def test_a_proxys_id_is_kept(client, incoming):
    assert client.get("/no-such-page/", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 65, "has space", 'quote"d', "new\nline", "-starts-with-dash", "zoë", "<script>", "a;b", "%00"],
)
def test_anything_else_is_replaced_never_echoed(client, incoming):
    answered = client.get("/no-such-page/", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"]
    assert answered != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", answered)


def test_the_id_is_gone_once_the_response_is_closed(client):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-closed")
    assert request_id.request_id_get() is None


# --- Into tasks ------------------------------------------------------------------------------------


def test_a_task_run_in_process_inside_a_request_keeps_the_requests_id():
    token = request_id.request_id.set("req-in-process")
    try:
        assert request_id_seen.apply().get() == ("req-in-process", None)
        assert request_id.request_id_get() == "req-in-process"
    finally:
        request_id.request_id.reset(token)


def test_a_task_takes_the_id_its_message_carries_and_gives_it_back_afterwards():
    task_id = uuid.uuid4().hex
    seen = request_id_seen.apply(task_id=task_id, headers={request_id.TASK_HEADER: "req-from-message"}).get()
    assert seen == ("req-from-message", f"academy.tests.test_request_id.request_id_seen[{task_id}]")
    assert request_id.request_id_get() is None
    assert request_id.running_task.get() is None


def test_a_carried_id_that_is_not_safe_is_not_used():
    seen = request_id_seen.apply(headers={request_id.TASK_HEADER: "bad id\n"}).get()
    assert seen[0] is None


def test_publishing_adds_the_current_id_to_the_message_headers():
    """``before_task_publish`` as Celery sends it: the headers dict of the message being sent."""
    headers = {"id": "t-1", "task": "academy.tasks.invitations_sweep_task"}
    request_id.task_headers_add(headers=headers)
    assert request_id.TASK_HEADER not in headers  # outside a request: nothing
    token = request_id.request_id.set("req-publish")
    try:
        request_id.task_headers_add(headers=headers)
    finally:
        request_id.request_id.reset(token)
    assert headers[request_id.TASK_HEADER] == "req-publish"


# --- End to end, with a real worker ------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_the_id_of_the_request_that_enqueued_its_task(client, settings):
    """A visitor asks for a new invitation link; the request enqueues the invitation email; the
    real worker (JSON log lines) sends it and its lines for that task carry the request's id, and
    none of them names the person."""
    require_worker_services()
    redis_flushdb(settings.CELERY_BROKER_URL)
    learner = User(email="rid.learner@example.org", full_name="Ngozi Request-Id")
    learner.set_unusable_password()
    learner.save()
    incoming = f"req-{uuid.uuid4().hex[:12]}"
    with celery_worker_process(env=worker_env_for_tests(LOG_FORMAT="json", LOG_LEVEL="INFO")) as worker:
        response = client.post(reverse("invitation_request"), {"email": learner.email}, HTTP_X_REQUEST_ID=incoming)
        assert response.status_code == 200
        assert response["X-Request-ID"] == incoming
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Invitation.objects.filter(user=learner, status=Invitation.Status.SENT).exists() and any(
                "succeeded" in line for line in worker.lines
            ):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the invitation was not sent:\n{worker.log()[-4000:]}")
        lines = [json.loads(line) for line in list(worker.lines) if line.startswith("{")]
    carried = [line for line in lines if line["request_id"] == incoming]
    assert carried, worker.log()[-4000:]
    succeeded = [
        line for line in carried if "invitations_send_task" in line["message"] and "succeeded" in line["message"]
    ]
    assert succeeded, carried
    assert succeeded[0]["task"].startswith("academy.tasks.invitations_send_task[")
    assert {"time", "level", "logger", "message", "request_id", "process"} <= set(succeeded[0])
    # The worker's own lines outside that task (startup, "ready") carry no request id.
    assert any(line["request_id"] == "-" and "ready" in line["message"] for line in lines)
    for line in carried:
        assert learner.email not in json.dumps(line) and "Ngozi" not in json.dumps(line), line
