"""Forms of the public verification pages and the staff admin actions."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .services import verification_code_normalise

MAX_CHECK_FILE_BYTES = 5 * 1024 * 1024


class VerificationCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        help_text=_("The code printed on the certificate, for example 7K3QM-2XWPA-9D4FT-HB6RC."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )

    def clean_code(self):
        code = verification_code_normalise(self.cleaned_data["code"])
        if not code:
            raise ValidationError(
                _("A verification code has 20 letters and numbers, in groups of five. Please check it and try again."),
                code="invalid_code",
            )
        return code


class FileCheckForm(forms.Form):
    file = forms.FileField(
        label=_("Certificate file (PDF), credential (JSON) or badge image (PNG)"),
        help_text=_("The certificate PDF, its digital credential or its badge image. It is checked and not kept."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": "application/pdf,.pdf,application/json,application/vc+ld+json,.json,.jsonld,image/png,.png"
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CHECK_FILE_BYTES:
            raise ValidationError(
                _("This file is larger than 5 MB, so it cannot be one of our certificates."), code="too_large"
            )
        return upload


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revoking"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Kept on record and shown to staff. The public page only says that it was revoked and when."),
    )


class ReissueForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it reissued?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: name corrected at the learner's request."),
    )
