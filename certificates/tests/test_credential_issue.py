"""Each issued certificate carries an Open Badges 3.0 credential, frozen at issue (stored and
hashed), whose status entry points at the revocation list; /verify/<code>/credential.json serves it."""

import hashlib
import json
import time
import urllib.request

import pytest
from django.urls import reverse

from certificates import services
from certificates.credentials import credential_verify
from certificates.models import Certificate, StatusListEntry
from certificates.status_list import status_list_url
from certificates.tasks import failure_is_transient
from certificates.tests.conftest import complete, complete_and_issue
from tests.support.verifier import require_verifier, verify_credential

pytestmark = pytest.mark.django_db


def test_an_issued_certificate_has_a_verifiable_credential_pointing_at_the_list(completed_certificate, learner):
    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    assert certificate.status == Certificate.Status.ISSUED
    credential = certificate.credential
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential_verify(credential).valid
    entry = certificate.status_entry
    url = status_list_url(entry.status_list_id)
    assert credential["credentialStatus"] == {
        "id": f"{url}#{entry.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(entry.index),
        "statusListCredential": url,
    }
    assert entry.certificate_id == certificate.pk and entry.certificate_version == certificate.version
    assert certificate.credential_sha256 == hashlib.sha256(services.credential_bytes(credential)).hexdigest()
    assert learner.email not in json.dumps(credential)
    # Frozen at issue: recorded in the history too.
    assert certificate.history.filter(status="issued").latest("history_date").credential_sha256 == (
        certificate.credential_sha256
    )


def test_a_missing_credential_key_fails_the_certificate_at_once_and_hands_out_no_index(
    settings, tmp_path, enrolment, framework, facilitator, django_capture_on_commit_callbacks
):
    settings.CERTIFICATE_CREDENTIAL_KEY = str(tmp_path / "no-such-key.pem")
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    assert certificate.status == Certificate.Status.FAILED
    assert certificate.attempts == 1  # failed at once, not retried
    assert certificate.failure_reason.startswith("Could not sign the credential: ")
    assert "no-such-key.pem" in certificate.failure_reason
    assert certificate.credential is None and not certificate.pdf
    assert not StatusListEntry.objects.filter(certificate=certificate).exists()
    with pytest.raises(services.CertificateIssueError) as caught:
        services.credential_issue_build(certificate=certificate)
    assert not failure_is_transient(caught.value)


def test_an_attempt_that_loses_leaves_its_index_unused_for_good(
    enrolment, framework, facilitator, monkeypatch, django_capture_on_commit_callbacks
):
    real_finish = services._finish
    monkeypatch.setattr(services, "_finish", lambda *args: False)  # another attempt won meanwhile
    with django_capture_on_commit_callbacks(execute=True):
        complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert certificate.status == Certificate.Status.PENDING and certificate.credential is None
    lost = StatusListEntry.objects.get(certificate=certificate)
    monkeypatch.setattr(services, "_finish", real_finish)
    Certificate.objects.filter(pk=certificate.pk).update(claim_token="", claimed_at=None)  # the winner moved on
    services.certificate_issue(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.status_entry_id != lost.pk
    assert (certificate.status_entry.status_list_id, certificate.status_entry.index) != (
        lost.status_list_id,
        lost.index,
    )
    assert StatusListEntry.objects.filter(pk=lost.pk).exists()  # kept: never handed out again


def test_credential_json_is_served_for_an_issued_certificate(client, completed_certificate, settings):
    url = reverse("certificates:credential_json", kwargs={"code": completed_certificate.verification_code})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+ld+json"
    parts = {p.strip() for p in response["Cache-Control"].split(",")}
    assert parts == {"public", f"max-age={settings.VERIFICATION_MAX_AGE}"}
    assert hashlib.sha256(response.content).hexdigest() == completed_certificate.credential_sha256
    assert json.loads(response.content) == completed_certificate.credential
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_credential_json_is_404_for_unknown_pending_and_failed(
    client,
    completed_certificate,
    other_learner,
    framework,
    facilitator,
    staff_user,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    assert client.get(reverse("certificates:credential_json", kwargs={"code": "0000-bad"})).status_code == 404
    unknown = reverse("certificates:credential_json", kwargs={"code": "7K3QM-2XWPA-9D4FT-HB6RC"})
    assert client.get(unknown).status_code == 404
    # Being reissued: the new credential is not there yet (the earlier one is superseded).
    services.certificate_reissue(certificate=completed_certificate, reissued_by=staff_user)
    url = reverse("certificates:credential_json", kwargs={"code": completed_certificate.verification_code})
    response = client.get(url)
    assert response.status_code == 404 and response["Cache-Control"] == "no-store"
    # Failed (no credential key).
    settings.CERTIFICATE_CREDENTIAL_KEY = str(tmp_path / "missing.pem")
    failed = complete_and_issue(other_learner.enrolments.get(), framework, facilitator, capture)
    assert failed.status == Certificate.Status.FAILED
    url = reverse("certificates:credential_json", kwargs={"code": failed.verification_code})
    assert client.get(url).status_code == 404


def test_a_revoked_certificate_still_serves_its_credential(client, completed_certificate, staff_user):
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
    url = reverse("certificates:credential_json", kwargs={"code": completed_certificate.verification_code})
    response = client.get(url)
    assert response.status_code == 200
    assert json.loads(response.content) == completed_certificate.credential


def test_credential_json_query_count_is_bounded(client, completed_certificate, django_assert_max_num_queries):
    url = reverse("certificates:credential_json", kwargs={"code": completed_certificate.verification_code})
    client.get(url)
    with django_assert_max_num_queries(2 + 2):  # + the look-up counter's upsert and, in a test, its savepoint
        assert client.get(url).status_code == 200


def test_credential_cost_per_issue(completed_certificate):
    """Benchmark (prints figures): what the credential adds to one issue (an index handed out in a
    short transaction, the credential built and signed)."""
    certificate = Certificate.objects.select_related(
        "enrolment__learner", "enrolment__programme", "enrolment__cohort__partner"
    ).get(pk=completed_certificate.pk)
    services.credential_issue_build(certificate=certificate)
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        services.credential_issue_build(certificate=certificate)
    per_issue = (time.perf_counter() - start) / runs * 1000
    print(f"\ncredential added per issue: {per_issue:.1f} ms (index allocation, build, eddsa-rdfc-2022 proof)")
    assert credential_verify(certificate.credential).valid


@pytest.mark.django_db(transaction=True)
def test_an_independent_verifier_accepts_the_credential_and_sees_its_revocation(
    live_server, settings, enrolment, framework, facilitator, staff_user, django_capture_on_commit_callbacks
):
    """Digital Bazaar's verifier (verifier/verify.mjs) reads the credential from credential.json,
    the issuer's key from /.well-known/did.json and the status list from its URL, all on the live
    test server."""
    require_verifier()
    settings.SITE_URL = live_server.url
    certificate = complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
    url = live_server.url + reverse("certificates:credential_json", kwargs={"code": certificate.verification_code})
    with urllib.request.urlopen(url) as response:  # noqa: S310 - the live test server
        credential = json.loads(response.read())

    before = verify_credential(credential, base_url=live_server.url)
    assert before["verified"] is True, before["errors"]
    assert before["status"]["checked"] is True and before["status"]["revoked"] is False

    services.certificate_revoke(certificate=certificate, revoked_by=staff_user, reason="Issued in error")
    after = verify_credential(credential, base_url=live_server.url)
    assert after["verified"] is False and after["status"]["revoked"] is True

    tampered = {**credential, "name": credential["name"] + " (with honours)"}
    assert verify_credential(tampered, base_url=live_server.url)["verified"] is False


def test_the_issued_pdf_carries_the_stored_credential_inside_its_signature(completed_certificate):
    """One file that is both: the PDF/A-3 file embeds exactly the credential that is stored and
    served, and the signature covers the whole file, the credential included."""
    from certificates.rendering import credential_embedded
    from certificates.signing import pdf_signature_check

    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    with certificate.pdf.open("rb") as handle:
        pdf = handle.read()
    assert credential_embedded(pdf) == services.credential_bytes(certificate.credential)
    check = pdf_signature_check(pdf)
    assert check.intact and check.whole_file


def test_the_verification_page_links_the_credential_and_says_what_it_is(client, completed_certificate):
    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    page = client.get(reverse("certificates:verify", kwargs={"code": certificate.verification_code}))
    body = page.content.decode()
    link = reverse("certificates:credential_json", kwargs={"code": certificate.verification_code})
    assert f'href="{link}"' in body and "digital credential (Open Badges 3.0)" in body
    assert client.get(link).status_code == 200


def test_a_certificate_without_a_credential_links_none(client, completed_certificate):
    Certificate.objects.filter(pk=completed_certificate.pk).update(credential=None)
    page = client.get(reverse("certificates:verify", kwargs={"code": completed_certificate.verification_code}))
    assert "credential.json" not in page.content.decode()


def test_the_admin_shows_each_certificates_signature_level_and_credential_hash(admin_client, completed_certificate):
    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    page = admin_client.get(reverse("admin:certificates_certificate_change", args=[certificate.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Signature level" in body and ">B-B<" in body.replace("\n", "").replace(" ", "")
    assert certificate.credential_sha256 in body
