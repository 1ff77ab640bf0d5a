"""Base pages: the public home page, the health check, accepting an invitation, staff sign-in."""

import threading
import time
from email.utils import parseaddr

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
from .permissions import ReadOnlyAccess
from .tokens import invitation_token_generator


def contact_email() -> str:
    """The Academy's contact address: the address of ``DEFAULT_FROM_EMAIL``."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


@require_GET
def home(request, *, open_programmes=()):
    """Anyone: the Academy's public front page: what the Academy is, the programmes open now (with
    their partners and dates: the learners app, which renders this page for visitors who are not
    signed in, reads them), how to take part, and how to contact us. Signed-in people see their
    dashboard instead."""
    return render(request, "academy/home.html", {"open_programmes": open_programmes, "contact_email": contact_email()})


@require_GET
def accessibility(request):
    """Anyone: the accessibility statement (linked from every page's footer)."""
    return render(request, "academy/accessibility.html", {"contact_email": contact_email()})


def permission_denied(request, exception):
    """``handler403``: a partner's viewer on a page that changes something gets the page saying
    they can look but not change (``ReadOnlyAccess``); any other refusal gets 403.html."""
    if isinstance(exception, ReadOnlyAccess):
        return render(request, "403_read_only.html", {"exception": exception}, status=403)
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    """Anyone whose form was refused by the CSRF check (``CSRF_FAILURE_VIEW``): in the site's own
    layout, in plain words (the page was open too long, or cookies are blocked), never the reason's
    technical detail."""
    return render(request, "403_csrf.html", status=403)


# Each probe of /healthz/ gives up after this many seconds, so the answer comes within about
# PROBE_TIMEOUT (the database's own connect timeout is 3 s, see settings).
PROBE_TIMEOUT = 1.0


def _database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache_answers() -> None:
    """The shared cache itself (Redis), not the fallback in front of it."""
    from django_redis import get_redis_connection

    get_redis_connection("redis").ping()


def _broker_answers() -> None:
    from academy.celery import app

    # A broker that accepts the connection but never answers times out too (Redis transport).
    timeouts = {"socket_connect_timeout": PROBE_TIMEOUT, "socket_timeout": PROBE_TIMEOUT}
    with app.connection_for_write(connect_timeout=PROBE_TIMEOUT, transport_options=timeouts) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=PROBE_TIMEOUT)


def _state(exc: BaseException | None) -> str:
    return "ok" if exc is None else f"error: {exc.__class__.__name__}"


def _probe_in_thread(probe) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            probe()
            outcome["error"] = None
        except Exception as exc:  # noqa: BLE001 - any failure is reported
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"healthz-{probe.__name__}", daemon=True)
    thread.start()
    return thread, outcome


@never_cache
@require_GET
def healthz(request):
    """Anyone (load balancers): each part's state as JSON, ``"ok"`` or ``"error: <kind>"`` (or
    ``"not configured"``), and an overall ``status``. 503 (``"unavailable"``) only when the database
    does not answer: the site cannot serve. The cache (Redis) or the broker not answering is
    ``"degraded"`` with a 200, since pages still render without them (docs/configuration.md)."""
    started = time.monotonic()
    probes = {}
    if "redis" in settings.CACHES:
        probes["cache"] = _probe_in_thread(_cache_answers)
    if settings.CELERY_BROKER_URL:
        probes["broker"] = _probe_in_thread(_broker_answers)
    try:
        _database_answers()
        database = None
    except Exception as exc:  # noqa: BLE001 - any failure means the site cannot serve
        database = exc
    checks = {"database": _state(database), "cache": "not configured", "broker": "not configured"}
    for part, (thread, outcome) in probes.items():
        thread.join(max(0.0, PROBE_TIMEOUT + 0.5 - (time.monotonic() - started)))
        checks[part] = _state(outcome["error"]) if "error" in outcome else "error: timeout"
    if database is not None:
        status, code = "unavailable", 503
    elif all(state in ("ok", "not configured") for state in checks.values()):
        status, code = "ok", 200
    else:
        status, code = "degraded", 200
    return JsonResponse({"status": status, **checks}, status=code)


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
