"""A test-only Celery app for the certificate worker's fault tests: the project's own
(``academy.celery``) with the issuing attempt stopped at a chosen point while it holds its claim,
so that a test can SIGKILL the worker there.

Environment (set by ``tests/faults/test_certificate_worker.py``):

- ``SLOW_CERTIFICATE_STAGE``: ``render`` (the PDF is being rendered: claimed, nothing written)
  or ``stored`` (the signed PDF is written to storage, the finishing update not yet made);
  empty: no pause.
- ``SLOW_CERTIFICATE_SECONDS``: how long the attempt waits there.
- ``CERTIFICATE_CLAIM_TIMEOUT_SECONDS``: the claim timeout (120 s in production), short here so a
  stale claim is taken over within the test.

The pause prints ``SLOW CERTIFICATE <stage> <certificate id>`` first, so the test knows the claim
is held. Production code knows nothing of it: the hooks are installed in the pool process, before
its first task (Celery's ``task_prerun``), by replacing ``certificates.rendering.certificate_pdf_render``
or ``certificates.services._finish`` with a wrapper.
"""

from __future__ import annotations

import os
import sys
import time

from celery.signals import task_prerun

from academy.celery import app

__all__ = ["app"]

STAGE = os.environ.get("SLOW_CERTIFICATE_STAGE", "")
DELAY_SECONDS = float(os.environ.get("SLOW_CERTIFICATE_SECONDS", "0"))
CLAIM_TIMEOUT = os.environ.get("CERTIFICATE_CLAIM_TIMEOUT_SECONDS", "")
_installed = False


def _pause(stage: str, certificate_id) -> None:
    print(f"SLOW CERTIFICATE {stage} {certificate_id}", flush=True)
    sys.stdout.flush()
    time.sleep(DELAY_SECONDS)


def _install() -> None:
    from django.conf import settings

    from certificates import rendering, services

    if CLAIM_TIMEOUT:
        settings.CERTIFICATE_CLAIM_TIMEOUT_SECONDS = float(CLAIM_TIMEOUT)
    if STAGE == "render":
        real_render = rendering.certificate_pdf_render

        def slow_render(context, **kwargs):
            _pause("render", context["certificate"].pk)
            return real_render(context, **kwargs)

        rendering.certificate_pdf_render = slow_render
    elif STAGE == "stored":
        real_finish = services._finish

        def slow_finish(certificate, token, stored_name):
            _pause("stored", certificate.pk)
            return real_finish(certificate, token, stored_name)

        services._finish = slow_finish


@task_prerun.connect
def certificate_attempt_slowed(sender=None, **kwargs) -> None:
    global _installed
    if not _installed:
        _install()
        _installed = True
