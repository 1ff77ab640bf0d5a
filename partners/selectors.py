"""Reads of partner organisations and memberships: who may see and act on an organisation's pages.

Staff run the Academy: they may read and act on every organisation's portal pages as a
coordinator would. Members read their own organisations'; only coordinators act.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import PartnerMembership, PartnerOrganisation


def has_memberships(*, user) -> bool:
    """Whether ``user`` belongs to any partner organisation (in any role)."""
    return user.is_authenticated and PartnerMembership.objects.filter(user=user).exists()


def is_member(*, user) -> bool:
    return user.is_authenticated and (user.is_staff or user.partner_memberships.exists())


def organisations_for(*, user, write: bool = False) -> QuerySet[PartnerOrganisation]:
    """The organisations whose portal pages ``user`` may see (``write``: act on)."""
    if not user.is_authenticated:
        return PartnerOrganisation.objects.none()
    if user.is_staff:
        return PartnerOrganisation.objects.all()
    memberships = PartnerMembership.objects.filter(user=user)
    if write:
        memberships = memberships.filter(role=PartnerMembership.Role.COORDINATOR)
    return PartnerOrganisation.objects.filter(pk__in=memberships.values("organisation_id"))


def can_act(*, user, organisation: PartnerOrganisation) -> bool:
    return (
        user.is_staff
        or PartnerMembership.objects.filter(
            user=user, organisation=organisation, role=PartnerMembership.Role.COORDINATOR
        ).exists()
    )
