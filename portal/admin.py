"""Staff admin of the partner portal's own records: the "you have been added to …" emails."""

from django.contrib import admin

from academy.admin_base import SafeAdminMixin

from .models import EnrolmentNotice


@admin.register(EnrolmentNotice)
class EnrolmentNoticeAdmin(SafeAdminMixin, admin.ModelAdmin):
    """Whether and when each "you have been added to …" email went, how many tries it took and
    the last error. Read only: notices are written when a partner enrols a learner who already
    has an account."""

    list_display = ("enrolment", "status", "created_at", "sent_at", "attempts", "enrolled_by")
    list_filter = ("status",)
    search_fields = ("enrolment__learner__email", "enrolment__learner__full_name")
    list_select_related = ("enrolment__learner", "enrolment__cohort__programme", "enrolled_by")
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "enrolment",
        "enrolled_by",
        "status",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
        "sweep_after",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
