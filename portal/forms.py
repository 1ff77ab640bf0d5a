"""Forms of the partner portal. They check what a person typed; services make the changes."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from academy.names import name_clean
from programmes.models import Cohort
from programmes.selectors import live_enrolment_count, open_programmes_for

from .imports import UploadRefused, read_learner_file


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CohortForm(forms.Form):
    """Create or edit a cohort. ``organisation`` limits the programmes; ``cohort`` is the one
    being edited (its programme is fixed once anyone is enrolled)."""

    programme = forms.ModelChoiceField(
        label=_("Programme"),
        queryset=None,
        empty_label=_("Choose a programme"),
        help_text=_("Only programmes that are open and that your organisation is linked to are listed."),
        error_messages={"required": _("Choose the programme this cohort will follow.")},
    )
    name = forms.CharField(
        label=_("Name of the cohort"),
        max_length=200,
        help_text=_("For example “Hackney spring 2026”. Learners see this name."),
        error_messages={"required": _("Give the cohort a name.")},
    )
    starts_on = forms.DateField(
        label=_("Starts on"),
        widget=DateInput(),
        error_messages={"required": _("Enter the date of the first session."), "invalid": _("Enter a real date.")},
    )
    ends_on = forms.DateField(
        label=_("Ends on"),
        widget=DateInput(),
        error_messages={"required": _("Enter the date of the last session."), "invalid": _("Enter a real date.")},
    )
    venue = forms.CharField(
        label=_("Community venue"),
        max_length=300,
        required=False,
        help_text=_("Where the sessions take place, for example “Bethnal Green Library, Room 2”."),
    )
    capacity = forms.IntegerField(
        label=_("Number of places"),
        min_value=1,
        max_value=5000,
        error_messages={
            "required": _("Enter how many learners can join."),
            "min_value": _("A cohort needs at least one place."),
            "max_value": _("A cohort can have at most %(limit_value)s places."),
            "invalid": _("Enter a whole number, like 20."),
        },
    )

    def __init__(self, *args, organisation, cohort: Cohort | None = None, **kwargs):
        self.organisation = organisation
        self.cohort = cohort
        if cohort is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "programme": cohort.programme_id,
                "name": cohort.name,
                "starts_on": cohort.starts_on,
                "ends_on": cohort.ends_on,
                "venue": cohort.venue,
                "capacity": cohort.capacity,
            }
        super().__init__(*args, **kwargs)
        queryset = open_programmes_for(organisation=organisation)
        if cohort is not None:
            # The current programme stays listed even if it has closed since.
            queryset = (queryset | type(cohort.programme).objects.filter(pk=cohort.programme_id)).distinct()
            self.live_count = live_enrolment_count(cohort=cohort)
            if cohort.enrolments.exists():
                self.fields["programme"].disabled = True
                self.fields["programme"].help_text = _(
                    "Learners are enrolled in this cohort, so its programme can no longer change."
                )
        else:
            self.live_count = 0
        self.fields["programme"].queryset = queryset

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error(
                "ends_on",
                _("The end date (%(end)s) is before the start date (%(start)s). Choose a date on or after the start.")
                % {"end": date_format(ends_on, "j F Y"), "start": date_format(starts_on, "j F Y")},
            )
        capacity = data.get("capacity")
        if capacity is not None and capacity < self.live_count:
            self.add_error(
                "capacity",
                ngettext(
                    "%(count)s learner is already enrolled, so the cohort needs at least %(count)s place. "
                    "Choose %(count)s or more, or withdraw learners first.",
                    "%(count)s learners are already enrolled, so the cohort needs at least %(count)s places. "
                    "Choose %(count)s or more, or withdraw learners first.",
                    self.live_count,
                )
                % {"count": self.live_count},
            )
        return data


class LearnerForm(forms.Form):
    """One learner to enrol."""

    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={
            "required": _("Enter the learner’s email address."),
            "invalid": _("Enter an email address like name@example.org, with no spaces."),
        },
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        help_text=_("As it should appear on their certificate."),
        error_messages={"required": _("Enter the learner’s full name.")},
    )

    def clean_full_name(self):
        return name_clean(self.cleaned_data["full_name"])


class BaseLearnerFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not any(form.cleaned_data for form in self.forms):
            raise ValidationError(_("Fill in at least one learner."), code="empty")


LearnerFormSet = forms.formset_factory(
    LearnerForm, formset=BaseLearnerFormSet, extra=5, max_num=50, validate_max=True, absolute_max=50
)


class UploadForm(forms.Form):
    """A CSV or XLSX file of learners, read and checked at once (nothing is written)."""

    file = forms.FileField(
        label=_("Your list of learners (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
        error_messages={"required": _("Choose the file to upload."), "empty": _("The file is empty.")},
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            self.rows = read_learner_file(uploaded)
        except UploadRefused as exc:
            raise ValidationError(exc.messages, code=exc.code) from exc
        return uploaded
