"""The report's choices, sent as GET parameters: a period and, optionally, a programme, a partner
organisation and a cohort. Anything wrong gets a specific message, never an error page."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import PartnerOrganisation
from programmes.models import Cohort, Programme

from .selectors import ReportScope

MAX_PERIOD_DAYS = 366 * 10
DEFAULT_PERIOD_DAYS = 365


class CohortChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, cohort):
        return f"{cohort.name} – {cohort.programme.title} ({cohort.partner.name})"


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last twelve months up to today."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today


class ReportFilterForm(forms.Form):
    """For staff every organisation's cohorts; with ``organisation`` (a partner's own report) only
    that organisation's, and no choice of partner."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the first day as a date, such as 2026-01-31.")},
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the last day as a date, such as 2026-12-31.")},
    )
    programme = forms.ModelChoiceField(
        label=_("Programme"),
        queryset=Programme.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        empty_label=_("All programmes"),
        error_messages={"invalid_choice": _("Choose one of the programmes listed.")},
    )
    partner = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=PartnerOrganisation.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        empty_label=_("All partner organisations"),
        error_messages={"invalid_choice": _("Choose one of the partner organisations listed.")},
    )
    cohort = CohortChoiceField(
        label=_("Cohort"),
        queryset=Cohort.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        empty_label=_("All cohorts"),
        error_messages={"invalid_choice": _("Choose one of the cohorts listed.")},
    )

    def __init__(self, data=None, *, organisation: PartnerOrganisation | None = None, **kwargs):
        start, end = default_period()
        # No choice made yet: the default period, and nothing else chosen.
        if data is not None and not any(data.get(name) for name in ("start", "end", "programme", "partner", "cohort")):
            data = {"start": start.isoformat(), "end": end.isoformat()}
        kwargs.setdefault("initial", {"start": start, "end": end})
        super().__init__(data, **kwargs)
        self.organisation = organisation
        cohorts = Cohort.objects.select_related("programme", "partner").order_by("-starts_on", "name", "pk")
        programmes = Programme.objects.order_by("title")
        if organisation is not None:
            cohorts = cohorts.filter(partner=organisation)
            programmes = programmes.filter(cohorts__partner=organisation).distinct()
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = PartnerOrganisation.objects.order_by("name")
        self.fields["programme"].queryset = programmes
        self.fields["cohort"].queryset = cohorts

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        default_start, default_end = default_period()
        start = data.get("start") or (
            data["end"] - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1) if data.get("end") else default_start
        )
        end = data.get("end") or default_end
        if end < start:
            self.add_error("end", _("The last day must be on or after the first day."))
        elif (end - start).days >= MAX_PERIOD_DAYS:
            self.add_error("end", _("Choose a period of at most ten years."))
        data["start"], data["end"] = start, end
        cohort, programme, partner = data.get("cohort"), data.get("programme"), data.get("partner")
        if cohort is not None and programme is not None and cohort.programme_id != programme.pk:
            self.add_error("cohort", _("That cohort runs another programme: choose “All programmes” or its own."))
        if cohort is not None and partner is not None and cohort.partner_id != partner.pk:
            self.add_error(
                "cohort", _("That cohort is run by another partner: choose “All partner organisations” or its own.")
            )
        return data

    def scope(self) -> ReportScope:
        """The valid choices as a report's scope (call after ``is_valid``)."""
        data = self.cleaned_data
        return ReportScope(
            start=data["start"],
            end=data["end"],
            programme=data.get("programme"),
            partner=data.get("partner"),
            cohort=data.get("cohort"),
            organisation=self.organisation,
        )

    def query_string(self) -> str:
        """The choices as GET parameters, for the download links."""
        from django.http import QueryDict

        data = self.cleaned_data
        query = QueryDict(mutable=True)
        query["start"], query["end"] = data["start"].isoformat(), data["end"].isoformat()
        for name in ("programme", "partner", "cohort"):
            if data.get(name) is not None:
                query[name] = str(data[name].pk)
        return query.urlencode()


class FunderReportForm(ReportFilterForm):
    """The funder report is about one programme: it must be chosen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].required = True
        self.fields["programme"].empty_label = None
        self.fields["programme"].error_messages["required"] = _("Choose the programme the report is about.")
        self.fields.pop("partner", None)
        self.fields.pop("cohort", None)
