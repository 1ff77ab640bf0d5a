"""Whole rendered pages of the busiest views, kept in the shared cache (Redis) until what they
show changes.

A cached page is stored with the *versions* of the scopes it shows: ``learner:<user id>`` (a
person's enrolments, progress, certificates and their own account), ``cohort:<id>`` (a cohort's
learners and counts), ``certificate:<code>`` (one certificate's public record) and ``academy``
(everything else: programmes, the competency framework, cohorts' and partners' details). A page
is served from the cache only while every one of its scopes still has the version it was built
with. ``pages_changed`` gives the scopes new versions: at once (so the same request and the
tests see the change) and again after the transaction commits (so a page another request built
from the old data in between is thrown away too).

What changes which scope is listed in one place, ``connect_signals`` below: model saves and
deletes through the ORM send signals; bulk writes (``bulk_create``) do not, so the services that
use them call ``pages_changed`` themselves. Every cached page also expires after
``PAGE_CACHE_SECONDS``, which bounds the harm of a change that was somehow missed.

Pages are cached only when the cache is shared by every process (``CACHE_URL`` set): with a
per-process cache a change made by the Celery worker could not reach the web workers, so
``PAGE_CACHE_SECONDS`` is 0 (off) then. A page with a flash message waiting is never served
from or stored in the cache. The CSRF token is never stored: the page keeps a random placeholder
that is replaced by the visitor's own token on the way out.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

EVERYTHING = "academy"
_FORMAT = "1"  # of a stored page; a release that changes it must not read pages of the one before
_VERSION_SECONDS = 7 * 24 * 3600  # longer than any page lives; a lost version only costs a rebuild
_state = threading.local()


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0


def learner(user_id: int) -> str:
    return f"learner:{user_id}"


def cohort(cohort_id: int) -> str:
    return f"cohort:{cohort_id}"


def certificate(code: str) -> str:
    return f"certificate:{code}"


def _version_key(scope: str) -> str:
    return f"pages:v:{scope}"


# --- Saying that something changed ---------------------------------------------------------------


def _resolve(scopes: set[str], enrolment_ids: set[int]) -> set[str]:
    """Enrolments stand for their learner and their cohort (one query for all of them)."""
    if enrolment_ids:
        from programmes.models import Enrolment

        for learner_id, cohort_id in Enrolment.objects.filter(pk__in=enrolment_ids).values_list(
            "learner_id", "cohort_id"
        ):
            scopes.update((learner(learner_id), cohort(cohort_id)))
    return scopes


def _bump(scopes: set[str]) -> None:
    if not scopes:
        return
    try:
        cache.set_many({_version_key(s): secrets.token_hex(8) for s in scopes}, timeout=_VERSION_SECONDS)
    except Exception:  # noqa: BLE001 - a cache outage must never undo a change; pages expire anyway
        logger.warning("Could not mark %d cached page scope(s) as changed.", len(scopes), exc_info=True)


def _apply(scopes: set[str], enrolment_ids: set[int]) -> None:
    scopes = _resolve(set(scopes), set(enrolment_ids))
    _bump(scopes)
    transaction.on_commit(lambda: _bump(scopes))


def pages_changed(*scopes: str, enrolments: Iterable[int] = ()) -> None:
    """What these scopes (and these enrolments' learner and cohort) show has changed."""
    if not enabled():
        return
    batch = getattr(_state, "batch", None)
    if batch is not None:
        batch[0].update(scopes)
        batch[1].update(enrolments)
        return
    _apply(set(scopes), set(enrolments))


@contextmanager
def changes_batched():
    """Collect the changes of many saves (a whole grid of ticks) and mark them once, at the end.
    If the block fails, its transaction is rolled back, so nothing is marked (and the database is
    not asked anything more in a transaction that may be broken)."""
    if getattr(_state, "batch", None) is not None:  # nested: the outer batch marks everything
        yield
        return
    _state.batch = (set(), set())
    try:
        yield
    except BaseException:
        _state.batch = None
        raise
    scopes, enrolment_ids = _state.batch
    _state.batch = None
    if enabled():
        _apply(scopes, enrolment_ids)


# --- Serving pages ---------------------------------------------------------------------------------


def cached_page(
    request: HttpRequest,
    *,
    name: str,
    key: Iterable,
    scopes: Iterable[str],
    render: Callable[[dict], HttpResponse],
    allowed: Callable[[object], bool] | None = None,
) -> HttpResponse:
    """The page ``render`` makes, from the cache while its scopes are unchanged.

    ``render(extra_context)`` must check who may see the page and build the response from the
    database, with ``extra_context`` merged into its template context (it holds the CSRF
    placeholder). ``allowed(guard)``, if given, is asked before a cached page is served, so the
    permission is checked on every request; ``guard`` is what ``render`` left in the response's
    ``page_cache_guard`` attribute (say, the organisation the page belongs to: a change of it
    changes a scope of the page). An answer other than 200 is never cached. The page
    depends on who is looking: the visitor's own scope is added (their name, staff flag and
    memberships show in the navigation), and the key holds their id and the language.
    """
    if not enabled() or request.method != "GET" or len(messages.get_messages(request)):
        return render({})
    user = request.user
    viewer = user.pk if user.is_authenticated else "anonymous"
    scopes = sorted({*scopes, EVERYTHING, *([learner(user.pk)] if user.is_authenticated else [])})
    page_key = ":".join(["pages", _FORMAT, name, get_language() or "", str(viewer), *map(str, key)])
    version_keys = [_version_key(s) for s in scopes]
    try:
        found = cache.get_many([page_key, *version_keys])
    except Exception:  # noqa: BLE001 - no cache, no caching: the page is built as usual
        logger.warning("The page cache is unavailable; building %s from the database.", name, exc_info=True)
        return render({})
    versions = [found.get(k) for k in version_keys]
    entry = found.get(page_key)
    if entry is not None and None not in versions and entry["versions"] == versions:
        if allowed is not None and not allowed(entry["guard"]):
            raise Http404
        content = entry["content"]
        if entry["placeholder"]:
            content = content.replace(entry["placeholder"], get_token(request).encode())
        return HttpResponse(content, content_type=entry["content_type"])
    if None in versions:  # never marked (or forgotten): start versions, keep any set meanwhile
        versions = _versions_started(version_keys, versions)
    placeholder = f"csrf-{secrets.token_hex(16)}"
    response = render({"csrf_token": placeholder})
    if hasattr(response, "render"):
        response.render()
    content, placeholder = response.content, placeholder.encode()
    if placeholder not in content:
        placeholder = b""
    if response.status_code == 200 and None not in versions:
        entry = {
            "versions": versions,
            "placeholder": placeholder,
            "guard": getattr(response, "page_cache_guard", None),
            "content": content,
            "content_type": response.headers.get("Content-Type", "text/html; charset=utf-8"),
        }
        try:
            cache.set(page_key, entry, timeout=settings.PAGE_CACHE_SECONDS)
        except Exception:  # noqa: BLE001 - the page is served all the same, just not kept
            logger.warning("Could not keep the %s page in the cache.", name, exc_info=True)
    if placeholder:
        response.content = content.replace(placeholder, get_token(request).encode())
    return response


def _versions_started(version_keys: list[str], versions: list) -> list:
    """Give scopes that have no version yet a first one (without overwriting one set meanwhile)
    and read them back; a scope left without a version means the page is not kept."""
    try:
        for version_key, version in zip(version_keys, versions, strict=True):
            if version is None:
                cache.add(version_key, secrets.token_hex(8), timeout=_VERSION_SECONDS)
        current = cache.get_many(version_keys)
    except Exception:  # noqa: BLE001
        logger.warning("Could not start page versions in the cache.", exc_info=True)
        return versions
    return [current.get(k) for k in version_keys]


# --- What changes which scope --------------------------------------------------------------------


def connect_signals() -> None:
    """Connect the receivers that mark pages changed when the models they show are saved."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from certificates.models import Certificate
    from partners.models import PartnerMembership, PartnerOrganisation
    from programmes.models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme

    def on_user(sender, instance, created=False, update_fields=None, **kwargs):
        # A new account has no pages yet; signing in saves last_login, shown nowhere.
        if created or (update_fields and set(update_fields) <= {"last_login"}):
            return
        cohort_ids = Enrolment.objects.filter(learner_id=instance.pk).values_list("cohort_id", flat=True)
        pages_changed(learner(instance.pk), *(cohort(c) for c in cohort_ids))

    def on_enrolment(sender, instance, **kwargs):
        pages_changed(learner(instance.learner_id), cohort(instance.cohort_id))

    def enrolment_scopes(instance) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """(scopes, enrolment ids): the services hand over the enrolment they hold, so usually
        its learner and cohort are known without a query; otherwise the id is resolved later."""
        if type(instance).enrolment.is_cached(instance):
            return (learner(instance.enrolment.learner_id), cohort(instance.enrolment.cohort_id)), ()
        return (), (instance.enrolment_id,)

    def on_achievement(sender, instance, **kwargs):
        scopes, enrolment_ids = enrolment_scopes(instance)
        pages_changed(*scopes, enrolments=enrolment_ids)

    def on_certificate(sender, instance, **kwargs):
        scopes, enrolment_ids = enrolment_scopes(instance)
        pages_changed(certificate(instance.verification_code), *scopes, enrolments=enrolment_ids)

    def on_membership(sender, instance, **kwargs):
        pages_changed(learner(instance.user_id))

    def on_framework(sender, **kwargs):
        pages_changed(EVERYTHING)

    def on_facilitators(sender, instance, action, pk_set, reverse, **kwargs):
        if not action.startswith("post_"):
            return
        if reverse:  # from the person's side: their cohorts changed
            pages_changed(learner(instance.pk))
        elif pk_set is None:  # a cohort's facilitators cleared: whoever they were
            pages_changed(EVERYTHING)
        else:
            pages_changed(*(learner(pk) for pk in pk_set))

    receivers = [
        (get_user_model(), on_user),
        (Enrolment, on_enrolment),
        (Achievement, on_achievement),
        (Certificate, on_certificate),
        (PartnerMembership, on_membership),
        *((model, on_framework) for model in (Programme, CompetencyDomain, Competency, Cohort, PartnerOrganisation)),
    ]
    for model, receiver in receivers:
        uid = f"page_cache:{model._meta.label}"
        post_save.connect(receiver, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(receiver, sender=model, dispatch_uid=uid, weak=False)
    m2m_changed.connect(
        on_facilitators, sender=Cohort.facilitators.through, dispatch_uid="page_cache:facilitators", weak=False
    )
