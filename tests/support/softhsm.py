"""SoftHSM2 for the tests: a temporary token directory and ``SOFTHSM2_CONF`` for the session,
tokens initialised with ``softhsm2-util``, keys put into them by the project's own provisioning
(``certificates.pkcs11.development_token_keys_create``), everything removed afterwards.

Debian's ``softhsm2`` package provides the module and the tool (``.ci/run`` installs it). Without
it a test skips locally and FAILS with ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

USER_PIN = "246810"
SO_PIN = "13579135"
INSTALL_HINT = "install Debian's softhsm2 package (apt-get install softhsm2)"


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_reason() -> str | None:
    from certificates.pkcs11 import softhsm_module

    if softhsm_module() is None:
        return f"the SoftHSM2 module (libsofthsm2.so) is not installed; {INSTALL_HINT}"
    if shutil.which("softhsm2-util") is None:
        return f"softhsm2-util is not on PATH; {INSTALL_HINT}"
    return None


def require_softhsm() -> str:
    """The module's path; skips (locally) or fails (CI) when SoftHSM2 is missing."""
    from certificates.pkcs11 import softhsm_module

    reason = missing_reason()
    if reason is not None:
        if _ci():
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    return softhsm_module()


@dataclass
class SoftHSM:
    """A SoftHSM2 set-up of the test session: its module, configuration and token directory."""

    module: str
    conf: Path
    tokens: Path
    pin: str = USER_PIN
    so_pin: str = SO_PIN

    def token_create(self, label: str, *, pin: str | None = None) -> None:
        """Initialise a new token ``label``; the module (already started in this process) is
        started again so that it sees it."""
        from certificates import pkcs11

        pkcs11.softhsm_token_initialise(label, pin=pin or self.pin, so_pin=self.so_pin, env=self.env())
        pkcs11.session_reset()
        pkcs11.library_restart(self.module)

    def env(self) -> dict:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf)}

    def config(self, token_label: str, **labels):
        from certificates.pkcs11 import TokenSettings

        return TokenSettings(module=self.module, token_label=token_label, pin=self.pin, **labels)


@contextmanager
def softhsm_setup(folder: Path) -> Iterator[SoftHSM]:
    """A SoftHSM2 configuration whose tokens live in ``folder``, named by ``SOFTHSM2_CONF`` in this
    process's environment (and so in the commands and workers it starts) for the block."""
    from certificates import pkcs11

    module = require_softhsm()
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
    )
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        yield SoftHSM(module=module, conf=conf, tokens=tokens)
    finally:
        pkcs11.session_reset()
        pkcs11.library_restart(module)
        if before is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = before
        shutil.rmtree(tokens, ignore_errors=True)


def token_settings_use(
    settings, hsm: SoftHSM, *, token_label: str, key_label: str, credential_key_label: str, ca_cert
) -> None:
    """Sign PDFs and credentials with the token's keys in this test. The key and certificate files
    point nowhere, so nothing can be signed by a file key by mistake."""
    settings.CERTIFICATE_PKCS11_MODULE = hsm.module
    settings.CERTIFICATE_PKCS11_TOKEN_LABEL = token_label
    settings.CERTIFICATE_PKCS11_PIN = hsm.pin
    settings.CERTIFICATE_PKCS11_KEY_LABEL = key_label
    settings.CERTIFICATE_PKCS11_CERT_LABEL = ""
    settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL = credential_key_label
    settings.CERTIFICATE_SIGNING_PKCS12 = ""
    settings.CERTIFICATE_SIGNING_KEY = str(hsm.tokens / "no-such-signing-key.pem")
    settings.CERTIFICATE_SIGNING_CERT = str(hsm.tokens / "no-such-signing-cert.pem")
    settings.CERTIFICATE_SIGNING_CHAIN = [str(ca_cert)]
    settings.CERTIFICATE_CREDENTIAL_KEY = str(hsm.tokens / "no-such-credential-key.pem")
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = []
