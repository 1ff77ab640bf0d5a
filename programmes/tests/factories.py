import datetime

import factory

from academy.tests.factories import UserFactory
from partners.tests.factories import PartnerOrganisationFactory
from programmes.models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Community research programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")
    summary = "Learn to research the questions that matter to your community."
    research_project = "Lived experience of poverty and inequality"
    certificate_wording = "has shown the competencies of a citizen social scientist"
    signatory_name = "Professor Ada Example"
    signatory_title = "Director, Citizen Science Academy"
    status = Programme.Status.OPEN

    @factory.post_generation
    def partners(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.partner_organisations.add(*extracted)


class CoreDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompetencyDomain

    name = factory.Sequence(lambda n: f"Core domain {n}")
    is_core = True
    programme = None
    order = factory.Sequence(int)


class CourseDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompetencyDomain

    name = factory.Sequence(lambda n: f"Course domain {n}")
    is_core = False
    programme = factory.SubFactory(ProgrammeFactory)
    order = factory.Sequence(lambda n: 100 + n)


class CompetencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competency

    domain = factory.SubFactory(CoreDomainFactory)
    statement = factory.Sequence(lambda n: f"Can do research task number {n}")
    order = factory.Sequence(int)


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    programme = factory.SubFactory(ProgrammeFactory)
    partner = factory.SubFactory(PartnerOrganisationFactory)
    name = factory.Sequence(lambda n: f"Spring cohort {n}")
    starts_on = factory.LazyFunction(lambda: datetime.date.today())
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + datetime.timedelta(weeks=10))
    venue = "Community Centre, High Street"
    capacity = 30


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    learner = factory.SubFactory(UserFactory)
    cohort = factory.SubFactory(CohortFactory)
    programme = factory.SelfAttribute("cohort.programme")
    status = Enrolment.Status.ACTIVE


class AchievementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Achievement

    enrolment = factory.SubFactory(EnrolmentFactory)
    competency = factory.SubFactory(CompetencyFactory)
    achieved_on = factory.LazyFunction(datetime.date.today)
    recorded_by = factory.SubFactory(UserFactory)
