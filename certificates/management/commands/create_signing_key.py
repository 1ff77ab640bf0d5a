"""``python manage.py create_signing_key``: a development CA and signing certificate for the PDFs,
and the Ed25519 key that signs the certificates' Open Badges credentials."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates.keys import (
    CREDENTIAL_KEY_NAME,
    credential_key_create,
    credential_public_key_write,
    development_keys_create,
    key_files,
)


class Command(BaseCommand):
    help = (
        "Make a development certification authority and an RSA-3072 signing certificate for "
        "certificates' PDFs, and an Ed25519 key for their Open Badges credentials, and print the "
        "settings to use. Not for production's PDF signing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", default=str(Path(settings.BASE_DIR) / "keys"), help="Folder to write into (default: keys/)."
        )
        parser.add_argument("--force", action="store_true", help="Replace the existing PDF signing key files.")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Make only the keys that do not exist yet (successfully doing nothing when both exist).",
        )
        parser.add_argument("--days", type=int, default=730, help="How long the signing certificate is valid.")
        parser.add_argument(
            "--pkcs12-passphrase",
            default=None,
            help="Also write signing.p12 (key, certificate and CA) protected by this passphrase.",
        )
        parser.add_argument(
            "--rotate-credential-key",
            action="store_true",
            help=(
                "Replace the credential key with a new one, keeping the old public key beside it "
                "(list it in CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS so earlier credentials still verify)."
            ),
        )

    def handle(self, *args, **options):
        directory = Path(options["dir"])
        self._pades_keys(directory, options)
        self._credential_key(directory / CREDENTIAL_KEY_NAME, options)

    def _pades_keys(self, directory: Path, options) -> None:
        existing = key_files(directory)
        if existing.signing_key.exists() and not options["force"]:
            if options["if_missing"] or options["rotate_credential_key"]:
                self.stdout.write(f"A signing key already exists in {directory}; keeping it.")
                return
            raise CommandError(f"{existing.signing_key} already exists. Use --force to replace it.")
        files = development_keys_create(directory, days=options["days"], pkcs12_passphrase=options["pkcs12_passphrase"])
        self.stdout.write(self.style.SUCCESS(f"Development signing key and CA written to {directory}."))
        self.stdout.write("Put these in your environment or .env (the first three are the defaults for keys/):")
        for line in files.settings_lines(options["pkcs12_passphrase"] or ""):
            self.stdout.write(line)

    def _credential_key(self, path: Path, options) -> None:
        if path.exists():
            if not options["rotate_credential_key"]:
                self.stdout.write(f"A credential key already exists at {path}; keeping it.")
                return
            previous = path.with_name(f"credential-key-until-{timezone.now():%Y%m%d%H%M%S}.pub.pem")
            credential_public_key_write(path, previous)
            credential_key_create(path)
            self.stdout.write(self.style.SUCCESS(f"New credential key written to {path}."))
            self.stdout.write(
                "Keep the old key listed in the DID document, so that credentials it signed still verify:"
            )
            earlier = [str(p) for p in getattr(settings, "CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS", []) or []]
            self.stdout.write(f"CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS={','.join([*earlier, str(previous)])}")
            return
        credential_key_create(path)
        self.stdout.write(self.style.SUCCESS(f"Credential key (Ed25519) written to {path}."))
        self.stdout.write(f"CERTIFICATE_CREDENTIAL_KEY={path}")
