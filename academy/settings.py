"""Settings for Academy, read from the environment (django-environ).

Every variable is documented in README.md and .env.example. With nothing set, Academy runs
embedded: SQLite, console email, Celery tasks in-process after commit. ``DJANGO_ENV=production``
turns on the production checks and refuses to start without ``SECRET_KEY``.
"""

import ipaddress
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from academy.storage import storage_default

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_ENV=production needs SECRET_KEY: a random string of at least 50 characters.")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1
# The site's name in emails and page titles (allauth reads it from the Sites framework, which
# academy keeps in step with these settings after every migrate).
SITE_NAME = env.str("SITE_NAME", default="Citizen Science Academy")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "django_ratelimit",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "csp",
    "academy",
    "partners",
    "programmes",
    "certificates",
    "portal",
    "learners",
    "reports",
    "demo",
]

MIDDLEWARE = [
    # The request id first, so that every log line of the request carries it (academy.request_id);
    # django-prometheus's pair around everything else times and counts each request by view.
    "academy.request_id.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "academy.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "academy.urls"
WSGI_APPLICATION = "academy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "academy.context_processors.academy",
                "partners.context_processors.partners",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
# A kept connection is checked before each request reuses it, so a restarted database costs no
# failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database fails a request (and /healthz/) within seconds, not minutes
    # (DATABASE_URL's own ?connect_timeout= wins).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, sessions) --------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The cache (rate limits) may share Redis with the broker but should use another database number.
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
if CACHE_URL:
    # Redis down degrades, never breaks: both aliases go through academy.cache.FallbackCache, which
    # uses the django-redis cache "redis" while it answers and, while it does not (one warning per
    # outage, tried again every few seconds), serves rate limits from this process's memory
    # ("default") and lets sessions go to the database ("sessions"). Short socket timeouts keep
    # an unreachable Redis from holding up requests.
    CACHES = {
        "default": {"BACKEND": "academy.cache.FallbackCache", "OPTIONS": {"PRIMARY": "redis"}},
        "sessions": {
            "BACKEND": "academy.cache.FallbackCache",
            "OPTIONS": {"PRIMARY": "redis", "LOCAL_FALLBACK": False},
        },
        # django-redis keeps one client per process (Django's own backend builds one per call).
        # Use it through the aliases above; only /healthz/ asks it directly.
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 1.0},
        },
    }
    # Sessions are read from Redis and written through to the database (read from it when Redis
    # is away).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# django-ratelimit (the verification limits) counts in the default cache, by the address
# academy.client decides (also for key="ip"). A count the cache cannot give lets the request
# through rather than refusing everybody.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "academy.client.ratelimit_ip"
RATELIMIT_FAIL_OPEN = True
SILENCED_SYSTEM_CHECKS = [
    # "Not officially supported": django-ratelimit knows only its listed backends. FallbackCache
    # counts in django-redis (which it lists: shared, atomic incr) and, only while Redis is away,
    # per process; without Redis the warning is about LocMemCache, covered by E003 below.
    "django_ratelimit.W001",
]
if not CACHE_URL:
    # Without Redis (development, the embedded set-up) the one cache is this process's memory, so
    # counts are per process; that is the point of running without Redis, not a mistake.
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "academy.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# django-allauth 65
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# A learner who has just chosen a new password is signed in straight away.
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "request_login_code": "20/m/ip,3/m/key",
    # Academy's own: asking for a new invitation link (academy.views.invitation_request).
    "invitation_request": "20/m/ip,3/10m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Citizen Science Academy] "
# The client's address: X-Forwarded-For is trusted for this many proxies in front of the web
# processes (0: the address the connection came from). academy.client.client_ip reads it; every
# rate limit (allauth's too) counts by that address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_ADAPTER = "academy.adapters.AccountAdapter"
# Invitation links (academy.tokens) work once and for this many days.
INVITATION_TIMEOUT_DAYS = env.int("INVITATION_TIMEOUT_DAYS", default=14)
# Invitation emails go in chunks (one task and one SMTP connection each); the sweeper sends any
# still unsent this many minutes after they were recorded (a broker that was down or flushed).
INVITATION_CHUNK_SIZE = env.int("INVITATION_CHUNK_SIZE", default=50)
INVITATION_SWEEP_AFTER_MINUTES = env.int("INVITATION_SWEEP_AFTER_MINUTES", default=3)
# Tries (the task's retries, then the sweeper's, with growing gaps: about 14 hours) before an
# invitation that keeps failing is marked failed for staff to see.
INVITATION_MAX_ATTEMPTS = env.int("INVITATION_MAX_ATTEMPTS", default=20)

# --- Email ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Citizen Science Academy <academy@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# Only languages with a translation catalogue are offered (none yet beside English).
LANGUAGES = [("en-gb", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    # Every stored file (certificates' PDFs and versions, signature images, partner logos): the
    # local folder MEDIA_ROOT (embedded default), or S3-compatible object storage with
    # STORAGE_BACKEND=s3 or a bucket named (academy/storage.py; several machines need it). Objects
    # are private; downloads pass the app's permission check and are streamed by the app.
    "default": storage_default(
        backend=env.str("STORAGE_BACKEND", default=""),
        bucket=env.str("AWS_STORAGE_BUCKET_NAME", default=""),
        endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
        region=env.str("AWS_S3_REGION_NAME", default=""),
        access_key_id=env.str("AWS_ACCESS_KEY_ID", default=""),
        secret_access_key=env.str("AWS_SECRET_ACCESS_KEY", default=""),
        addressing_style=env.str("AWS_S3_ADDRESSING_STYLE", default=""),
        location=env.str("AWS_LOCATION", default=""),
        url_expiry_seconds=env.int("AWS_QUERYSTRING_EXPIRE", default=300),
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_242_880
# The facilitator's grid sends one field per ticked box: 60 learners x 40 competencies is 2,400
# boxes and 60 row states (Django's default of 1,000 fields refused a well-filled grid with 400).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 6_000

# --- Forms ------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Partner portal: uploads of learner lists -------------------------------------------------
# Larger files or more rows are refused with a message; a checked upload waits this many hours
# for its coordinator to confirm it, then is deleted.
PARTNER_UPLOAD_MAX_BYTES = env.int("PARTNER_UPLOAD_MAX_BYTES", default=2 * 1024 * 1024)
PARTNER_UPLOAD_MAX_ROWS = env.int("PARTNER_UPLOAD_MAX_ROWS", default=5000)
PARTNER_UPLOAD_EXPIRY_HOURS = env.int("PARTNER_UPLOAD_EXPIRY_HOURS", default=24)
# Reading one uploaded file stops after this many seconds with a message (hostile workbooks).
PARTNER_UPLOAD_READ_SECONDS = env.float("PARTNER_UPLOAD_READ_SECONDS", default=5.0)

# --- Celery -----------------------------------------------------------------------------------
# With no broker configured, tasks run in-process (after the transaction commits, because
# services enqueue with transaction.on_commit).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Redis redelivers an unacknowledged message only after this many seconds; retries' countdowns
# stay well below it and the certificate sweeper covers anything lost in between.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=1800),
    # An unreachable or hung broker is given up on within seconds: a page that enqueues a task
    # (after commit, catching the error) is never held up for minutes by it.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Re-enqueue certificates still pending (or failed with attempts left) after a lost message.
    "certificates-sweep": {"task": "certificates.tasks.certificates_sweep_task", "schedule": 300.0},
    # Send invitations still unsent a few minutes after they were recorded (a lost message).
    "invitations-sweep": {"task": "academy.tasks.invitations_sweep_task", "schedule": 120.0},
    # Send "you have been added to ..." emails (partner portal) still unsent a few minutes on.
    "enrolment-notices-sweep": {"task": "portal.tasks.enrolment_notices_sweep_task", "schedule": 120.0},
    # Once a day: renew B-LTA certificates' archival timestamps before the TSA's certificate expires.
    "certificates-archival-timestamps-renew": {
        "task": "certificates.tasks.archival_timestamps_renew_task",
        "schedule": 86400.0,
    },
    # Once a week (Sunday 03:30): every stored certificate file still there, unchanged, and valid.
    "certificates-integrity-check": {
        "task": "certificates.tasks.certificates_integrity_check_task",
        "schedule": crontab(day_of_week="sun", hour=3, minute=30),
    },
}

# --- Certificates -----------------------------------------------------------------------------
# The PAdES signing key: PEM/DER key + certificate (+ chain), or a PKCS#12 file and its passphrase.
# `python manage.py create_signing_key` writes a development pair into keys/ (the defaults below).
# Without a usable key a certificate fails with a readable reason (visible in the admin).
CERTIFICATE_SIGNING_KEY = env.str("CERTIFICATE_SIGNING_KEY", default=str(BASE_DIR / "keys" / "signing-key.pem"))
CERTIFICATE_SIGNING_CERT = env.str("CERTIFICATE_SIGNING_CERT", default=str(BASE_DIR / "keys" / "signing-cert.pem"))
CERTIFICATE_SIGNING_CHAIN = env.list("CERTIFICATE_SIGNING_CHAIN", default=[str(BASE_DIR / "keys" / "ca-cert.pem")])
CERTIFICATE_SIGNING_KEY_PASSPHRASE = env.str("CERTIFICATE_SIGNING_KEY_PASSPHRASE", default="")
CERTIFICATE_SIGNING_PKCS12 = env.str("CERTIFICATE_SIGNING_PKCS12", default="")
CERTIFICATE_SIGNING_PASSPHRASE = env.str("CERTIFICATE_SIGNING_PASSPHRASE", default="")
# Keys in hardware (PKCS#11: an HSM, a smart card, SoftHSM2): with a module, a token label and a
# PIN, the PAdES key labelled CERTIFICATE_PKCS11_KEY_LABEL signs the PDFs (its certificate: the
# token's, labelled CERTIFICATE_PKCS11_CERT_LABEL or as the key, else CERTIFICATE_SIGNING_CERT), and
# the Ed25519 key labelled CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL (if set) signs the credentials.
# `create_signing_key --pkcs11` puts development keys into a token (docs/certificates.md).
CERTIFICATE_PKCS11_MODULE = env.str("CERTIFICATE_PKCS11_MODULE", default="")
CERTIFICATE_PKCS11_TOKEN_LABEL = env.str("CERTIFICATE_PKCS11_TOKEN_LABEL", default="")
CERTIFICATE_PKCS11_PIN = env.str("CERTIFICATE_PKCS11_PIN", default="")
CERTIFICATE_PKCS11_KEY_LABEL = env.str("CERTIFICATE_PKCS11_KEY_LABEL", default="")
CERTIFICATE_PKCS11_CERT_LABEL = env.str("CERTIFICATE_PKCS11_CERT_LABEL", default="")
CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL = env.str("CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL", default="")
# Long-term signatures: with an RFC 3161 timestamp authority's address, certificates are signed
# PAdES B-LTA (signature timestamp, chain and OCSP/CRL embedded, document timestamp) instead of B-B;
# CERTIFICATE_TSA_CHAIN names the TSA's CA certificates (PEM, comma-separated) when they are not in
# the signing chain. The beat task renews a certificate's archival timestamp when the TSA
# certificate of its latest one expires within CERTIFICATE_TIMESTAMP_RENEW_DAYS.
CERTIFICATE_TSA_URL = env.str("CERTIFICATE_TSA_URL", default="")
CERTIFICATE_TSA_CHAIN = env.list("CERTIFICATE_TSA_CHAIN", default=[])
CERTIFICATE_TSA_TIMEOUT_SECONDS = env.float("CERTIFICATE_TSA_TIMEOUT_SECONDS", default=10.0)
CERTIFICATE_TIMESTAMP_RENEW_DAYS = env.int("CERTIFICATE_TIMESTAMP_RENEW_DAYS", default=365)
# The Ed25519 key that signs certificates' Open Badges 3.0 credentials (eddsa-rdfc-2022), published
# in the DID document at /.well-known/did.json; `create_signing_key` makes it beside the PAdES key.
# After a rotation, list the earlier keys' public (or private) PEM files so that credentials they
# signed still verify (a key kept in the PKCS#11 token: pkcs11:object=<its label>).
CERTIFICATE_CREDENTIAL_KEY = env.str(
    "CERTIFICATE_CREDENTIAL_KEY", default=str(BASE_DIR / "keys" / "credential-key.pem")
)
CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS = env.list("CERTIFICATE_CREDENTIAL_PREVIOUS_KEYS", default=[])
# Seconds a DID resolver or HTTP cache may keep /.well-known/did.json.
DID_DOCUMENT_MAX_AGE = env.int("DID_DOCUMENT_MAX_AGE", default=300)
# The sweeper re-enqueues pending/failed certificates older than this; failed ones until attempts run out.
# Who signs the certificates of a programme that names no signatory of its own: a name, a title and
# a signature image (a PNG or JPEG file; a transparent background is fine).
CERTIFICATE_SIGNATORY_NAME = env.str("CERTIFICATE_SIGNATORY_NAME", default="")
CERTIFICATE_SIGNATORY_TITLE = env.str("CERTIFICATE_SIGNATORY_TITLE", default="")
CERTIFICATE_SIGNATORY_SIGNATURE = env.str("CERTIFICATE_SIGNATORY_SIGNATURE", default="")
CERTIFICATE_SWEEP_AFTER_MINUTES = env.int("CERTIFICATE_SWEEP_AFTER_MINUTES", default=3)
CERTIFICATE_MAX_ATTEMPTS = env.int("CERTIFICATE_MAX_ATTEMPTS", default=5)
# An attempt's claim on a certificate older than this (a killed worker) may be taken over: longer
# than CELERY_TASK_TIME_LIMIT, shorter than the sweep delay.
CERTIFICATE_CLAIM_TIMEOUT_SECONDS = env.float("CERTIFICATE_CLAIM_TIMEOUT_SECONDS", default=120.0)
# Public verification, per visitor (academy.client.client_ip), counted by django-ratelimit.
CERTIFICATE_RATE_LIMITS = {"verify": "60/m", "file_check": "10/m"}
# Seconds a browser or HTTP cache may keep a verification page (a revocation shows within it).
VERIFICATION_MAX_AGE = env.int("VERIFICATION_MAX_AGE", default=60)

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# A refused form (CSRF check) gets a plain page in the site's own layout (templates/403_csrf.html).
CSRF_FAILURE_VIEW = "academy.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# --- Logs and metrics (docs/operations.md) -------------------------------------------------------
# Log lines of the web processes and the worker alike: one JSON object per line (the production
# default) or plain text (the default elsewhere), each with the request id (academy.request_id).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "academy.logging_config.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "academy.logging_config.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own lines through the same handler (not its default console and mail handlers).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
# /metrics (academy.metrics) answers only a scraper with this bearer token and/or from these
# networks (CIDR, by the client address academy.client decides); with neither it is off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 random characters (or empty: no token).")
METRICS_ALLOWED_NETWORKS = [n.strip() for n in env.list("METRICS_ALLOWED_NETWORKS", default=[]) if n.strip()]
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS: {_network!r} is not a network such as 10.0.0.0/8 or 2001:db8::/32."
        ) from None
