"""Staff admin for partner organisations and the people who work for them.

Who may see it: Academy staff with the ``partners`` permissions (the admin site checks them).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from academy.admin import count_of
from academy.admin_base import SafeAdminMixin, SafeAutocompleteMixin

from .forms import PartnerOrganisationAdminForm
from .models import PartnerMembership, PartnerOrganisation


class PartnerMembershipInline(SafeAutocompleteMixin, admin.TabularInline):
    """Coordinators create cohorts and enrol learners in the partner portal; viewers only read."""

    model = PartnerMembership
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(SafeAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "contact_email", "people", "programmes_count", "cohorts_count")
    list_filter = ("kind",)
    search_fields = ("name", "slug", "contact_email")
    prepopulated_fields = {"slug": ("name",)}
    form = PartnerOrganisationAdminForm
    fields = ("name", "slug", "kind", "contact_email", "logo")
    inlines = (PartnerMembershipInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_people=count_of(PartnerMembership, "organisation"),
                n_programmes=count_of(PartnerOrganisation.programmes.through, "partnerorganisation"),
                # Cohorts belong to the programmes app above this one: reached through the relation.
                n_cohorts=count_of(PartnerOrganisation._meta.get_field("cohorts").related_model, "partner"),
            )
        )

    @admin.display(description=_("people"), ordering="n_people")
    def people(self, obj):
        return obj.n_people

    @admin.display(description=_("programmes"), ordering="n_programmes")
    def programmes_count(self, obj):
        return obj.n_programmes

    @admin.display(description=_("cohorts"), ordering="n_cohorts")
    def cohorts_count(self, obj):
        return obj.n_cohorts


@admin.register(PartnerMembership)
class PartnerMembershipAdmin(SafeAdminMixin, SimpleHistoryAdmin):
    list_display = ("user", "user_email", "organisation", "role", "created_at")
    list_filter = ("role", "organisation__kind", "organisation")
    search_fields = ("user__email", "user__full_name", "organisation__name")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")
    fields = ("user", "organisation", "role", "created_at")
    readonly_fields = ("created_at",)

    @admin.display(description=_("email address"), ordering="user__email")
    def user_email(self, obj):
        return obj.user.email
