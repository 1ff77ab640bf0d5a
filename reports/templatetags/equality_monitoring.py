"""``{% equality_prompt %}``: the dashboard's invitation to the optional questions, shown to a
learner until they answer, skip or withdraw (``reports.selectors_monitoring.should_ask``)."""

from django import template

from reports.selectors_monitoring import should_ask

register = template.Library()


@register.inclusion_tag("reports/_equality_prompt.html", takes_context=True)
def equality_prompt(context, learning=True):
    """Renders the prompt for the signed-in person when they are learning (``learning``: the page's
    own flag, e.g. the dashboard's list of programmes) and have not been asked yet."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "ask": bool(learning) and should_ask(user),
        "learning": bool(learning),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
