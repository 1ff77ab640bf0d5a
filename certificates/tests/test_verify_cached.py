"""The public verification page may be kept by browsers and HTTP caches for a short time
(``VERIFICATION_MAX_AGE``) and answers conditional requests, so a cache can ask again cheaply."""

import pytest
from django.urls import reverse
from django.utils.http import http_date

from certificates.services import certificate_revoke

pytestmark = pytest.mark.django_db


def _url(certificate):
    return reverse("certificates:verify", args=[certificate.verification_code])


def test_a_public_page_may_be_kept_briefly_by_any_cache(client, completed_certificate, settings):
    settings.VERIFICATION_MAX_AGE = 45
    response = client.get(_url(completed_certificate))
    assert response.status_code == 200
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"public", "max-age=45"} <= cache_control
    assert response["ETag"]
    assert response["Last-Modified"] == http_date(completed_certificate.issued_at.timestamp())


def test_a_signed_in_visitors_page_is_kept_only_by_their_browser(client_for, learner, completed_certificate):
    response = client_for(learner).get(_url(completed_certificate))
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "private" in cache_control and "public" not in cache_control


def test_an_unchanged_page_answers_304_with_one_query(client, completed_certificate, django_assert_num_queries):
    url = _url(completed_certificate)
    first = client.get(url)
    with django_assert_num_queries(1):
        again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(url, headers={"if-modified-since": first["Last-Modified"]})
    assert since.status_code == 304


def test_a_revocation_changes_the_etag_so_the_page_says_revoked(client, completed_certificate, staff_user):
    url = _url(completed_certificate)
    first = client.get(url)
    assert "This certificate is valid" in first.content.decode()
    certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Issued in error")
    again = client.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "This certificate has been revoked" in again.content.decode()


def test_an_unknown_code_is_not_cacheable(client, completed_certificate):
    code = completed_certificate.verification_code
    completed_certificate.delete()
    response = client.get(reverse("certificates:verify", args=[code]))
    assert response.status_code == 404
    assert "ETag" not in response
    assert "public" not in response.get("Cache-Control", "")
