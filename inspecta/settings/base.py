"""Settings for every footprint, read from the environment (DESIGN.md "Architecture").

Embedded default: SQLite in WAL mode under ``var/``, files under ``var/media``, huey
jobs on SQLite. Production: ``DATABASE_URL`` names PostgreSQL, ``REDIS_URL`` the job
queue, ``INSPECTA_STORAGE`` = ``s3`` for object storage.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("INSPECTA_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY", default="inspecta-embedded-development-key-change-me-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Node identity (DESIGN.md "Node levels") -------------------------------------
INSPECTA_NODE_LEVEL = env.str("INSPECTA_NODE_LEVEL", default="province")
if INSPECTA_NODE_LEVEL not in ("province", "city"):
    raise environ.ImproperlyConfigured("INSPECTA_NODE_LEVEL must be 'province' or 'city'")
INSPECTA_NODE_REGION = env.str("INSPECTA_NODE_REGION", default="440000")
if not (len(INSPECTA_NODE_REGION) == 6 and INSPECTA_NODE_REGION.isdigit()):
    raise environ.ImproperlyConfigured("INSPECTA_NODE_REGION must be a 6-digit GB/T 2260 code")
# The address printed into QR codes and links (CONTRACT §6). Set it in production; by
# default it is the address this node is served at: ``inspecta serve --host/--port``
# exports it to its processes as INSPECTA_SERVED_ADDRESS, else 127.0.0.1 and $PORT.
INSPECTA_SERVED_ADDRESS = env.str("INSPECTA_SERVED_ADDRESS", default=f"127.0.0.1:{env.int('PORT', default=8000)}")
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default=f"http://{INSPECTA_SERVED_ADDRESS}").rstrip("/")

# --- Applications ----------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "simple_history",
    "django_filters",
    "django_tables2",
    "huey.contrib.djhuey",
    "inspecta.core",
    "inspecta.accounts",
    "inspecta.ledger",
    "inspecta.exchange",
    "inspecta.registry",
]

MIDDLEWARE = [
    "inspecta.core.middleware.RequestIdMiddleware",
    "inspecta.core.middleware.RefusalFindingsMiddleware",
    "inspecta.core.middleware.ApiEnvelopeMiddleware",
    "inspecta.core.middleware.InputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "inspecta.reports.middleware.CachedVerificationMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "inspecta.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "inspecta.accounts.middleware.LoginPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "inspecta.urls"
WSGI_APPLICATION = "inspecta.wsgi.application"
ASGI_APPLICATION = "inspecta.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "inspecta" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "inspecta.core.context_processors.navigation",
                # the bell with the unread count beside the user menu (notifications)
                "inspecta.notifications.context_processors.inbox",
            ],
        },
    },
]
# Every list table (inspecta.core.tables.BaseTable) in the look of the pages.
DJANGO_TABLES2_TEMPLATE = "generic/table.html"

# --- Database --------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'inspecta.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer commits; IMMEDIATE transactions take
    # the write lock up front so concurrent writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "inspecta_cache",
        }
    }

# Rate limits (exchange clients, public verification) are counted by django-ratelimit in
# this cache, shared by every web process. A counter lost between its creation and its
# increment (evicted) lets the request through rather than refusing it.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True

# --- Mail ------------------------------------------------------------------------
# Notices to people (the decision on a personal registration) go out through
# django.core.mail. EMAIL_URL: smtp://user:password@host:587 (smtp+tls://, smtp+ssl://);
# unset (the embedded default), each mail is written to the server's console log; people
# also read the result on their registration's status page.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="inspecta@localhost")

# --- Jobs (huey) -----------------------------------------------------------------
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "inspecta",
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "inspecta",
        "filename": str(VAR_DIR / "jobs.sqlite3"),
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# /readyz: not ready when no job consumer showed a heartbeat for this long (it writes one
# every minute), or when a log entry waits for its index longer than this.
INSPECTA_READY_CONSUMER_STALE_SECONDS = env.int("INSPECTA_READY_CONSUMER_STALE_SECONDS", default=150)
INSPECTA_READY_SEQUENCER_LAG_SECONDS = env.int("INSPECTA_READY_SEQUENCER_LAG_SECONDS", default=180)
# A database outage answers 503 with this Retry-After (inspecta.core.outage).
INSPECTA_DB_RETRY_AFTER_SECONDS = env.int("INSPECTA_DB_RETRY_AFTER_SECONDS", default=5)

# --- Authentication and login policy (GB/T 22239 level 2, OWASP ASVS L2) ----------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "inspecta.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "inspecta.accounts.validators.PatternPasswordValidator"},
]
INSPECTA_PASSWORD_MAX_AGE_DAYS = env.int("INSPECTA_PASSWORD_MAX_AGE_DAYS", default=90)
# Roles whose users must pass a TOTP second factor (T/CECS 8.3).
INSPECTA_2FA_REQUIRED_ROLES = env.list(
    "INSPECTA_2FA_REQUIRED_ROLES",
    default=["operator", "authority_admin", "authority_supervisor", "station_inspector"],
)
INSPECTA_RECOVERY_CODE_COUNT = 10
# How long a TOTP secret shown for enrolment stays pending before a new one is issued.
INSPECTA_TOTP_ENROL_SECONDS = env.int("INSPECTA_TOTP_ENROL_SECONDS", default=900)
OTP_TOTP_ISSUER = "Inspecta"

# Passkeys (WebAuthn) confirm a person's identity on custody records (T/CECS 4.3.4-2;
# accounts.passkeys). The relying party id is a domain, never an IP address (browsers
# refuse one): by default the host of PUBLIC_BASE_URL, and "localhost" while that host is
# a loopback address (development, tests). The origins are the pages' origins that may
# answer a challenge: by default that of PUBLIC_BASE_URL (with "localhost" for a
# loopback host, so a developer opens http://localhost:<port>/).
_public = urlsplit(PUBLIC_BASE_URL)
_public_host = _public.hostname or "localhost"
_loopback = _public_host in ("127.0.0.1", "::1", "0.0.0.0")  # noqa: S104 - compared, not bound
INSPECTA_WEBAUTHN_RP_ID = env.str("INSPECTA_WEBAUTHN_RP_ID", default="localhost" if _loopback else _public_host)
INSPECTA_WEBAUTHN_RP_NAME = env.str("INSPECTA_WEBAUTHN_RP_NAME", default="建设工程检测监管信息服务平台")
_public_port = f":{_public.port}" if _public.port else ""
INSPECTA_WEBAUTHN_ORIGINS = env.list(
    "INSPECTA_WEBAUTHN_ORIGINS",
    default=[f"{_public.scheme}://localhost{_public_port}" if _loopback else f"{_public.scheme}://{_public.netloc}"],
)
# How long a passkey registration may take, from its options to the phone's answer.
INSPECTA_WEBAUTHN_TIMEOUT_SECONDS = env.int("INSPECTA_WEBAUTHN_TIMEOUT_SECONDS", default=300)

# django-axes: 5 consecutive failures lock the account for 15 minutes.
AXES_FAILURE_LIMIT = env.int("INSPECTA_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("INSPECTA_LOCKOUT_MINUTES", default=15))
# Per account, as the requirement says; per-IP throttling belongs to the reverse proxy.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "inspecta.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Hard ceiling regardless of lock-outs: at most this many failures per account per hour.
INSPECTA_MAX_FAILURES_PER_HOUR = env.int("INSPECTA_MAX_FAILURES_PER_HOUR", default=100)

# Server-side idle timeout: the session row expires 30 minutes after the last request.
SESSION_COOKIE_AGE = env.int("INSPECTA_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation: zh-hans first, English switchable ----------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "inspecta" / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media files ------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "inspecta" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

# Bearer token a Prometheus scraper presents at /metrics (empty: operators only).
INSPECTA_METRICS_TOKEN = env.str("INSPECTA_METRICS_TOKEN", default="")

# --- API -------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50

# --- Logging ---------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Transparency log (T/CECS 2.0.15, 4.1.2, 7.2.3; CONTRACT §5) ---------
# Origin line of the checkpoints and name of the signing key; must be unique per node,
# without spaces or "+". Default: "<host:port of PUBLIC_BASE_URL>/log".
INSPECTA_LOG_ORIGIN = env.str("INSPECTA_LOG_ORIGIN", default="")
# Secret from which the key encrypting the checkpoint signing key at rest is derived
# (HKDF); empty means SECRET_KEY. Changing it makes the stored key unusable: rotate.
INSPECTA_LOG_KEY_SECRET = env.str("INSPECTA_LOG_KEY_SECRET", default="")
# A new checkpoint is signed at most this often, and only when the tree grew.
INSPECTA_LOG_CHECKPOINT_INTERVAL = env.float("INSPECTA_LOG_CHECKPOINT_INTERVAL", default=10.0)
# The sequencer integrates pending entries this often, at most this many per transaction.
INSPECTA_LOG_SEQUENCE_INTERVAL = env.float("INSPECTA_LOG_SEQUENCE_INTERVAL", default=2.0)
INSPECTA_LOG_SEQUENCE_BATCH = env.int("INSPECTA_LOG_SEQUENCE_BATCH", default=10000)
# How long one run of the minutely sequencer job keeps looping (< 60 s).
INSPECTA_LOG_LOOP_SECONDS = env.float("INSPECTA_LOG_LOOP_SECONDS", default=55.0)
# Hour of the day (node time) at which the self-audit job runs; -1 disables it.
INSPECTA_LOG_VERIFY_HOUR = env.int("INSPECTA_LOG_VERIFY_HOUR", default=3)
# Optional second signature line on every checkpoint with SM2-with-SM3 (GB/T 39786),
# besides Ed25519; its key is generated at first use and rotated with the Ed25519 key.
INSPECTA_LOG_SM2_SIGNATURE = env.bool("INSPECTA_LOG_SM2_SIGNATURE", default=False)
# Optional RFC 3161 time-stamping authority (URL) stamping every checkpoint; empty: off.
INSPECTA_LOG_TSA_URL = env.str("INSPECTA_LOG_TSA_URL", default="")
# Seconds to wait for the TSA's answer.
INSPECTA_LOG_TSA_TIMEOUT = env.float("INSPECTA_LOG_TSA_TIMEOUT", default=10.0)

# --- Exchange API (T/CECS 6.0.1-6.0.8; CONTRACT §2-4) --------------------
# Secret from which the key sealing the HMAC client secrets and the platform callback
# key is derived (HKDF); empty means SECRET_KEY. Changing it invalidates issued secrets.
INSPECTA_EXCHANGE_KEY_SECRET = env.str("INSPECTA_EXCHANGE_KEY_SECRET", default="")
# How long the old key stays valid after a rotation (two valid keys at once).
INSPECTA_EXCHANGE_KEY_OVERLAP_HOURS = env.float("INSPECTA_EXCHANGE_KEY_OVERLAP_HOURS", default=72.0)
# Signature limits (CONTRACT §2): created at most this far in the future, and a window
# (expires - created) of at most this many seconds.
INSPECTA_EXCHANGE_MAX_CLOCK_SKEW = env.int("INSPECTA_EXCHANGE_MAX_CLOCK_SKEW", default=60)
INSPECTA_EXCHANGE_MAX_WINDOW = env.int("INSPECTA_EXCHANGE_MAX_WINDOW", default=300)
# Where seen nonces are kept: "db" (embedded default) or "cache" (Redis when REDIS_URL).
INSPECTA_EXCHANGE_NONCE_STORE = env.str("INSPECTA_EXCHANGE_NONCE_STORE", default="cache" if REDIS_URL else "db")
# Idempotency keys are kept at least this long (CONTRACT §3: >= 24 h).
INSPECTA_EXCHANGE_IDEMPOTENCY_HOURS = env.float("INSPECTA_EXCHANGE_IDEMPOTENCY_HOURS", default=24.0)
# A request still "running" after this long is taken to have died; its key may be reused.
INSPECTA_EXCHANGE_IDEMPOTENCY_LEASE_SECONDS = env.int("INSPECTA_EXCHANGE_IDEMPOTENCY_LEASE_SECONDS", default=300)
# Uploads (CONTRACT §4): maximum size, accepted sniffed types, token and upload lifetimes,
# and the local folder of partial uploads (shared by all web processes of a node).
INSPECTA_UPLOAD_MAX_SIZE = env.int("INSPECTA_UPLOAD_MAX_SIZE", default=2 * 1024**3)
INSPECTA_UPLOAD_ALLOWED_TYPES = env.list(
    "INSPECTA_UPLOAD_ALLOWED_TYPES",
    default=[
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/tiff",
        "image/heic",
        "video/mp4",
        "video/quicktime",
        "video/x-msvideo",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.ms-excel",
    ],
)
INSPECTA_UPLOAD_TOKEN_SECONDS = env.int("INSPECTA_UPLOAD_TOKEN_SECONDS", default=3600)
INSPECTA_UPLOAD_EXPIRY_HOURS = env.float("INSPECTA_UPLOAD_EXPIRY_HOURS", default=24.0)
INSPECTA_UPLOAD_TEMP_DIR = env.str("INSPECTA_UPLOAD_TEMP_DIR", default=str(VAR_DIR / "uploads"))
# Callbacks (T/CECS 6.0.6): attempts and the first retry delay (doubling, with jitter).
INSPECTA_CALLBACK_MAX_ATTEMPTS = env.int("INSPECTA_CALLBACK_MAX_ATTEMPTS", default=8)
INSPECTA_CALLBACK_RETRY_DELAY = env.int("INSPECTA_CALLBACK_RETRY_DELAY", default=30)
# Monitoring: a client whose error rate over the last hour exceeds this (with at least
# the minimum number of calls) gets an anomaly finding.
INSPECTA_EXCHANGE_ERROR_RATE_THRESHOLD = env.float("INSPECTA_EXCHANGE_ERROR_RATE_THRESHOLD", default=0.2)
INSPECTA_EXCHANGE_ERROR_RATE_MIN_CALLS = env.int("INSPECTA_EXCHANGE_ERROR_RATE_MIN_CALLS", default=20)
# Every exchange call is recorded in the call log (after sessions and login policy).
MIDDLEWARE += ["inspecta.exchange.middleware.CallLogMiddleware"]

# --- Stored files (inspecta.core.files) -------------------------------------
# What each purpose of a stored file accepts: "max_size" in bytes and the sniffed
# "types"; a purpose is never wider than INSPECTA_UPLOAD_MAX_SIZE and
# INSPECTA_UPLOAD_ALLOWED_TYPES (CONTRACT §4), and an omitted entry means those.
_SCAN_TYPES = ["application/pdf", "image/jpeg", "image/png"]
INSPECTA_FILE_PURPOSES = {
    "upload": {},  # tus uploads of exchange clients and users
    # registry scans and photos
    "scan": {"types": _SCAN_TYPES, "max_size": env.int("INSPECTA_REGISTRY_MAX_UPLOAD_BYTES", default=10 * 1024**2)},
    "contract": {"types": _SCAN_TYPES},  # contract scans
    "plan": {"types": _SCAN_TYPES},  # on-site inspection plans (scans)
    "evidence": {"types": _SCAN_TYPES},  # evidence of how a warning was handled
    "report": {"types": ["application/pdf"]},  # report PDFs submitted through the web forms
    "photo": {
        "types": ["image/jpeg", "image/png", "image/webp", "image/heic"],
        "max_size": env.int("INSPECTA_PHOTO_MAX_SIZE", default=20 * 1024 * 1024),
    },
    "video": {"types": ["video/mp4", "video/quicktime"]},
    # Excel workbooks of background registry imports (filetype names some .xlsx "zip")
    "workbook": {
        "types": ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"],
        "max_size": 5 * 1024**2,
    },
}
# Bytes under files/ of the storage that no stored-file row names (left by a transaction
# that rolled back after storing them) are removed by the hourly job once older than this;
# so are partial upload files of uploads no longer receiving (exchange housekeeping);
# a negative value switches both removals off (while restoring a backup).
INSPECTA_ORPHAN_GRACE_HOURS = env.float("INSPECTA_ORPHAN_GRACE_HOURS", default=24.0)

# --- Agency registry -----------------------------------------------------
# Hour of the day (node time) of the nightly conformity recomputation.
INSPECTA_REGISTRY_CHECK_HOUR = env.int("INSPECTA_REGISTRY_CHECK_HOUR", default=2)

# --- Projects, contracts and reports ---------------------------------------
INSTALLED_APPS += ["inspecta.projects", "inspecta.reports", "inspecta.sampling", "inspecta.testing"]
# Chain of custody (sampling): the most specimens one sample groups; the minutes within
# which sampler and witness must both confirm (Nanchang 四(一): 60); the distance from the
# project's coordinates beyond which a sampling place is a finding; the perceptual-hash
# distance (0-7) under which two photos are the same picture.
INSPECTA_SAMPLE_MAX_SPECIMENS = env.int("INSPECTA_SAMPLE_MAX_SPECIMENS", default=30)
INSPECTA_SAMPLING_WINDOW_MINUTES = env.int("INSPECTA_SAMPLING_WINDOW_MINUTES", default=60)
# minutes after a commission is filled within which the deliverer and the witness must
# have confirmed it (Nanchang 四(四)1); later is a finding on its samples
INSPECTA_COMMISSION_WINDOW_MINUTES = env.int("INSPECTA_COMMISSION_WINDOW_MINUTES", default=120)
INSPECTA_SAMPLING_MAX_DISTANCE_M = env.int("INSPECTA_SAMPLING_MAX_DISTANCE_M", default=1000)
INSPECTA_PHOTO_DUPLICATE_DISTANCE = env.int("INSPECTA_PHOTO_DUPLICATE_DISTANCE", default=6)
# Custody events (Nanchang 四(三)): the age in days at which specimens leave the curing
# room when the recorder names none (out earlier: a finding).
INSPECTA_CURING_AGE_DAYS = env.int("INSPECTA_CURING_AGE_DAYS", default=28)
# Receipt (Nanchang 四(四)2): seconds a deliverer's one-time code stays valid; the largest
# perceptual-hash distance of a receipt photo to the nearest sealed photo that still counts
# as the same specimens (farther: a finding); what a failed seal check does: "reject"
# (the sample cannot be accepted) or "flag" (accepted with a finding).
INSPECTA_HANDOVER_SECONDS = env.int("INSPECTA_HANDOVER_SECONDS", default=300)
INSPECTA_RECEIPT_PHOTO_DISTANCE = env.int("INSPECTA_RECEIPT_PHOTO_DISTANCE", default=20)
INSPECTA_SEAL_FAILURE_ACTION = env.str("INSPECTA_SEAL_FAILURE_ACTION", default="reject")
# Test data (Guangdong 附件2 二(十一); T/CECS 4.3.4-4/-5): hours after a test ends within
# which its record must be uploaded; days after receipt within which a received sample
# must have test data (the longest common case: a 28-day specimen plus a grace period;
# authorities set shorter days per item); hours after an on-site plan's planned end within
# which its data must be uploaded. Regional rules override each (``testing.regionrules``).
INSPECTA_TEST_UPLOAD_HOURS = env.int("INSPECTA_TEST_UPLOAD_HOURS", default=24)
INSPECTA_TEST_DUE_DAYS = env.int("INSPECTA_TEST_DUE_DAYS", default=31)
INSPECTA_ONSITE_UPLOAD_HOURS = env.int("INSPECTA_ONSITE_UPLOAD_HOURS", default=24)
# Whether test data must be collected by the instruments themselves ("yes": a parameter
# entered by hand is a finding, Guangxi 第七条(二)(六)); set per region and item.
INSPECTA_AUTO_COLLECT_REQUIRED = env.str("INSPECTA_AUTO_COLLECT_REQUIRED", default="no")
# Instrument data on PostgreSQL: monthly partitions kept this many months ahead (the
# daily job creates them); the most points one curve may carry.
INSPECTA_INSTRUMENT_PARTITIONS_AHEAD = env.int("INSPECTA_INSTRUMENT_PARTITIONS_AHEAD", default=3)
INSPECTA_CURVE_MAX_POINTS = env.int("INSPECTA_CURVE_MAX_POINTS", default=100_000)

# --- Oversight -------------------------------------------------------------
# Warnings (预警; T/CECS 4.3.4-6, 8.2.4): days a warning may stay unhandled with the
# authority it is assigned to before it is escalated to the authority of the level above
# (set per region: ``oversight.regionrules``).
INSTALLED_APPS += ["inspecta.oversight"]
INSPECTA_WARNING_ESCALATION_DAYS = env.int("INSPECTA_WARNING_ESCALATION_DAYS", default=7)
# Days after a nonconforming report enters the nonconformance ledger within which the
# agency's handling must be confirmed by the station (Guangdong 附件2 二(十二)); later is
# the finding ``nonconformance_overdue``. Regional rule ``nonconformance_close_days``.
INSPECTA_NONCONFORMANCE_CLOSE_DAYS = env.int("INSPECTA_NONCONFORMANCE_CLOSE_DAYS", default=30)
# Hours before its planned start an on-site inspection plan must be filed where no
# PlanLeadRule of the project's region says otherwise (Guangxi 第十条: 24 hours).
INSPECTA_PLAN_LEAD_HOURS = env.int("INSPECTA_PLAN_LEAD_HOURS", default=24)
# Serial numbers per "city" (Nanchang 三(一)) or "province" (Guangdong 附件2 二(十四)).
INSPECTA_REPORT_SERIAL_SCOPE = env.str("INSPECTA_REPORT_SERIAL_SCOPE", default="city")
# Default action per acceptance check code ("reject" | "flag"); CheckRule rows override.
INSPECTA_REPORT_CHECK_ACTIONS: dict[str, str] = {}
# PEM files of CA certificates trusted for report PDF signatures.
INSPECTA_REPORT_PDF_TRUST_ROOTS = env.list("INSPECTA_REPORT_PDF_TRUST_ROOTS", default=[])
# Public verification: requests per minute and client IP (page, JSON and file checks).
INSPECTA_VERIFY_RATE_PER_MINUTE = env.int("INSPECTA_VERIFY_RATE_PER_MINUTE", default=60)
# Personal registration from a phone (Nanchang 一(二)): submissions per hour and client IP.
INSPECTA_REGISTRATION_RATE_PER_HOUR = env.int("INSPECTA_REGISTRATION_RATE_PER_HOUR", default=10)
# Seconds the public verification JSON stays cached (dropped on any change); 0: off.
INSPECTA_VERIFY_CACHE_SECONDS = env.int("INSPECTA_VERIFY_CACHE_SECONDS", default=300)
# Excel imports with more data rows than this run as a background job with progress.
INSPECTA_REGISTRY_IMPORT_ASYNC_ROWS = env.int("INSPECTA_REGISTRY_IMPORT_ASYNC_ROWS", default=200)

# --- Sampling ---------------------------------------------------------------
# Label sizes (width, height) in mm of the label printers: sample tags and seal labels.
INSPECTA_LABEL_SIZE_MM = tuple(env.list("INSPECTA_LABEL_SIZE_MM", cast=float, default=[50.0, 30.0]))
INSPECTA_SEAL_LABEL_SIZE_MM = tuple(env.list("INSPECTA_SEAL_LABEL_SIZE_MM", cast=float, default=[70.0, 50.0]))

# --- Notifications (T/CECS 8.2.4) -------------------------------------------------
# The inbox of everyone, e-mail (through EMAIL_URL above) and SMS as each person chooses,
# and the platform-health alerts to the operators (docs/notifications.md). The bell with
# the unread count beside the user menu comes from the app's context processor (TEMPLATES).
INSTALLED_APPS += ["inspecta.notifications"]
# SMS gateway: a dotted path to a class with send(*, phone, subject, kind); empty, SMS is
# switched off and offered nowhere. Aliyun's Dysmsapi SendSms:
# "inspecta.notifications.sms.AliyunSms", with the endpoint, the AccessKey, the approved
# sign name and the template code (one variable, ${subject}).
INSPECTA_SMS_BACKEND = env.str("INSPECTA_SMS_BACKEND", default="")
INSPECTA_SMS_URL = env.str("INSPECTA_SMS_URL", default="https://dysmsapi.aliyuncs.com/")
INSPECTA_SMS_ACCESS_KEY_ID = env.str("INSPECTA_SMS_ACCESS_KEY_ID", default="")
INSPECTA_SMS_ACCESS_KEY_SECRET = env.str("INSPECTA_SMS_ACCESS_KEY_SECRET", default="")
INSPECTA_SMS_SIGN_NAME = env.str("INSPECTA_SMS_SIGN_NAME", default="")
INSPECTA_SMS_TEMPLATE_CODE = env.str("INSPECTA_SMS_TEMPLATE_CODE", default="")
INSPECTA_SMS_TIMEOUT = env.float("INSPECTA_SMS_TIMEOUT", default=10.0)
# Platform-health alerts (every 10 minutes; once per onset, once when it clears): no job
# consumer heartbeat for this long, or more jobs than this waiting; a log entry waiting
# for its index this long; less than this many MB or per cent free on the disk of
# INSPECTA_VAR_DIR.
INSPECTA_ALERT_CONSUMER_STALE_SECONDS = env.int("INSPECTA_ALERT_CONSUMER_STALE_SECONDS", default=300)
INSPECTA_ALERT_JOBS_PENDING = env.int("INSPECTA_ALERT_JOBS_PENDING", default=1000)
INSPECTA_ALERT_SEQUENCER_LAG_SECONDS = env.int("INSPECTA_ALERT_SEQUENCER_LAG_SECONDS", default=600)
INSPECTA_ALERT_DISK_FREE_MB = env.int("INSPECTA_ALERT_DISK_FREE_MB", default=2048)
INSPECTA_ALERT_DISK_FREE_PERCENT = env.float("INSPECTA_ALERT_DISK_FREE_PERCENT", default=5.0)
