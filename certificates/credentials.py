"""Open Badges 3.0 credentials: building one for a certificate, checking that JSON-LD keeps every
property, signing it with a Data Integrity proof (``eddsa-rdfc-2022``) and verifying one.

- **Contexts.** Every context a credential uses is pinned in ``certificates/jsonld/`` (see its
  README). ``pinned_document_loader`` serves only those; any other URL is refused with
  ``CredentialError``, so nothing is ever fetched from the network.
- **No silent loss.** pyld drops terms that no context defines without a word, and RDF
  canonicalisation drops relative IRIs; a proof over such a document would not cover what it
  seems to say. ``credential_terms_check`` expands the document (pyld's ``on_property_dropped``
  hook) and refuses it if any property, type or identifier would be lost.
- **The proof** follows W3C Data Integrity EdDSA Cryptosuites v1.0, ``eddsa-rdfc-2022``: the proof
  options (with the document's ``@context``) and the document without its proof are each
  canonicalised with RDFC-1.0 (pyld's ``URDNA2015``) and hashed with SHA-256; the Ed25519 signature
  over ``proof hash + document hash`` is the ``proofValue``, ``z`` + base58btc.
- **The key** is an Ed25519 key of its own (``CERTIFICATE_CREDENTIAL_KEY``, a PEM file made by
  ``python manage.py create_signing_key``), published as a ``Multikey`` in the issuer's DID document
  (``did:web`` of ``SITE_URL``, served at ``/.well-known/did.json``). The verification method's
  fragment is the key's own ``publicKeyMultibase``, so keys listed after a rotation
  (``CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS``) keep their identifiers and earlier credentials verify.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import os
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from pyld import jsonld

if TYPE_CHECKING:
    from .pkcs11 import TokenEd25519Key

CONTEXT_VC_V2 = "https://www.w3.org/ns/credentials/v2"
CONTEXT_OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREDENTIAL_CONTEXTS = [CONTEXT_VC_V2, CONTEXT_OB_V3]
DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]

JSONLD_DIR = Path(__file__).resolve().parent / "jsonld"
# URL -> file in certificates/jsonld/ (their source: certificates/jsonld/README.md).
PINNED_CONTEXTS = {
    CONTEXT_VC_V2: "credentials-v2.jsonld",
    CONTEXT_OB_V3: "ob-v3p0-context-3.0.3.json",
}

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"
# Multicodec prefix of an Ed25519 public key (0xed, varint-encoded: 0xed 0x01).
ED25519_PUB_MULTICODEC = b"\xed\x01"
# The image of the issuer and of each achievement, under STATIC_URL.
ISSUER_IMAGE_STATIC = "img/favicon.svg"


class CredentialError(Exception):
    """A credential could not be built, checked or signed; the message says why."""


class CredentialKeyError(CredentialError):
    """The credential signing key is missing, unreadable or not an Ed25519 key."""


# --- JSON-LD -------------------------------------------------------------------------------------

_contexts: dict[str, object] = {}
_contexts_lock = threading.Lock()


def pinned_context(url: str):
    """The pinned JSON of context ``url`` (read once per process); ``CredentialError`` if not pinned."""
    name = PINNED_CONTEXTS.get(url)
    if name is None:
        raise CredentialError(
            _("The JSON-LD context %(url)s is not one this site knows; contexts are never fetched from the network.")
            % {"url": url}
        )
    with _contexts_lock:
        if url not in _contexts:
            _contexts[url] = json.loads((JSONLD_DIR / name).read_text(encoding="utf-8"))
        return _contexts[url]


def pinned_document_loader(url: str, options: dict | None = None) -> dict:
    """pyld document loader serving only the pinned contexts (never the network). They are
    tagged ``static`` (as in jsonld.js), so pyld keeps each resolved context for the process
    instead of processing it again for every document."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(pinned_context(url)),
        "tag": "static",
    }


def _jsonld_options(**extra) -> dict:
    return {"documentLoader": pinned_document_loader, "base": None, **extra}


def _refused_context(exc: BaseException) -> CredentialError | None:
    """The ``CredentialError`` the loader raised, however deep pyld wrapped it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, CredentialError):
            return exc
        details = getattr(exc, "details", None)
        cause = details.get("cause") if isinstance(details, dict) else None
        exc = cause or exc.__cause__ or exc.__context__
    return None


def _jsonld_failure(exc: Exception) -> CredentialError:
    refused = _refused_context(exc)
    if refused is not None:
        return refused
    return CredentialError(
        _("The document is not valid JSON-LD: %(error)s") % {"error": exc.args[0] if exc.args else exc}
    )


def _is_absolute_iri(value: str) -> bool:
    return ":" in value and not value.startswith(":")


def _lost_in_expanded(node, lost: list[str]) -> None:
    """Collect types and identifiers the RDF conversion would drop (relative IRIs)."""
    if isinstance(node, list):
        for item in node:
            _lost_in_expanded(item, lost)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@type":
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and not _is_absolute_iri(item):
                    lost.append(_("the type %(type)s") % {"type": item})
        elif key == "@id":
            if isinstance(value, str) and not _is_absolute_iri(value):
                lost.append(_("the identifier %(id)s") % {"id": value})
        elif key != "@value":
            _lost_in_expanded(value, lost)


def credential_terms_check(document: dict) -> list:
    """Refuse (``CredentialError``) a document that would lose anything in JSON-LD expansion: a
    property no context defines, a type that is not defined, an identifier that is not an IRI.
    Returns the expanded document (what is canonicalised)."""
    if not isinstance(document, dict):
        raise CredentialError(_("A credential must be a JSON object."))
    dropped: list[str] = []
    try:
        expanded = jsonld.expand(
            document, _jsonld_options(), on_property_dropped=lambda term: dropped.append(str(term))
        )
    except jsonld.JsonLdError as exc:
        raise _jsonld_failure(exc) from exc
    lost = [_("the property %(name)s") % {"name": term} for term in dropped]
    _lost_in_expanded(expanded, lost)
    if lost:
        raise CredentialError(
            _(
                "The credential uses terms its JSON-LD contexts do not define, so a proof would not cover them: %(terms)s."
            )
            % {"terms": ", ".join(sorted(set(lost)))}
        )
    return expanded


def canonical_nquads(document: dict | list) -> str:
    """RDF Dataset Canonicalisation (RDFC-1.0, pyld's ``URDNA2015``) of ``document`` (compacted or
    expanded JSON-LD), as N-Quads."""
    try:
        return jsonld.normalize(document, _jsonld_options(algorithm="URDNA2015", format="application/n-quads"))
    except jsonld.JsonLdError as exc:
        raise _jsonld_failure(exc) from exc


# --- Keys ------------------------------------------------------------------------------------------


def multikey_encode(public_key: Ed25519PublicKey) -> str:
    """The ``publicKeyMultibase`` of an Ed25519 key: ``z`` + base58btc(0xed01 + raw 32 bytes)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(ED25519_PUB_MULTICODEC + raw).decode("ascii")


def multikey_decode(multibase: str) -> Ed25519PublicKey:
    """The Ed25519 key of a ``publicKeyMultibase``; ``CredentialError`` if it is not one."""
    if not isinstance(multibase, str) or not multibase.startswith("z"):
        raise CredentialError(_("The public key is not a base58btc multibase value."))
    try:
        data = base58.b58decode(multibase[1:])
    except ValueError as exc:
        raise CredentialError(_("The public key is not valid base58btc.")) from exc
    if len(data) != 34 or not data.startswith(ED25519_PUB_MULTICODEC):
        raise CredentialError(_("The public key is not an Ed25519 Multikey."))
    return Ed25519PublicKey.from_public_bytes(data[2:])


def did_web(site_url: str | None = None) -> str:
    """The ``did:web`` of the site: ``did:web:`` + the host of ``SITE_URL``, its port percent-encoded
    (``did:web:example.org%3A8000``). The DID document is served at the host's
    ``/.well-known/did.json``."""
    parts = urlsplit(site_url or settings.SITE_URL)
    if not parts.hostname:
        raise CredentialError(_("SITE_URL has no host name, so the issuer has no did:web identifier."))
    host = parts.hostname.lower()
    if parts.port:
        host = f"{host}:{parts.port}"
    return "did:web:" + quote(host, safe="")


@dataclass(frozen=True)
class CredentialKey:
    """An Ed25519 credential key: the private half only for the current key (cryptography's, or
    ``certificates.pkcs11.TokenEd25519Key`` for a key in a PKCS#11 token: both ``sign(data)``)."""

    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | TokenEd25519Key | None = field(default=None, repr=False)

    @property
    def multibase(self) -> str:
        return multikey_encode(self.public_key)

    def verification_method(self, did: str | None = None) -> str:
        return f"{did or did_web()}#{self.multibase}"


_keys_lock = threading.Lock()
_keys: dict[tuple, CredentialKey] = {}


def _key_file_load(path: str, *, private: bool) -> CredentialKey:
    if not path:
        raise CredentialKeyError(_("No credential signing key is configured (CERTIFICATE_CREDENTIAL_KEY)."))
    if not os.path.isfile(path):
        raise CredentialKeyError(
            _(
                "The credential signing key was not found at %(path)s. Run “python manage.py create_signing_key” "
                "for a development key, or set CERTIFICATE_CREDENTIAL_KEY."
            )
            % {"path": path}
        )
    cache_key = (path, os.path.getmtime(path), private)
    with _keys_lock:
        if cache_key in _keys:
            return _keys[cache_key]
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CredentialKeyError(
            _("The credential key file %(path)s could not be read: %(error)s") % {"path": path, "error": exc}
        ) from exc
    key = None
    try:
        if b"PRIVATE KEY" in data:
            private_key = serialization.load_pem_private_key(data, password=None)
            if isinstance(private_key, Ed25519PrivateKey):
                key = CredentialKey(public_key=private_key.public_key(), private_key=private_key if private else None)
        elif not private:
            public_key = serialization.load_pem_public_key(data)
            if isinstance(public_key, Ed25519PublicKey):
                key = CredentialKey(public_key=public_key)
    except (ValueError, TypeError) as exc:
        raise CredentialKeyError(
            _("The credential key file %(path)s is not a readable PEM key: %(error)s") % {"path": path, "error": exc}
        ) from exc
    if key is None:
        raise CredentialKeyError(
            _("The credential key file %(path)s does not hold an unencrypted Ed25519 %(kind)s key.")
            % {"path": path, "kind": _("private") if private else _("public or private")}
        )
    with _keys_lock:
        _keys[cache_key] = key
    return key


def _token_key_load(label: str, *, private: bool) -> CredentialKey:
    from . import pkcs11

    try:
        public_key = pkcs11.ed25519_public_key(label)
    except pkcs11.TokenConfigurationError as exc:
        raise CredentialKeyError(str(exc)) from exc
    return CredentialKey(public_key=public_key, private_key=pkcs11.TokenEd25519Key(label) if private else None)


def credential_key() -> CredentialKey:
    """The current credential signing key: the token's key labelled
    ``CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL`` when set (signing in the token), else the file
    ``CERTIFICATE_CREDENTIAL_KEY``; loaded once per process."""
    from . import pkcs11

    if pkcs11.credential_configured():
        return _token_key_load(pkcs11.token_settings().credential_key_label, private=True)
    return _key_file_load(str(getattr(settings, "CERTIFICATE_CREDENTIAL_KEY", "") or ""), private=True)


def credential_previous_keys() -> list[CredentialKey]:
    """Keys used before a rotation (``CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS``: public or private PEM
    files, or ``pkcs11:object=<label>`` for a key kept in the PKCS#11 token), still listed in the
    DID document so that earlier credentials verify."""
    from . import pkcs11

    paths = getattr(settings, "CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS", []) or []
    if isinstance(paths, str | Path):
        paths = [paths]
    keys = []
    for entry in (str(p) for p in paths if str(p)):
        try:
            label = pkcs11.previous_key_label(entry)
        except pkcs11.TokenConfigurationError as exc:
            raise CredentialKeyError(str(exc)) from exc
        keys.append(_key_file_load(entry, private=False) if label is None else _token_key_load(label, private=False))
    return keys


def issuer_keys() -> list[CredentialKey]:
    """Every key the issuer lists: the current one first, then earlier ones (no duplicates)."""
    keys: list[CredentialKey] = []
    for key in [credential_key(), *credential_previous_keys()]:
        if key.multibase not in {k.multibase for k in keys}:
            keys.append(key)
    return keys


def did_document() -> dict:
    """The issuer's DID document: every listed key as a ``Multikey`` under ``assertionMethod``."""
    did = did_web()
    methods = [
        {
            "id": key.verification_method(did),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.multibase,
        }
        for key in issuer_keys()
    ]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def did_document_keys(document: dict) -> dict[str, Ed25519PublicKey]:
    """Verification method id -> key, for the ``assertionMethod`` Multikeys of a DID document."""
    if not isinstance(document, dict):
        return {}
    allowed = {m if isinstance(m, str) else m.get("id") for m in document.get("assertionMethod", []) or []}
    keys = {}
    for method in document.get("verificationMethod", []) or []:
        if not isinstance(method, dict) or method.get("id") not in allowed or method.get("type") != "Multikey":
            continue
        try:
            keys[method["id"]] = multikey_decode(method.get("publicKeyMultibase"))
        except CredentialError:
            continue
    return keys


# --- Building --------------------------------------------------------------------------------------


def _timestamp(value: datetime.datetime) -> str:
    """An XML Schema dateTime in UTC to the second: ``2026-12-02T01:47:14Z``."""
    return value.astimezone(datetime.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _absolute_static(path: str) -> str:
    static_url = settings.STATIC_URL or "/static/"
    if not static_url.startswith(("http://", "https://")):
        static_url = settings.SITE_URL + "/" + static_url.lstrip("/")
    return static_url.rstrip("/") + "/" + path


def email_identity_hash(email: str, salt: str) -> str:
    """Open Badges 3.0 ``identityHash`` of an email address: ``sha256$`` + hex SHA-256(email + salt)."""
    return "sha256$" + hashlib.sha256((email + salt).encode("utf-8")).hexdigest()


def credential_id(certificate) -> str:
    """A stable identifier for this version of the certificate's credential (a reissue, with the
    same verification code, is a new credential with a new identifier)."""
    name = f"{settings.SITE_URL}/verify/{certificate.verification_code}/credential.json#v{certificate.version}"
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def achievement_id(programme) -> str:
    """A stable identifier for the programme's achievement (unchanged by renaming the programme)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{settings.SITE_URL}/programmes/{programme.pk}").urn


def criteria_narrative(competencies: list[dict]) -> str:
    """Plain words naming every core and course-specific competency domain of the snapshot."""
    core = [d["domain"] for d in competencies if d.get("core")]
    specific = [d["domain"] for d in competencies if not d.get("core")]
    parts = [_("Completed the programme and showed every competency it requires.")]
    if core:
        parts.append(_("Core competency domains: %(domains)s.") % {"domains": "; ".join(core)})
    if specific:
        parts.append(_("Course-specific competency domains: %(domains)s.") % {"domains": "; ".join(specific)})
    return " ".join(parts)


def _name_identity(name: str, email: str) -> list[dict]:
    """The printed name as an unhashed ``IdentityObject``; none when the certificate printed the
    email address in place of a name (a learner with no name), which must never appear in plain."""
    name = (name or "").strip()
    if not name or (email and email.strip().casefold() in name.casefold()):
        return []
    return [{"type": "IdentityObject", "identityHash": name, "identityType": "name", "hashed": False}]


def credential_build(
    certificate,
    *,
    status_entry: dict | None = None,
    salt: str | None = None,
    identifier: str | None = None,
) -> dict:
    """The unsigned ``OpenBadgeCredential`` of an issued ``certificate`` (from its snapshots:
    learner's name, programme, competency domains; ``issued_at`` is ``validFrom``).

    ``status_entry``: the ``credentialStatus`` entry (a Bitstring Status List entry), if any.
    ``salt``: for the email's identity hash (random when not given). The learner's email appears
    only hashed (even when the certificate printed it for want of a name)."""
    if certificate.issued_at is None:
        raise CredentialError(_("The certificate has not been issued, so it has no credential yet."))
    programme = certificate.enrolment.programme
    email = certificate.enrolment.learner.email
    salt = salt if salt is not None else secrets.token_hex(16)
    image = {"id": _absolute_static(ISSUER_IMAGE_STATIC), "type": "Image"}
    description = (programme.summary or "").strip() or programme.title
    credential = {
        "@context": list(CREDENTIAL_CONTEXTS),
        "id": identifier or credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": did_web(),
            "type": ["Profile"],
            "name": settings.SITE_NAME,
            "url": settings.SITE_URL + "/",
            "image": image,
        },
        "validFrom": _timestamp(certificate.issued_at),
        "name": certificate.programme_title or programme.title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": email_identity_hash(email, salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                },
                *_name_identity(certificate.learner_name, email),
            ],
            "achievement": {
                "id": achievement_id(programme),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": certificate.programme_title or programme.title,
                "description": description,
                "criteria": {"narrative": criteria_narrative(certificate.competencies or [])},
                "image": image,
            },
        },
    }
    if status_entry is not None:
        credential["credentialStatus"] = status_entry
    return credential


# --- Proofs ----------------------------------------------------------------------------------------


def _hash_data(unsecured: dict, proof_config: dict) -> bytes:
    """SHA-256 of the canonical proof configuration, then of the canonical document, each checked
    to lose nothing in expansion first (the expanded form is what is canonicalised: the same RDF
    dataset, without processing the contexts twice)."""
    proof_hash = hashlib.sha256(canonical_nquads(credential_terms_check(proof_config)).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonical_nquads(credential_terms_check(unsecured)).encode("utf-8")).digest()
    return proof_hash + document_hash


def credential_sign(
    document: dict,
    *,
    key: CredentialKey | None = None,
    verification_method: str | None = None,
    created: datetime.datetime | str | None = None,
) -> dict:
    """``document`` with an ``eddsa-rdfc-2022`` Data Integrity proof added (a new dict).

    Refuses (``CredentialError``) a document that would lose a property in JSON-LD expansion.
    ``key``: the current credential key by default; ``verification_method``: its id in the
    issuer's DID document by default; ``created``: now by default."""
    key = key or credential_key()
    if key.private_key is None:
        raise CredentialKeyError(_("This credential key has no private half and cannot sign."))
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if created is None:
        created = timezone.now()
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created if isinstance(created, str) else _timestamp(created),
        "verificationMethod": verification_method or key.verification_method(),
        "proofPurpose": PROOF_PURPOSE,
    }
    proof_config = {**options, "@context": unsecured.get("@context")}
    signature = key.private_key.sign(_hash_data(unsecured, proof_config))
    return {**unsecured, "proof": {**options, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}}


@dataclass(frozen=True)
class CredentialCheck:
    """What ``credential_verify`` found: ``valid``, or the ``problem`` in plain words."""

    valid: bool
    problem: str = ""
    verification_method: str = ""


def _issuer_id(document: dict) -> str:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def credential_verify(
    document,
    *,
    keys: dict[str, Ed25519PublicKey] | None = None,
    require_issuer_controller: bool = True,
) -> CredentialCheck:
    """Check the ``eddsa-rdfc-2022`` proof of a credential.

    ``keys``: verification method id -> Ed25519 public key that may sign (by default the keys this
    site lists in its DID document). ``require_issuer_controller``: the verification method must
    belong to the credential's issuer (its DID or URL before the ``#``). Never raises for a bad
    document: the answer says what is wrong."""
    if not isinstance(document, dict):
        return CredentialCheck(False, _("The credential is not a JSON object."))
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        return CredentialCheck(False, _("The credential has no proof."))
    method = proof.get("verificationMethod")
    method = method if isinstance(method, str) else ""
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return CredentialCheck(False, _("The proof is not an eddsa-rdfc-2022 Data Integrity proof."), method)
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        return CredentialCheck(False, _("The proof is not meant for asserting a credential."), method)
    value = proof.get("proofValue")
    try:
        signature = base58.b58decode(value[1:]) if isinstance(value, str) and value.startswith("z") else b""
    except ValueError:
        signature = b""
    if len(signature) != 64:
        return CredentialCheck(False, _("The proof's value is not an Ed25519 signature."), method)
    if require_issuer_controller and method.split("#", 1)[0] != _issuer_id(document):
        return CredentialCheck(False, _("The proof was not made with a key of the credential's issuer."), method)
    if keys is None:
        try:
            keys = {key.verification_method(): key.public_key for key in issuer_keys()}
        except CredentialError as exc:
            return CredentialCheck(False, str(exc), method)
    public_key = keys.get(method)
    if public_key is None:
        return CredentialCheck(False, _("The proof was made with a key the issuer does not list."), method)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    if "@context" in proof and proof["@context"] != unsecured.get("@context"):
        return CredentialCheck(False, _("The proof's JSON-LD context differs from the credential's."), method)
    proof_config = {**options, "@context": unsecured.get("@context")}
    try:
        data = _hash_data(unsecured, proof_config)
    except CredentialError as exc:
        return CredentialCheck(False, str(exc), method)
    except (RecursionError, TypeError, ValueError, KeyError, AttributeError) as exc:
        # pyld on JSON no credential has (nested thousands deep, odd values where it expects others).
        return CredentialCheck(
            False,
            _("The credential is not JSON-LD that can be checked (%(error)s).") % {"error": type(exc).__name__},
            method,
        )
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return CredentialCheck(
            False, _("The signature does not match: the credential was changed after it was signed."), method
        )
    return CredentialCheck(True, "", method)
