"""The competency framework and learning: domains, competencies, programmes, cohorts,
enrolments and achievements.

State changes go through ``programmes.services``; reads that pages need through
``programmes.selectors``. Partner organisations are referenced by lazy model name only: this app
imports no partner or certificate code.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Programme(models.Model):
    """A training programme linked to an active research project."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for enrolment")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("short name for web addresses"), max_length=80, unique=True)
    summary = models.TextField(_("summary"), blank=True)
    research_project = models.CharField(
        _("research project"), max_length=300, help_text=_("The active research project this programme is linked to.")
    )
    research_project_url = models.URLField(_("research project web page"), blank=True)
    partner_organisations = models.ManyToManyField(
        "partners.PartnerOrganisation",
        related_name="programmes",
        blank=True,
        verbose_name=_("partner organisations"),
        help_text=_("Partners that may run cohorts of this programme."),
    )
    certificate_wording = models.TextField(
        _("certificate wording"),
        blank=True,
        max_length=300,  # the form's limit: a TextField's max_length is not checked otherwise
        validators=[MaxLengthValidator(300)],
        help_text=_("The sentence printed on the certificate under the learner's name (at most 300 characters)."),
    )
    signatory_name = models.CharField(_("signatory's name"), max_length=200, blank=True)
    signatory_title = models.CharField(_("signatory's title"), max_length=200, blank=True)
    signatory_signature = models.ImageField(
        _("signature image"),
        upload_to="signatures/",
        blank=True,
        help_text=_("A PNG of the signature, transparent background."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["title"]
        indexes = [models.Index(fields=["status"], name="programme_status_idx")]

    def __str__(self):
        return self.title


class CompetencyDomain(models.Model):
    """A named group of competencies. Core domains apply to every programme; the others belong
    to exactly one programme (course-specific)."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_core = models.BooleanField(
        _("core domain"), default=False, help_text=_("Core domains are required by every programme.")
    )
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="course_domains",
        verbose_name=_("programme"),
        help_text=_("For a course-specific domain: the programme it belongs to. Leave empty for a core domain."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("competency domain")
        verbose_name_plural = _("competency domains")
        ordering = ["-is_core", "order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_core=True, programme__isnull=True) | Q(is_core=False, programme__isnull=False),
                name="competencydomain_core_xor_programme",
                violation_error_message=_(
                    "A core domain belongs to no programme; a course-specific domain belongs to exactly one."
                ),
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(is_core=True), name="competencydomain_core_name_unique"
            ),
            models.UniqueConstraint(fields=["programme", "name"], name="competencydomain_programme_name_unique"),
        ]

    def __str__(self):
        return self.name


class Competency(models.Model):
    """One statement a learner can show, in plain words. Retire it rather than delete it."""

    domain = models.ForeignKey(
        CompetencyDomain, on_delete=models.PROTECT, related_name="competencies", verbose_name=_("domain")
    )
    statement = models.CharField(_("statement"), max_length=300)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Untick to retire: no longer required, history kept.")
    )
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("competency")
        verbose_name_plural = _("competencies")
        ordering = ["domain__order", "domain__name", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "statement"], name="competency_statement_unique_in_domain")
        ]
        indexes = [models.Index(fields=["domain", "is_active"], name="competency_domain_active_idx")]

    def __str__(self):
        return self.statement


class Cohort(models.Model):
    """A group of learners taking one programme, run by one partner organisation."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="cohorts", verbose_name=_("programme")
    )
    partner = models.ForeignKey(
        "partners.PartnerOrganisation",
        on_delete=models.PROTECT,
        related_name="cohorts",
        verbose_name=_("partner organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    venue = models.CharField(_("community venue"), max_length=300, blank=True)
    capacity = models.PositiveSmallIntegerField(_("places"), default=20)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="facilitated_cohorts", blank=True, verbose_name=_("facilitators")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[facilitators])

    class Meta:
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="cohort_ends_after_start",
                violation_error_message=_("A cohort must end on or after the day it starts."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1),
                name="cohort_capacity_positive",
                violation_error_message=_("A cohort needs at least one place."),
            ),
        ]
        indexes = [models.Index(fields=["partner", "-starts_on"], name="cohort_partner_starts_idx")]

    def __str__(self):
        return f"{self.name} ({self.programme})"


class Enrolment(models.Model):
    """One learner in one cohort. At most one live (not withdrawn) enrolment per learner per
    programme; ``programme`` mirrors ``cohort.programme`` so the database can enforce it."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Taking part")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    LIVE_STATUSES = (Status.INVITED, Status.ACTIVE, Status.COMPLETED)

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("learner")
    )
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("cohort"))
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="enrolments", editable=False, verbose_name=_("programme")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.INVITED)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enrolled by"),
    )
    enrolled_at = models.DateTimeField(_("enrolled"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["cohort", "learner__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "programme"],
                condition=~Q(status="withdrawn"),
                name="enrolment_one_live_per_programme",
                violation_error_message=_("This learner is already enrolled in this programme."),
            ),
            models.CheckConstraint(
                condition=Q(status="completed", completed_at__isnull=False) | ~Q(status="completed"),
                name="enrolment_completed_has_timestamp",
            ),
        ]
        indexes = [
            models.Index(fields=["cohort", "status"], name="enrolment_cohort_status_idx"),
            models.Index(fields=["learner", "status"], name="enrolment_learner_status_idx"),
            # Reports: enrolments made in a period (all, or of one programme).
            models.Index(fields=["enrolled_at"], name="enrolment_enrolled_idx"),
            models.Index(fields=["programme", "enrolled_at"], name="enrolment_prog_enrolled_idx"),
        ]

    def __str__(self):
        return f"{self.learner} – {self.cohort}"

    def save(self, *args, **kwargs):
        if self.cohort_id and not self.programme_id:
            self.programme_id = self.cohort.programme_id
        super().save(*args, **kwargs)

    @property
    def is_live(self):
        return self.status != self.Status.WITHDRAWN


class Achievement(models.Model):
    """One competency shown by one enrolment. Every change is kept in its history."""

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="achievements", verbose_name=_("enrolment")
    )
    competency = models.ForeignKey(
        Competency, on_delete=models.PROTECT, related_name="achievements", verbose_name=_("competency")
    )
    achieved_on = models.DateField(_("achieved on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    evidence = models.TextField(_("evidence note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("achievement")
        verbose_name_plural = _("achievements")
        # By the keys themselves: ordering by the relations would join five tables on every read.
        ordering = ["enrolment_id", "competency_id"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "competency"], name="achievement_one_per_competency")
        ]
        indexes = [
            # Reports: competencies shown in a period; each enrolment's latest (stalled learners).
            models.Index(fields=["achieved_on"], name="achievement_achieved_idx"),
            models.Index(fields=["enrolment", "achieved_on"], name="achievement_enrolment_day_idx"),
        ]

    def __str__(self):
        return f"{self.enrolment.learner}: {self.competency}"
