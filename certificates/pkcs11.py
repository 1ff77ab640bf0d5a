"""Signing keys held in a PKCS#11 token (a hardware security module, a smart card, SoftHSM2).

With ``CERTIFICATE_PKCS11_MODULE`` (the token's PKCS#11 library), ``CERTIFICATE_PKCS11_TOKEN_LABEL``
and ``CERTIFICATE_PKCS11_PIN`` set:

- ``CERTIFICATE_PKCS11_KEY_LABEL`` names the private key that signs certificates' PDFs (PAdES,
  through pyHanko's ``PKCS11Signer``). Its X.509 certificate is the token's certificate labelled
  ``CERTIFICATE_PKCS11_CERT_LABEL`` (by default the key's label) or, when the token holds none,
  the file ``CERTIFICATE_SIGNING_CERT``. The chain stays ``CERTIFICATE_SIGNING_CHAIN``.
- ``CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL`` names the Ed25519 key that signs the Open Badges
  credentials (``CKM_EDDSA``; SoftHSM2 2.6 has it). Left empty, the credential key stays the file
  ``CERTIFICATE_CREDENTIAL_KEY``.

The private keys never leave the token. One session is opened per process, when it is first
needed (so a Celery worker's pool processes each open their own after the fork; a process that
finds itself forked with an inherited session starts the library afresh), and used under a lock
(a PKCS#11 session is not safe for concurrent use). When an operation fails with a PKCS#11 error
the session is dropped, the library started again and the operation tried once more on a new
session; if that fails too, ``TokenUnavailableError`` (a ``ConnectionError``: the certificate task
retries it later with a back-off, nothing is lost).

Problems retrying cannot cure raise ``TokenConfigurationError`` with a sentence staff can act on:
the module file missing, a key or certificate not found, a key that does not belong to its
certificate, or a wrong PIN. A PIN the token refused is not offered again by this process (until
the settings change), and none is offered to a token that reports its next wrong PIN would lock it,
so that a sweeper retrying every few minutes cannot lock the token.

``python manage.py create_signing_key --pkcs11`` uses the provisioning helpers at the end of this
module to put development keys into a token (``--rotate``: new keys beside the old ones).
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Where Debian's softhsm2 package (and others) put the module; for the settings' documentation and
# for the tests, never used unless named in CERTIFICATE_PKCS11_MODULE.
SOFTHSM_MODULE_PATHS = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
# A previous credential key held in the token, as CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS lists it
# (the ``object`` attribute of an RFC 7512 PKCS#11 URI: ``pkcs11:object=<label>``).
PREVIOUS_KEY_PREFIX = "pkcs11:"
ED25519_OID = "1.3.101.112"


class TokenError(Exception):
    """Something is wrong with the PKCS#11 token or its settings."""


class TokenConfigurationError(TokenError):
    """A token problem retrying will not cure: a setting, the PIN, a missing key or certificate."""


class TokenUnavailableError(TokenError, ConnectionError):
    """The token cannot be reached or stopped answering (a removed device, a network HSM down):
    trying again later may succeed."""


@dataclass(frozen=True)
class TokenSettings:
    module: str
    token_label: str
    pin: str = field(repr=False)
    key_label: str = ""
    cert_label: str = ""
    credential_key_label: str = ""

    @property
    def identity(self) -> tuple[str, str, str]:
        """What a session depends on: the same module, token and PIN share one."""
        return (self.module, self.token_label, self.pin)


def token_settings() -> TokenSettings | None:
    """The PKCS#11 settings, or None when no module is configured (keys are files)."""
    module = str(getattr(settings, "CERTIFICATE_PKCS11_MODULE", "") or "").strip()
    if not module:
        return None
    key_label = str(getattr(settings, "CERTIFICATE_PKCS11_KEY_LABEL", "") or "").strip()
    return TokenSettings(
        module=module,
        token_label=str(getattr(settings, "CERTIFICATE_PKCS11_TOKEN_LABEL", "") or "").strip(),
        pin=str(getattr(settings, "CERTIFICATE_PKCS11_PIN", "") or ""),
        key_label=key_label,
        cert_label=str(getattr(settings, "CERTIFICATE_PKCS11_CERT_LABEL", "") or "").strip() or key_label,
        credential_key_label=str(getattr(settings, "CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL", "") or "").strip(),
    )


def pades_configured() -> bool:
    """Whether certificates' PDFs are signed by a key in the token."""
    config = token_settings()
    return bool(config and config.key_label)


def credential_configured() -> bool:
    """Whether credentials are signed by an Ed25519 key in the token."""
    config = token_settings()
    return bool(config and config.credential_key_label)


# --- The session ---------------------------------------------------------------------------------


class _Token:
    """The process's one session and what was looked up through it (dropped with it)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.session = None
        self.identity: tuple | None = None
        self.pid: int | None = None
        self.objects: dict = {}
        self.refused: set[tuple] = set()
        self.opened = 0  # sessions opened by this process (for the tests and the logs)


_token = _Token()


def _pkcs11():
    try:
        import pkcs11
    except ImportError as exc:  # pragma: no cover - python-pkcs11 is in requirements.txt
        raise TokenConfigurationError(_("python-pkcs11 is not installed (see requirements.txt).")) from exc
    return pkcs11


def _is_token_failure(exc: BaseException) -> bool:
    """Whether a PKCS#11 error is somewhere in the chain of ``exc`` (pyHanko wraps some)."""
    pkcs11 = _pkcs11()
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TokenError):
            return False  # already judged (a wrong PIN is never tried again)
        if isinstance(exc, pkcs11.PKCS11Error):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")


def library_restart(module: str) -> None:
    """C_Finalize then C_Initialize: every session of this process closes and it is logged out."""
    try:
        _pkcs11().lib(module).reinitialize()
    except Exception as exc:  # the module may be the very thing that broke
        logger.warning("Could not restart the PKCS#11 module %s: %s", module, _describe(exc))


def session_reset() -> None:
    """Drop the process's session (closed, the library restarted); the next use opens a new one."""
    with _token.lock:
        session, identity = _token.session, _token.identity
        _token.session, _token.identity, _token.objects = None, None, {}
        if session is not None and _token.pid == os.getpid():
            try:
                session.close()
            except Exception as exc:
                logger.info("Closing the PKCS#11 session failed: %s", _describe(exc))
        if identity is not None:
            library_restart(identity[0])


def _open(config: TokenSettings):
    pkcs11 = _pkcs11()
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import open_pkcs11_session

    where = {"module": config.module, "token": config.token_label}
    if not os.path.isfile(config.module):
        raise TokenConfigurationError(
            _("The PKCS#11 module %(module)s was not found (CERTIFICATE_PKCS11_MODULE).") % where
        )
    if not config.token_label:
        raise TokenConfigurationError(_("CERTIFICATE_PKCS11_TOKEN_LABEL is empty: name the token that holds the keys."))
    if config.identity in _token.refused:
        raise TokenConfigurationError(
            _(
                "The token %(token)s refused the PIN in CERTIFICATE_PKCS11_PIN earlier; this process will not "
                "offer it again, so that the token does not lock. Correct the PIN and restart the workers."
            )
            % where
        )
    try:
        lib = pkcs11.lib(config.module)
    except pkcs11.PKCS11Error as exc:
        raise TokenConfigurationError(
            _("The PKCS#11 module %(module)s could not be loaded: %(error)s") % {**where, "error": exc}
        ) from exc
    try:
        token = lib.get_token(token_label=config.token_label)
    except pkcs11.NoSuchToken as exc:
        raise TokenUnavailableError(
            _(
                "No token labelled %(token)s is present in %(module)s (is the device connected and the token "
                "initialised? CERTIFICATE_PKCS11_TOKEN_LABEL names it)."
            )
            % where
        ) from exc
    except pkcs11.MultipleTokensReturned as exc:
        raise TokenConfigurationError(_("More than one token is labelled %(token)s in %(module)s.") % where) from exc
    except pkcs11.PKCS11Error as exc:
        raise TokenUnavailableError(
            _("The tokens of %(module)s could not be listed: %(error)s") % {**where, "error": _describe(exc)}
        ) from exc
    flags = token.flags
    if flags & pkcs11.TokenFlag.USER_PIN_LOCKED:
        raise TokenConfigurationError(
            _("The user PIN of token %(token)s is locked; its security officer must unlock it.") % where
        )
    if flags & pkcs11.TokenFlag.USER_PIN_FINAL_TRY:
        raise TokenConfigurationError(
            _(
                "Token %(token)s would lock on one more wrong PIN, so none is offered. Check CERTIFICATE_PKCS11_PIN "
                "by hand (for example with pkcs11-tool --login), then restart the workers."
            )
            % where
        )
    for attempt in (1, 2):
        try:
            return open_pkcs11_session(
                config.module, token_criteria=TokenCriteria(label=config.token_label), user_pin=config.pin or None
            )
        except pkcs11.UserAlreadyLoggedIn:
            # Logged in by an earlier session of this process (a session does not own the login).
            if attempt == 2:
                raise
            library_restart(config.module)
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as exc:
            _token.refused.add(config.identity)
            raise TokenConfigurationError(
                _(
                    "The token %(token)s refused the PIN (CERTIFICATE_PKCS11_PIN is wrong). It will not be offered "
                    "again by this process, so that the token does not lock: correct it and restart the workers."
                )
                % where
            ) from exc
        except (pkcs11.PinLocked, pkcs11.PinExpired) as exc:
            raise TokenConfigurationError(
                _("The user PIN of token %(token)s is locked or expired (%(error)s).")
                % {**where, "error": type(exc).__name__}
            ) from exc
        except pkcs11.PKCS11Error as exc:
            raise TokenUnavailableError(
                _("A session with token %(token)s could not be opened: %(error)s") % {**where, "error": _describe(exc)}
            ) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _session(config: TokenSettings):
    with _token.lock:
        if _token.pid != os.getpid():
            # A forked process: the session (and the library's state) belong to the parent.
            inherited = _token.identity
            _token.session, _token.identity, _token.objects = None, None, {}
            _token.pid = os.getpid()
            if inherited is not None:
                library_restart(inherited[0])
        if _token.session is not None and _token.identity == config.identity:
            return _token.session
        if _token.session is not None:
            session_reset()
        session = _open(config)
        _token.session, _token.identity, _token.objects = session, config.identity, {}
        _token.opened += 1
        logger.info("Opened a PKCS#11 session with token %s (%s).", config.token_label, config.module)
        return session


def token_use(operation: Callable[[object, dict], T], config: TokenSettings | None = None) -> T:
    """Run ``operation(session, objects)`` under the token's lock. ``objects`` is a dict kept with
    the session (for key handles and signers looked up through it: dropped with the session). On a
    PKCS#11 error the session is reset and the operation tried once more on a new one."""
    config = config or token_settings()
    if config is None:
        raise TokenConfigurationError(_("No PKCS#11 module is configured (CERTIFICATE_PKCS11_MODULE)."))
    with _token.lock:
        failure: BaseException | None = None
        for _attempt in (1, 2):
            session = _session(config)
            try:
                return operation(session, _token.objects)
            except TokenError:
                raise
            except Exception as exc:
                if not _is_token_failure(exc):
                    raise
                logger.warning("PKCS#11 operation failed (%s); opening a new session.", _describe(exc))
                failure = exc
                session_reset()
        raise TokenUnavailableError(
            _("The token %(token)s stopped answering: %(error)s")
            % {"token": config.token_label, "error": _describe(failure)}
        ) from failure


def sessions_opened() -> int:
    """How many sessions this process has opened (a new one after each reset)."""
    return _token.opened


# --- Objects in the token ------------------------------------------------------------------------


def _find_one(session, *, object_class, label: str, what: str, required: bool = True):
    from pkcs11 import Attribute

    found = list(session.get_objects({Attribute.CLASS: object_class, Attribute.LABEL: label}))
    if len(found) == 1:
        return found[0]
    if not found and not required:
        return None
    token = session.token.label
    if not found:
        raise TokenConfigurationError(
            _("The token %(token)s holds no %(what)s labelled %(label)s.")
            % {"token": token, "what": what, "label": label}
        )
    raise TokenConfigurationError(
        _("The token %(token)s holds more than one %(what)s labelled %(label)s; labels must be unique.")
        % {"token": token, "what": what, "label": label}
    )


def _public_key_der(session, label: str) -> bytes:
    """The SubjectPublicKeyInfo (DER) of the public key object labelled ``label``."""
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_ec_public_key
    from pkcs11.util.rsa import encode_rsa_public_key

    public = _find_one(session, object_class=ObjectClass.PUBLIC_KEY, label=label, what=_("public key"))
    key_type = public[Attribute.KEY_TYPE]
    if key_type == KeyType.RSA:
        from asn1crypto import keys

        return keys.PublicKeyInfo(
            {"algorithm": {"algorithm": "rsa"}, "public_key": keys.RSAPublicKey.load(encode_rsa_public_key(public))}
        ).dump()
    if key_type == KeyType.EC:
        return encode_ec_public_key(public)
    if key_type == KeyType.EC_EDWARDS:
        from cryptography.hazmat.primitives import serialization

        return _ed25519_public(public).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    raise TokenConfigurationError(_("The key labelled %(label)s is of a kind this site cannot use.") % {"label": label})


def _ed25519_public(public_object):
    """The Ed25519 public key of a token object (``CKA_EC_POINT``: a DER OCTET STRING as PKCS#11
    3.0 says, or the raw 32 bytes some tokens give)."""
    from asn1crypto import core
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from pkcs11 import Attribute

    point = bytes(public_object[Attribute.EC_POINT])
    if len(point) != 32:
        point = core.OctetString.load(point).native
    return Ed25519PublicKey.from_public_bytes(point)


def _token_certificate(session, label: str):
    from asn1crypto import x509
    from pkcs11 import Attribute, ObjectClass

    found = _find_one(session, object_class=ObjectClass.CERTIFICATE, label=label, what=_("certificate"), required=False)
    return x509.Certificate.load(bytes(found[Attribute.VALUE])) if found is not None else None


def pades_signer(*, chain: list, certificate_path: str):
    """pyHanko's ``PKCS11Signer`` for the configured key (kept with the session), its certificate
    from the token or ``certificate_path``; ``chain``: other certificates to embed. Must be used
    inside ``token_use`` (which this calls, and which may be nested)."""
    config = token_settings()
    mtime = os.path.getmtime(certificate_path) if certificate_path and os.path.isfile(certificate_path) else None
    cache_key = (config.key_label, config.cert_label, certificate_path, mtime, tuple(c.dump() for c in chain))

    def build(session, objects):
        cached = objects.get("pades")
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        from pkcs11 import ObjectClass
        from pyhanko.keys import load_cert_from_pemder
        from pyhanko.sign.pkcs11 import PKCS11Signer

        _find_one(session, object_class=ObjectClass.PRIVATE_KEY, label=config.key_label, what=_("private key"))
        certificate = _token_certificate(session, config.cert_label)
        if certificate is None:
            if not certificate_path or not os.path.isfile(certificate_path):
                raise TokenConfigurationError(
                    _(
                        "The token %(token)s holds no certificate labelled %(label)s, and CERTIFICATE_SIGNING_CERT "
                        "(%(path)s) is not a file: store the signing key's certificate in one of them."
                    )
                    % {"token": config.token_label, "label": config.cert_label, "path": certificate_path or "-"}
                )
            certificate = load_cert_from_pemder(certificate_path)
        if _public_key_der(session, config.key_label) != certificate.public_key.dump():
            raise TokenConfigurationError(
                _("The key labelled %(label)s in token %(token)s does not belong to the signing certificate.")
                % {"label": config.key_label, "token": config.token_label}
            )
        signer = PKCS11Signer(
            session,
            key_label=config.key_label,
            signing_cert=certificate,
            ca_chain=chain,
            other_certs_to_pull=(),
            # Hash here, sign the digest in the token: SoftHSM2 has no combined ECDSA-with-SHA-256.
            use_raw_mechanism=certificate.public_key.algorithm == "ec",
        )
        objects["pades"] = (cache_key, signer)
        return signer

    return token_use(build, config)


class TokenEd25519Key:
    """The private half of an Ed25519 key in the token, signing as cryptography's
    ``Ed25519PrivateKey.sign`` does (``CKM_EDDSA``, pure Ed25519)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"TokenEd25519Key({self.label!r})"

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism, ObjectClass

        def sign(session, objects):
            handle = objects.get(("ed25519", self.label))
            if handle is None:
                handle = _find_one(
                    session, object_class=ObjectClass.PRIVATE_KEY, label=self.label, what=_("private key")
                )
                objects[("ed25519", self.label)] = handle
            return bytes(handle.sign(data, mechanism=Mechanism.EDDSA))

        return token_use(sign)


def ed25519_public_key(label: str):
    """The public half (cryptography's ``Ed25519PublicKey``) of the token's Ed25519 key ``label``;
    ``TokenConfigurationError`` when the token cannot do Ed25519 or holds no such key."""
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

    def read(session, objects):
        cached = objects.get(("ed25519-public", label))
        if cached is not None:
            return cached
        if Mechanism.EDDSA not in session.token.slot.get_mechanisms():
            raise TokenConfigurationError(
                _(
                    "The token %(token)s cannot sign with Ed25519 (no CKM_EDDSA): leave "
                    "CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL empty and keep the credential key in a file."
                )
                % {"token": session.token.label}
            )
        public = _find_one(session, object_class=ObjectClass.PUBLIC_KEY, label=label, what=_("public key"))
        if public[Attribute.KEY_TYPE] != KeyType.EC_EDWARDS:
            raise TokenConfigurationError(_("The key labelled %(label)s is not an Ed25519 key.") % {"label": label})
        key = _ed25519_public(public)
        objects[("ed25519-public", label)] = key
        return key

    return token_use(read)


def previous_key_label(entry: str) -> str | None:
    """The label of a ``CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS`` entry naming a key in the token
    (``pkcs11:object=<label>``), or None for a file path."""
    if not entry.startswith(PREVIOUS_KEY_PREFIX):
        return None
    from urllib.parse import unquote

    attributes = dict(part.split("=", 1) for part in entry[len(PREVIOUS_KEY_PREFIX) :].split(";") if "=" in part)
    label = unquote(attributes.get("object", ""))
    if not label:
        raise TokenConfigurationError(
            _("%(entry)s names no key: write pkcs11:object=<the key's label>.") % {"entry": entry}
        )
    return label


# --- Provisioning (create_signing_key --pkcs11, the tests) --------------------------------------


def softhsm_module() -> str | None:
    """The SoftHSM2 module on this machine, if any."""
    return next((p for p in SOFTHSM_MODULE_PATHS if os.path.isfile(p)), None)


def softhsm_token_initialise(label: str, *, pin: str, so_pin: str, env: dict | None = None) -> None:
    """Initialise a new SoftHSM2 token ``label`` in the first free slot (``softhsm2-util``; its
    token directory comes from ``SOFTHSM2_CONF``)."""
    tool = shutil.which("softhsm2-util")
    if tool is None:
        raise TokenConfigurationError(_("softhsm2-util was not found (Debian: apt-get install softhsm2)."))
    completed = subprocess.run(  # noqa: S603 - a fixed program with our own arguments
        [tool, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    if completed.returncode != 0:
        raise TokenConfigurationError(
            _("softhsm2-util could not initialise token %(label)s: %(error)s")
            % {"label": label, "error": (completed.stderr or completed.stdout).strip()}
        )


def _rw_session(config: TokenSettings):
    pkcs11 = _pkcs11()
    token = pkcs11.lib(config.module).get_token(token_label=config.token_label)
    try:
        return token.open(rw=True, user_pin=config.pin)
    except pkcs11.UserAlreadyLoggedIn:
        return token.open(rw=True)  # this process is logged in already (the signing session)


def _label_free(session, label: str) -> None:
    from pkcs11 import Attribute

    if list(session.get_objects({Attribute.LABEL: label})):
        raise TokenConfigurationError(
            _("The token already holds objects labelled %(label)s; choose another label.") % {"label": label}
        )


def _key_id(label: str) -> bytes:
    import hashlib

    return hashlib.sha256(label.encode()).digest()[:16]


@dataclass(frozen=True)
class TokenKeys:
    """What ``development_token_keys_create`` put into the token."""

    key_label: str
    certificate_pem: Path
    credential_key_label: str = ""  # empty when the token cannot do Ed25519


def development_token_keys_create(
    config: TokenSettings,
    *,
    directory: Path,
    key_label: str,
    credential_key_label: str = "",
    days: int = 730,
    organisation: str = "Citizen Science Academy (development)",
) -> TokenKeys:
    """Generate in the token an RSA-3072 signing key (not extractable) with a certificate from the
    development CA in ``directory`` (made there if missing: ``certificates.keys``), stored in the
    token under the key's label and written to ``directory/signing-cert-<label>.pem``; and, when
    ``credential_key_label`` is given and the token has CKM_EDDSA, an Ed25519 credential key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass
    from pkcs11.util.ec import encode_named_curve_parameters

    from .keys import RSA_KEY_SIZE, development_keys_create, key_files, signing_certificate_issue

    files = key_files(directory)
    if not (files.ca_cert.exists() and files.ca_key.exists()):
        development_keys_create(directory, organisation=organisation, days=days)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)

    session = _rw_session(config)
    try:
        _label_free(session, key_label)
        if credential_key_label:
            _label_free(session, credential_key_label)
        key_id = _key_id(key_label)
        private_template = {
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.ID: key_id,
        }
        public, _private = session.generate_keypair(
            KeyType.RSA,
            RSA_KEY_SIZE,
            store=True,
            label=key_label,
            public_template={Attribute.VERIFY: True, Attribute.ID: key_id},
            private_template=private_template,
        )
        public_key = serialization.load_der_public_key(_public_key_der(session, key_label))
        now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
        certificate = signing_certificate_issue(
            public_key=public_key, ca_key=ca_key, ca_name=ca_cert.subject, organisation=organisation, days=days, now=now
        )
        der = certificate.public_bytes(serialization.Encoding.DER)
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.LABEL: key_label,
                Attribute.ID: key_id,
                Attribute.SUBJECT: certificate.subject.public_bytes(),
                Attribute.ISSUER: certificate.issuer.public_bytes(),
                Attribute.SERIAL_NUMBER: x509_serial_der(certificate.serial_number),
                Attribute.VALUE: der,
            }
        )
        certificate_pem = Path(directory) / f"signing-cert-{key_label}.pem"
        certificate_pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))

        made_credential_label = ""
        if credential_key_label and Mechanism.EDDSA in session.token.slot.get_mechanisms():
            credential_id = _key_id(credential_key_label)
            # A session of its own: python-pkcs11 0.9 keeps the RSA key's attributes in the session's
            # default template, which the token then refuses for an Ed25519 key.
            session.close()
            session = _rw_session(config)
            session.generate_keypair(
                KeyType.EC_EDWARDS,
                mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
                store=True,
                label=credential_key_label,
                public_template={
                    Attribute.EC_PARAMS: encode_named_curve_parameters(ED25519_OID),
                    Attribute.VERIFY: True,
                    Attribute.ID: credential_id,
                },
                private_template={**private_template, Attribute.ID: credential_id},
            )
            made_credential_label = credential_key_label
    finally:
        session.close()
    return TokenKeys(key_label=key_label, certificate_pem=certificate_pem, credential_key_label=made_credential_label)


def x509_serial_der(serial: int) -> bytes:
    """A certificate's serial number as the DER INTEGER ``CKA_SERIAL_NUMBER`` holds."""
    from asn1crypto import core

    return core.Integer(serial).dump()


def token_supports_ed25519(config: TokenSettings) -> bool:
    from pkcs11 import Mechanism

    return token_use(lambda session, objects: Mechanism.EDDSA in session.token.slot.get_mechanisms(), config)


def token_public_key_pem(config: TokenSettings, label: str) -> bytes:
    """The PEM public key of the token's key ``label`` (for a file beside it after a rotation)."""
    from cryptography.hazmat.primitives import serialization

    der = token_use(lambda session, objects: _public_key_der(session, label), config)
    return serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
