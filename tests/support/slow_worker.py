"""A test-only Celery app: the project's own (``academy.celery``), with every certificate issue
task made slow, so that a test can kill a worker while the task runs.

Started by ``tests.support.workers.celery_worker_process(app=SLOW_WORKER_APP, ...)`` with the
delay in seconds in ``SLOW_CERTIFICATE_SECONDS``. The delay is Celery's ``task_prerun`` signal,
sent in the pool process once the message has been received and before the task runs: the
message is not yet acknowledged (the task acks late), exactly as when a real certificate is being
rendered. Production code knows nothing of it.
"""

from __future__ import annotations

import os
import time

from celery.signals import task_prerun

from academy.celery import app

__all__ = ["app"]

SLOWED_TASK = "certificates.tasks.certificate_issue_task"
DELAY_SECONDS = float(os.environ.get("SLOW_CERTIFICATE_SECONDS", "0"))
sleep = time.sleep


@task_prerun.connect
def certificate_issue_slowed(sender=None, **kwargs) -> None:
    if sender is not None and sender.name == SLOWED_TASK and DELAY_SECONDS > 0:
        sleep(DELAY_SECONDS)
