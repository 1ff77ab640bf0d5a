"""State changes of certificates. The issuing flow is completed in the certificates issue."""

import secrets

from django.db import transaction

from .models import Certificate

# Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or typed is unambiguous.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def verification_code_new() -> str:
    """20 random base32 characters (100 bits) shown as XXXXX-XXXXX-XXXXX-XXXXX."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


@transaction.atomic
def certificate_request(*, enrolment) -> Certificate:
    """Create the pending certificate of a completed enrolment (once, whatever calls it)."""
    certificate, _created = Certificate.objects.get_or_create(
        enrolment=enrolment, defaults={"verification_code": verification_code_new()}
    )
    return certificate
