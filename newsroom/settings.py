"""Newsroom settings: one module, driven by environment variables (see README, "Settings")."""

import hashlib
import ipaddress
import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
_checkout = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:12]


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_networks(name, default):
    """IP networks from a comma list of addresses and CIDR ranges ("127.0.0.1, 10.0.0.0/8")."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            sys.exit(f"{name}: “{item}” is not an IP address or CIDR range (e.g. 10.0.0.0/8).")
    return networks


def env_rate_limits(name, default):
    """Rate limits written "1/15,20/3600": at most 1 per 15 seconds and 20 per hour."""
    return [tuple(int(number) for number in pair.split("/", 1)) for pair in env_list(name, default)]


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        sys.exit(
            "DJANGO_SECRET_KEY is not set: set it to a long random string "
            "(or set DJANGO_DEBUG=1 for local development)."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "reversion",
    # The task queue in the database (django.tasks' DatabaseBackend): `manage.py db_worker`.
    "django_tasks_db",
    "articles",
    "comments",
    # The project's own commands (newsroom/management/commands: purge_front_cache,
    # retire_kept_pages); no models.
    "newsroom",
]

MIDDLEWARE = [
    "newsroom.middleware.HealthProbeMiddleware",  # /healthz probes of gunicorn over plain HTTP
    "django.middleware.security.SecurityMiddleware",
    "newsroom.middleware.SecurityHeadersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "newsroom.middleware.RequestSizeLimitMiddleware",
    "newsroom.middleware.DatabaseUnavailableMiddleware",
    # utm_* and click ids dropped from links, so every view and cache key sees them as the
    # front cache does (see TRACKING_PARAMETERS).
    "newsroom.caching.middleware.TrackingParametersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Old addresses (a WordPress site's permalinks) answered with a 301: a query-string link
    # before the home page is built or kept, a path only when nothing else answers it.
    "articles.redirects.OldLinkMiddleware",
    # A kept public page is served from here: everything below is for pages being built, and
    # for requests personal to one browser (sessions, messages, logins, CSRF tokens).
    "newsroom.caching.middleware.SharedCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "newsroom.crossorigin.CrossOriginProtectionMiddleware",  # every unsafe request
    "django.middleware.csrf.CsrfViewMiddleware",  # tokens too, where a session exists
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "articles.context_processors.site",
            ],
            "builtins": ["newsroom.template_library"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

# A hung database costs a request at most this long (newsroom/postgresql/base.py): each wait for
# it while serving a request, and the statement_timeout of connections opened then.
DATABASE_TIMEOUT_SECONDS = float(os.environ.get("NEWSROOM_DATABASE_TIMEOUT", "2"))
POSTGRES_TIMEOUTS = {
    "connect_timeout": 2,  # seconds, libpq's smallest
    # A server whose host vanished: the socket is given up after 10 s without an answer.
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 10000,  # milliseconds
}
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Queue writers instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).update(POSTGRES_TIMEOUTS)
if os.environ.get("DJANGO_TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DJANGO_TEST_DATABASE_NAME"]}
# An optional read replica: reads go there unless the request may just have written
# (newsroom/routers.py). Tests read the primary through it.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **DATABASES["default"],
        **dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["newsroom.routers.ReplicaRouter"]
    MIDDLEWARE.insert(0, "newsroom.routers.PrimaryForWritersMiddleware")

for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database["ENGINE"] = "newsroom.postgresql"  # fails fast when the database hangs

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ---------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # A Redis outage is a cache miss, not an error page (see newsroom/cache.py).
            "BACKEND": "newsroom.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "newsroom",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # Without Redis, a cache every process on this machine shares (gunicorn's workers, a shell
    # command purging after a change): a kept page is never older than the last change.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("NEWSROOM_CACHE_DIR")
            or str(Path(tempfile.gettempdir()) / f"newsroom-cache-{_checkout}"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
# Public pages and fragments are kept by the app at most this long (newsroom/caching); 0 turns
# the app's own keeping off. They are purged by tag on every change, so this only bounds memory.
PAGE_CACHE_SECONDS = int(os.environ.get("NEWSROOM_PAGE_CACHE_SECONDS", "3600"))
# What public pages tell caches: browsers may keep them this long without asking again (0: they
# revalidate every time, a cheap 304 from the front cache, so a change shows at once) ...
BROWSER_CACHE_SECONDS = int(os.environ.get("NEWSROOM_BROWSER_CACHE_SECONDS", "0"))
# ... a shared cache (Varnish, a CDN), which is purged by tag on every change, this long.
SHARED_CACHE_SECONDS = int(os.environ.get("NEWSROOM_SHARED_CACHE_SECONDS", "86400"))
# Where to purge: varnish://HOST:PORT, fastly://SERVICE_ID, cloudflare://ZONE_ID; unset: none.
FRONT_CACHE = os.environ.get("NEWSROOM_FRONT_CACHE", "")
# Pushpin's publish API for live updates (newsroom/grip.py), e.g. http://127.0.0.1:5561/publish/;
# unset: nothing is published and live pages poll.
PUSHPIN_PUBLISH = os.environ.get("NEWSROOM_PUSHPIN_PUBLISH", "")

# --- Auth -----------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Where signing in lands when `next` is missing or unsafe (another host): the admin, not Django's
# /accounts/profile/, which does not exist here.
LOGIN_REDIRECT_URL = "admin:index"
# The passwords of the demo accounts `seed_demo` makes with debug on: made once, then kept for
# this checkout (the file is not in git; delete it for new ones).
DEMO_PASSWORDS_FILE = BASE_DIR / "demo-passwords.txt"

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
# The site's named date formats (newsroom/dates.py writes every date with them).
FORMAT_MODULE_PATH = ["newsroom.formats"]

# --- Static and media -----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    # Files written whole or not at all: a full disk leaves no partial upload (newsroom/files.py).
    "default": {"BACKEND": "newsroom.files.WholeFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0
# Uploads in S3-compatible object storage when a bucket is named (README, "Scale out"); the
# credentials come from the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables.
if os.environ.get("NEWSROOM_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "newsroom.storage.S3MediaStorage",
        "OPTIONS": {
            "bucket_name": os.environ["NEWSROOM_S3_BUCKET"],
            "endpoint_url": os.environ.get("NEWSROOM_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("NEWSROOM_S3_REGION") or None,
            "location": os.environ.get("NEWSROOM_S3_PREFIX", "media"),
            "default_acl": "private",
            "file_overwrite": False,
        },
    }

# Request and upload limits, chosen deliberately: a hero image may be 10 MB, a form far less.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
REQUEST_MAX_BYTES = 12 * 1024 * 1024  # a whole request body, a hero image and its form included
HERO_IMAGE_MAX_BYTES = 10 * 1024 * 1024
# An upload kept across a form error (newsroom/uploads.py) is deleted after this many seconds if
# the form is never sent again.
KEPT_UPLOAD_MAX_AGE = 24 * 60 * 60
HERO_IMAGE_MAX_PIXELS = 40_000_000
HERO_RENDITION_WIDTHS = [480, 800, 1200, 1600]

# --- Security -------------------------------------------------------------------------------

SECURE = env_bool("DJANGO_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if SECURE:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# Behind the TLS proxy every request comes from the proxy's address: the client's address is the
# one the proxy appended to X-Forwarded-For (see SECURITY.md), read only on connections from
# TRUSTED_PROXIES (newsroom/clients.py). Used for login lockout and comment limits.
TRUST_X_FORWARDED_FOR = SECURE
TRUSTED_PROXIES = env_networks("NEWSROOM_TRUSTED_PROXIES", "127.0.0.0/8,::1")

CSRF_FAILURE_VIEW = "newsroom.views.csrf_failure"

# Everything not listed here is refused; add a directive when a page needs a new kind of asset.
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],  # the admin's changelist has one nonced <style>
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Admin sign-in lockout: failures within AXES_COOLOFF_TIME per kind of lock (newsroom/lockout.py).
LOGIN_LOCKOUTS = [
    (["username", "ip_address"], 5),  # someone mistyping, or guessing one account from one place
    ("ip_address", 20),  # one address trying many accounts
    # One account from anywhere: slower, so one address cannot lock a member of staff out.
    ("username", 50),
]
AXES_LOCKOUT_PARAMETERS = [parameters for parameters, _limit in LOGIN_LOCKOUTS]
AXES_FAILURE_LIMIT = 5  # axes' own scale; LOGIN_LOCKOUTS holds the real limits
AXES_HANDLER = "newsroom.lockout.LockoutHandler"
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "newsroom.lockout.lockout_response"
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "newsroom.clients.client_ip"
AXES_ENABLED = env_bool("DJANGO_AXES_ENABLED", default=True)
AXES_VERBOSE = False

# --- Forms ----------------------------------------------------------------------------------

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ----------------------------------------------------------------------------------

EMAIL_OPTIONS = {
    "host": os.environ.get("DJANGO_EMAIL_HOST"),
    "port": int(os.environ["DJANGO_EMAIL_PORT"]) if os.environ.get("DJANGO_EMAIL_PORT") else None,
    "username": os.environ.get("DJANGO_EMAIL_USER"),
    "password": os.environ.get("DJANGO_EMAIL_PASSWORD"),
    "use_tls": env_bool("DJANGO_EMAIL_USE_TLS") or None,
    "timeout": 10 if os.environ.get("DJANGO_EMAIL_HOST") else None,
}
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_EMAIL_BACKEND",
            "django.core.mail.backends.console.EmailBackend"
            if DEBUG
            else "django.core.mail.backends.smtp.EmailBackend",
        ),
        "OPTIONS": {k: v for k, v in EMAIL_OPTIONS.items() if v is not None},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "newsroom@localhost")
MODERATOR_EMAILS = env_list("NEWSROOM_MODERATOR_EMAILS")

# --- Comments -----------------------------------------------------------------------------

# The comment policy in one place (comments/moderation.py reads it).
COMMENTS = {
    # No new comments this many days after publication; unset never closes (editors can still
    # close any story with its own switch).
    "CLOSE_AFTER_DAYS": int(os.environ["NEWSROOM_COMMENTS_CLOSE_AFTER_DAYS"])
    if os.environ.get("NEWSROOM_COMMENTS_CLOSE_AFTER_DAYS")
    else None,
    # Publish at once a comment from the browser that wrote an approved one under the same name
    # and address (its signed cookie is the proof; a typed address alone proves nothing).
    "APPROVE_KNOWN_EMAILS": True,
    "HOLD_AT_LINKS": 2,  # hold for a moderator from this many links in the body
    "BLOCKLIST": ["viagra", "cialis", "casino bonus", "payday loan", "crypto giveaway"],
    "MIN_SECONDS_TO_TYPE": 3,  # forms sent faster than this after typing began are refused
    "MIN_SECONDS_TO_CONFIRM": 1,  # ... or after a form was shown again to be confirmed
    "FORM_MAX_AGE_HOURS": 48,
    # (comments, seconds) per client, from "1/15,20/3600" in NEWSROOM_COMMENT_RATE_LIMITS;
    # NEWSROOM_BENCH lifts them for the benchmark's posting run.
    "RATE_LIMITS": env_rate_limits("NEWSROOM_COMMENT_RATE_LIMITS", "1/15,20/3600")
    if not env_bool("NEWSROOM_BENCH")
    else [(10**9, 1)],
    "CLIENT_HASH_DAYS": 30,  # the keyed hash of a commenter's IP is wiped after this
    "MAX_DEPTH": 3,
    "THREADS_PER_PAGE": 50,
    # The approve / spam links in the moderators' email work this long, once.
    "EMAIL_LINK_DAYS": 7,
    # A commenter may edit their comment this long after posting it, from the browser that
    # posted it and until someone replies (comments/editing.py); 0 turns editing off.
    "EDIT_MINUTES": 15,
    # The link that confirms reply emails works this long; a new one is sent at most this often.
    "REPLY_CONFIRM_DAYS": 7,
    "REPLY_CONFIRM_RESEND_HOURS": 24,
}
# Links typed without a scheme ("www.example.com") become https:// links, as in Django 2028.
URLIZE_ASSUME_HTTPS = True

# --- Background tasks -----------------------------------------------------------------------

# Emails to commenters (reply notifications and their confirmation) go through Django's task
# framework on the database backend: a task is a row written in the same transaction as the
# change that asks for it, so it is sent only once that commits and it survives a restart.
# `make worker` (manage.py db_worker) sends them; without a worker they wait in the database.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Site -----------------------------------------------------------------------------------

SITE_NAME = "Newsroom"
SITE_URL = os.environ.get("NEWSROOM_SITE_URL", "").rstrip("/")
ARTICLES_PER_PAGE = 12
# Benchmark mode (bench/run.py): /bench/ceiling and no comment rate limit. Never in production.
BENCH = env_bool("NEWSROOM_BENCH")

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"safe": {"()": "newsroom.logging.SafeLogFilter"}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["safe"], "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
