"""Settings for the customer management service. Every knob is an environment variable (README)."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Served over HTTPS only (docs/deployment.md): plain-HTTP requests are redirected (not the probes: /healthz,
# /metrics), cookies are sent over HTTPS only, and browsers are told so for HSTS_SECONDS (HSTS).
HTTPS_ONLY = env_bool("HTTPS_ONLY")
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000")) if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS")  # every subdomain HTTPS too: the operator's call
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD")
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")  # e.g. security.W005,security.W021 when not wanted
# Behind a proxy (docs/proxy.md): the proxies' addresses / CIDR networks. Only from them are X-Forwarded-Proto
# (the scheme of links and redirects), X-Forwarded-Host (their host, still one of ALLOWED_HOSTS) and
# X-Forwarded-For (the client's address: rate limits, lockout, sessions) believed — core.api.proxy removes the
# headers of anyone else; gunicorn trusts the same list (config/gunicorn.conf.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = True
# Operators' metrics at /metrics (docs/metrics.md): on when a bearer token or allowed addresses are set (both
# set: both needed), else /metrics answers 404 and nothing is measured. Gunicorn's and Celery's processes of a
# machine share their figures through files in METRICS_DIR (prometheus-client's multiprocess mode).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
METRICS_ENABLED = bool(METRICS_TOKEN or METRICS_ALLOWED_IPS)
METRICS_DIR = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or VAR_DIR / "metrics")

INSTALLED_APPS = [
    "console.apps.ConsoleAdminConfig",  # django.contrib.admin with the overview (console/)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django.contrib.postgres",
    "core",
    "users",
    "groups",
    "attributes",
    "sessions_app",
    "accounts",
    "webhooks",
    "console.apps.ConsoleConfig",
]

MIDDLEWARE = [
    "core.metrics.http.MetricsMiddleware",  # per operation and status; gone when metrics are off
    "core.api.proxy.TrustedProxyMiddleware",  # X-Forwarded-* only from TRUSTED_PROXIES
    "core.api.middleware.RequestIdMiddleware",
    "core.api.unavailable.UnavailableMiddleware",  # PostgreSQL / Redis out of reach: 503 + Retry-After
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# --- Databases: external when DATABASE_URL / REDIS_URL are set, else the embedded servers of VAR_DIR. The
# settings only compute their addresses; the entry points start them (config/servers.py).
EMBEDDED_POSTGRES = not os.environ.get("DATABASE_URL")
EMBEDDED_REDIS = not os.environ.get("REDIS_URL")
DATABASE_URL = embedded.database_url(VAR_DIR) if EMBEDDED_POSTGRES else os.environ["DATABASE_URL"]
REDIS_URL = embedded.redis_url(VAR_DIR) if EMBEDDED_REDIS else os.environ["REDIS_URL"]

DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "600")), conn_health_checks=True
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Server-side parameters and prepared statements: a query run more than DB_PREPARE_THRESHOLD times on a
# connection is parsed and planned once (the storefront's customer read: ~0.2 of its 0.3 ms). On by default
# for the embedded server; for an external one only with DB_PREPARED_STATEMENTS=1, as a pooler in
# transaction mode (PgBouncer < 1.21, or without max_prepared_statements) cannot keep them (docs/operations.md).
# (The embedded server is also the one `serve` and the bench hand their children as DATABASE_URL.)
_DIRECT = EMBEDDED_POSTGRES or DATABASE_URL == embedded.database_url(VAR_DIR)
DB_PREPARED_STATEMENTS = os.environ.get("DB_PREPARED_STATEMENTS", "1" if _DIRECT else "0") == "1"
if DB_PREPARED_STATEMENTS:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=int(os.environ.get("DB_PREPARE_THRESHOLD", "2")))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _celery_broker_url(url: str) -> str:
    # kombu spells a Redis Unix socket "redis+socket://"; redis-py spells it "unix://".
    return "redis+socket://" + url[len("unix://"):] if url.startswith("unix://") else url


CELERY_BROKER_URL = _celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
# One Redis shared by several deployments (or `make bench` next to `make run`): give each its own queue.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "config.celery:SteadyScheduler"
CELERY_DB_REUSE_MAX = 10**9  # connections kept across tasks; config/celery.py recycles them as Django does
# Celery workers and beat run at this much lower CPU priority (nice) than the web processes: on a machine
# that serves requests too, background work (deliveries, imports) takes the CPU the requests leave. 0: as
# the web. Nothing changes on a machine that runs only workers.
WORKER_NICENESS = max(0, min(19, int(os.environ.get("WORKER_NICENESS", "5"))))
CELERY_BEAT_SCHEDULE = {
    "purge-archived-customers": {
        "task": "users.tasks.purge_archived_customers",
        "schedule": float(os.environ.get("PURGE_INTERVAL_SECONDS", "3600")),
    },
    "sequence-events": {  # the event log's numbering (users.eventlog); also what hands events to webhooks
        "task": "users.tasks.sequence_events",
        "schedule": float(os.environ.get("EVENT_SEQUENCE_INTERVAL_SECONDS", "0.5")),
    },
    "dispatch-due-webhooks": {  # retries whose time came, deliveries a dead worker had claimed (webhooks)
        "task": "webhooks.tasks.dispatch_due",
        "schedule": float(os.environ.get("WEBHOOK_DISPATCH_INTERVAL_SECONDS", "1")),
    },
    "trim-events": {  # the event log's and the delivery log's retention (EVENT_RETENTION_DAYS)
        "task": "users.tasks.trim_events",
        "schedule": 3600.0,
    },
    "trim-webhook-deliveries": {
        "task": "webhooks.tasks.trim_deliveries",
        "schedule": 3600.0,
    },
    "resume-stale-jobs": {  # jobs whose message could not be sent (Redis was down) and jobs nobody works on
        "task": "core.jobs.tasks.resume_stale_jobs",
        "schedule": float(os.environ.get("JOB_RESUME_INTERVAL_SECONDS", "2")),
    },
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}

# Storefront customers' and staff passwords: Argon2id first (argon2-cffi), its cost from the environment
# (docs/accounts.md); the others only check hashes made before.
PASSWORD_HASHERS = ["accounts.hashers.TunedArgon2PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "2"))
ARGON2_MEMORY_COST_KIB = int(os.environ.get("ARGON2_MEMORY_COST_KIB", "19456"))  # OWASP's minimum: 19 MiB, t=2
ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "1"))

# --- Storefront accounts (accounts/, docs/accounts.md)
# One-time codes: digits (4-6), lifetime, resend timer, sends per hour per target, wrong tries per code.
OTP_LENGTH = min(6, max(4, int(os.environ.get("OTP_LENGTH", "6"))))
OTP_TTL_SECONDS = int(os.environ.get("OTP_TTL_SECONDS", "300"))
OTP_RESEND_SECONDS = int(os.environ.get("OTP_RESEND_SECONDS", "30"))
OTP_SENDS_PER_HOUR = int(os.environ.get("OTP_SENDS_PER_HOUR", "5"))
OTP_MAX_ATTEMPTS = int(os.environ.get("OTP_MAX_ATTEMPTS", "5"))
VERIFY_LINK_TTL_SECONDS = int(os.environ.get("VERIFY_LINK_TTL_SECONDS", str(24 * 3600)))
# Platform-issued sign-in tokens (loginWithToken, accounts/handoff.py): default lifetime; a request may ask
# for any lifetime up to an hour.
SIGN_IN_TOKEN_SECONDS = min(3600, max(1, int(os.environ.get("SIGN_IN_TOKEN_SECONDS", "300"))))
# Rate limits: action -> (per client IP, per identifier, window seconds); far above a real shopper's use.
RATE_LIMITS = {
    "login": (300, 30, 900),
    "register": (100, 10, 3600),
    "otp_send": (100, 10, 3600),
    "otp_verify": (300, 30, 900),
    "exists": (300, 60, 900),
    "reset": (50, 10, 3600),
    "social": (300, 30, 900),  # social sign-in; per identifier = per provider subject
    "token_login": (300, 30, 900),
}
# The header naming the client's address, believed from TRUSTED_PROXIES only (core.api.proxy.client_ip: its
# right-most address that is not a trusted proxy). Default X-Forwarded-For.
TRUSTED_CLIENT_IP_HEADER = os.environ.get("TRUSTED_CLIENT_IP_HEADER", "") or "X-Forwarded-For"
# A customer is locked everywhere after this many times account_lockout.attempts failures (any IPs).
LOCKOUT_CUSTOMER_FACTOR = int(os.environ.get("LOCKOUT_CUSTOMER_FACTOR", "3"))
PASSWORD_MAX_LENGTH = int(os.environ.get("PASSWORD_MAX_LENGTH", "128"))
PASSWORD_HISTORY_MAX = 10  # previous hashes kept; password_settings.history.count is at most this

# Social sign-in (accounts/social/, docs/accounts.md "Social sign-in"): the providers' endpoints (settings so that
# tests and air-gapped deployments can point them at local servers), fetched through core.outbound.
GOOGLE_JWKS_URL = os.environ.get("GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs")
GOOGLE_TOKENINFO_URL = os.environ.get("GOOGLE_TOKENINFO_URL", "https://oauth2.googleapis.com/tokeninfo")
FACEBOOK_GRAPH_URL = os.environ.get("FACEBOOK_GRAPH_URL", "https://graph.facebook.com").rstrip("/")
APPLE_JWKS_URL = os.environ.get("APPLE_JWKS_URL", "https://appleid.apple.com/auth/keys")
SOCIAL_ALLOWED_HOSTS = env_list("SOCIAL_ALLOWED_HOSTS")  # provider hosts that may resolve to private addresses

# --- The event log (docs/events.md) and webhooks (docs/webhooks.md)
EVENT_RETENTION_DAYS = int(os.environ.get("EVENT_RETENTION_DAYS", "30"))
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")  # receiver hosts that may resolve to private addresses
WEBHOOK_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_CONNECT_TIMEOUT_SECONDS", "3"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_MAX_RESPONSE_BYTES = int(os.environ.get("WEBHOOK_MAX_RESPONSE_BYTES", "4096"))
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "5"))
WEBHOOK_RETRY_MAX_DELAY_SECONDS = float(os.environ.get("WEBHOOK_RETRY_MAX_DELAY_SECONDS", "7200"))
WEBHOOK_RETRY_WINDOW_SECONDS = float(os.environ.get("WEBHOOK_RETRY_WINDOW_SECONDS", str(25 * 3600)))
WEBHOOK_DISABLE_AFTER_SECONDS = float(os.environ.get("WEBHOOK_DISABLE_AFTER_SECONDS", str(5 * 24 * 3600)))
WEBHOOK_LEASE_SECONDS = int(os.environ.get("WEBHOOK_LEASE_SECONDS", "60"))
WEBHOOK_SECRET_GRACE_SECONDS = int(os.environ.get("WEBHOOK_SECRET_GRACE_SECONDS", str(24 * 3600)))
WEBHOOK_MAX_SUBSCRIPTIONS = int(os.environ.get("WEBHOOK_MAX_SUBSCRIPTIONS", "20"))
SOCIAL_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("SOCIAL_CONNECT_TIMEOUT_SECONDS", "3"))
SOCIAL_TIMEOUT_SECONDS = float(os.environ.get("SOCIAL_TIMEOUT_SECONDS", "5"))
SOCIAL_TOKEN_LEEWAY_SECONDS = int(os.environ.get("SOCIAL_TOKEN_LEEWAY_SECONDS", "60"))  # clock skew on exp / iat
# Signing keys (JWKS) are cached in Redis for the answer's Cache-Control max-age, bounded by these.
SOCIAL_JWKS_MIN_SECONDS = int(os.environ.get("SOCIAL_JWKS_MIN_SECONDS", "60"))
SOCIAL_JWKS_MAX_SECONDS = int(os.environ.get("SOCIAL_JWKS_MAX_SECONDS", str(24 * 3600)))
SOCIAL_JWKS_DEFAULT_SECONDS = int(os.environ.get("SOCIAL_JWKS_DEFAULT_SECONDS", "3600"))  # no max-age given
# An unknown key id refetches the keys at most once per this many seconds per URL.
SOCIAL_JWKS_LOCAL_SECONDS = float(os.environ.get("SOCIAL_JWKS_LOCAL_SECONDS", "10"))  # per process, before Redis
SOCIAL_JWKS_REFRESH_SECONDS = int(os.environ.get("SOCIAL_JWKS_REFRESH_SECONDS", "60"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # FILE_STORAGE: the Files block below
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BYTES", str(2 * 1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.tenancy.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.tenancy.permissions.HasCompanyScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer management service (Fynd Platform User API)",
    "DESCRIPTION": "Self-hostable implementation of the Fynd Platform User service.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums stay where they are used (no *Enum components named after whichever field came first).
    "POSTPROCESSING_HOOKS": ["core.api.schema.empty_query_values_are_absent",
                             "core.api.schema.every_operation_may_be_unavailable"],
}

# --- Product settings
ACCESS_TOKEN_TTL_SECONDS = int(os.environ.get("ACCESS_TOKEN_TTL_SECONDS", "3600"))
REFRESH_TOKEN_TTL_SECONDS = int(os.environ.get("REFRESH_TOKEN_TTL_SECONDS", str(30 * 24 * 3600)))
DEFAULT_PHONE_COUNTRY_CODE = int(os.environ.get("DEFAULT_PHONE_COUNTRY_CODE", "91"))
DEFAULT_DELETE_ACCOUNT_DAYS = int(os.environ.get("DEFAULT_DELETE_ACCOUNT_DAYS", "7"))
MAX_PAGE_SIZE = int(os.environ.get("MAX_PAGE_SIZE", "100"))
MAX_BULK_USER_IDS = int(os.environ.get("MAX_BULK_USER_IDS", "500"))
MAX_SEARCH_QUERIES = int(os.environ.get("MAX_SEARCH_QUERIES", "50"))

# --- Files: what the service writes (error files, exports, uploads) and what it fetches (*_file_url).
# Where they are kept (docs/storage.md): FILE_STORAGE=filesystem, the default (MEDIA_ROOT; with several
# machines, one volume they all mount there), or s3 (an S3-compatible bucket: AWS S3, MinIO, Ceph, R2, …;
# private objects, downloads through the service's signed links, never the bucket's URLs).
FILE_STORAGE = os.environ.get("FILE_STORAGE", "").strip().lower() or "filesystem"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served as is: downloads go through signed, expiring links
if FILE_STORAGE == "s3":
    if not os.environ.get("S3_BUCKET", "").strip():
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs S3_BUCKET (docs/storage.md).")
    STORAGES["default"] = {"BACKEND": "core.files.s3.ObjectStorage", "OPTIONS": {
        "bucket_name": os.environ["S3_BUCKET"].strip(),
        "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,  # unset: AWS S3 itself
        "region_name": os.environ.get("S3_REGION") or None,
        # unset: boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role)
        "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        "location": os.environ.get("S3_PREFIX", "").strip("/"),  # every key under "<prefix>/"
        "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,  # "path" for most self-hosted stores
        # unset: no ACL sent, the objects private as the store makes them (and buckets with ACLs disabled, AWS's
        # default, refuse any other ACL than the bucket owner's)
        "default_acl": os.environ.get("S3_ACL") or None,
        "verify": os.environ.get("S3_CA_BUNDLE") or None,  # a CA file for a store with its own certificate
    }}
elif FILE_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"FILE_STORAGE must be filesystem or s3, not {FILE_STORAGE!r}.")
FILE_URL_ALLOWED_HOSTS = [h.strip().lower() for h in os.environ.get("FILE_URL_ALLOWED_HOSTS", "").split(",")
                          if h.strip()]  # hosts that may resolve to private / loopback addresses
FILE_DOWNLOAD_MAX_BYTES = int(os.environ.get("FILE_DOWNLOAD_MAX_BYTES", str(512 * 1024 * 1024)))
FILE_DOWNLOAD_TIMEOUT_SECONDS = float(os.environ.get("FILE_DOWNLOAD_TIMEOUT_SECONDS", "300"))
FILE_DOWNLOAD_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("FILE_DOWNLOAD_CONNECT_TIMEOUT_SECONDS", "10"))
FILE_DOWNLOAD_MAX_REDIRECTS = int(os.environ.get("FILE_DOWNLOAD_MAX_REDIRECTS", "5"))
FILE_LINK_TTL_SECONDS = int(os.environ.get("FILE_LINK_TTL_SECONDS", str(24 * 3600)))
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")  # file links outside a request
# The storefront page a reset link opens (sendResetPassword*): {code} is the reset code, {application_id} the
# store; the page calls sendResetToken / forgotPassword with the code (docs/accounts.md, "Forgotten passwords").
PASSWORD_RESET_URL = os.environ.get("PASSWORD_RESET_URL", PUBLIC_BASE_URL + "/reset-password?code={code}")
# Contact verification links (sendVerificationLinkTo*): the storefront page that calls verifyEmail /
# verifyMobile with the code; {entity} becomes "email" or "mobile", {code} the single-use token.
VERIFY_LINK_URL = os.environ.get("VERIFY_LINK_URL", PUBLIC_BASE_URL + "/verify/{entity}?code={code}")

# --- Background jobs (core/jobs/, docs/jobs.md)
JOB_STALE_SECONDS = float(os.environ.get("JOB_STALE_SECONDS", "120"))  # no heartbeat for this long: the worker died
JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "5"))  # runs of one job before it is failed
# a job that lost PostgreSQL or Redis runs again from its checkpoint after this, doubling with each attempt
JOB_RETRY_DELAY_SECONDS = float(os.environ.get("JOB_RETRY_DELAY_SECONDS", "2"))
JOB_HANDLER_MODULES = env_list("JOB_HANDLER_MODULES")  # extra modules that register job handlers (tests)

# --- Messages (core/messages, docs/messages.md)
# Email: SMTP from EMAIL_URL (smtp://user:pass@host:587, smtp+tls://… STARTTLS, smtps://… implicit TLS) or
# EMAIL_HOST & co; with neither, every email is written to MESSAGE_OUTBOX_DIR (one file each).
MESSAGE_OUTBOX_DIR = Path(os.environ.get("MESSAGE_OUTBOX_DIR", str(VAR_DIR / "outbox")))


def _smtp_from_url(url: str) -> tuple:
    """EMAIL_URL -> (host, port, user, password, use_tls, use_ssl)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ValueError("EMAIL_URL must start with smtp://, smtp+tls:// or smtps://")
    return (parts.hostname or "localhost", parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme],
            unquote(parts.username or ""), unquote(parts.password or ""), scheme == "smtp+tls", scheme == "smtps")


if os.environ.get("EMAIL_URL") or os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL = (
        _smtp_from_url(os.environ["EMAIL_URL"]) if os.environ.get("EMAIL_URL") else (
            os.environ["EMAIL_HOST"], int(os.environ.get("EMAIL_PORT", "25")), os.environ.get("EMAIL_HOST_USER", ""),
            os.environ.get("EMAIL_HOST_PASSWORD", ""), env_bool("EMAIL_USE_TLS"), env_bool("EMAIL_USE_SSL")))
else:
    EMAIL_BACKEND = "core.messages.outbox.EmailBackend"
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT_SECONDS", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "no-reply@localhost")
# SMS: "outbox" (default: files in MESSAGE_OUTBOX_DIR), "webhook" (signed JSON POST) or "twilio".
SMS_BACKEND = os.environ.get("SMS_BACKEND", "outbox").strip().lower()
SMS_WEBHOOK_URL = os.environ.get("SMS_WEBHOOK_URL", "")
SMS_WEBHOOK_SECRET = os.environ.get("SMS_WEBHOOK_SECRET", "")
TWILIO_BASE_URL = os.environ.get("TWILIO_BASE_URL", "https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
SMS_ALLOWED_HOSTS = env_list("SMS_ALLOWED_HOSTS")  # SMS hosts that may resolve to private / loopback addresses
SMS_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("SMS_CONNECT_TIMEOUT_SECONDS", "5"))
SMS_TIMEOUT_SECONDS = float(os.environ.get("SMS_TIMEOUT_SECONDS", "15"))
# Delivery attempts of one message, the n-th retry waiting MESSAGE_RETRY_BASE_SECONDS * 2**(n-1).
MESSAGE_MAX_ATTEMPTS = int(os.environ.get("MESSAGE_MAX_ATTEMPTS", "5"))
MESSAGE_RETRY_BASE_SECONDS = float(os.environ.get("MESSAGE_RETRY_BASE_SECONDS", "10"))
MESSAGE_TEMPLATE_DIRS = env_list("MESSAGE_TEMPLATE_DIRS")  # searched before templates/ (overrides)

# --- Customer attributes
# Fernet keys (urlsafe base64, 32 bytes) for encrypted attribute values; the first encrypts, all decrypt
# (rotation). Unset: one key derived from SECRET_KEY, so that a fresh machine works; set it in production.
ATTRIBUTE_ENCRYPTION_KEYS = [k.strip() for k in os.environ.get("ATTRIBUTE_ENCRYPTION_KEYS", "").split(",")
                             if k.strip()]
ATTRIBUTE_BULK_SYNC_LIMIT = int(os.environ.get("ATTRIBUTE_BULK_SYNC_LIMIT", "100"))  # users per sync bulk update
ATTRIBUTE_BULK_CHUNK_SIZE = int(os.environ.get("ATTRIBUTE_BULK_CHUNK_SIZE", "20000"))  # customers per job transaction

# Attribute filters and conditional groups (attributes/matching.py): item_total is exact while about this
# many customers match; above, an estimate from a block sample of this many of the application's customers.
ATTRIBUTE_FILTER_EXACT_TOTAL = int(os.environ.get("ATTRIBUTE_FILTER_EXACT_TOTAL", "10000"))
ATTRIBUTE_FILTER_SAMPLE = int(os.environ.get("ATTRIBUTE_FILTER_SAMPLE", "3000"))
ATTRIBUTE_FILTER_ESTIMATE_SECONDS = int(os.environ.get("ATTRIBUTE_FILTER_ESTIMATE_SECONDS", "60"))  # cached share; 0: none

# --- Customer import / export (users/transfers, docs/transfers.md)
CUSTOMER_IMPORT_CHUNK_SIZE = int(os.environ.get("CUSTOMER_IMPORT_CHUNK_SIZE", "5000"))  # rows per job transaction
CUSTOMER_EXPORT_PAGE_SIZE = int(os.environ.get("CUSTOMER_EXPORT_PAGE_SIZE", "100000"))  # customers per part file

# --- Customer groups (groups/, docs/groups.md)
GROUP_SYNC_LIMIT = int(os.environ.get("GROUP_SYNC_LIMIT", "1000"))  # user_data rows applied in the request
GROUP_MAX_USER_DATA = int(os.environ.get("GROUP_MAX_USER_DATA", "100000"))  # user_data rows in one request
GROUP_MAX_LISTED_USERS = int(os.environ.get("GROUP_MAX_LISTED_USERS", "10000"))  # whitelisted / blacklisted ids
GROUP_WORK_MEM = os.environ.get("GROUP_WORK_MEM", "128MB")  # PostgreSQL work_mem of a group change's transaction

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # LOG_FORMAT=json: one JSON object a line, with the record's extra fields (request_id, operation, error …)
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": "json" if os.environ.get("LOG_FORMAT", "").lower() == "json" else "plain"}},
    "filters": {"routine_tasks": {"()": "core.logfilters.RoutineTasks"},
                "shorten_unavailable": {"()": "core.api.unavailable.ShortenUnavailable"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        # the worker's "Task … received" / "succeeded" lines and beat's "Sending due task" ones
        "celery.worker.strategy": {"filters": ["routine_tasks"]},
        "celery.app.trace": {"filters": ["routine_tasks"]},
        "celery.beat": {"filters": ["routine_tasks"]},
        # PostgreSQL / Redis out of reach: one line per request (core/api/unavailable.py), not a traceback
        "django.request": {"filters": ["shorten_unavailable"]},
    },
}
# The Retry-After of a 503 answered while PostgreSQL or Redis is out of reach.
UNAVAILABLE_RETRY_AFTER_SECONDS = int(os.environ.get("UNAVAILABLE_RETRY_AFTER_SECONDS", "5"))
# beat's frequent ticks whose "received" / "succeeded" lines would fill the log (core.logfilters.RoutineTasks)
QUIET_TASKS = {"users.tasks.sequence_events", "webhooks.tasks.dispatch_due", "core.jobs.tasks.resume_stale_jobs"}
