"""The issuer's DID document at ``/.well-known/did.json``: the credential key as a Multikey under
``assertionMethod``, public and briefly cacheable, and earlier keys still listed after a rotation
so that credentials they signed still verify."""

import json

import pytest
from django.core.management import call_command

from certificates import credentials
from certificates.credentials import credential_build, credential_sign, credential_verify, did_document_keys
from certificates.keys import credential_key_create, credential_public_key_write


@pytest.fixture
def credential_key_file(tmp_path, settings):
    path = credential_key_create(tmp_path / "credential-key.pem")
    settings.CERTIFICATE_CREDENTIAL_KEY = str(path)
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = []
    return path


def _did(client):
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    return response, json.loads(response.content)


def test_the_did_document_lists_the_credential_key(client, db, credential_key_file):
    response, document = _did(client)
    key = credentials.credential_key()
    did = "did:web:academy.example.org"
    assert response["Content-Type"] == "application/did+json"
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#{key.multibase}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.multibase,
            }
        ],
        "assertionMethod": [f"{did}#{key.multibase}"],
    }


def test_the_did_follows_the_site_urls_host_and_port(client, db, credential_key_file, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    _, document = _did(client)
    assert document["id"] == "did:web:127.0.0.1%3A8000"
    assert document["verificationMethod"][0]["controller"] == "did:web:127.0.0.1%3A8000"


def test_the_did_document_needs_no_sign_in_and_only_answers_get(client, db, credential_key_file):
    assert client.post("/.well-known/did.json").status_code == 405


def test_without_a_key_the_did_document_answers_503_not_500(client, db, settings, tmp_path):
    settings.CERTIFICATE_CREDENTIAL_KEY = str(tmp_path / "missing.pem")
    response = client.get("/.well-known/did.json")
    assert response.status_code == 503
    assert "not available" in json.loads(response.content)["error"]


def test_after_a_rotation_the_old_key_stays_listed_and_its_credentials_verify(
    client, completed_certificate, credential_key_file, settings, tmp_path
):
    old = credentials.credential_key()
    signed_before = credential_sign(credential_build(completed_certificate))
    # Rotate: a new key; the old public key listed as a previous key.
    old_public = credential_public_key_write(credential_key_file, tmp_path / "old.pub.pem")
    settings.CERTIFICATE_CREDENTIAL_KEY = str(credential_key_create(tmp_path / "new-key.pem"))
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = [str(old_public)]
    new = credentials.credential_key()
    assert new.multibase != old.multibase

    _, document = _did(client)
    listed = [m["publicKeyMultibase"] for m in document["verificationMethod"]]
    assert listed == [new.multibase, old.multibase]
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    keys = did_document_keys(document)
    # The credential signed before the rotation verifies against the keys the document lists,
    assert credential_verify(signed_before, keys=keys).valid
    # and so does one signed after it; new credentials are signed by the new key.
    signed_after = credential_sign(credential_build(completed_certificate))
    assert signed_after["proof"]["verificationMethod"].endswith("#" + new.multibase)
    assert credential_verify(signed_after, keys=keys).valid
    # Without the old key listed, the old credential no longer verifies.
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = []
    _, document = _did(client)
    check = credential_verify(signed_before, keys=did_document_keys(document))
    assert not check.valid and "does not list" in check.problem


def test_create_signing_key_makes_the_credential_key_beside_the_pades_key(tmp_path, capsys, settings):
    folder = tmp_path / "k"
    call_command("create_signing_key", "--dir", str(folder))
    out = capsys.readouterr().out
    assert f"CERTIFICATE_CREDENTIAL_KEY={folder / 'credential-key.pem'}" in out
    assert (folder / "credential-key.pem").stat().st_mode & 0o077 == 0
    settings.CERTIFICATE_CREDENTIAL_KEY = str(folder / "credential-key.pem")
    first = credentials.credential_key().multibase
    # --if-missing keeps both keys; it makes a credential key an older keys/ folder lacks.
    call_command("create_signing_key", "--dir", str(folder), "--if-missing")
    assert credentials.credential_key().multibase == first
    (folder / "credential-key.pem").unlink()
    pades = (folder / "signing-key.pem").read_bytes()
    call_command("create_signing_key", "--dir", str(folder), "--if-missing")
    assert (folder / "credential-key.pem").exists()
    assert (folder / "signing-key.pem").read_bytes() == pades


def test_create_signing_key_rotates_the_credential_key_keeping_the_old_public_key(tmp_path, capsys, settings):
    folder = tmp_path / "k"
    call_command("create_signing_key", "--dir", str(folder))
    settings.CERTIFICATE_CREDENTIAL_KEY = str(folder / "credential-key.pem")
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = []
    first = credentials.credential_key().multibase
    capsys.readouterr()
    call_command("create_signing_key", "--dir", str(folder), "--rotate-credential-key")
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS="))
    settings.CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = line.split("=", 1)[1].split(",")
    assert credentials.credential_key().multibase != first
    assert [k.multibase for k in credentials.issuer_keys()][1:] == [first]
