"""Where the programmes app reacts to the accounts' hook."""

from django.dispatch import receiver

from academy.signals import invitation_accepted


@receiver(invitation_accepted, dispatch_uid="programmes.invitation_accepted")
def enrolments_on_invitation_accepted(sender, user, **kwargs):
    """An invited learner has set their password (inside its transaction): they are taking part."""
    from .services import enrolments_activate

    enrolments_activate(learner=user)
