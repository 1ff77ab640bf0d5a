"""Settings: British English and London time on every page, embedded defaults that work on a bare
machine, and a production mode that refuses to start without a proper secret key and reads its
services from the environment. (``check --deploy`` and the production security headers are in
``tests/test_security.py``.)"""

import datetime
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.template import Context, Template

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


def test_pages_are_british_english_whatever_the_browser_asks_for(client, db):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,de;q=0.8,en-US;q=0.5")
    assert response.status_code == 200
    assert response["Content-Language"] == "en-gb"
    assert '<html lang="en-gb">' in response.content.decode()


def test_dates_are_shown_in_london_time_the_british_way():
    """Stored in UTC, shown as a Londoner reads them: British Summer Time in July, GMT in January."""
    template = Template("{{ when|date }}, {{ when|time:'H:i' }}")
    utc = datetime.UTC
    summer = template.render(Context({"when": datetime.datetime(2025, 6, 30, 23, 30, tzinfo=utc)}))
    winter = template.render(Context({"when": datetime.datetime(2025, 1, 15, 23, 30, tzinfo=utc)}))
    assert summer == "1 Jul 2025, 00:30"
    assert winter == "15 Jan 2025, 23:30"


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


DEFAULTS_PROBE = """
import contextlib, io, json, django
django.setup()
from django.conf import settings
from django.core import mail
from django.core.cache import cache, caches
from django.db import connection
from academy.celery import app

@app.task
def add(x, y):
    return x + y

printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    mail.send_mail("Probe subject", "Probe body", None, ["someone@example.org"])
cache.set("probe", 42)
result = add.delay(2, 3)
print(json.dumps({
    "mail_printed": "Subject: Probe subject" in printed.getvalue() and "someone@example.org" in printed.getvalue(),
    "cache_kept": cache.get("probe"),
    "cache": type(caches["default"]).__module__,
    "task_result": result.get(timeout=10),
    "task_ran_in_process": type(result).__name__ == "EagerResult",
    "db": connection.vendor,
    "debug": settings.DEBUG,
}))
"""


def test_embedded_defaults_need_nothing_set():
    """A fresh machine with nothing configured: e-mail is printed, the cache works in-process, tasks
    run in-process (no broker to reach), the database is SQLite, and DEBUG is on."""
    unset = ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "EMAIL_URL")
    result = run(["-c", DEFAULTS_PROBE], unset=unset)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "mail_printed": True,
        "cache_kept": 42,
        "cache": "django.core.cache.backends.locmem",
        "task_result": 5,
        "task_ran_in_process": True,
        "db": "sqlite",
        "debug": True,
    }


SERVICES_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from academy.celery import app
db = connection.settings_dict
print(json.dumps({
    "db": [connection.vendor, db["HOST"], int(db["PORT"]), db["NAME"], db["USER"]],
    "broker": app.connection_for_write().as_uri(),
    "tasks_in_process": app.conf.task_always_eager,
    "cache": [type(caches["default"]).__name__, type(caches["redis"]).__name__, caches["redis"]._server],
    "sessions": [settings.SESSION_ENGINE, type(caches[settings.SESSION_CACHE_ALIAS]).__name__],
    "debug": settings.DEBUG,
}))
"""


def test_production_reads_postgres_and_redis_from_the_environment():
    """What the processes would connect to, as Django's connection, Celery's app and the cache see it."""
    env = production(
        DATABASE_URL="postgres://academy:secret@db.internal:5433/academy_live",
        REDIS_URL="redis://redis.internal:6379/0",
        CACHE_URL="redis://cache.internal:6380/1",
    )
    result = run(["-c", SERVICES_PROBE], **env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "db": ["postgresql", "db.internal", 5433, "academy_live", "academy"],
        "broker": "redis://redis.internal:6379/0",
        "tasks_in_process": False,
        "cache": ["FallbackCache", "RedisCache", "redis://cache.internal:6380/1"],
        "sessions": ["django.contrib.sessions.backends.cached_db", "FallbackCache"],
        "debug": False,
    }


def test_configuration_doc_and_env_example_document_every_variable_settings_read():
    """Keeps docs/configuration.md and .env.example true when someone adds a setting."""
    source = (ROOT / "academy" / "settings.py").read_text()
    names = set(re.findall(r"env\.\w+\(\s*\"([A-Z0-9_]+)\"", source))
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"} <= names
    readme = (ROOT / "docs" / "configuration.md").read_text()
    example = (ROOT / ".env.example").read_text()
    assert not [n for n in names if f"`{n}`" not in readme], "missing from docs/configuration.md"
    assert not [n for n in names if not re.search(rf"^#? ?{n}=", example, re.MULTILINE)], "missing from .env.example"
