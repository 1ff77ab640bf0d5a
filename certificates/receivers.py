"""Where the certificates app reacts to the programmes app's completion hook."""

from django.dispatch import receiver

from programmes.signals import enrolment_completed


@receiver(enrolment_completed, dispatch_uid="certificates.enrolment_completed")
def certificate_on_enrolment_completed(sender, enrolment, **kwargs):
    """An enrolment has just been completed (inside its transaction): request its certificate."""
    from .services import certificate_request

    certificate_request(enrolment=enrolment)
