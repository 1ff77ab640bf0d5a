"""Settings: British English by default, embedded defaults for development, and a production
mode that refuses to start without a secret key and passes ``check --deploy`` cleanly."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def run(args: list[str], unset: tuple[str, ...] = (), **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    for key in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", *unset):
        env.pop(key, None)
    env["DJANGO_SETTINGS_MODULE"] = "academy.settings"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def production(**extra) -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60)[:60],
        "ALLOWED_HOSTS": "academy.example.org",
        **extra,
    }


def test_british_english_and_london_time():
    assert settings.LANGUAGE_CODE == "en-gb"
    assert settings.TIME_ZONE == "Europe/London"
    assert settings.USE_I18N and settings.USE_TZ


def test_check_deploy_in_production_passes_with_no_warnings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production()
    del env["SECRET_KEY"]
    result = run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_ENV=production needs SECRET_KEY" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run(["manage.py", "check"], **production(SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'email': s.EMAIL_BACKEND, "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'debug': s.DEBUG, 'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default']['BACKEND']}))"
)


def test_embedded_defaults_need_nothing_set():
    """A fresh machine: SQLite, console email, tasks in-process, local-memory cache."""
    unset = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "EMAIL_URL")
    result = run(["-c", PRINT_SETTINGS], unset=unset)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "db": "django.db.backends.sqlite3",
        "email": "django.core.mail.backends.console.EmailBackend",
        "eager": True,
        "debug": True,
        "broker": "",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
    }


def test_production_reads_postgres_and_redis_from_the_environment():
    env = production(
        DATABASE_URL="postgres://academy:secret@db.internal:5432/academy",
        REDIS_URL="redis://redis.internal:6379/0",
        CACHE_URL="redis://redis.internal:6379/1",
    )
    result = run(["-c", PRINT_SETTINGS], **env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["db"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://redis.internal:6379/0"
    assert values["eager"] is False
    assert values["debug"] is False
    assert values["cache"] == "django_redis.cache.RedisCache"


def test_configuration_doc_and_env_example_document_every_variable_settings_read():
    """Keeps docs/configuration.md and .env.example true when someone adds a setting."""
    source = (ROOT / "academy" / "settings.py").read_text()
    names = set(re.findall(r"env\.\w+\(\s*\"([A-Z0-9_]+)\"", source))
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"} <= names
    readme = (ROOT / "docs" / "configuration.md").read_text()
    example = (ROOT / ".env.example").read_text()
    assert not [n for n in names if f"`{n}`" not in readme], "missing from docs/configuration.md"
    assert not [n for n in names if not re.search(rf"^#? ?{n}=", example, re.MULTILINE)], "missing from .env.example"
