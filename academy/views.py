"""Base pages: the public home page, the health check, accepting an invitation, staff sign-in."""

from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView, redirect_to_login
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import services
from .forms import InvitationRequestForm, WelcomeSetPasswordForm
from .tokens import invitation_token_generator


@require_GET
def home(request):
    """Anyone: the Academy's public front page (signed-in people see their dashboard instead,
    from the learners app, which renders this for visitors who are not signed in)."""
    return render(request, "academy/home.html")


def _broker_answers() -> bool:
    from academy.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return True


@never_cache
@require_GET
def healthz(request):
    """Anyone (load balancers): 200 only when the database and, if configured, the broker answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.CELERY_BROKER_URL:
        try:
            _broker_answers()
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


class WelcomeView(PasswordResetConfirmView):
    """Anyone holding a valid invitation link: choose a first password, then be signed in.

    Like Django's password reset, the token is moved into the session and the address rewritten,
    so it never leaks through the Referer header. An expired or used link renders a plain page
    with a form to ask for a new one.
    """

    form_class = WelcomeSetPasswordForm
    token_generator = invitation_token_generator
    template_name = "academy/welcome.html"
    reset_url_token = "set-password"  # noqa: S105 - a URL segment, not a secret
    success_url = reverse_lazy("home")
    post_reset_login = False  # we sign the learner in ourselves, after the service has run

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # Only accounts still waiting for their first password can use an invitation link.
        if user is not None and (user.has_usable_password() or not user.is_active):
            return None
        return user

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["request_form"] = InvitationRequestForm()
        return context

    def form_valid(self, form):
        user = services.learner_invitation_accept(user=form.user, password=form.cleaned_data["new_password1"])
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        auth_login(self.request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_request(request):
    """Anyone: ask for a new invitation link by email address. The answer is the same whether
    or not the address has an invitation (no account enumeration); rate limited per address and
    per IP address (``ACCOUNT_RATE_LIMITS["invitation_request"]``)."""
    form = InvitationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if not ratelimit.consume(request, action="invitation_request", key=email):
            return render(request, "academy/invitation_request.html", {"form": form, "limited": True}, status=429)
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is not None and not user.has_usable_password():
            services.learner_invitations_queue(learners=[user])
        return render(request, "academy/invitation_request_done.html")
    return render(request, "academy/invitation_request.html", {"form": form})


@never_cache
def admin_login(request, extra_context=None):
    """Anyone: the admin's own sign-in form is replaced by allauth's, so staff sign in through
    the same rate limits, email verification and codes as everyone else. ``?next=`` is kept."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME) or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    return redirect_to_login(next_url or reverse("admin:index"), login_url=reverse("account_login"))
