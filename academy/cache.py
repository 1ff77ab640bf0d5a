"""A cache that keeps the site working while Redis is away.

``FallbackCache`` is a Django cache backend in front of another cache alias (the *primary*: the
django-redis cache ``CACHES["redis"]``). While the primary answers, every call goes to it. When a
call fails because Redis cannot be reached (refused, reset, timed out), the backend logs ONE
warning, treats Redis as away for ``RETRY_AFTER`` seconds (so requests do not each wait for a
connect timeout) and serves from a fallback instead:

- ``LOCAL_FALLBACK: True`` (the ``default`` alias: rate limits, allauth's and django-ratelimit's):
  a local-memory cache of this process, so limits keep limiting, per process, during the outage;
- ``LOCAL_FALLBACK: False`` (the ``sessions`` alias): no cache at all, reads miss and writes are
  dropped, so the ``cached_db`` session engine reads and writes the database. Sessions are never
  kept in one process's memory: a sign-out handled by another process must not be undone by it.

Whatever this process changed while Redis was away (written or deleted keys) is stale in Redis if
Redis was unreachable rather than restarted empty; before the first call goes back to Redis, those
keys are deleted there, so e.g. a sign-out during the outage stays a sign-out afterwards. The
local-memory fallback is emptied then too. Up and down are decided once per process and primary
alias, shared by both aliases and all threads; one warning when Redis goes away, one when it is
back.

Options (``CACHES[alias]["OPTIONS"]``): ``PRIMARY`` (the alias wrapped, required),
``LOCAL_FALLBACK`` (default True), ``RETRY_AFTER`` (seconds, default 5), ``MAX_ENTRIES`` (of the
local fallback, default 10,000). Key prefix, version and default timeout are the primary's: set
them on the primary alias.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)


def _outage_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "the cache server cannot be reached", not "this call was wrong".
    django-redis re-raises redis-py's own error (``ConnectionInterrupted.__cause__``)."""
    errors: list[type[BaseException]] = [OSError]  # refused, reset, socket timeouts
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import ReadOnlyError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        errors += [RedisConnectionError, RedisTimeoutError, ReadOnlyError]
    except ImportError:  # pragma: no cover - redis is a requirement
        pass
    try:
        from django_redis.exceptions import ConnectionInterrupted

        errors.append(ConnectionInterrupted)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


OUTAGE_ERRORS = _outage_errors()
# Beyond this many keys changed during one outage, all of this cache's keys are deleted from Redis
# when it returns (rather than remembering each one).
MAX_STALE_KEYS = 20_000


class _PrimaryState:
    """Whether one primary alias is reachable, as this process last saw it (shared by threads)."""

    def __init__(self, alias: str):
        self.alias = alias
        self.lock = threading.Lock()
        self.down = False
        self.down_since = 0.0
        self.retry_at = 0.0
        self.stale: set[tuple[Any, int | None]] = set()
        self.forget_everything = False


_states: dict[str, _PrimaryState] = {}
_states_lock = threading.Lock()


def _state_for(alias: str) -> _PrimaryState:
    with _states_lock:
        return _states.setdefault(alias, _PrimaryState(alias))


def primary_is_down(alias: str = "redis") -> bool:
    """Whether this process currently serves ``alias``'s callers from the fallback."""
    state = _states.get(alias)
    return bool(state and state.down)


class FallbackCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._primary_alias: str = options["PRIMARY"]
        self._use_local: bool = options.get("LOCAL_FALLBACK", True)
        self._retry_after: float = float(options.get("RETRY_AFTER", 5))
        self._state = _state_for(self._primary_alias)
        # One local store per primary alias and process (LocMemCache shares storage by name).
        self._local = LocMemCache(
            f"academy.cache.fallback:{self._primary_alias}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": options.get("MAX_ENTRIES", 10_000)}},
        )

    @property
    def _primary(self) -> BaseCache:
        return caches[self._primary_alias]

    # --- Routing -------------------------------------------------------------------------------

    def _went_down(self, exc: BaseException) -> None:
        """Called with the state's lock held."""
        state = self._state
        now = time.monotonic()
        state.retry_at = now + self._retry_after
        if not state.down:
            state.down = True
            state.down_since = now
            logger.warning(
                "Cache %r cannot be reached (%s: %s): this process serves rate limits from its own "
                "memory and sessions from the database until it answers again (tried again every %g s).",
                self._primary_alias,
                exc.__class__.__name__,
                exc,
                self._retry_after,
            )

    def _mark_stale(self, keys: Iterable[Any], version: int | None) -> None:
        """Called with the state's lock held: these keys' values in the primary are out of date."""
        state = self._state
        if state.forget_everything:
            return
        state.stale.update((key, version) for key in keys)
        if len(state.stale) > MAX_STALE_KEYS:  # too many to remember: forget them all
            state.forget_everything = True
            state.stale.clear()

    def _recover(self) -> bool:
        """Called with the state's lock held, once ``retry_at`` has passed: undo in the primary
        what changed while it was away; True when the primary answered and is back in use."""
        state = self._state
        primary = self._primary
        try:
            if state.forget_everything:
                delete_pattern = getattr(primary, "delete_pattern", None)  # django-redis: this cache's keys only
                if delete_pattern is not None:
                    delete_pattern("*")
                else:
                    primary.clear()
            else:
                by_version: dict[int | None, list[Any]] = defaultdict(list)
                for key, version in state.stale:
                    by_version[version].append(key)
                for version, keys in by_version.items():
                    for start in range(0, len(keys), 500):
                        primary.delete_many(keys[start : start + 500], version=version)
                if not by_version:
                    primary.has_key("academy.cache:probe")
        except OUTAGE_ERRORS as exc:
            self._went_down(exc)
            return False
        forgotten = "all its keys were" if state.forget_everything else f"{len(state.stale)} key(s) changed meanwhile"
        logger.warning(
            "Cache %r answers again after %.1f s; %s deleted from it.",
            self._primary_alias,
            time.monotonic() - state.down_since,
            forgotten,
        )
        state.down = False
        state.stale.clear()
        state.forget_everything = False
        self._local.clear()
        return True

    def _primary_available(self, keys: Iterable[Any], version: int | None, *, writes: bool) -> bool:
        """Whether to send this call to the primary; when not, the keys a write touches are
        remembered as stale there."""
        state = self._state
        if not state.down:  # the common case: no lock
            return True
        with state.lock:
            if state.down and time.monotonic() >= state.retry_at:
                self._recover()
            if not state.down:
                return True
            if writes:
                self._mark_stale(keys, version)
            return False

    def _failed(self, exc: BaseException, keys: Iterable[Any], version: int | None, *, writes: bool) -> None:
        with self._state.lock:
            self._went_down(exc)
            if writes:
                self._mark_stale(keys, version)

    def _call(
        self,
        keys: Iterable[Any],
        version: int | None,
        on_primary: Callable[[BaseCache], Any],
        on_local: Callable[[BaseCache], Any],
        without_cache: Any = None,
        *,
        writes: bool,
    ):
        keys = list(keys)
        if self._primary_available(keys, version, writes=writes):
            try:
                return on_primary(self._primary)
            except OUTAGE_ERRORS as exc:
                self._failed(exc, keys, version, writes=writes)
        if self._use_local:
            return on_local(self._local)
        return without_cache() if callable(without_cache) else without_cache

    # --- The cache API -------------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            [key],
            version,
            lambda c: c.add(key, value, timeout, version=version),
            lambda c: c.add(key, value, timeout, version=version),
            False,
            writes=True,
        )

    def get(self, key, default=None, version=None):
        return self._call(
            [key],
            version,
            lambda c: c.get(key, default, version=version),
            lambda c: c.get(key, default, version=version),
            default,
            writes=False,
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            [key],
            version,
            lambda c: c.set(key, value, timeout, version=version),
            lambda c: c.set(key, value, timeout, version=version),
            writes=True,
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(
            [key],
            version,
            lambda c: c.touch(key, timeout, version=version),
            lambda c: c.touch(key, timeout, version=version),
            False,
            writes=True,
        )

    def delete(self, key, version=None):
        return self._call(
            [key],
            version,
            lambda c: c.delete(key, version=version),
            lambda c: c.delete(key, version=version),
            False,
            writes=True,
        )

    def get_many(self, keys, version=None):
        keys = list(keys)
        return self._call(
            keys,
            version,
            lambda c: c.get_many(keys, version=version),
            lambda c: c.get_many(keys, version=version),
            dict,
            writes=False,
        )

    def has_key(self, key, version=None):
        return self._call(
            [key],
            version,
            lambda c: c.has_key(key, version=version),
            lambda c: c.has_key(key, version=version),
            False,
            writes=False,
        )

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found")

        return self._call(
            [key],
            version,
            lambda c: c.incr(key, delta, version=version),
            lambda c: c.incr(key, delta, version=version),
            missing,
            writes=True,
        )

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        data = dict(data)
        return self._call(
            data,
            version,
            lambda c: c.set_many(data, timeout, version=version),
            lambda c: c.set_many(data, timeout, version=version),
            list,
            writes=True,
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._call(
            keys,
            version,
            lambda c: c.delete_many(keys, version=version),
            lambda c: c.delete_many(keys, version=version),
            writes=True,
        )

    def clear(self):
        """Empty the primary (Redis: FLUSHDB of its database) and the local fallback. While Redis
        is away, all of this cache's keys are deleted from it when it returns."""
        state = self._state
        if self._primary_available([], None, writes=False):
            try:
                self._primary.clear()
            except OUTAGE_ERRORS as exc:
                with state.lock:
                    self._went_down(exc)
                    state.forget_everything = True
        else:
            with state.lock:
                state.forget_everything = True
        self._local.clear()

    def close(self, **kwargs):
        # The primary is an alias of its own: Django closes it at the end of each request.
        pass
