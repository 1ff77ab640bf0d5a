"""``python manage.py create_signing_key``: a development CA and signing certificate."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates.keys import development_keys_create, key_files


class Command(BaseCommand):
    help = (
        "Make a development certification authority and an ECDSA P-256 signing certificate for "
        "certificates' PDFs, and print the settings to use. Not for production."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", default=str(Path(settings.BASE_DIR) / "keys"), help="Folder to write into (default: keys/)."
        )
        parser.add_argument("--force", action="store_true", help="Replace existing key files.")
        parser.add_argument(
            "--if-missing", action="store_true", help="Do nothing (successfully) when a signing key already exists."
        )
        parser.add_argument("--days", type=int, default=730, help="How long the signing certificate is valid.")
        parser.add_argument(
            "--pkcs12-passphrase",
            default=None,
            help="Also write signing.p12 (key, certificate and CA) protected by this passphrase.",
        )

    def handle(self, *args, **options):
        directory = Path(options["dir"])
        existing = key_files(directory)
        if existing.signing_key.exists():
            if options["if_missing"]:
                self.stdout.write(f"A signing key already exists in {directory}; nothing to do.")
                return
            if not options["force"]:
                raise CommandError(f"{existing.signing_key} already exists. Use --force to replace it.")
        files = development_keys_create(directory, days=options["days"], pkcs12_passphrase=options["pkcs12_passphrase"])
        self.stdout.write(self.style.SUCCESS(f"Development signing key and CA written to {directory}."))
        self.stdout.write("Put these in your environment or .env (the first three are the defaults for keys/):")
        for line in files.settings_lines(options["pkcs12_passphrase"] or ""):
            self.stdout.write(line)
