"""Staff admin for people: every account signs in with its email address.

Who may see it: Academy staff with the ``academy`` permissions (the admin site checks them).
"""

from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.admin import EmailConfirmationAdmin as AllauthEmailConfirmationAdmin
from allauth.account.models import EmailAddress, EmailConfirmation
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.contrib.sites.admin import SiteAdmin as DjangoSiteAdmin
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_base import SafeAdminMixin
from .models import Invitation, NameChangeRequest, User
from .names import name_clean


class FullNameCleanMixin:
    """The name printed on certificates follows ``academy.names.name_clean``: NFC, no hidden
    characters, at least one letter."""

    def clean_full_name(self):
        return name_clean(self.cleaned_data.get("full_name"))


class AcademyUserCreationForm(FullNameCleanMixin, AdminUserCreationForm):
    """Add a person by email address and the full name printed on their certificates."""

    class Meta:
        model = User
        fields = ("email", "full_name")


class AcademyUserChangeForm(FullNameCleanMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(SafeAdminMixin, DjangoUserAdmin):
    """People: staff, facilitators, partner staff and citizen scientists."""

    form = AcademyUserChangeForm
    add_form = AcademyUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name on certificates"), {"fields": ("full_name",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "full_name", "is_staff", "is_active", "last_login", "date_joined")
    list_display_links = ("email", "full_name")
    list_filter = ("is_staff", "is_active", "is_superuser", "groups")
    search_fields = ("email", "full_name")
    ordering = ("full_name", "email")
    readonly_fields = ("last_login", "date_joined")
    list_per_page = 50


# --- The libraries' own admins, with the same care for crafted ids ------------------------------
# Importing their admin modules above registered them (``admin.autodiscover`` imports each module
# once); each is registered again with its own admin class plus ``SafeAdminMixin``.


class GroupAdmin(SafeAdminMixin, DjangoGroupAdmin):
    pass


class SiteAdmin(SafeAdminMixin, DjangoSiteAdmin):
    pass


class EmailAddressAdmin(SafeAdminMixin, AllauthEmailAddressAdmin):
    pass


class EmailConfirmationAdmin(SafeAdminMixin, AllauthEmailConfirmationAdmin):
    pass


for _model, _admin_class in (
    (Group, GroupAdmin),
    (Site, SiteAdmin),
    (EmailAddress, EmailAddressAdmin),
    (EmailConfirmation, EmailConfirmationAdmin),
):
    if admin.site.is_registered(_model):  # EmailConfirmation only without HMAC confirmations
        admin.site.unregister(_model)
        admin.site.register(_model, _admin_class)


# --- Helpers shared by the apps' admin modules ---------------------------------------------------


def count_of(model, fk: str, **filters):
    """An annotation counting ``model`` rows whose ``fk`` points at the outer row: one subquery,
    so several counts on one changelist neither multiply rows nor add a query per row."""
    rows = (
        model._default_manager.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class _Refused(Exception):
    """A service refused an admin write; carries its ValidationError."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


class ServiceWritesMixin:
    """Admin writes go through services; a refusal becomes a form error, not a crash.

    ``save_model``/``save_formset`` call a service and, when it raises ValidationError, call
    ``self.refuse(error)``. The admin's own transaction rolls everything back, then the same
    POST is shown again with the service's message above the form, the staff member's input
    kept and nothing written.
    """

    def refuse(self, error: ValidationError):
        raise _Refused(error)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            request._academy_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_academy_refusal", None)
        if error is None:
            return form_class

        def clean(form):
            cleaned = form_class.clean(form)
            form.add_error(None, error.messages)
            return cleaned

        return type(form_class.__name__, (form_class,), {"clean": clean})

    def message_refusal(self, request, error: ValidationError, prefix: str = ""):
        for message in error.messages:
            messages.error(request, f"{prefix}{message}")


@admin.register(NameChangeRequest)
class NameChangeRequestAdmin(SafeAdminMixin, admin.ModelAdmin):
    """Learners' requests to correct the name printed on an issued certificate."""

    list_display = ("user", "current_name", "requested_name", "status", "created_at", "resolved_by")
    list_filter = ("status",)
    search_fields = ("user__email", "current_name", "requested_name")
    list_select_related = ("user", "resolved_by")
    readonly_fields = (
        "user",
        "current_name",
        "requested_name",
        "reason",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    fields = (*readonly_fields, "staff_note")
    actions = ("approve_selected", "decline_selected")

    def has_add_permission(self, request):
        return False

    def _resolve(self, request, queryset, *, approve: bool) -> int:
        """Resolve the open requests; a requested name that breaks the rule of names (one asked for
        before the rule existed) is not approved, and the staff member is told why. Returns how many
        were resolved."""
        resolved = 0
        for name_change_request in queryset.filter(status=NameChangeRequest.Status.OPEN).select_related("user"):
            try:
                services.name_change_request_resolve(
                    name_change_request=name_change_request, resolved_by=request.user, approve=approve
                )
            except ValidationError as error:
                self.message_user(
                    request,
                    _("Not approved for %(email)s: %(problem)s Decline the request and ask for the name again.")
                    % {"email": name_change_request.user.email, "problem": " ".join(error.messages)},
                    messages.ERROR,
                )
                continue
            resolved += 1
        return resolved

    @admin.action(description=_("Approve: correct the names (then reissue their certificates)"))
    def approve_selected(self, request, queryset):
        if not self._resolve(request, queryset, approve=True):
            return
        self.message_user(
            request, _("Names corrected. Reissue each certificate from the certificates admin."), messages.SUCCESS
        )

    @admin.action(description=_("Decline the selected requests"))
    def decline_selected(self, request, queryset):
        self._resolve(request, queryset, approve=False)
        self.message_user(request, _("Requests declined."), messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(SafeAdminMixin, admin.ModelAdmin):
    """Invitation emails: whether and when each went, how many tries it took and the mail
    server's last answer. Read only: invitations are re-sent from the cohort (admin action or
    the partner portal), which records a new one."""

    list_display = ("user", "status", "created_at", "sent_at", "attempts", "invited_by")
    list_filter = ("status",)
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "invited_by")
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "user",
        "invited_by",
        "status",
        "created_at",
        "sent_at",
        "attempts",
        "last_attempt_at",
        "last_error",
        "sweep_after",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
