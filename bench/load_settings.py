"""Settings for bench/load.sh: the production settings, with the verification page's rate limit
raised so that wrk measures the page itself rather than its "too many requests" answer (the
limit is still counted in the cache on every request, so its cost is measured)."""

from academy.settings import *  # noqa: F403

CERTIFICATE_RATE_LIMITS = {**CERTIFICATE_RATE_LIMITS, "verify": "100000000/m"}  # noqa: F405
