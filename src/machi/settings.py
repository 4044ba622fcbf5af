"""The one settings module of machi, driven by environment variables.

MACHI_DATA_DIR, MACHI_DATABASE_URL, MACHI_TENANT_DATABASE_URL_TEMPLATE,
MACHI_SECRET_KEY, MACHI_DEBUG, MACHI_ALLOWED_HOSTS (see docs/configuration.md).
Without MACHI_DEBUG the settings are the production ones: `machi check --deploy`
reports nothing.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.conf.locale import LANG_INFO

from machi.tenancy.dbconfig import database_config, sqlite_url


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("MACHI_DATA_DIR") or "var").resolve()
TENANT_DATA_DIR = DATA_DIR / "tenants"
TENANT_DATABASE_URL_TEMPLATE = os.environ.get("MACHI_TENANT_DATABASE_URL_TEMPLATE", "")

DEBUG = _env_bool("MACHI_DEBUG")


def _secret_key() -> str:
    """MACHI_SECRET_KEY, else a random key kept in the data directory (mode 0600)."""
    if key := os.environ.get("MACHI_SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("MACHI_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    # machi.tenancy comes first: its `migrate` command replaces Django's.
    "machi.tenancy",
    "machi.accounts",
    "machi.audit",
    "machi.linkage",
    "machi.apiclients",
    "machi.registry",
    "machi.procedures",
    "machi.counter",
    "machi.moves",
    "machi.requests",
    "machi.contact",
    "machi.publiccomment",
    "machi.board",
    "machi.site",
    "machi.localevents",
    "machi.opendata",
    "machi.opendata.standard",
    "machi.analytics",
    "machi.analytics.forecast",
    "machi.analytics.accesslog",
    "machi.announce",
    "machi.activitypub",
    "machi.easyja",
    "machi.web",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "machi.web.middleware.ForwardedForMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "machi.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "machi.accounts.middleware.StaffSessionMiddleware",
    "machi.tenancy.middleware.TenantMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "machi.urls"
WSGI_APPLICATION = "machi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "machi.web.context_processors.csp_nonce",
                "machi.web.context_processors.navigation",
            ],
            "builtins": ["machi.web.templatetags.dates"],
        },
    },
]

DATABASES = {
    "default": database_config(
        os.environ.get("MACHI_DATABASE_URL") or sqlite_url(DATA_DIR / "control.sqlite3")
    ),
}
DATABASE_ROUTERS = ["machi.tenancy.router.TenantRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Staff"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "machi.accounts.backends.StaffBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:start"

# Sessions: 15 minutes idle, 12 hours absolute (enforced by StaffSessionMiddleware).
MACHI_SESSION_IDLE_TIMEOUT = timedelta(minutes=15)
MACHI_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
SESSION_ENGINE = "machi.accounts.sessions"
SESSION_COOKIE_AGE = int(MACHI_SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout after repeated failures (django-axes).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "machi"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("ja-easy", "やさしい にほんご"), ("en", "English")]
# やさしい日本語 is a locale of its own (locale/ja_Easy, see machi.web.language); Django
# knows no such language, so get_language_info() learns it here.
LANG_INFO["ja-easy"] = {
    "bidi": False,
    "code": "ja-easy",
    "name": "Easy Japanese",
    "name_local": "やさしい にほんご",
}
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
# Source maps (5 MB of them in django-ninja's API docs) are fetched only by developer
# tools; compressing them twice (gzip and brotli) was most of collectstatic's minute.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br"),
    *("swf", "flv", "woff", "woff2", "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4"),
    *("mpeg", "mpg", "webm", "wmv", "map"),
)
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Webhook delivery history, pruned hourly by the linkage worker (`machi linkage prune`):
# delivered deliveries after this many days, dead letters after the longer second limit
# (counted from delivery / giving up; 0 = keep for ever). Pending ones are never deleted.
MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS = int(
    os.environ.get("MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS") or 30
)
MACHI_WEBHOOK_DEAD_RETENTION_DAYS = int(os.environ.get("MACHI_WEBHOOK_DEAD_RETENTION_DAYS") or 180)
if MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS < 0 or MACHI_WEBHOOK_DEAD_RETENTION_DAYS < 0:
    raise ValueError("MACHI_WEBHOOK_*_RETENTION_DAYS must be 0 (keep for ever) or more days")

# Where webhooks may be sent (machi.linkage.urlpolicy): https only, unless
# MACHI_WEBHOOK_ALLOW_HTTP (default: MACHI_DEBUG); never to loopback, link-local,
# metadata or private addresses, except inside these CIDR networks (comma-separated:
# the department systems' networks of this deployment; default none).
MACHI_WEBHOOK_ALLOW_HTTP = _env_bool("MACHI_WEBHOOK_ALLOW_HTTP", DEBUG)
MACHI_WEBHOOK_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(entry.strip(), strict=False))
    for entry in os.environ.get("MACHI_WEBHOOK_ALLOWED_NETWORKS", "").split(",")
    if entry.strip()
]

# The one mail sender (Django's mail backend to the configured SMTP server): account
# notices to staff today. Without MACHI_EMAIL_HOST a demo (MACHI_DEBUG) prints mail on
# the console; production sends to localhost:25 unless told otherwise.
EMAIL_HOST = os.environ.get("MACHI_EMAIL_HOST") or "localhost"
EMAIL_PORT = int(os.environ.get("MACHI_EMAIL_PORT") or 25)
EMAIL_HOST_USER = os.environ.get("MACHI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("MACHI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("MACHI_EMAIL_STARTTLS")
EMAIL_TIMEOUT = 10  # seconds: a slow mail server must not hold a staff request for long
DEFAULT_FROM_EMAIL = os.environ.get("MACHI_EMAIL_FROM") or "machi@localhost"
if DEBUG and not os.environ.get("MACHI_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# The contact center's mail channel (docs/configuration.md, docs/contact.md): the
# address replies come from, the authserv-id of the receiving MTA whose
# Authentication-Results header is trusted ('' = none is), size limits and the
# number of mails one sender may send per hour before the rest is quarantined.
MACHI_CONTACT_MAIL_FROM = os.environ.get("MACHI_CONTACT_MAIL_FROM") or DEFAULT_FROM_EMAIL
MACHI_CONTACT_MAIL_AUTHSERV_ID = os.environ.get("MACHI_CONTACT_MAIL_AUTHSERV_ID", "").strip()
MACHI_CONTACT_MAIL_MAX_MESSAGE_BYTES = int(
    os.environ.get("MACHI_CONTACT_MAIL_MAX_MESSAGE_BYTES") or 25 * 1024 * 1024
)
MACHI_CONTACT_MAIL_MAX_ATTACHMENT_BYTES = int(
    os.environ.get("MACHI_CONTACT_MAIL_MAX_ATTACHMENT_BYTES") or 10 * 1024 * 1024
)
MACHI_CONTACT_MAIL_PER_SENDER_PER_HOUR = int(
    os.environ.get("MACHI_CONTACT_MAIL_PER_SENDER_PER_HOUR") or 20
)
# Uploaded and received files (mail attachments, quarantined mail), one folder per
# municipality below it.
MEDIA_ROOT = Path(os.environ.get("MACHI_MEDIA_DIR") or DATA_DIR / "media").resolve()

# How many reverse proxies in front of machi append to X-Forwarded-For: the client's
# address (audit log, login lockouts, pre-application limit) is read from that header,
# as the last proxy saw it. 0 = no proxy header is trusted (machi.web.middleware).
MACHI_PROXY_COUNT = int(os.environ.get("MACHI_PROXY_COUNT") or 0)
if MACHI_PROXY_COUNT < 0:
    raise ValueError("MACHI_PROXY_COUNT must be 0 (no proxy) or the number of proxies")

# The page cache in front of Django for the anonymous public website
# (machi.site.pagecache, docs/configuration.md): off by default under MACHI_DEBUG, where
# templates change under a running server. Sizes are per worker process.
MACHI_PAGE_CACHE = _env_bool("MACHI_PAGE_CACHE", not DEBUG)
MACHI_PAGE_CACHE_DIR = Path(
    os.environ.get("MACHI_PAGE_CACHE_DIR") or DATA_DIR / "pagecache"
).resolve()
MACHI_PAGE_CACHE_ENTRIES = int(os.environ.get("MACHI_PAGE_CACHE_ENTRIES") or 2000)
MACHI_PAGE_CACHE_MB = int(os.environ.get("MACHI_PAGE_CACHE_MB") or 64)
MACHI_PAGE_CACHE_MAX_AGE = int(os.environ.get("MACHI_PAGE_CACHE_MAX_AGE") or 30)

# The address residents reach machi at (https://machi.example.jp): links in mail sent
# outside a request (a request's follower mail, its confirmation and unsubscribe links).
MACHI_PUBLIC_URL = (
    os.environ.get("MACHI_PUBLIC_URL") or ("http://localhost:8000" if DEBUG else "")
).rstrip("/")
# Map tiles under the request filing page's map ("https://tiles.example.jp/{z}/{x}/{y}.png",
# e.g. the municipality's own tile server); empty: a plain grid, the point still pickable.
MACHI_REQUESTS_MAP_TILE_URL = os.environ.get("MACHI_REQUESTS_MAP_TILE_URL", "").strip()


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Security headers. Everything is served from the project itself: no CDN (map tiles
# only from the configured tile server).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *filter(None, [_origin(MACHI_REQUESTS_MAP_TILE_URL)])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = _env_bool("MACHI_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Request bodies and SQL parameters can hold personal data: never log them.
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
