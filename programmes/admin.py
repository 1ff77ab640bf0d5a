"""Staff admin for the competency framework and learning.

Who may see it: Academy staff with the ``programmes`` permissions (the admin site checks them).
Every write that can change whether someone has completed goes through ``programmes.services``:
competencies and domains (``competency_save``, ``domain_save``), achievements
(``achievement_record``, ``achievement_remove``), enrolments (``enrolment_create``;
``enrolments_withdraw`` and ``enrolment_reinstate``, whose actions ask first on a page naming each
learner). A refusal is shown to the staff member and nothing is written.

A programme's change page links to a preview of its certificate (PDF and PNG) with sample data,
drawn by the certificates app (``programmes.certificate_preview``): nothing is issued or saved.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from academy.admin import ServiceWritesMixin, count_of
from academy.admin_base import SafeAdminMixin, SafeAutocompleteMixin
from academy.names import name_clean
from academy.services import learner_invitation_resend

from . import services
from .achievement_locks import locked_enrolment_ids
from .certificate_preview import certificate_preview_render
from .models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme
from .selectors import achievements_locked_message, enrolment_missing_competencies

NEW_ENROLMENT_STATUSES = [
    (Enrolment.Status.INVITED.value, Enrolment.Status.INVITED.label),
    (Enrolment.Status.ACTIVE.value, Enrolment.Status.ACTIVE.label),
]
LIVE = ~Q(status=Enrolment.Status.WITHDRAWN)
WITHDRAWABLE = (Enrolment.Status.INVITED, Enrolment.Status.ACTIVE)


# --- Competency framework --------------------------------------------------------------------


class CompetencyInline(admin.TabularInline):
    """Competencies in a domain. Untick “active” to retire one: it is no longer required and its
    achievements are kept. Competencies are retired, never deleted."""

    model = Competency
    fields = ("statement", "order", "is_active", "retired_at")
    readonly_fields = ("retired_at",)
    extra = 1
    can_delete = False
    show_change_link = True


class FrameworkWritesMixin(ServiceWritesMixin):
    """Saves domains and competencies (also from inlines) through the services, which re-apply
    the completion rule to every programme the change touches."""

    def save_formset(self, request, form, formset, change):
        if formset.model is Competency:
            for competency in formset.save(commit=False):
                try:
                    services.competency_save(competency=competency, changed_by=request.user)
                except ValidationError as error:
                    self.refuse(error)
            formset.save_m2m()
        elif formset.model is CompetencyDomain:
            for domain in formset.save(commit=False):
                domain.is_core = False
                try:
                    services.domain_save(domain=domain, changed_by=request.user)
                except ValidationError as error:
                    self.refuse(error)
            formset.save_m2m()
        else:
            super().save_formset(request, form, formset, change)


@admin.register(CompetencyDomain)
class CompetencyDomainAdmin(SafeAdminMixin, FrameworkWritesMixin, SimpleHistoryAdmin):
    list_display = ("name", "is_core", "programme", "order", "active_competencies", "retired_competencies")
    list_display_links = ("name",)
    list_filter = ("is_core", "programme")
    search_fields = ("name", "description")
    list_select_related = ("programme",)
    autocomplete_fields = ("programme",)
    fields = ("name", "description", "is_core", "programme", "order")
    inlines = (CompetencyInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_active=count_of(Competency, "domain", is_active=True),
                n_retired=count_of(Competency, "domain", is_active=False),
            )
        )

    @admin.display(description=_("active competencies"), ordering="n_active")
    def active_competencies(self, obj):
        return obj.n_active

    @admin.display(description=_("retired"), ordering="n_retired")
    def retired_competencies(self, obj):
        return obj.n_retired

    def save_model(self, request, obj, form, change):
        try:
            services.domain_save(domain=obj, changed_by=request.user)
        except ValidationError as error:
            self.refuse(error)


@admin.register(Competency)
class CompetencyAdmin(SafeAdminMixin, FrameworkWritesMixin, SimpleHistoryAdmin):
    list_display = ("statement", "domain", "is_core", "order", "is_active", "retired_at", "achieved_by")
    list_filter = ("is_active", "domain__is_core", "domain")
    search_fields = ("statement", "domain__name")
    list_select_related = ("domain",)
    autocomplete_fields = ("domain",)
    fields = ("domain", "statement", "order", "is_active", "retired_at")
    readonly_fields = ("retired_at",)
    actions = ("retire_selected",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_achieved=count_of(Achievement, "competency"))

    @admin.display(description=_("core"), boolean=True, ordering="domain__is_core")
    def is_core(self, obj):
        return obj.domain.is_core

    @admin.display(description=_("achieved by"), ordering="n_achieved")
    def achieved_by(self, obj):
        return obj.n_achieved

    def has_delete_permission(self, request, obj=None):
        # Retire instead: achievements and certificates keep pointing at the competency.
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.competency_save(competency=obj, changed_by=request.user)
        except ValidationError as error:
            self.refuse(error)

    @admin.action(description=_("Retire the selected competencies (no longer required, history kept)"))
    def retire_selected(self, request, queryset):
        retired = 0
        for competency in queryset.filter(is_active=True):
            services.competency_retire(competency=competency, retired_by=request.user)
            retired += 1
        self.message_user(
            request,
            ngettext("Retired %(n)d competency.", "Retired %(n)d competencies.", retired) % {"n": retired},
            messages.SUCCESS,
        )


# --- Programmes and cohorts ------------------------------------------------------------------


class CourseDomainInline(admin.TabularInline):
    """This programme's own (course-specific) domains. Open one to add its competencies."""

    model = CompetencyDomain
    fk_name = "programme"
    fields = ("name", "description", "order")
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("course-specific competency domain")
    verbose_name_plural = _("course-specific competency domains")


class CohortInline(SafeAutocompleteMixin, admin.TabularInline):
    model = Cohort
    fields = ("name", "partner", "starts_on", "ends_on", "venue", "capacity")
    autocomplete_fields = ("partner",)
    extra = 0
    can_delete = False
    show_change_link = True


class ProgrammeAdminForm(forms.ModelForm):
    """The signatory's name is printed on every certificate: the rule of names applies
    (``academy.names.name_clean``); it may be left blank for the Academy's default signatory."""

    class Meta:
        model = Programme
        fields = ("signatory_name",)  # the admin's fieldsets add the others

    def clean_signatory_name(self):
        name = self.cleaned_data.get("signatory_name") or ""
        return name_clean(name) if name.strip() else ""


# The certificates app, above this one, draws certificates. It is named by its dotted path (as
# Django names backends in settings) rather than imported, so that this app does not depend on it:
PREVIEW_TYPES = {"pdf": "application/pdf", "png": "image/png"}


@admin.register(Programme)
class ProgrammeAdmin(SafeAdminMixin, FrameworkWritesMixin, SimpleHistoryAdmin):
    form = ProgrammeAdminForm
    list_display = ("title", "status", "research_project", "cohorts_count", "learners_count", "completed_count")
    list_filter = ("status", "partner_organisations")
    search_fields = ("title", "slug", "research_project", "summary")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("partner_organisations",)
    readonly_fields = ("created_at", "updated_at", "certificate_preview")
    fieldsets = (
        (None, {"fields": ("title", "slug", "status", "summary")}),
        (_("Research project"), {"fields": ("research_project", "research_project_url")}),
        (_("Partners"), {"fields": ("partner_organisations",)}),
        (
            _("Certificate"),
            {
                "fields": (
                    "certificate_wording",
                    "signatory_name",
                    "signatory_title",
                    "signatory_signature",
                    "certificate_preview",
                )
            },
        ),
        (_("Record"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (CourseDomainInline, CohortInline)

    def get_urls(self):
        view = self.admin_site.admin_view(self.certificate_preview_view)  # staff only, else sign-in
        return [
            path("<int:object_id>/certificate-preview.<str:image_format>", view, name="programmes_programme_preview"),
            *super().get_urls(),
        ]

    @admin.display(description=_("certificate preview"))
    def certificate_preview(self, obj):
        if obj is None or obj.pk is None:
            return _("Save the programme first to preview its certificate.")
        return format_html(
            '<a class="button" href="{}" target="_blank" rel="noopener">{}</a> '
            '<a class="button" href="{}" target="_blank" rel="noopener">{}</a>'
            "<p>{}</p>",
            reverse(f"{self.admin_site.name}:programmes_programme_preview", args=[obj.pk, "pdf"]),
            _("Preview as PDF"),
            reverse(f"{self.admin_site.name}:programmes_programme_preview", args=[obj.pk, "png"]),
            _("Preview as PNG"),
            _(
                "A sample with the saved title, wording, domains and signatory and a sample learner, "
                "marked “SAMPLE – NOT A CERTIFICATE”. Nothing is issued or saved."
            ),
        )

    def certificate_preview_view(self, request, object_id: int, image_format: str):
        """The programme's certificate with sample data, as a PDF or a PNG (staff with the
        programme's view permission; others are told it is not found). Nothing is issued or saved."""
        programme = Programme.objects.filter(pk=object_id).first()
        if image_format not in PREVIEW_TYPES or programme is None or not self.has_view_permission(request, programme):
            raise Http404(_("No such programme."))
        try:
            content = certificate_preview_render(programme, image_format=image_format)
        except ValueError as error:  # text too long for the page, or no image could be drawn
            messages.error(request, _("The certificate could not be previewed: %(reason)s") % {"reason": error})
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:programmes_programme_change", args=[programme.pk])
            )
        response = HttpResponse(content, content_type=PREVIEW_TYPES[image_format])
        response["Content-Disposition"] = f'inline; filename="certificate-preview-{programme.slug}.{image_format}"'
        response["Cache-Control"] = "private, no-store"
        return response

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "research_project_url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_cohorts=count_of(Cohort, "programme"),
                n_learners=count_of(Enrolment, "programme", status__in=Enrolment.LIVE_STATUSES),
                n_completed=count_of(Enrolment, "programme", status=Enrolment.Status.COMPLETED),
            )
        )

    @admin.display(description=_("cohorts"), ordering="n_cohorts")
    def cohorts_count(self, obj):
        return obj.n_cohorts

    @admin.display(description=_("learners"), ordering="n_learners")
    def learners_count(self, obj):
        return obj.n_learners

    @admin.display(description=_("completed"), ordering="n_completed")
    def completed_count(self, obj):
        return obj.n_completed

    def save_formset(self, request, form, formset, change):
        if formset.model is Cohort:
            for cohort in formset.save(commit=False):
                if cohort.pk is None:
                    cohort.created_by = request.user
                cohort.save()
            formset.save_m2m()
        else:
            super().save_formset(request, form, formset, change)


class EnrolmentInline(SafeAutocompleteMixin, admin.TabularInline):
    """Learners in this cohort. Add a learner here; withdraw one from the enrolments list."""

    model = Enrolment
    fields = ("learner", "status", "enrolled_at", "completed_at")
    readonly_fields = ("enrolled_at", "completed_at")
    autocomplete_fields = ("learner",)
    extra = 0
    can_delete = False
    verbose_name = _("learner")
    verbose_name_plural = _("learners")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("learner")

    def has_change_permission(self, request, obj=None):
        # Existing enrolments change only through services (withdraw, record achievements).
        return False

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = NEW_ENROLMENT_STATUSES
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(Cohort)
class CohortAdmin(SafeAdminMixin, ServiceWritesMixin, SimpleHistoryAdmin):
    list_display = ("name", "programme", "partner", "starts_on", "ends_on", "venue", "enrolled", "capacity")
    list_filter = ("programme", "partner")
    search_fields = ("name", "venue", "programme__title", "partner__name")
    list_select_related = ("programme", "partner")
    autocomplete_fields = ("programme", "partner", "facilitators")
    date_hierarchy = "starts_on"
    readonly_fields = ("created_by", "created_at", "tools")
    fields = (
        "programme",
        "partner",
        "name",
        ("starts_on", "ends_on"),
        "venue",
        "capacity",
        "facilitators",
        "tools",
        "created_by",
        "created_at",
    )
    inlines = (EnrolmentInline,)

    @admin.display(description=_("for this cohort"))
    def tools(self, obj):
        if obj is None or obj.pk is None:
            return _("Save the cohort first.")
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("programmes:cohort_progress", args=[obj.pk]),
            _("Record progress (grid)"),
            reverse("programmes:cohort_invite", args=[obj.pk]),
            _("Invite learners to this cohort"),
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_enrolled=count_of(Enrolment, "cohort", status__in=Enrolment.LIVE_STATUSES))
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # Enrolments mirror their cohort's programme, so it is fixed once the cohort exists.
            return (*self.readonly_fields, "programme")
        return self.readonly_fields

    @admin.display(description=_("enrolled"), ordering="n_enrolled")
    def enrolled(self, obj):
        return obj.n_enrolled

    def save_model(self, request, obj, form, change):
        try:
            services.cohort_save(cohort=obj, saved_by=request.user)
        except ValidationError as error:
            self.refuse(error)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Enrolment:
            return super().save_formset(request, form, formset, change)
        for enrolment in formset.save(commit=False):
            try:
                services.enrolment_create(
                    learner=enrolment.learner,
                    cohort=form.instance,
                    enrolled_by=request.user,
                    status=enrolment.status,
                )
            except ValidationError as error:
                self.refuse(error)


# --- Learners' progress ------------------------------------------------------------------------


class AchievementInline(admin.TabularInline):
    """What this learner has shown (record or remove achievements from the achievements list)."""

    model = Achievement
    fields = ("competency", "achieved_on", "recorded_by", "evidence")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("competency", "recorded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enrolment)
class EnrolmentAdmin(SafeAdminMixin, ServiceWritesMixin, SimpleHistoryAdmin):
    list_display = (
        "learner_name",
        "learner_email",
        "programme",
        "cohort_name",
        "partner",
        "status",
        "enrolled_at",
        "completed_at",
    )
    list_filter = ("status", "programme", "cohort__partner")
    search_fields = ("learner__email", "learner__full_name", "cohort__name")
    list_select_related = ("learner", "programme", "cohort__programme", "cohort__partner")
    autocomplete_fields = ("learner", "cohort")
    actions = ("withdraw_selected", "reinstate_selected", "resend_invitations")
    inlines = (AchievementInline,)

    def get_queryset(self, request):
        # str(enrolment) names the learner and the cohort's programme, so autocomplete lists and
        # change pages need the joins too. (A changelist ignores list_select_related once the
        # queryset has select_related, hence the same list here.)
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("learner", "cohort", "status")
        return (
            "learner",
            "cohort",
            "programme",
            "status",
            "enrolled_by",
            "enrolled_at",
            "completed_at",
            "withdrawn_at",
            "still_to_show",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Status changes only through services: achievements complete, the action withdraws.
        return self.get_fields(request, obj)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = NEW_ENROLMENT_STATUSES
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Withdraw instead: the history of what the learner achieved is kept.
        return False

    @admin.display(description=_("learner"), ordering="learner__full_name")
    def learner_name(self, obj):
        return obj.learner.full_name

    @admin.display(description=_("email address"), ordering="learner__email")
    def learner_email(self, obj):
        return obj.learner.email

    @admin.display(description=_("cohort"), ordering="cohort__name")
    def cohort_name(self, obj):
        return obj.cohort.name

    @admin.display(description=_("partner organisation"), ordering="cohort__partner__name")
    def partner(self, obj):
        return obj.cohort.partner

    @admin.display(description=_("still to show"))
    def still_to_show(self, obj):
        missing = [str(c) for c in enrolment_missing_competencies(enrolment=obj)]
        return "; ".join(missing) if missing else _("Nothing: every required competency is shown.")

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on an existing enrolment is edited here
        try:
            created = services.enrolment_create(
                learner=obj.learner, cohort=obj.cohort, enrolled_by=request.user, status=obj.status
            )
        except ValidationError as error:
            self.refuse(error)
        obj.pk = created.pk
        obj.programme_id = created.programme_id
        obj._state.adding = False

    @admin.action(description=_("Re-send the invitation email to the selected learners"))
    def resend_invitations(self, request, queryset):
        sent = 0
        for enrolment in queryset.select_related("learner"):
            if enrolment.learner.has_usable_password():
                continue  # they have an account already: they sign in or reset their password
            learner_invitation_resend(learner=enrolment.learner, invited_by=request.user)
            sent += 1
        self.message_user(
            request,
            ngettext("Queued a new invitation for %(n)d learner.", "Queued new invitations for %(n)d learners.", sent)
            % {"n": sent},
            messages.SUCCESS,
        )

    # --- Withdraw and reinstate: each asks first, on a page listing the learners ------------------

    def _confirmation_page(self, request, enrolments, *, action, title, template, **extra):
        """The action's intermediate page: it lists the learners and asks. Its "Yes" button posts
        the same action again with ``post=yes`` (and exactly the enrolments listed); "No, go back"
        is a link to the list as it was (filters kept), so it works without JavaScript."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "enrolments": enrolments,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "back_url": request.get_full_path(),
            **extra,
        }
        return TemplateResponse(request, template, context)

    @staticmethod
    def _selected(queryset) -> list[Enrolment]:
        # get_queryset joins the learner, the cohort and the programme: one query, whatever the number.
        return list(queryset.order_by("cohort__name", "learner__full_name", "pk"))

    @admin.action(
        description=_("Withdraw the selected learners (asks first; their achievements are kept)"),
        permissions=["change"],
    )
    def withdraw_selected(self, request, queryset):
        """Asks first (naming each learner and their cohort), then withdraws them with
        ``enrolments_withdraw``: one call per cohort, a constant number of queries each, every
        withdrawal in the enrolment's history with who did it. Learners who have completed are
        named and left as they are; those already withdrawn are left alone."""
        enrolments = self._selected(queryset)
        to_withdraw = [e for e in enrolments if e.status in WITHDRAWABLE]
        completed = [e for e in enrolments if e.status == Enrolment.Status.COMPLETED]
        if request.POST.get("post") != "yes":
            if len(to_withdraw) == 1:
                title = _("Withdraw %(learner)s from “%(cohort)s”?") % {
                    "learner": to_withdraw[0].learner.full_name,
                    "cohort": to_withdraw[0].cohort.name,
                }
            elif to_withdraw:
                title = ngettext("Withdraw %(n)d learner?", "Withdraw %(n)d learners?", len(to_withdraw)) % {
                    "n": len(to_withdraw)
                }
            else:
                title = _("Nobody here can be withdrawn")
            return self._confirmation_page(
                request,
                enrolments,
                action="withdraw_selected",
                title=title,
                template="admin/programmes/enrolment/withdraw_confirmation.html",
                to_withdraw=to_withdraw,
                completed=completed,
                already=[e for e in enrolments if e.status == Enrolment.Status.WITHDRAWN],
            )
        by_cohort: dict[int, list[Enrolment]] = {}
        for enrolment in to_withdraw:
            by_cohort.setdefault(enrolment.cohort_id, []).append(enrolment)
        withdrawn = []
        for group in by_cohort.values():
            try:
                withdrawn += services.enrolments_withdraw(
                    cohort=group[0].cohort, enrolment_ids=[e.pk for e in group], withdrawn_by=request.user
                )
            except ValidationError as error:  # one of them completed meanwhile: none of that cohort
                self.message_refusal(
                    request,
                    error,
                    prefix=_("Nobody in “%(cohort)s” was withdrawn: ") % {"cohort": group[0].cohort.name},
                )
        for enrolment in completed:
            self.message_user(
                request,
                _("%(learner)s has already completed this programme and cannot be withdrawn.")
                % {"learner": enrolment.learner},
                messages.WARNING,
            )
        if withdrawn:
            self.message_user(
                request,
                ngettext(
                    "Withdrew %(n)d learner: %(names)s. Their achievements are kept; "
                    "“Reinstate the selected learners” undoes this.",
                    "Withdrew %(n)d learners: %(names)s. Their achievements are kept; "
                    "“Reinstate the selected learners” undoes this.",
                    len(withdrawn),
                )
                % {"n": len(withdrawn), "names": "; ".join(e.learner.full_name for e in withdrawn)},
                messages.SUCCESS,
            )
        elif not completed:
            self.message_user(request, _("Nobody was withdrawn."), messages.WARNING)

    @admin.action(
        description=_("Reinstate the selected learners (undo a withdrawal; asks first)"),
        permissions=["change"],
    )
    def reinstate_selected(self, request, queryset):
        """Asks first, then undoes each learner's withdrawal with ``enrolment_reinstate`` (back to
        invited or taking part, as before; in the enrolment's history with who did it). Each
        learner's outcome is a message: back in the cohort, or the service's reason for refusing
        (not withdrawn, no free place, enrolled in the programme elsewhere)."""
        enrolments = self._selected(queryset)
        if request.POST.get("post") != "yes":
            to_reinstate = [e for e in enrolments if e.status == Enrolment.Status.WITHDRAWN]
            if len(to_reinstate) == 1:
                title = _("Reinstate %(learner)s in “%(cohort)s”?") % {
                    "learner": to_reinstate[0].learner.full_name,
                    "cohort": to_reinstate[0].cohort.name,
                }
            elif to_reinstate:
                title = ngettext("Reinstate %(n)d learner?", "Reinstate %(n)d learners?", len(to_reinstate)) % {
                    "n": len(to_reinstate)
                }
            else:
                title = _("Nobody here has been withdrawn")
            return self._confirmation_page(
                request,
                enrolments,
                action="reinstate_selected",
                title=title,
                template="admin/programmes/enrolment/reinstate_confirmation.html",
                to_reinstate=to_reinstate,
                not_withdrawn=[e for e in enrolments if e.status != Enrolment.Status.WITHDRAWN],
            )
        for enrolment in enrolments:
            try:
                reinstated = services.enrolment_reinstate(enrolment=enrolment, reinstated_by=request.user)
            except ValidationError as error:
                self.message_refusal(request, error)
            else:
                self.message_user(
                    request,
                    _("%(learner)s is back in “%(cohort)s” (%(status)s).")
                    % {
                        "learner": reinstated.learner,
                        "cohort": enrolment.cohort.name,
                        "status": reinstated.get_status_display().lower(),
                    },
                    messages.SUCCESS,
                )


@admin.register(Achievement)
class AchievementAdmin(SafeAdminMixin, ServiceWritesMixin, SimpleHistoryAdmin):
    list_display = (
        "learner",
        "competency",
        "domain",
        "programme",
        "achieved_on",
        "recorded_by",
        "recorded_at",
    )
    list_filter = ("enrolment__programme", "competency__domain", "enrolment__cohort__partner", "achieved_on")
    search_fields = ("enrolment__learner__email", "enrolment__learner__full_name", "competency__statement", "evidence")
    list_select_related = ("enrolment__learner", "enrolment__programme", "competency__domain", "recorded_by")
    autocomplete_fields = ("enrolment", "competency")
    readonly_fields = ("recorded_by", "recorded_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("enrolment", "competency", "achieved_on", "evidence")
        return ("enrolment", "competency", "achieved_on", "evidence", "recorded_by", "recorded_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Which learner and which competency never change: remove and record again instead.
        return ("enrolment", "competency", "recorded_by", "recorded_at")

    def get_queryset(self, request):
        # Also for the change and delete pages (str() names the learner); see EnrolmentAdmin.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_changeform_initial_data(self, request):
        return {"achieved_on": timezone.localdate(), **super().get_changeform_initial_data(request)}

    @admin.display(description=_("learner"), ordering="enrolment__learner__full_name")
    def learner(self, obj):
        return obj.enrolment.learner

    @admin.display(description=_("domain"), ordering="competency__domain__name")
    def domain(self, obj):
        return obj.competency.domain

    @admin.display(description=_("programme"), ordering="enrolment__programme__title")
    def programme(self, obj):
        return obj.enrolment.programme

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["achieved_on", "evidence"])
            return
        try:
            recorded = services.achievement_record(
                enrolment=obj.enrolment,
                competency=obj.competency,
                recorded_by=request.user,
                evidence=obj.evidence,
                achieved_on=obj.achieved_on,
            )
        except ValidationError as error:
            self.refuse(error)
        obj.pk = recorded.pk
        obj.recorded_by = recorded.recorded_by
        obj._state.adding = False

    def get_deleted_objects(self, objs, request):
        """Achievements behind an issued certificate are shown as protected: the admin's delete
        page and "delete selected" then refuse, saying why (staff revoke the certificate first)."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        objs = list(objs)
        locked = locked_enrolment_ids(a.enrolment_id for a in objs)
        learners = {a.enrolment_id: a.enrolment.learner for a in objs if a.enrolment_id in locked}
        protected = [*protected, *(achievements_locked_message(learner=learner) for learner in learners.values())]
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        services.achievement_remove(enrolment=obj.enrolment, competency=obj.competency, removed_by=request.user)

    def delete_queryset(self, request, queryset):
        for achievement in queryset.select_related("enrolment", "competency"):
            self.delete_model(request, achievement)
