"""Who is asking: the one function that decides a request's client address.

Every rate limit (allauth's through ``academy.adapters.AccountAdapter``, the verification limits,
the invitation requests) counts by this address. Behind ``TRUSTED_PROXY_COUNT`` proxies (the TLS
proxy of docs/deployment), each proxy appends the address it received the connection from to
``X-Forwarded-For``; the entry that many places from the end was written by our outermost proxy,
so it is the visitor's address and cannot be forged by the visitor. Entries further left can be.
"""

import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The visitor's address: from ``X-Forwarded-For`` when ``TRUSTED_PROXY_COUNT`` proxies stand
    in front of us and the header has that many entries, else the connection's own address. A
    header that is too short or not an address is ignored (it did not come through our proxies).
    "unknown" when even the connection has no readable address (all such requests share a bucket)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        entries = [e for e in request.headers.get("x-forwarded-for", "").split(",") if e.strip()]
        if len(entries) >= count:
            address = _address(entries[-count])
            if address:
                return address
    return _address(request.META.get("REMOTE_ADDR", "")) or "unknown"


def ratelimit_ip(request) -> str:
    """``client_ip`` for django-ratelimit's ``key="ip"`` (``RATELIMIT_IP_META_KEY``), which needs an
    address it can parse: requests with no readable address share the bucket of 0.0.0.0."""
    address = client_ip(request)
    return "0.0.0.0" if address == "unknown" else address  # noqa: S104 - a bucket name, not a bind
