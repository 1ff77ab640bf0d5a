import factory

from academy.tests.factories import UserFactory
from partners.models import PartnerMembership, PartnerOrganisation


class PartnerOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Community Partner {n}")
    slug = factory.Sequence(lambda n: f"community-partner-{n}")
    kind = PartnerOrganisation.Kind.VOLUNTARY_SECTOR
    contact_email = factory.LazyAttribute(lambda o: f"hello@{o.slug}.org.uk")


class PartnerMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerMembership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(PartnerOrganisationFactory)
    role = PartnerMembership.Role.COORDINATOR
