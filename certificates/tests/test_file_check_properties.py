"""Property-based tests (Hypothesis) of the check-a-file form: whatever bytes are posted (random
ones, a genuine certificate truncated, with bytes flipped or junk appended, arbitrary JSON and
credential-like documents, PNG images with anything baked in), the answer is one of the defined
outcomes and never a 500; only the untouched genuine file is called genuine.

The budget is the root conftest's Hypothesis profile ("ci": 60 examples, derandomised); the
genuine signed PDF is made once for the module."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from certificates.signing import pdf_sign
from certificates.tests.samples import issued_certificate_saved
from certificates.views import FILE_CHECK_OUTCOMES
from programmes.tests.factories import EnrolmentFactory
from tests.support.workers import signing_keys_use

EXAMPLES = hypothesis_settings(
    # The profile's budget ("ci": 60), capped so this module stays within seconds under "dev" too.
    max_examples=min(hypothesis_settings.default.max_examples, 60),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


class _Settings:
    """Collects what ``signing_keys_use`` sets, to apply it with override_settings."""


def _one_page_pdf() -> bytes:
    """A minimal valid PDF with one A4 page saying "Certificate", offsets computed."""
    content = b"BT /F1 24 Tf 72 720 Td (Certificate) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture(scope="module")
def genuine(module_db, signing_key_files, tmp_path_factory):
    """A signed PDF (a blank page, signed with the test key) issued as a certificate."""
    keys = _Settings()
    signing_keys_use(keys, signing_key_files)
    media = tmp_path_factory.mktemp("properties-media")
    with module_db.unblock(), override_settings(MEDIA_ROOT=media, **vars(keys)):
        signed = pdf_sign(_one_page_pdf(), reason="Test")
        enrolment = EnrolmentFactory()
        issued_certificate_saved(enrolment, code="PR0PS-0TEST-C0DE1-AAAAA", pdf=signed, file_name="properties.pdf")
    return signed


@pytest.fixture
def check(settings, db, genuine):
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "file_check": "100000/m"}
    client = Client(raise_request_exception=False)

    def post(data: bytes):
        response = client.post(
            reverse("certificates:file_check"), {"file": SimpleUploadedFile("c.pdf", data, "application/pdf")}
        )
        assert response.status_code == 200, f"{response.status_code} for {data[:80]!r}…"
        outcome = response.context["outcome"]
        assert outcome in FILE_CHECK_OUTCOMES
        return outcome, response.content.decode()

    return post


def test_the_untouched_file_is_genuine(check, genuine):
    outcome, html = check(genuine)
    assert outcome == "genuine" and "This file is a genuine certificate" in html


@EXAMPLES
@given(data=st.binary(min_size=1, max_size=2048), pdf_header=st.booleans())
def test_arbitrary_bytes_get_a_defined_answer(check, data, pdf_header):
    outcome, _html = check((b"%PDF-1.7\n" if pdf_header else b"") + data)
    assert outcome in ("unreadable", "not_issued")


@st.composite
def mutations(draw, size: int):
    """(kind, arguments) of one change to the genuine file."""
    kind = draw(st.sampled_from(["truncate", "flip", "append", "flip+append"]))
    flips = draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 255)), min_size=1, max_size=8)
        if "flip" in kind
        else st.just([])
    )
    junk = draw(st.binary(min_size=1, max_size=512) if "append" in kind else st.just(b""))
    cut = draw(st.integers(1, size - 1)) if kind == "truncate" else size
    return cut, flips, junk


def _mutate(data: bytes, cut: int, flips, junk: bytes) -> bytes:
    changed = bytearray(data[:cut])
    for index, mask in flips:
        if index < len(changed):
            changed[index] ^= mask
    return bytes(changed) + junk


def test_mutations_get_a_defined_answer(check, genuine):
    @EXAMPLES
    @given(mutation=mutations(len(genuine)))
    def run(mutation):
        data = _mutate(genuine, *mutation)
        outcome, html = check(data)
        if data == genuine:
            assert outcome == "genuine"
        else:
            assert outcome in ("unreadable", "not_issued")
            assert "This file is a genuine certificate" not in html
            assert "The digital signature is intact" not in html

    run()


@pytest.fixture
def check_file(settings, db, genuine):
    """Post ``data`` as a file named ``name``: always 200 and a defined outcome."""
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "file_check": "100000/m"}
    client = Client(raise_request_exception=False)

    def post(data: bytes, name: str):
        response = client.post(reverse("certificates:file_check"), {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 200, f"{response.status_code} for {data[:80]!r}…"
        outcome = response.context["outcome"]
        assert outcome in FILE_CHECK_OUTCOMES
        return outcome, response.content.decode()

    return post


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
# Keys a credential has, so that random documents reach the JSON-LD processing and the proof check.
credential_keys = st.sampled_from(
    ["@context", "id", "type", "issuer", "proof", "credentialSubject", "credentialStatus", "validFrom", "@id", "@type"]
)


@st.composite
def credential_like(draw):
    document = draw(st.dictionaries(credential_keys | st.text(max_size=8), json_values, max_size=6))
    if draw(st.booleans()):
        document["@context"] = draw(
            st.sampled_from(
                [
                    [
                        "https://www.w3.org/ns/credentials/v2",
                        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                    ],
                    ["https://www.w3.org/ns/credentials/v2"],
                    ["https://example.org/unknown-context"],
                    [{"@vocab": "https://example.org/#"}],
                ]
            )
        )
    if draw(st.booleans()):
        document["proof"] = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod",
            "verificationMethod": draw(st.text(max_size=40)),
            "proofValue": "z"
            + draw(st.text(alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", max_size=90)),
        }
    return document


@EXAMPLES
@given(document=json_values | credential_like(), name=st.sampled_from(["credential.json", "badge.jsonld", "x"]))
def test_arbitrary_json_gets_a_defined_answer(check_file, document, name):
    outcome, html = check_file(json.dumps(document).encode(), name)
    assert outcome in ("unreadable", "not_issued")
    assert "genuine" not in html


@EXAMPLES
@given(data=st.binary(max_size=1024), json_inside=st.booleans())
def test_arbitrary_png_bytes_get_a_defined_answer(check_file, data, json_inside):
    from certificates.baking import PNG_SIGNATURE, badge_png_bake

    image = io.BytesIO()
    Image.new("RGB", (4, 4)).save(image, format="PNG")
    # A baked chunk holding anything at all, or random chunks after the signature.
    png = badge_png_bake(image.getvalue(), data or b"{") if json_inside else PNG_SIGNATURE + data
    outcome, html = check_file(png, "badge.png")
    assert outcome in ("unreadable", "not_issued")
    assert "genuine" not in html
