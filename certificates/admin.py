"""Staff admin for certificates: find, filter, revoke (with a reason), reissue, retry failed."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from academy.admin_base import SafeAdminMixin

from . import services
from .forms import ReissueForm, RevokeForm
from .models import Certificate, CertificateVersion


class CertificateVersionInline(admin.TabularInline):
    model = CertificateVersion
    fk_name = "certificate"
    extra = 0
    can_delete = False
    fields = ("version", "learner_name", "issued_at", "superseded_at", "superseded_by", "reason", "sha256")
    readonly_fields = fields
    verbose_name_plural = _("Earlier versions (superseded)")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(SafeAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "verification_code",
        "learner_name_display",
        "programme_display",
        "status",
        "version",
        "issued_at",
        "attempts",
        "short_failure_reason",
    )
    list_filter = ("status", "enrolment__programme")
    search_fields = (
        "verification_code",
        "learner_name",
        "enrolment__learner__full_name",
        "enrolment__learner__email",
    )
    list_select_related = ("enrolment__learner", "enrolment__programme")
    date_hierarchy = "created_at"
    inlines = [CertificateVersionInline]
    actions = ["revoke_action", "reissue_action", "retry_action"]
    # The change page has Revoke and Reissue buttons too: each opens the same reason form as the
    # list's actions (it posts the action for this one certificate to the list, saying it came
    # from the change page), and once the reason is given the staff member is back on that page.
    change_form_template = "certificates/admin/change_form.html"
    fieldsets = (
        (None, {"fields": ("verification_code", "verify_link", "enrolment", "status", "version", "failure_reason")}),
        (
            _("Snapshot at issue"),
            {"fields": ("learner_name", "programme_title", "cohort_name", "partner_name", "competencies")},
        ),
        (_("File"), {"fields": ("pdf", "sha256", "signature_level_display", "credential_sha256", "status_entry")}),
        (
            _("Timeline"),
            {"fields": ("created_at", "requested_at", "last_attempt_at", "attempts", "issued_at", "emailed_at")},
        ),
        (_("Revocation"), {"fields": ("revoked_at", "revoked_by", "revocation_reason")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Everything is read-only: certificates change only through the actions (services).
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("enrolment__learner", "enrolment__programme")

    @admin.display(description=_("learner"), ordering="enrolment__learner__full_name")
    def learner_name_display(self, obj):
        return obj.learner_name or obj.enrolment.learner.full_name

    @admin.display(description=_("programme"), ordering="enrolment__programme__title")
    def programme_display(self, obj):
        return obj.programme_title or obj.enrolment.programme.title

    @admin.display(description=_("why it failed"))
    def short_failure_reason(self, obj):
        return (obj.failure_reason[:80] + "…") if len(obj.failure_reason) > 80 else obj.failure_reason

    @admin.display(description=_("signature level"))
    def signature_level_display(self, obj):
        """The PAdES level of the stored file: B-B (valid while the signing certificate is), or
        B-LTA (timestamped with its validation data: verifiable for decades; see docs)."""
        from academy.storage import storage_errors

        from .signing import pdf_signature_level

        if not obj.pdf:
            return "—"
        try:
            with obj.pdf.open("rb") as handle:
                level = pdf_signature_level(handle.read())
        except storage_errors():  # the local folder's OSError, or object storage that is away
            return _("The file cannot be read just now.")
        return level or _("not signed")

    @admin.display(description=_("public page"))
    def verify_link(self, obj):
        url = reverse("certificates:verify", kwargs={"code": obj.verification_code})
        return format_html('<a href="{}">{}</a>', url, url)

    def _change_page_url(self, request, queryset) -> str | None:
        """The certificate's own change page when the action was started from its button (the
        form says so with ``_from_change_page``) for exactly that one certificate; else None (the
        list). Only ever this admin's own URL, so nothing from the form can send staff elsewhere."""
        if request.POST.get("_from_change_page") != "1":
            return None
        pks = list(queryset.values_list("pk", flat=True)[:2])
        if len(pks) != 1:
            return None
        return reverse(f"{self.admin_site.name}:certificates_certificate_change", args=[pks[0]])

    def _intermediate(self, request, queryset, *, form, action, title, template):
        change_page_url = self._change_page_url(request, queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "queryset": queryset,
            "form": form,
            "action": action,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "from_change_page": change_page_url is not None,
            "cancel_url": change_page_url or reverse(f"{self.admin_site.name}:certificates_certificate_changelist"),
        }
        return TemplateResponse(request, template, context)

    def _apply(self, request, queryset, func, done_message, **kwargs):
        done = 0
        for certificate in queryset:
            try:
                func(certificate=certificate, **kwargs)
                done += 1
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    def _action_with_reason(self, request, queryset, *, form_class, service, done_message, by, action, title, template):
        """An action that first asks for a reason on an intermediate page, then applies ``service``
        to each selected certificate with ``by`` (the staff member) and the reason. Started from a
        certificate's own page (its Revoke or Reissue button), it ends back on that page."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            change_page_url = self._change_page_url(request, queryset)
            self._apply(
                request, queryset, service, done_message, **{by: request.user, "reason": form.cleaned_data["reason"]}
            )
            return HttpResponseRedirect(change_page_url) if change_page_url else None
        return self._intermediate(request, queryset, form=form, action=action, title=title, template=template)

    @admin.action(description=_("Revoke the selected certificates…"), permissions=["change"])
    def revoke_action(self, request, queryset):
        return self._action_with_reason(
            request,
            queryset,
            form_class=RevokeForm,
            service=services.certificate_revoke,
            done_message=lambda n: ngettext("%d certificate revoked.", "%d certificates revoked.", n) % n,
            by="revoked_by",
            action="revoke_action",
            title=_("Revoke certificates"),
            template="certificates/admin/revoke.html",
        )

    @admin.action(description=_("Reissue the selected certificates (new signed version)…"), permissions=["change"])
    def reissue_action(self, request, queryset):
        return self._action_with_reason(
            request,
            queryset,
            form_class=ReissueForm,
            service=services.certificate_reissue,
            done_message=lambda n: ngettext(
                "%d certificate is being reissued.", "%d certificates are being reissued.", n
            )
            % n,
            by="reissued_by",
            action="reissue_action",
            title=_("Reissue certificates"),
            template="certificates/admin/reissue.html",
        )

    @admin.action(description=_("Try the selected failed certificates again"), permissions=["change"])
    def retry_action(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.certificate_retry,
            lambda n: ngettext("%d certificate will be tried again.", "%d certificates will be tried again.", n) % n,
            retried_by=request.user,
        )
