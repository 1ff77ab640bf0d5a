"""The check-a-file form against hostile and misleading files: one clear answer each, never 500."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from certificates import services


def upload(client, data, name="certificate.pdf"):
    return client.post(reverse("certificates:file_check"), {"file": SimpleUploadedFile(name, data, "application/pdf")})


def nested_arrays_pdf(depth=60_000) -> bytes:
    """A small file whose only object is ``depth`` nested arrays: pyHanko's parser recurses once
    per level and hits Python's recursion limit."""
    body = b"1 0 obj\n" + b"[" * depth + b"]" * depth + b"\nendobj\n"
    header = b"%PDF-1.7\n"
    offset = len(header)
    xref = b"xref\n0 2\n0000000000 65535 f \n" + f"{offset:010d} 00000 n \n".encode()
    startxref = len(header) + len(body)
    trailer = b"trailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n" + str(startxref).encode() + b"\n%%EOF\n"
    return header + body + xref + trailer


@pytest.mark.parametrize("depth", [60_000, 5_000])
def test_deeply_nested_arrays_get_a_clear_answer(client, db, depth):
    response = upload(client, nested_arrays_pdf(depth))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["outcome"] == "unreadable"
    assert "We could not read this file as a PDF" in html
    assert "The digital signature is intact" not in html


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7",
        b"%PDF-1.7\n" + b"<<" * 20_000,
        b"%PDF-1.7\ntrailer<< /Root 1 0 R /Size -1 >>\n%%EOF",
        b"\x00" * 64,
    ],
    ids=["header-only", "nested-dictionaries", "negative-size", "zeros"],
)
def test_other_broken_files_get_a_clear_answer(client, db, data):
    response = upload(client, data)
    assert response.status_code == 200
    assert response.context["outcome"] in ("unreadable", "not_issued")
    assert "This file is not a certificate we issued" in response.content.decode()


def test_an_earlier_version_of_a_revoked_certificate_says_revoked(
    client, completed_certificate, staff_user, django_capture_on_commit_callbacks
):
    old = completed_certificate.pdf.open("rb").read()
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(certificate=completed_certificate, reissued_by=staff_user)
    completed_certificate.refresh_from_db()
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
    response = upload(client, old)
    html = response.content.decode()
    assert response.context["outcome"] == "revoked"
    assert "This certificate has been revoked" in html
    assert "no version of it is valid any more" in html
    assert "This is an earlier version" not in html and "See the current certificate" not in html


def test_an_empty_file_is_refused_by_the_form(client, db):
    response = upload(client, b"")
    assert response.status_code == 200
    assert "The submitted file is empty." in response.content.decode()


def _with_incremental_update(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 72 Td (Distinction) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("how", ["pyhanko-update", "bare-xref-section"])
def test_a_genuine_file_with_an_update_appended_is_not_the_file_issued(client, completed_certificate, how):
    genuine = completed_certificate.pdf.open("rb").read()
    if how == "pyhanko-update":
        altered = _with_incremental_update(genuine)
    else:
        start = genuine.rindex(b"startxref")
        previous = genuine[start:].split()[1].decode()
        altered = genuine + (
            b"\nxref\n0 0\ntrailer\n<< /Size 1 /Prev "
            + previous.encode()
            + b" >>\nstartxref\n"
            + str(len(genuine) + 1).encode()
            + b"\n%%EOF\n"
        )
    response = upload(client, altered)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["outcome"] == "not_issued"
    assert "This file is not a certificate we issued" in html
    assert "The digital signature is intact" not in html
    assert "genuine certificate" not in html
    if how == "pyhanko-update":
        # The signed revision is untouched (pyHanko says "intact"): the page says what that means.
        assert response.context["signature"].intact
        assert not response.context["signature"].whole_file
        assert "Something was added to this file after it was signed" in html
