"""The Celery application: configured from Django settings (``CELERY_*``), tasks found per app.

The worker keeps Django's ``LOGGING`` (JSON or plain lines with the request id, see
``academy.logging_config``): a ``setup_logging`` receiver tells Celery not to install its own.
A task enqueued during a request carries that request's id to the worker (``academy.request_id``).
"""

import os

from celery import Celery, signals

from .request_id import task_finished, task_headers_add, task_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")

app = Celery("academy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def logging_keep_django(**kwargs) -> None:
    """Django has configured logging from ``settings.LOGGING`` already; Celery adds nothing."""


signals.before_task_publish.connect(task_headers_add, dispatch_uid="academy.request_id.publish")
signals.task_prerun.connect(task_started, dispatch_uid="academy.request_id.prerun")
signals.task_postrun.connect(task_finished, dispatch_uid="academy.request_id.postrun")
