"""The check-a-file form with a real issued certificate: its PDF, its credential (JSON), a baked
badge image (PNG), and the bad files people may bring (tampered, unknown terms, another key, a
PDF carrying a credential other than the one issued, a revoked certificate's credential, garbage).
Each gets a verdict first and a list of checks, passed or failed, in plain words; never a 500."""

import copy
import io
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from certificates import services
from certificates.baking import badge_png_bake
from certificates.credentials import CredentialKey, credential_sign
from certificates.file_check import file_check
from certificates.rendering import certificate_pdf_render
from certificates.signing import pdf_sign

pytestmark = pytest.mark.django_db

# The file check's reads: the PDF's hash (certificate, then versions), the status entry with its
# certificate and list, a superseded version at most.
MAX_QUERIES = 6


@pytest.fixture
def client(settings):
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "file_check": "10000/m"}
    return Client(raise_request_exception=False)


def upload(client, data: bytes, name: str, content_type: str = "application/octet-stream"):
    response = client.post(reverse("certificates:file_check"), {"file": SimpleUploadedFile(name, data, content_type)})
    assert response.status_code == 200, response.status_code
    return response


def checks_of(response) -> dict[str, tuple[bool | None, str]]:
    return {check.label: (check.passed, check.sentence) for check in response.context["result"].checks}


def png_image() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def credential_json(certificate) -> bytes:
    return services.credential_bytes(certificate.credential)


def test_the_issued_pdf_passes_every_check(client, completed_certificate, django_assert_max_num_queries):
    pdf = completed_certificate.pdf.open("rb").read()
    with django_assert_max_num_queries(MAX_QUERIES):
        response = upload(client, pdf, "certificate.pdf", "application/pdf")
    html = response.content.decode()
    assert response.context["outcome"] == "genuine"
    assert "This file is a genuine certificate" in html
    checks = checks_of(response)
    assert list(checks) == [
        "The file we issued",
        "Digital signature",
        "Credential inside the PDF",
        "Issuer's proof",
        "Issued by us",
        "Current status",
    ]
    assert all(passed for passed, _sentence in checks.values()), checks
    assert "byte for byte, the credential we issued" in checks["Issued by us"][1]
    assert "✓" in html and "Passed:" in html and "Failed:" not in html


def test_the_credential_json_passes(client, completed_certificate, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = upload(client, credential_json(completed_certificate), "credential.json", "application/json")
    html = response.content.decode()
    assert response.context["outcome"] == "genuine"
    assert "This credential is genuine and valid" in html
    assert completed_certificate.verification_code in html
    checks = checks_of(response)
    assert checks["Issuer's proof"][0] and checks["Issued by us"][0] and checks["Current status"][0]


def test_the_served_credential_reformatted_by_a_wallet_passes(client, completed_certificate):
    served = client.get(
        reverse("certificates:credential_json", kwargs={"code": completed_certificate.verification_code})
    )
    compact = json.dumps(json.loads(served.content), separators=(",", ":")).encode()
    response = upload(client, compact, "badge.jsonld")
    assert response.context["outcome"] == "genuine"
    assert "laid out differently" in checks_of(response)["Issued by us"][1]


def test_a_baked_badge_passes_and_a_plain_png_carries_none(client, completed_certificate):
    baked = badge_png_bake(png_image(), credential_json(completed_certificate))
    response = upload(client, baked, "badge.png", "image/png")
    assert response.context["outcome"] == "genuine"
    assert checks_of(response)["Credential inside the image"][0]

    response = upload(client, png_image(), "badge.png", "image/png")
    html = response.content.decode()
    assert response.context["outcome"] == "unreadable"
    assert "This image carries no credential" in html
    assert "genuine" not in html


def test_detected_by_content_not_name(client, completed_certificate):
    # A credential named .pdf and a badge named .json are still checked as what they are.
    assert upload(client, credential_json(completed_certificate), "x.pdf").context["result"].kind == "credential"
    baked = badge_png_bake(png_image(), credential_json(completed_certificate))
    response = upload(client, baked, "x.json")
    assert response.context["result"].kind == "badge" and response.context["outcome"] == "genuine"


def test_a_tampered_credential_fails_its_proof(client, completed_certificate):
    tampered = copy.deepcopy(completed_certificate.credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctorate in Everything"
    response = upload(client, services.credential_bytes(tampered), "credential.json")
    html = response.content.decode()
    assert response.context["outcome"] == "not_issued"
    assert "This credential is not one we issued" in html
    passed, sentence = checks_of(response)["Issuer's proof"]
    assert passed is False and "the credential was changed after it was signed" in sentence
    assert checks_of(response)["Current status"][0] is None  # not checked: nothing in it can be relied on
    assert "✗" in html and "Failed:" in html


def test_an_unknown_term_is_named(client, completed_certificate):
    extended = copy.deepcopy(completed_certificate.credential)
    extended["favouriteColour"] = "blue"
    response = upload(client, services.credential_bytes(extended), "credential.json")
    assert response.context["outcome"] == "not_issued"
    passed, sentence = checks_of(response)["Issuer's proof"]
    assert passed is False
    assert "terms its JSON-LD contexts do not define" in sentence and "favouriteColour" in sentence
    assert "favouriteColour" in response.content.decode()


def test_a_credential_signed_by_another_key_fails(client, completed_certificate):
    private = Ed25519PrivateKey.generate()
    other_key = CredentialKey(public_key=private.public_key(), private_key=private)
    unsigned = {k: v for k, v in completed_certificate.credential.items() if k != "proof"}
    forged = credential_sign(unsigned, key=other_key)  # did:web of our site, but a key we never listed
    response = upload(client, services.credential_bytes(forged), "credential.json")
    assert response.context["outcome"] == "not_issued"
    passed, sentence = checks_of(response)["Issuer's proof"]
    assert passed is False and "a key the issuer does not list" in sentence


def test_a_pdf_carrying_another_credential_is_not_the_file_issued(client, completed_certificate):
    tampered = copy.deepcopy(completed_certificate.credential)
    tampered["name"] = "Something else"
    context = services.certificate_context(completed_certificate)
    pdf = pdf_sign(certificate_pdf_render(context, credential_json=services.credential_bytes(tampered)), reason="x")
    response = upload(client, pdf, "certificate.pdf", "application/pdf")
    html = response.content.decode()
    assert response.context["outcome"] == "not_issued"
    assert "This file is not a certificate we issued" in html
    checks = checks_of(response)
    assert checks["The file we issued"][0] is False
    assert checks["Digital signature"][0] is False  # signed, but not a file we issued
    assert checks["Credential inside the PDF"][0] is True
    assert checks["Issuer's proof"][0] is False


def test_a_pdf_carrying_a_genuine_credential_is_still_not_the_file_issued(client, completed_certificate):
    context = services.certificate_context(completed_certificate)
    pdf = pdf_sign(certificate_pdf_render(context, credential_json=credential_json(completed_certificate)), reason="x")
    response = upload(client, pdf, "certificate.pdf", "application/pdf")
    assert response.context["outcome"] == "not_issued"
    checks = checks_of(response)
    assert checks["Issued by us"][0] is True
    assert checks["What the PDF shows"][0] is False
    assert "This file is a genuine certificate" not in response.content.decode()


def test_a_revoked_certificates_credential_says_revoked(client, completed_certificate, staff_user):
    data = credential_json(completed_certificate)
    pdf = completed_certificate.pdf.open("rb").read()
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
    response = upload(client, data, "credential.json")
    assert response.context["outcome"] == "revoked"
    assert "This credential has been revoked" in response.content.decode()
    passed, sentence = checks_of(response)["Current status"]
    assert passed is False and sentence.startswith("Revoked:")
    assert checks_of(response)["Issuer's proof"][0] is True  # the proof still holds: the status says no

    response = upload(client, pdf, "certificate.pdf")
    assert response.context["outcome"] == "revoked"
    assert checks_of(response)["Current status"][0] is False


def test_an_earlier_versions_credential_says_replaced(
    client, completed_certificate, staff_user, django_capture_on_commit_callbacks
):
    old = credential_json(completed_certificate)
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(certificate=completed_certificate, reissued_by=staff_user)
    response = upload(client, old, "credential.json")
    assert response.context["outcome"] == "earlier_version"
    assert "earlier version of a certificate" in response.content.decode()
    passed, sentence = checks_of(response)["Current status"]
    assert passed is False and "replaced" in sentence


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"this is not JSON at all", "credential.json", "not valid JSON"),
        (b"{not json", "credential.json", "not valid JSON"),
        (b'{"a":' * 30_000 + b"1" + b"}" * 30_000, "deep.json", "nested far deeper"),
        (b"[" * 100_000 + b"]" * 100_000, "deep.json", "nested far deeper"),
        (b'{"a": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}", "x.json", "nested far deeper"),
        (b"[1, 2, 3]", "credential.json", "not an object"),
        (b'{"n": ' + b"9" * 5000 + b"}", "credential.json", "not valid JSON"),
        (b'{"n": NaN}', "credential.json", "not valid JSON"),
        (b"\xff\xfe{", "credential.json", "not text in UTF-8"),
        (b"{" + b" " * 300_000 + b"}", "big.json", "larger than any credential"),
    ],
    ids=["prose", "broken", "deep-objects", "deep-arrays", "depth-41", "array", "long-int", "nan", "utf16", "big"],
)
def test_unreadable_credentials_get_a_clear_answer(client, db, data, name, words):
    response = upload(client, data, name)
    html = response.content.decode()
    assert response.context["outcome"] == "unreadable"
    assert "We could not read this file as a credential" in html
    assert words in html


def test_a_file_of_no_known_kind(client, db):
    response = upload(client, b"GIF89a not a certificate", "thing.gif")
    assert response.context["outcome"] == "unreadable"
    assert "It is not a PDF, a credential (JSON) or a badge image (PNG)" in response.content.decode()


def test_a_status_entry_pointing_elsewhere_cannot_be_vouched_for(completed_certificate):
    """A credential we signed (our key) whose status list is not at one of our addresses."""
    from certificates.credentials import credential_key

    unsigned = {k: v for k, v in completed_certificate.credential.items() if k != "proof"}
    unsigned["credentialStatus"] = {**unsigned["credentialStatus"], "statusListCredential": "https://evil.example/list"}
    signed = credential_sign(unsigned, key=credential_key())
    result = file_check(services.credential_bytes(signed), "c.json")
    assert result.outcome == "not_issued"  # no record: the entry is not one of ours
    assert [c.passed for c in result.checks if c.label == "Issuer's proof"] == [True]


def test_time_per_check(completed_certificate, capsys):
    """Prints the time per check of each kind (a figure, not an assertion)."""
    pdf = completed_certificate.pdf.open("rb").read()
    data = credential_json(completed_certificate)
    baked = badge_png_bake(png_image(), data)
    figures = {}
    for label, payload, name in (("PDF", pdf, "c.pdf"), ("JSON", data, "c.json"), ("PNG", baked, "c.png")):
        assert file_check(payload, name).outcome == "genuine"
        rounds = 5
        start = time.perf_counter()
        for _ in range(rounds):
            file_check(payload, name)
        figures[label] = (time.perf_counter() - start) / rounds * 1000
    with capsys.disabled():
        print("\nfile check, ms per check: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
