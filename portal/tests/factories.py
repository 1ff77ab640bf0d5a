import datetime

import factory
from django.utils import timezone

from portal.models import EnrolmentUpload


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
