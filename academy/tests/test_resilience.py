"""Redis down degrades, never breaks: ``academy.cache.FallbackCache`` in front of django-redis.

In this process, with the cache's Redis either a closed port (refused at once) or a real Redis
behind ``tests.faults.network.TcpSwitch`` (cut and restored, keeping its data, as a network
partition does). The real web process with Redis stopped is tests/faults/test_redis_down.py.
"""

import contextlib
import logging
import os
import subprocess
import sys
import time
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

import academy.cache
from academy.tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.faults.network import TcpSwitch
from tests.faults.web_process import free_port
from tests.support.workers import private_redis_server

RETRY_AFTER = 0.3


def cache_settings(redis_url: str) -> dict:
    """The production CACHES with the cache at ``redis_url`` and a short retry interval."""
    return {
        "default": {
            "BACKEND": "academy.cache.FallbackCache",
            "OPTIONS": {"PRIMARY": "redis", "RETRY_AFTER": RETRY_AFTER},
        },
        "sessions": {
            "BACKEND": "academy.cache.FallbackCache",
            "OPTIONS": {"PRIMARY": "redis", "LOCAL_FALLBACK": False, "RETRY_AFTER": RETRY_AFTER},
        },
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 1.0},
        },
    }


@contextlib.contextmanager
def production_caches(redis_url: str):
    """The production cache and session settings with the cache's Redis at ``redis_url``; Redis
    believed up and the local fallback empty at the start, nothing left behind afterwards."""
    with (
        mock.patch.object(academy.cache, "_states", {}),
        override_settings(
            CACHES=cache_settings(redis_url),
            SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
            SESSION_CACHE_ALIAS="sessions",
        ),
    ):
        try:
            yield
        finally:
            caches["default"]._local.clear()


@pytest.fixture
def unreachable():
    """The cache's Redis is a port nobody listens on."""
    with production_caches(f"redis://127.0.0.1:{free_port()}/0"):
        yield


@pytest.fixture
def switched_redis():
    """A real Redis the test can cut off and restore (``TcpSwitch``); yields the switch."""
    with (
        private_redis_server() as url,
        TcpSwitch(int(url.rsplit(":", 1)[1].split("/")[0])) as switch,
        production_caches(f"redis://127.0.0.1:{switch.port}/0"),
    ):
        yield switch


def outage_warnings(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "academy.cache" and "cannot be reached" in r.getMessage()
    ]


def test_the_default_cache_works_from_local_memory_while_redis_is_unreachable(unreachable, caplog):
    cache = caches["default"]
    with caplog.at_level(logging.WARNING, logger="academy.cache"):
        assert cache.get("missing") is None
        assert cache.get("missing", "fallback") == "fallback"
        cache.set("a", 1, 60)
        assert cache.get("a") == 1
        assert cache.add("a", 2) is False
        assert cache.add("b", 2) is True
        assert cache.incr("a") == 2
        assert cache.decr("a", 2) == 0
        with pytest.raises(ValueError):
            cache.incr("never-set")
        cache.set_many({"c": 3, "d": 4})
        assert cache.get_many(["a", "b", "c", "d", "e"]) == {"a": 0, "b": 2, "c": 3, "d": 4}
        assert cache.has_key("c") and "d" in cache
        assert cache.touch("c", 10) is True
        assert cache.delete("c") is True
        cache.delete_many(["d"])
        assert cache.get_many(["c", "d"]) == {}
        assert cache.get_or_set("f", lambda: "made") == "made"
        assert cache.get("f") == "made"
        cache.clear()
        assert cache.get("a") is None
    assert len(outage_warnings(caplog)) == 1  # one warning for the outage, not one per call


def test_sessions_are_never_kept_in_one_process_while_redis_is_unreachable(unreachable):
    """The sessions alias has no local fallback: reads miss, so cached_db reads the database."""
    sessions = caches["sessions"]
    sessions.set("django.contrib.sessions.cached_dbabc", {"user": 1})
    assert sessions.get("django.contrib.sessions.cached_dbabc") is None
    assert sessions.add("x", 1) is False
    assert "x" not in sessions
    assert sessions.get_many(["x"]) == {}
    with pytest.raises(ValueError):
        sessions.incr("x")
    assert sessions.delete("x") is False


def test_while_redis_is_down_it_is_asked_again_only_every_few_seconds(unreachable):
    """Requests do not each wait for Redis: after a failure, nobody asks it for RETRY_AFTER
    seconds; then one call tries to come back (a probe, nothing changed meanwhile to undo)."""
    cache, primary = caches["default"], caches["redis"]
    with (
        mock.patch.object(primary, "get", wraps=primary.get) as gets,
        mock.patch.object(primary, "has_key", wraps=primary.has_key) as probes,
    ):
        for _ in range(20):
            cache.get("k")
        assert (gets.call_count, probes.call_count) == (1, 0)
        time.sleep(RETRY_AFTER + 0.05)
        for _ in range(20):
            cache.get("k")
        assert (gets.call_count, probes.call_count) == (1, 1)  # the attempt failed: still local
    assert academy.cache.primary_is_down("redis")


def test_failed_sign_ins_are_still_limited_and_people_stay_signed_in(db, client, unreachable, caplog):
    """allauth's login_failed limit (10 a minute per address) counts in this process's memory."""
    learner = UserFactory(email="ada@example.org", full_name="Ada Lovelace")
    EmailAddress.objects.create(user=learner, email=learner.email, verified=True, primary=True)
    with caplog.at_level(logging.WARNING, logger="academy.cache"):
        signed_in = client.post(reverse("account_login"), {"login": learner.email, "password": DEFAULT_PASSWORD})
        assert signed_in.status_code == 302
        assert "Hello, Ada" in client.get("/").content.decode()
        stranger = Client()
        answers = [
            stranger.post(reverse("account_login"), {"login": f"nobody{n}@example.org", "password": "wrong"})
            for n in range(11)
        ]
    limited = ["Too many failed login attempts" in a.content.decode() for a in answers]
    assert limited == [False] * 10 + [True]
    assert all(a.status_code == 200 for a in answers)
    assert "Hello, Ada" in client.get("/").content.decode()
    assert len(outage_warnings(caplog)) == 1


def test_what_changed_during_an_outage_is_not_read_back_stale_from_redis(switched_redis, caplog):
    """Redis cut off with its data intact: keys set or deleted meanwhile are deleted from it when
    it answers again; keys nobody touched keep their values."""
    cache, sessions, primary = caches["default"], caches["sessions"], caches["redis"]
    cache.set("untouched", "before")
    cache.set("counter", 5)
    sessions.set("session", {"user": 1})
    assert primary.get("session") == {"user": 1}

    switched_redis.cut()
    with caplog.at_level(logging.WARNING, logger="academy.cache"):
        assert cache.get("counter") is None  # the outage is noticed; local memory is empty
        cache.set("counter", 1)
        sessions.delete("session")  # e.g. signing out
        assert sessions.get("session") is None
        switched_redis.restore()
        assert cache.get("counter") == 1  # within the retry interval: still local
        time.sleep(RETRY_AFTER + 0.05)
        assert sessions.get("session") is None  # not revived
        assert cache.get("counter") is None  # the stale 5 is gone (and the local 1 with the outage)
        assert cache.get("untouched") == "before"
    messages = [r.getMessage() for r in caplog.records if r.name == "academy.cache"]
    assert len(messages) == 2, messages
    assert "cannot be reached" in messages[0] and "answers again" in messages[1]
    assert not academy.cache.primary_is_down("redis")


def test_signing_out_during_an_outage_stays_a_sign_out_when_redis_returns(db, client, switched_redis):
    learner = UserFactory(email="grace@example.org", full_name="Grace Hopper")
    EmailAddress.objects.create(user=learner, email=learner.email, verified=True, primary=True)
    assert (
        client.post(reverse("account_login"), {"login": learner.email, "password": DEFAULT_PASSWORD}).status_code == 302
    )
    session_cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert "Hello, Grace" in client.get("/").content.decode()

    switched_redis.cut()
    assert "Hello, Grace" in client.get("/").content.decode()  # still signed in, from the database
    client.post(reverse("account_logout"))
    switched_redis.restore()
    time.sleep(RETRY_AFTER + 0.05)

    thief = Client()
    thief.cookies[django_settings.SESSION_COOKIE_NAME] = session_cookie  # the old cookie
    assert "Hello, Grace" not in thief.get("/").content.decode()


@pytest.mark.parametrize("cache_url", ["", "redis://cache.internal:6379/1"], ids=["without-redis", "with-redis"])
def test_manage_py_check_passes_with_and_without_a_cache_url(cache_url):
    """django-ratelimit's cache checks: E003 (local memory is not shared) silenced only without
    Redis, W001 (a backend it does not list) for FallbackCache; nothing else."""
    env = {"CACHE_URL": cache_url, "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "academy.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR,
        env={**_environ(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
