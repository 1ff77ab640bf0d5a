"""The certificate journey with every file in S3-compatible object storage: a real S3 server
(moto in server mode on 127.0.0.1, ``tests.support.s3``), reached over HTTP by django-storages as
in production. Issue, download, check a file, reissue keeping the earlier version, revoke; the
signature image and the partner's logo printed from the bucket; the bucket private; a storage
outage leaves the certificate pending (retried), never issued without its file.

Without moto these skip locally and fail with CI=true (``require_s3_server_support``).
"""

import hashlib
import io
import uuid
from pathlib import Path

import botocore.exceptions
import pytest
import urllib3
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from certificates import services
from certificates.models import Certificate, CertificateVersion
from certificates.rendering import partner_logo_data_uri, programme_preview_context, signature_data_uri
from certificates.tasks import failure_is_transient, failure_reason

from .conftest import complete, complete_and_issue


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def png_bytes(colour=(20, 20, 90, 255), size=(300, 100)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(colour, (20, 40, size[0] - 20, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def check_file(client, data: bytes) -> str:
    upload = SimpleUploadedFile("certificate.pdf", data, "application/pdf")
    return client.post(reverse("certificates:file_check"), {"file": upload}).content.decode()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_whole_journey_keeps_every_file_in_the_bucket(
    s3_storage,
    enrolment,
    framework,
    facilitator,
    learner,
    other_learner,
    staff_user,
    django_capture_on_commit_callbacks,
):
    # Issue: the signed PDF is an object in the bucket, nothing is written to MEDIA_ROOT.
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    assert s3_storage.keys() == [certificate.pdf.name]
    assert certificate.pdf.name.startswith("certificates/") and certificate.pdf.name.endswith("/certificate.pdf")
    stored = s3_storage.read(certificate.pdf.name)
    assert hashlib.sha256(stored).hexdigest() == certificate.sha256
    assert media_files() == []

    # Download: streamed by the app to the learner; another learner and anonymous visitors get 404.
    download = reverse("certificates:download", kwargs={"code": certificate.verification_code})
    response = signed_in(learner).get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == stored
    assert signed_in(other_learner).get(download).status_code == 404
    assert Client().get(download).status_code == 404

    # Check a file: the downloaded bytes are recognised as the genuine certificate.
    anyone = Client()
    assert "This file is a genuine certificate" in check_file(anyone, stored)

    # Reissue: a new object; the earlier one is kept and named by the superseded version.
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(certificate=certificate, reissued_by=staff_user, reason="Name corrected")
    certificate.refresh_from_db()
    version = CertificateVersion.objects.get(certificate=certificate)
    assert certificate.status == Certificate.Status.ISSUED and certificate.version == 2
    assert s3_storage.keys() == sorted([certificate.pdf.name, version.pdf.name])
    assert s3_storage.read(version.pdf.name) == stored
    renewed = s3_storage.read(certificate.pdf.name)
    assert hashlib.sha256(renewed).hexdigest() == certificate.sha256
    assert "This is an earlier version of a certificate" in check_file(anyone, stored)
    assert b"".join(signed_in(learner).get(download).streaming_content) == renewed

    # Revoke: no more downloads; the file check says revoked; every file is still kept.
    services.certificate_revoke(certificate=certificate, revoked_by=staff_user, reason="Issued in error")
    assert signed_in(learner).get(download).status_code == 404
    assert "This certificate has been revoked" in check_file(anyone, renewed)
    assert len(s3_storage.keys()) == 2
    assert media_files() == []


def test_the_bucket_is_private_only_pre_signed_urls_open_an_object(s3_storage, completed_certificate):
    http = urllib3.PoolManager()
    plain = f"{s3_storage.endpoint_url}/{s3_storage.bucket}/{completed_certificate.pdf.name}"
    assert http.request("GET", plain).status == 403  # no public read
    signed = completed_certificate.pdf.url  # what the admin would link to: signed, short-lived
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    assert http.request("GET", signed).status == 200


def test_signature_image_and_partner_logo_are_printed_from_the_bucket(
    s3_storage, enrolment, framework, facilitator, partner, django_capture_on_commit_callbacks
):
    programme = framework["programme"]
    programme.signatory_name = "Professor Ada Example"
    programme.signatory_signature.save(f"signature-{uuid.uuid4().hex}.png", ContentFile(png_bytes()), save=True)
    partner.logo.save(f"logo-{uuid.uuid4().hex}.png", ContentFile(png_bytes((200, 30, 30, 255))), save=True)
    assert {programme.signatory_signature.name, partner.logo.name} <= set(s3_storage.keys())
    assert media_files() == []
    assert signature_data_uri(programme.signatory_signature).startswith("data:image/png;base64,")
    assert partner_logo_data_uri(partner.logo).startswith("data:image/png;base64,")
    # The staff preview draws the partner's logo read from the bucket.
    assert programme_preview_context(programme)["partner_logo_uri"].startswith("data:image/png;base64,")
    # And the issued certificate prints both (the context the worker renders).
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.ISSUED, certificate.failure_reason
    context = services.certificate_context(Certificate.objects.get(pk=certificate.pk))
    assert context["signature_uri"].startswith("data:image/png;base64,")


def test_the_admin_image_fields_work_with_the_bucket(s3_storage, framework, partner, admin_client_for_staff):
    programme = framework["programme"]
    programme.signatory_signature.save(f"signature-{uuid.uuid4().hex}.png", ContentFile(png_bytes()), save=True)
    page = admin_client_for_staff.get(reverse("admin:programmes_programme_change", args=[programme.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert programme.signatory_signature.name in html and "X-Amz-Signature=" in html
    preview = admin_client_for_staff.get(reverse("admin:programmes_programme_preview", args=[programme.pk, "pdf"]))
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")


def test_an_outage_leaves_the_certificate_pending_without_a_file_then_it_issues(
    s3_storage, enrolment, framework, facilitator
):
    complete(enrolment, framework, facilitator)  # never committed here: the task is not sent, issued below
    certificate = Certificate.objects.get(enrolment=enrolment)
    s3_storage.outage()
    with pytest.raises(botocore.exceptions.BotoCoreError) as raised:
        services.certificate_issue(certificate_id=certificate.pk)
    assert failure_is_transient(raised.value)  # the task retries it
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    assert (certificate.pdf.name, certificate.sha256, certificate.claim_token) == ("", "", "")
    s3_storage.restore()
    assert s3_storage.keys() == []
    services.certificate_issue(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED
    assert s3_storage.keys() == [certificate.pdf.name]
    assert hashlib.sha256(s3_storage.read(certificate.pdf.name)).hexdigest() == certificate.sha256


def test_a_download_during_an_outage_is_a_503_with_a_plain_message(s3_storage, completed_certificate, learner):
    s3_storage.outage()
    response = signed_in(learner).get(
        reverse("certificates:download", kwargs={"code": completed_certificate.verification_code})
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "cannot be downloaded just now" in response.content.decode()
    s3_storage.restore()


def test_the_certificates_admin_page_during_an_outage_says_the_file_cannot_be_read(
    s3_storage, completed_certificate, admin_client_for_staff
):
    page = reverse("admin:certificates_certificate_change", args=[completed_certificate.pk])
    assert "B-B" in admin_client_for_staff.get(page).content.decode()  # the file's level, read from the bucket
    s3_storage.outage()
    response = admin_client_for_staff.get(page)
    s3_storage.restore()
    assert response.status_code == 200
    assert "The file cannot be read just now." in response.content.decode()


def client_error(code: str, status: int) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject"
    )


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), True),
        (botocore.exceptions.ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"), True),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), True),
        (client_error("SlowDown", 503), True),
        (client_error("InternalError", 500), True),
        (client_error("AccessDenied", 403), False),
        (client_error("NoSuchBucket", 404), False),
    ],
)
def test_which_storage_failures_are_retried(error, transient):
    assert failure_is_transient(error) is transient
    if not transient:
        assert "The file storage refused the certificate's file" in failure_reason(error)


def test_files_stay_in_the_media_folder_without_object_storage(completed_certificate):
    """The embedded default: the local folder, no bucket."""
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert (Path(settings.MEDIA_ROOT) / completed_certificate.pdf.name).is_file()
    assert default_storage.exists(completed_certificate.pdf.name)
