"""The partners app's part of a person's data export (see ``academy.personal_data``)."""

from academy.personal_data import section, when

from .models import PartnerMembership


@section("partner_memberships")
def partner_memberships(user) -> list[dict]:
    return [
        {"organisation": m.organisation.name, "role": m.role, "since": when(m.created_at)}
        for m in PartnerMembership.objects.filter(user=user).select_related("organisation")
    ]
