"""State changes the learner makes on their own pages."""

from django.contrib.auth import get_user_model
from django.db import transaction

from academy.models import NameChangeRequest
from certificates.models import Certificate

User = get_user_model()


@transaction.atomic
def profile_name_change(*, user, full_name: str, reason: str = "") -> str:
    """Correct the name printed on certificates. Before any certificate is issued the account's
    name changes at once ("changed"); afterwards the issued certificate keeps its name, so staff
    are asked to correct and reissue it ("requested", one open request per person, updated if
    asked again). Returns "unchanged", "changed" or "requested"."""
    full_name = " ".join(full_name.split())
    user = User.objects.select_for_update().get(pk=user.pk)
    has_issued = Certificate.objects.filter(
        enrolment__learner=user, status__in=[Certificate.Status.ISSUED, Certificate.Status.REVOKED]
    ).exists()
    if not has_issued:
        if full_name == user.full_name:
            return "unchanged"
        user.full_name = full_name
        user.save(update_fields=["full_name"])
        NameChangeRequest.objects.filter(user=user, status=NameChangeRequest.Status.OPEN).delete()
        return "changed"
    open_request = NameChangeRequest.objects.filter(user=user, status=NameChangeRequest.Status.OPEN).first()
    if full_name == user.full_name:
        if open_request is not None:
            open_request.delete()  # they changed their mind
        return "unchanged"
    if open_request is None:
        NameChangeRequest.objects.create(
            user=user, current_name=user.full_name, requested_name=full_name, reason=reason.strip()
        )
    else:
        open_request.requested_name = full_name
        open_request.reason = reason.strip() or open_request.reason
        open_request.save(update_fields=["requested_name", "reason"])
    return "requested"
