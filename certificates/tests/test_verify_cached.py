"""The public verification page is kept in the shared cache (academy/page_cache.py) and is
thrown away the moment its certificate changes."""

import pytest
from django.urls import reverse

from certificates.services import certificate_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 600


def test_verification_page_says_revoked_once_revoked(
    completed_certificate, staff_user, client, django_assert_max_num_queries
):
    url = reverse("certificates:verify", args=[completed_certificate.verification_code])
    assert "This certificate is valid" in client.get(url).content.decode()
    with django_assert_max_num_queries(0):  # served from the cache
        assert "This certificate is valid" in client.get(url).content.decode()
    certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Issued in error")
    assert "This certificate has been revoked" in client.get(url).content.decode()


def test_an_unknown_code_is_never_cached(client, completed_certificate):
    code = completed_certificate.verification_code
    completed_certificate.delete()
    url = reverse("certificates:verify", args=[code])
    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 404
