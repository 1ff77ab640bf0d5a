"""Forms of the academy app: accepting an invitation, asking for a new link, the profile."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _


class WelcomeSetPasswordForm(SetPasswordForm):
    """Choose a first password (Django's checks: length, not common, not like your name)."""

    new_password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters. A few unrelated words make a strong password that is easy to remember."),
    )
    new_password2 = forms.CharField(
        label=_("Type the same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def save(self, commit=True):  # pragma: no cover - the view saves through the service
        raise NotImplementedError("Use academy.services.learner_invitation_accept")


class InvitationRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        help_text=_("The address your invitation was sent to."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
