import datetime

import factory
from django.utils import timezone

from academy.tests.factories import UserFactory
from partners.models import EnrolmentUpload, PartnerMembership, PartnerOrganisation


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


class EnrolmentUploadFactory(factory.django.DjangoModelFactory):
    """A pending upload of one learner, waiting for its coordinator to confirm it."""

    class Meta:
        model = EnrolmentUpload

    organisation = factory.SelfAttribute("cohort.partner")
    filename = "learners.csv"
    rows = factory.LazyFunction(
        lambda: [{"row": 2, "email": "new@example.org", "full_name": "New Person", "errors": []}]
    )
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=1))
