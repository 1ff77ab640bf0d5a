"""One function decides the client's address (``academy.client.client_ip``): X-Forwarded-For is
trusted for ``TRUSTED_PROXY_COUNT`` proxies only, and every rate limit counts by it, so behind the
TLS proxy each visitor has a bucket of their own."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client, RequestFactory
from django.urls import reverse

from academy.client import client_ip, ratelimit_ip
from academy.tests.factories import DEFAULT_PASSWORD, UserFactory


def request_from(remote_addr="198.51.100.9", forwarded_for=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **headers)


def test_with_no_trusted_proxy_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from(forwarded_for="203.0.113.7")) == "198.51.100.9"


def test_behind_one_proxy_the_last_entry_is_the_visitor(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # Whatever the visitor wrote themselves comes first; our proxy appended the real address.
    assert client_ip(request_from(forwarded_for="10.9.9.9, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_from(forwarded_for="203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_second_last_entry_is_the_visitor(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from(forwarded_for="10.9.9.9, 203.0.113.7, 192.0.2.1")) == "203.0.113.7"


@pytest.mark.parametrize(
    "header",
    ["", "   ", ",,", "not-an-address", "203.0.113.7, <script>", "999.1.1.1"],
    ids=["empty", "blank", "commas", "garbage", "garbage-last", "not-an-ip"],
)
def test_a_header_that_is_garbage_falls_back_to_the_connection(settings, header):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(forwarded_for=header)) == "198.51.100.9"


def test_a_header_too_short_for_the_proxies_falls_back_to_the_connection(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from(forwarded_for="203.0.113.7")) == "198.51.100.9"
    assert client_ip(request_from()) == "198.51.100.9"


def test_ports_and_brackets_are_dropped_and_ipv6_is_normalised(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(forwarded_for="203.0.113.7:51234")) == "203.0.113.7"
    assert client_ip(request_from(forwarded_for="[2001:DB8::1]:443")) == "2001:db8::1"
    assert client_ip(request_from(forwarded_for="2001:db8:0:0::1")) == "2001:db8::1"


def test_no_readable_address_at_all_shares_one_bucket(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from(remote_addr="")) == "unknown"
    assert ratelimit_ip(request_from(remote_addr="")) == "0.0.0.0"  # noqa: S104 - django-ratelimit must parse it
    assert ratelimit_ip(request_from()) == "198.51.100.9"


def _fail_sign_in(client, email, forwarded_for):
    response = client.post(
        reverse("account_login"), {"login": email, "password": "wrong"}, HTTP_X_FORWARDED_FOR=forwarded_for
    )
    assert response.status_code == 200
    return "Too many failed login attempts" in response.content.decode()


def test_behind_the_proxy_failed_sign_ins_are_limited_per_visitor(db, settings):
    """allauth's login_failed limit (10 a minute per address) behind one proxy: every request
    comes from the proxy's address, yet one visitor's ten failures lock out only that visitor."""
    settings.TRUSTED_PROXY_COUNT = 1
    learner = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=learner, email=learner.email, verified=True, primary=True)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    attacker, visitor = Client(**proxy), Client(**proxy)

    limited = [_fail_sign_in(attacker, f"guess{n}@example.org", "203.0.113.66") for n in range(11)]
    assert limited == [False] * 10 + [True]
    # Another visitor behind the same proxy signs in as usual.
    assert not _fail_sign_in(visitor, "typo@example.org", "198.51.100.20")
    signed_in = visitor.post(
        reverse("account_login"),
        {"login": learner.email, "password": DEFAULT_PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert signed_in.status_code == 302
    # A forged X-Forwarded-For does not buy the attacker a fresh bucket: the proxy appends the
    # real address, and only that last entry counts.
    assert _fail_sign_in(attacker, "guess99@example.org", "1.2.3.4, 203.0.113.66")


def test_without_a_trusted_proxy_the_header_buys_no_fresh_bucket(db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client(REMOTE_ADDR="203.0.113.66")
    limited = [_fail_sign_in(client, f"guess{n}@example.org", f"192.0.2.{n}") for n in range(11)]
    assert limited == [False] * 10 + [True]
