"""Template tags for the staff admin: certificates waiting too long."""

from django import template

from ..selectors import certificates_pending_overdue_count

register = template.Library()

PENDING_WARNING_MINUTES = 10


@register.inclusion_tag("certificates/admin/pending_overdue.html", takes_context=True)
def certificates_pending_overdue(context):
    """How many certificates have been pending for more than 10 minutes (staff who may view
    certificates only)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("certificates.view_certificate"):
        return {"show": False}
    return {
        "show": True,
        "count": certificates_pending_overdue_count(minutes=PENDING_WARNING_MINUTES),
        "minutes": PENDING_WARNING_MINUTES,
    }
