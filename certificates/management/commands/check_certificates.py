"""``python manage.py check_certificates``: the integrity check of every stored certificate file."""

from django.core.management.base import BaseCommand, CommandError

from certificates.integrity import integrity_check_run


class Command(BaseCommand):
    help = (
        "Check that every issued (or revoked) certificate's stored PDF, and every superseded version, "
        "exists in storage, matches its recorded SHA-256 and still validates (PAdES signature). Prints "
        "one line per problem; exits with status 1 when any file fails. Celery beat runs it weekly."
    )

    def handle(self, *args, **options):
        run = integrity_check_run(on_problem=lambda line: self.stdout.write(self.style.ERROR(line)))
        if run.failures:
            raise CommandError(f"{run.failures} of {run.checked} certificate file(s) failed the integrity check.")
        self.stdout.write(self.style.SUCCESS(f"All {run.checked} certificate file(s) are stored intact and validate."))
