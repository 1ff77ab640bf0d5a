"""Public verification (code, file check, rate limit) and the download's permissions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates import services
from certificates.models import Certificate
from certificates.tests.conftest import complete


def verify_url(code):
    return reverse("certificates:verify", kwargs={"code": code})


def test_a_valid_certificate_shows_its_details(client, completed_certificate, django_assert_max_num_queries):
    with django_assert_max_num_queries(3 + 2):  # + the look-up counter's upsert and, in a test, its savepoint
        response = client.get(verify_url(completed_certificate.verification_code))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This certificate is valid" in html
    for text in ("Zoë Ó&#x27;Brien-Łukasz", "Lived Experience of Poverty", "Hackney Community Voices", "Ethics"):
        assert text in html
    assert completed_certificate.issued_at.strftime("%Y") in html


def test_a_revoked_certificate_says_when_and_that_it_is_no_longer_valid(client, completed_certificate, staff_user):
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Issued in error")
    response = client.get(verify_url(completed_certificate.verification_code))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This certificate has been revoked" in html and "no longer valid" in html
    assert "This certificate is valid" not in html
    assert "Issued in error" not in html  # the reason is for staff


@pytest.mark.parametrize("code", ["ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", "not-a-code", "<script>"])
def test_an_unknown_code_is_404(client, db, code):
    response = client.get(verify_url(code))
    assert response.status_code == 404
    assert "We could not find this certificate" in response.content.decode()


def test_a_pending_certificate_is_unknown_to_the_public(client, enrolment, framework, facilitator):
    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert client.get(verify_url(certificate.verification_code)).status_code == 404


def test_a_typed_code_is_normalised(client, completed_certificate):
    code = completed_certificate.verification_code
    typed = code.lower().replace("-", " ")
    response = client.get(reverse("certificates:verify_start"), {"code": typed})
    assert response.status_code == 302 and response["Location"] == verify_url(code)
    response = client.get(verify_url(code.lower()))
    assert response.status_code == 302 and response["Location"] == verify_url(code)


def test_the_start_page_explains_a_wrong_code(client, db):
    response = client.get(reverse("certificates:verify_start"), {"code": "123"})
    assert response.status_code == 200
    assert "A verification code has 20 letters and numbers" in response.content.decode()
    page = client.get(reverse("certificates:verify_start")).content.decode()
    assert 'enctype="multipart/form-data"' in page and "Check a file" in page


def upload(client, data, name="certificate.pdf"):
    return client.post(reverse("certificates:file_check"), {"file": SimpleUploadedFile(name, data, "application/pdf")})


def test_file_check_recognises_the_genuine_file(client, completed_certificate):
    response = upload(client, completed_certificate.pdf.open("rb").read())
    html = response.content.decode()
    assert response.status_code == 200
    assert "This file is a genuine certificate" in html
    assert completed_certificate.verification_code in html
    assert "The digital signature is intact" in html


def test_file_check_rejects_an_altered_file(client, completed_certificate):
    data = bytearray(completed_certificate.pdf.open("rb").read())
    index = data.index(b"/FlateDecode") + 200
    data[index] ^= 0xFF
    html = upload(client, bytes(data)).content.decode()
    assert "This file is not a certificate we issued" in html
    assert "The digital signature is broken" in html


def test_file_check_of_an_unknown_file(client, db):
    html = upload(client, b"%PDF-1.7\nnot really a certificate\n%%EOF\n").content.decode()
    assert "This file is not a certificate we issued" in html
    assert "genuine" not in html


def test_file_check_of_a_revoked_certificate(client, completed_certificate, staff_user):
    data = completed_certificate.pdf.open("rb").read()
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
    html = upload(client, data).content.decode()
    assert "This certificate has been revoked" in html


def test_file_check_of_a_superseded_version(
    client, completed_certificate, staff_user, django_capture_on_commit_callbacks
):
    old = completed_certificate.pdf.open("rb").read()
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(certificate=completed_certificate, reissued_by=staff_user)
    html = upload(client, old).content.decode()
    assert "This is an earlier version of a certificate" in html


def test_verification_is_rate_limited(client, settings, completed_certificate):
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "verify": "3/m"}
    url = verify_url(completed_certificate.verification_code)
    assert [client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "Too many checks" in client.get(url).content.decode()
    other_address = client.get(url, REMOTE_ADDR="192.0.2.7")  # counted per IP address
    assert other_address.status_code == 200


def test_file_check_is_rate_limited(client, settings, db):
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "file_check": "2/m"}
    codes = [upload(client, b"%PDF-1.7\n%%EOF\n").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get(reverse("certificates:file_check")).status_code == 200  # looking is not checking


def download_url(certificate):
    return reverse("certificates:download", kwargs={"code": certificate.verification_code})


@pytest.mark.parametrize("who", ["learner", "staff_user", "coordinator", "viewer"])
def test_download_is_allowed_to_the_learner_staff_and_the_partner(who, request, completed_certificate, client_for):
    user = request.getfixturevalue(who)
    response = client_for(user).get(download_url(completed_certificate))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="certificate-{completed_certificate.verification_code}.pdf"'
    )
    assert b"".join(response.streaming_content) == completed_certificate.pdf.open("rb").read()


@pytest.mark.parametrize("who", ["other_learner", "other_coordinator", "facilitator"])
def test_download_is_404_for_everyone_else(who, request, completed_certificate, client_for):
    user = request.getfixturevalue(who)
    assert client_for(user).get(download_url(completed_certificate)).status_code == 404


def test_download_is_404_for_anonymous_and_revoked(client, completed_certificate, client_for, learner, staff_user):
    assert client.get(download_url(completed_certificate)).status_code == 404
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Error")
    assert client_for(learner).get(download_url(completed_certificate)).status_code == 404
