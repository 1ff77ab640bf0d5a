"""Where the certificates app reacts to the programmes app's completion hook, and tells it which
enrolments' achievements are locked (those behind an issued certificate)."""

from django.dispatch import receiver

from programmes.achievement_locks import lock_register
from programmes.signals import enrolment_completed


@receiver(enrolment_completed, dispatch_uid="certificates.enrolment_completed")
def certificate_on_enrolment_completed(sender, enrolment, **kwargs):
    """An enrolment has just been completed (inside its transaction): request its certificate."""
    from .services import certificate_request

    certificate_request(enrolment=enrolment)


def enrolments_with_issued_certificate(enrolment_ids: list[int]) -> set[int]:
    """The enrolments whose certificate is issued (not revoked), or being reissued (the earlier
    version stands meanwhile, and the public page says it is valid): their achievements are
    locked until staff revoke it (one query)."""
    from django.db.models import Q

    from .models import Certificate

    standing = Q(status=Certificate.Status.ISSUED) | Q(
        status__in=(Certificate.Status.PENDING, Certificate.Status.FAILED), version__gt=1
    )
    return set(
        Certificate.objects.filter(standing, enrolment_id__in=enrolment_ids).values_list("enrolment_id", flat=True)
    )


lock_register("certificate_issued", enrolments_with_issued_certificate)
