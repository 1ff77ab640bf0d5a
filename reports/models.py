"""Optional equality monitoring: a learner's answers, and whether they have been asked.

The answers are stored apart from the learner's record (their own table, one row per learner who
consented) and are never shown for one person to anyone but that person: reports read them only
as counts, through ``reports.selectors_reach`` and ``reports.suppression``. Withdrawing consent
deletes the row (``reports.services.equality_consent_withdraw``). See ``docs/privacy.md``.

State changes go through ``reports.services``; reads through ``reports.selectors_monitoring`` and
``reports.selectors_reach``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFER_NOT_TO_SAY = "prefer_not_to_say"
PREFER_NOT_TO_SAY_LABEL = _("Prefer not to say")


class AgeBand(models.TextChoices):
    AGE_16_24 = "16_24", _("16 to 24")
    AGE_25_34 = "25_34", _("25 to 34")
    AGE_35_44 = "35_44", _("35 to 44")
    AGE_45_54 = "45_54", _("45 to 54")
    AGE_55_64 = "55_64", _("55 to 64")
    AGE_65_PLUS = "65_plus", _("65 or over")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY_LABEL


class Gender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    NON_BINARY = "non_binary", _("Non-binary")
    ANOTHER_WAY = "another_way", _("I describe myself another way")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY_LABEL


class EthnicGroupHigh(models.TextChoices):
    """The five high-level ethnic groups of the 2021 census of England and Wales: what reports show."""

    ASIAN = "asian", _("Asian, Asian British or Asian Welsh")
    BLACK = "black", _("Black, Black British, Black Welsh, Caribbean or African")
    MIXED = "mixed", _("Mixed or Multiple ethnic groups")
    WHITE = "white", _("White")
    OTHER = "other", _("Other ethnic group")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY_LABEL


class EthnicGroup(models.TextChoices):
    """The 19 ethnic groups of the 2021 census of England and Wales (what is stored)."""

    BANGLADESHI = "asian_bangladeshi", _("Bangladeshi")
    CHINESE = "asian_chinese", _("Chinese")
    INDIAN = "asian_indian", _("Indian")
    PAKISTANI = "asian_pakistani", _("Pakistani")
    OTHER_ASIAN = "asian_other", _("Any other Asian background")
    AFRICAN = "black_african", _("African")
    CARIBBEAN = "black_caribbean", _("Caribbean")
    OTHER_BLACK = "black_other", _("Any other Black, Black British or Caribbean background")
    WHITE_AND_ASIAN = "mixed_white_asian", _("White and Asian")
    WHITE_AND_BLACK_AFRICAN = "mixed_white_black_african", _("White and Black African")
    WHITE_AND_BLACK_CARIBBEAN = "mixed_white_black_caribbean", _("White and Black Caribbean")
    OTHER_MIXED = "mixed_other", _("Any other Mixed or Multiple ethnic background")
    WHITE_BRITISH = "white_british", _("English, Welsh, Scottish, Northern Irish or British")
    IRISH = "white_irish", _("Irish")
    GYPSY_OR_IRISH_TRAVELLER = "white_gypsy_irish_traveller", _("Gypsy or Irish Traveller")
    ROMA = "white_roma", _("Roma")
    OTHER_WHITE = "white_other", _("Any other White background")
    ARAB = "other_arab", _("Arab")
    ANY_OTHER = "other_any", _("Any other ethnic group")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY_LABEL


# Each detailed category's high-level group (reports count by these: 19 detailed counts of a
# cohort would be almost all suppressed).
ETHNIC_GROUP_HIGH_LEVEL: dict[str, str] = {
    **{v: EthnicGroupHigh.ASIAN for v in EthnicGroup.values if v.startswith("asian_")},
    **{v: EthnicGroupHigh.BLACK for v in EthnicGroup.values if v.startswith("black_")},
    **{v: EthnicGroupHigh.MIXED for v in EthnicGroup.values if v.startswith("mixed_")},
    **{v: EthnicGroupHigh.WHITE for v in EthnicGroup.values if v.startswith("white_")},
    **{v: EthnicGroupHigh.OTHER for v in EthnicGroup.values if v.startswith("other_")},
    PREFER_NOT_TO_SAY: EthnicGroupHigh.PREFER_NOT_TO_SAY,
}


class YesNo(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY_LABEL


class EmploymentStatus(models.TextChoices):
    """Close to the 2021 census's economic activity categories, in plain words."""

    EMPLOYED_FULL_TIME = "employed_full_time", _("Working full-time (30 hours a week or more)")
    EMPLOYED_PART_TIME = "employed_part_time", _("Working part-time (under 30 hours a week)")
    SELF_EMPLOYED = "self_employed", _("Self-employed or freelance")
    UNEMPLOYED = "unemployed", _("Not working and looking for work")
    STUDENT = "student", _("Student")
    RETIRED = "retired", _("Retired")
    LOOKING_AFTER_HOME = "looking_after_home", _("Looking after home or family")
    LONG_TERM_SICK_OR_DISABLED = "long_term_sick_or_disabled", _("Long-term sick or disabled")
    OTHER = "other", _("Other")
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY_LABEL


# The outward code of a UK postcode ("E8", "SW1A", "M1", "B33"); GIR is the one historic exception.
_OUTWARD = re.compile(r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)$")
# A full postcode, with or without its space: the outward code and the inward code (digit, 2 letters).
_FULL = re.compile(r"^(?P<outward>[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)\s*[0-9][A-Z]{2}$")


def postcode_district_normalise(value: str) -> str:
    """The postcode district (outward code) of ``value``, upper case and without spaces.

    A full postcode is cut to its first part, so the rest is never stored: "e8 1ab" -> "E8".
    Empty stays empty; "prefer not to say" stays itself. Raises ``ValidationError`` for anything
    that is not the start of a UK postcode."""
    text = " ".join((value or "").upper().split())
    if not text or text.lower() == PREFER_NOT_TO_SAY:
        return text.lower()
    full = _FULL.match(text)
    if full:
        return full.group("outward")
    compact = text.replace(" ", "")
    if _OUTWARD.match(compact):
        return compact
    raise ValidationError(
        _("Enter the first part of your postcode, for example E8 or SW1A, or leave it empty."),
        code="postcode_district",
    )


def validate_postcode_district(value: str) -> None:
    """Only a normalised outward code, ``prefer_not_to_say`` or empty may be stored."""
    if value and value != PREFER_NOT_TO_SAY and not _OUTWARD.match(value):
        raise ValidationError(_("This is not the first part of a UK postcode."), code="postcode_district")


class EqualityMonitoringAnswers(models.Model):
    """One learner's answers to the optional equality-monitoring questions, given with consent.

    Apart from the learner's record; shown only to the learner; reports count them (suppressed).
    The row exists only while consent stands: withdrawing deletes it."""

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="equality_answers",
        verbose_name=_("learner"),
    )
    consented_at = models.DateTimeField(_("consent given"))
    answered_at = models.DateTimeField(_("answered"))
    age_band = models.CharField(_("age band"), max_length=20, choices=AgeBand.choices, default=PREFER_NOT_TO_SAY)
    gender = models.CharField(_("gender"), max_length=20, choices=Gender.choices, default=PREFER_NOT_TO_SAY)
    ethnic_group = models.CharField(
        _("ethnic group"), max_length=40, choices=EthnicGroup.choices, default=PREFER_NOT_TO_SAY
    )
    disability = models.CharField(_("disability"), max_length=20, choices=YesNo.choices, default=PREFER_NOT_TO_SAY)
    been_to_university = models.CharField(
        _("been to university"), max_length=20, choices=YesNo.choices, default=PREFER_NOT_TO_SAY
    )
    employment_status = models.CharField(
        _("employment status"), max_length=40, choices=EmploymentStatus.choices, default=PREFER_NOT_TO_SAY
    )
    postcode_district = models.CharField(
        _("postcode district"),
        max_length=20,
        blank=True,
        validators=[validate_postcode_district],
        help_text=_("The first part of a UK postcode (E8, SW1A), 'prefer_not_to_say', or empty."),
    )

    class Meta:
        verbose_name = _("equality monitoring answers")
        verbose_name_plural = _("equality monitoring answers")

    def __str__(self) -> str:  # never the answers
        return f"Equality monitoring answers #{self.pk}"


# The questions, in the questionnaire's order: field name -> the choices reports count by.
QUESTIONS: dict[str, type[models.TextChoices]] = {
    "age_band": AgeBand,
    "gender": Gender,
    "ethnic_group": EthnicGroupHigh,  # reported by high-level group (ETHNIC_GROUP_HIGH_LEVEL)
    "disability": YesNo,
    "been_to_university": YesNo,
    "employment_status": EmploymentStatus,
}


class EqualityMonitoringInvitation(models.Model):
    """Whether a learner has been asked the equality-monitoring questions and what they chose.

    Written when the learner answers, skips or withdraws; once there is a row the dashboard's
    prompt is not shown again (the dashboard then links to the learner's answers page, from which
    they can answer, change or withdraw)."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        SKIPPED = "skipped", _("Skipped")
        WITHDRAWN = "withdrawn", _("Withdrew consent")

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="equality_invitation",
        verbose_name=_("learner"),
    )
    asked_at = models.DateTimeField(_("asked"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    outcome_at = models.DateTimeField(_("outcome recorded"))

    class Meta:
        verbose_name = _("equality monitoring invitation")
        verbose_name_plural = _("equality monitoring invitations")

    def __str__(self) -> str:
        return f"Equality monitoring invitation #{self.pk}"
