"""``python manage.py issue_pending_certificates``: the sweeper, by hand."""

import datetime

from django.core.management.base import BaseCommand

from certificates.services import certificates_enqueue_stale


class Command(BaseCommand):
    help = (
        "Enqueue again every certificate still pending, or failed with attempts left, that has "
        "been waiting for a few minutes (what the 5-minute Celery beat sweeper does)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=float,
            default=None,
            help="Only certificates untouched for this long (default: CERTIFICATE_SWEEP_AFTER_MINUTES).",
        )

    def handle(self, *args, **options):
        minutes = options["older_than_minutes"]
        older_than = datetime.timedelta(minutes=minutes) if minutes is not None else None
        ids = certificates_enqueue_stale(older_than=older_than)
        self.stdout.write(f"Enqueued {len(ids)} certificate(s).")
