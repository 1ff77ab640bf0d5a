"""The public verification limits (django-ratelimit), counted per visitor by
``academy.client.client_ip``: behind the trusted proxy each visitor has their own bucket."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.urls import reverse

PROXY = "10.0.0.2"  # the TLS proxy: every request arrives from it


def verify(client, code, visitor):
    return client.get(
        reverse("certificates:verify", kwargs={"code": code}), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=visitor
    )


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_visitors_behind_the_proxy_have_separate_limits(client, settings, completed_certificate):
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "verify": "3/m"}
    code = completed_certificate.verification_code
    first = [verify(client, code, "203.0.113.7").status_code for _ in range(4)]
    assert first == [200, 200, 200, 429]
    refused = verify(client, code, "203.0.113.7")
    assert refused.status_code == 429 and "Too many checks" in refused.content.decode()
    # Another visitor through the same proxy is not locked out by the first one.
    assert [verify(client, code, "198.51.100.9").status_code for _ in range(3)] == [200, 200, 200]
    # A forged left-most entry does not give the first visitor a fresh bucket.
    assert verify(client, code, "192.0.2.1, 203.0.113.7").status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_file_checks_behind_the_proxy_are_counted_per_visitor(client, settings, db):
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "file_check": "2/m"}

    def check(visitor):
        return client.post(
            reverse("certificates:file_check"),
            {"file": SimpleUploadedFile("c.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=visitor,
        ).status_code

    assert [check("203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert check("198.51.100.9") == 200


def test_without_a_trusted_proxy_the_header_is_ignored(client, settings, completed_certificate):
    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "verify": "2/m"}
    code = completed_certificate.verification_code
    assert [verify(client, code, f"203.0.113.{i}").status_code for i in range(3)] == [200, 200, 429]


def test_the_limit_uses_django_ratelimit(client, settings, completed_certificate):
    """The counter is django-ratelimit's: its usage for this visitor's key grows with each check."""
    from django_ratelimit.core import get_usage

    from certificates.views import _client_key, _rate

    settings.CERTIFICATE_RATE_LIMITS = {**settings.CERTIFICATE_RATE_LIMITS, "verify": "5/m"}
    url = reverse("certificates:verify", kwargs={"code": completed_certificate.verification_code})
    client.get(url)
    client.get(url)
    request = client.get(url).wsgi_request
    usage = get_usage(request, group="certificates:verify", key=_client_key, rate=_rate("verify"))
    assert usage["count"] == 3 and usage["limit"] == 5


@pytest.mark.parametrize("action", ["verify", "file_check"])
def test_an_unreachable_cache_lets_verification_through(client, settings, db, action, caplog):
    """The cache down: the limit fails open with a logged warning instead of a 500."""
    settings.CACHES = {
        **settings.CACHES,
        "unreachable": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    settings.RATELIMIT_USE_CACHE = "unreachable"  # django-ratelimit's own setting: the cache it counts in
    if action == "verify":
        response = client.get(reverse("certificates:verify_start"))
    else:
        response = client.post(
            reverse("certificates:file_check"),
            {"file": SimpleUploadedFile("c.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
        )
    assert response.status_code == 200
    assert "cache is unreachable" in caplog.text
