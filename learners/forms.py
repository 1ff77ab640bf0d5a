"""The learner's profile form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from academy.names import name_clean


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your name as it should appear on your certificate"),
        max_length=200,
        help_text=_("Check the spelling, accents and the order of your names."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    reason = forms.CharField(
        label=_("Why does your name need to change? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_full_name(self):
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name_clean(name)
