"""The equality-monitoring questionnaire: every question optional, "Prefer not to say" for each,
consent an explicit, unticked checkbox."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    PREFER_NOT_TO_SAY,
    AgeBand,
    EmploymentStatus,
    EthnicGroup,
    Gender,
    YesNo,
    postcode_district_normalise,
)


def _ethnic_group_choices():
    """The 19 census groups under their five headings (an optgroup each), then Prefer not to say."""
    headings = [
        ("asian_", _("Asian, Asian British or Asian Welsh")),
        ("black_", _("Black, Black British, Black Welsh, Caribbean or African")),
        ("mixed_", _("Mixed or Multiple ethnic groups")),
        ("white_", _("White")),
        ("other_", _("Other ethnic group")),
    ]
    groups = [
        (heading, [(value, label) for value, label in EthnicGroup.choices if value.startswith(prefix)])
        for prefix, heading in headings
    ]
    return [("", _("Choose one (optional)")), *groups, (PREFER_NOT_TO_SAY, _("Prefer not to say"))]


class EqualityMonitoringForm(forms.Form):
    age_band = forms.ChoiceField(label=_("Your age"), choices=AgeBand.choices, widget=forms.RadioSelect, required=False)
    gender = forms.ChoiceField(label=_("Your gender"), choices=Gender.choices, widget=forms.RadioSelect, required=False)
    ethnic_group = forms.ChoiceField(
        label=_("Your ethnic group"),
        choices=_ethnic_group_choices,
        required=False,
        help_text=_("The groups used by the 2021 census in England and Wales."),
    )
    disability = forms.ChoiceField(
        label=_(
            "Do you have a physical or mental health condition or illness that has lasted, or is expected "
            "to last, 12 months or more?"
        ),
        choices=YesNo.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    been_to_university = forms.ChoiceField(
        label=_("Have you studied at a university before?"),
        choices=YesNo.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    employment_status = forms.ChoiceField(
        label=_("What do you mostly do at the moment?"),
        choices=EmploymentStatus.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    postcode_district = forms.CharField(
        label=_("The first part of your postcode"),
        help_text=_("For example E8 or SW1A. Only this part is kept. Leave it empty if you prefer not to say."),
        max_length=12,
        required=False,
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that the Academy may keep these answers to count who its programmes reach. "
            "I can see them and withdraw this at any time."
        ),
        required=True,
        error_messages={"required": _("Tick the box to agree, or choose “Skip these questions”.")},
    )

    def clean_postcode_district(self) -> str:
        district = postcode_district_normalise(self.cleaned_data.get("postcode_district", ""))
        return district or PREFER_NOT_TO_SAY

    def answers(self) -> dict[str, str]:
        """The answers to store: a question left unanswered is "prefer not to say"."""
        return {name: (self.cleaned_data.get(name) or PREFER_NOT_TO_SAY) for name in self.fields if name != "consent"}
