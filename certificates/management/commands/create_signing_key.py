"""``python manage.py create_signing_key``: a development CA and signing certificate for the PDFs,
and the Ed25519 key that signs the certificates' Open Badges credentials.

``--pkcs11``: the keys go into a PKCS#11 token instead (``CERTIFICATE_PKCS11_MODULE``,
``_TOKEN_LABEL``, ``_PIN``, or the options), with a certificate from the development CA;
``--init-token`` first initialises a SoftHSM2 token. ``--pkcs11 --rotate`` makes new keys and a new
certificate beside the current ones and prints the settings that switch to them (earlier PDFs
carry their own certificate; the earlier credential key stays listed in the DID document)."""

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

        token = parser.add_argument_group("keys in a PKCS#11 token")
        token.add_argument(
            "--pkcs11",
            action="store_true",
            help="Generate the keys in the PKCS#11 token of the CERTIFICATE_PKCS11_* settings (or the options below).",
        )
        token.add_argument("--module", help="PKCS#11 module (default: CERTIFICATE_PKCS11_MODULE, else SoftHSM2's).")
        token.add_argument("--token-label", help="Token label (default: CERTIFICATE_PKCS11_TOKEN_LABEL, else academy).")
        token.add_argument("--pin", help="User PIN (default: CERTIFICATE_PKCS11_PIN).")
        token.add_argument(
            "--init-token",
            action="store_true",
            help="First initialise a new SoftHSM2 token with this label and PIN (softhsm2-util; needs --so-pin).",
        )
        token.add_argument("--so-pin", help="Security officer PIN for --init-token.")
        token.add_argument("--key-label", help="Label of the new PDF signing key and its certificate.")
        token.add_argument("--credential-key-label", help="Label of the new Ed25519 credential key.")
        token.add_argument(
            "--rotate",
            action="store_true",
            help="With --pkcs11: new keys (labels stamped with the time) beside the current ones; prints the switch.",
        )

    def handle(self, *args, **options):
        directory = Path(options["dir"])
        if options["pkcs11"]:
            self._token_keys(directory, options)
            return
        if options["rotate"] or options["init_token"]:
            raise CommandError("--rotate and --init-token go with --pkcs11 (for key files: --rotate-credential-key).")
        self._pades_keys(directory, options)
        self._credential_key(directory / CREDENTIAL_KEY_NAME, options)

    def _token_keys(self, directory: Path, options) -> None:
        from certificates import pkcs11

        module = options["module"] or settings.CERTIFICATE_PKCS11_MODULE or pkcs11.softhsm_module()
        if not module:
            raise CommandError("No PKCS#11 module: set CERTIFICATE_PKCS11_MODULE or --module (Debian: softhsm2).")
        token_label = options["token_label"] or settings.CERTIFICATE_PKCS11_TOKEN_LABEL or "academy"
        pin = options["pin"] or settings.CERTIFICATE_PKCS11_PIN
        if not pin:
            raise CommandError("No user PIN: set CERTIFICATE_PKCS11_PIN or --pin.")
        config = pkcs11.TokenSettings(module=module, token_label=token_label, pin=pin)
        current_credential = settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL
        if options["rotate"]:
            stamp = f"{timezone.now():%Y%m%d%H%M%S}"
            key_label = options["key_label"] or f"academy-signing-{stamp}"
            credential_label = options["credential_key_label"] or f"academy-credential-{stamp}"
        else:
            key_label = options["key_label"] or settings.CERTIFICATE_PKCS11_KEY_LABEL or "academy-signing"
            credential_label = options["credential_key_label"] or current_credential or "academy-credential"
        try:
            if options["init_token"]:
                if not options["so_pin"]:
                    raise CommandError("--init-token needs --so-pin (the new token's security officer PIN).")
                pkcs11.softhsm_token_initialise(token_label, pin=pin, so_pin=options["so_pin"])
                pkcs11.session_reset()
                pkcs11.library_restart(module)
                self.stdout.write(self.style.SUCCESS(f"SoftHSM2 token {token_label} initialised."))
            made = pkcs11.development_token_keys_create(
                config,
                directory=directory,
                key_label=key_label,
                credential_key_label=credential_label,
                days=options["days"],
            )
        except pkcs11.TokenError as exc:
            raise CommandError(str(exc)) from exc
        files = key_files(directory)
        self.stdout.write(
            self.style.SUCCESS(
                f"PDF signing key {made.key_label} (RSA-3072, not extractable) and its certificate from the "
                f"development CA ({files.ca_cert}) are in token {token_label}; a copy of the certificate is "
                f"{made.certificate_pem}."
            )
        )
        lines = [
            f"CERTIFICATE_PKCS11_MODULE={module}",
            f"CERTIFICATE_PKCS11_TOKEN_LABEL={token_label}",
            f"CERTIFICATE_PKCS11_PIN={pin}",
            f"CERTIFICATE_PKCS11_KEY_LABEL={made.key_label}",
            f"CERTIFICATE_SIGNING_CHAIN={files.ca_cert}",
        ]
        if made.credential_key_label:
            self.stdout.write(
                self.style.SUCCESS(f"Credential key {made.credential_key_label} (Ed25519) is in the token.")
            )
            lines.append(f"CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL={made.credential_key_label}")
        else:
            self.stdout.write(
                "The token cannot sign with Ed25519 (no CKM_EDDSA): the credential key stays a file "
                "(CERTIFICATE_CREDENTIAL_KEY)."
            )
            self._credential_key(
                directory / CREDENTIAL_KEY_NAME, {**options, "rotate_credential_key": options["rotate"]}
            )
        if options["rotate"] and made.credential_key_label and current_credential:
            earlier = [str(p) for p in settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS or []]
            lines.append(
                "CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS="
                + ",".join([*earlier, f"{pkcs11.PREVIOUS_KEY_PREFIX}object={current_credential}"])
            )
        if options["rotate"]:
            self.stdout.write(
                "Switch to the new keys with these settings, then restart the web processes and workers. "
                "Earlier PDFs keep verifying (they carry their own certificate, from the same CA); keep the "
                "earlier credential key in the token while it is listed in CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS:"
            )
        else:
            self.stdout.write("Put these in your environment or .env:")
        for line in lines:
            self.stdout.write(line)

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
