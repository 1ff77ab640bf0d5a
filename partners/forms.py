"""Forms of the partners app: the staff admin's form for a partner organisation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PartnerOrganisation, partner_logo_validate


class PartnerOrganisationAdminForm(forms.ModelForm):
    """The logo is a plain file field checked by ``partner_logo_validate`` (content, format, size),
    rather than Django's image field, so that an SVG or a fake image gets its own clear message."""

    logo = forms.FileField(
        label=_("logo"),
        required=False,
        validators=[partner_logo_validate],
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=PartnerOrganisation._meta.get_field("logo").help_text,
    )

    class Meta:
        model = PartnerOrganisation
        fields = ("name", "slug", "kind", "contact_email", "logo")
