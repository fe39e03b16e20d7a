"""One settings file, read from the environment.

Fail closed: DEBUG is off unless asked for, and production refuses to start without a
real SECRET_KEY. With no DATABASE_URL the app runs on a local SQLite file.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Set by config/test_settings.py (the test suite's settings module), never guessed.
TESTING = env_bool("TESTING", False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (50+ random characters), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug-or-tests-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.apps.AdminConfig",  # django.contrib.admin with the site of config/admin_site.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "csp",
    "config.apps.AxesConfig",  # django-axes, named in Chinese
    "simple_history",
    "django_tasks",
    "config.apps.TasksDatabaseConfig",  # django-tasks-db, named in Chinese
    "enterprises",
    "visits",
    "issues",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who made each change in the trail; the access log of exports (issue 13).
    "simple_history.middleware.HistoryRequestMiddleware",
    "issues.access_log.AccessLogMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Signed in but no role: the no-role page (403) everywhere but logout and password change.
    "config.middleware.RoleRequiredMiddleware",
    # An enterprise's own account: its pages only, never a staff page.
    "config.middleware.EnterpriseAreaMiddleware",
    "config.middleware.NoStoreForAuthenticatedMiddleware",
    # Logs every refused authorisation (403) with the user and client IP (ASVS 16.3).
    "config.middleware.LogForbiddenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # The app's own 404/500 pages, in the user's language, with DEBUG on too.
    "config.views.ErrorPagesInDebugMiddleware",
    # axes last, as its docs ask.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

# --- Background tasks (notifications; the admin's survey import) --------------------------
# django-tasks: at once in the request by default (development, tests); in production
# TASKS_BACKEND=database queues them in the database for `manage.py db_worker` (any number).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if env("TASKS_BACKEND", "immediate") == "database"
        else "django_tasks.backends.immediate.ImmediateBackend",
    }
}
# The enterprise's answer by link (issue 16): how long a link works; whether resolving an
# issue sends its enterprise contact a link at once (else a coordinator issues it).
FEEDBACK_LINK_DAYS = int(env("FEEDBACK_LINK_DAYS", "14"))
FEEDBACK_LINK_ON_RESOLVE = env_bool("FEEDBACK_LINK_ON_RESOLVE", False)
# The coordinators' group-chat robot (企业微信 / 钉钉): a URL that takes a JSON message.
COORDINATOR_CHAT_WEBHOOK = env("COORDINATOR_CHAT_WEBHOOK", "")
# Public pages (feedback links): at most this many requests per client IP per 10 minutes.
PUBLIC_RATE_LIMIT = int(env("PUBLIC_RATE_LIMIT", "30"))
# The cache holds those counts: per process by default (so per gunicorn worker);
# CACHE_BACKEND=database shares them across workers and servers (`createcachetable` once).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "app_cache"}
    if env("CACHE_BACKEND", "local") == "database"
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
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
                "django.template.context_processors.i18n",
                "config.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=int(env("CONN_MAX_AGE", "60")), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one
            # failing with "database is locked" half-way through a transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        env("DATABASE_REPLICA_URL"), conn_max_age=60, conn_health_checks=True
    )

# Dashboard reads go to the replica when DATABASE_REPLICA_URL is set; harmless without it.
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # `aaaaaaaaaaaa` and the username typed twice pass the four above (config/passwords.py).
    {"NAME": "config.passwords.MinimumDistinctCharactersValidator", "OPTIONS": {"min_distinct": 6}},
    {"NAME": "config.passwords.RepeatedTextValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
# Username and IP together: an office behind one NAT is not locked out by one person,
# and nobody can lock a named user out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Exactly the number of reverse proxies in front of the app (nginx alone: 1); 0 means
# X-Forwarded-For is ignored. Each proxy appends the address it was reached from, so the
# client is the PROXY_COUNT-th entry from the right and whatever the client itself sent
# (further left) can neither pick nor rotate the address (tests/security/test_proxy_ip.py).
# django-ipware (the `ipware` extra of django-axes: without it axes reads REMOTE_ADDR only and
# ignores these settings) counts the proxies *listed* in the header: all but the nearest one,
# which is REMOTE_ADDR.
PROXY_COUNT = int(env("PROXY_COUNT", "0"))
if PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
# django-ipware's legacy parser splits the header on commas and skips malformed entries. Its
# default ("modern") one honours quotes, so a client sending `X-Forwarded-For: 5.6.7.8, "`
# swallows the address nginx appends and chooses its own; in strict mode any header the
# client sent (an office's forward proxy adds one) makes it fall back to the proxy's address,
# one lockout bucket and one logged IP for all of them.
IPWARE_ALGORITHM = "legacy"
IPWARE_STRICT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Sessions, cookies, HTTPS -------------------------------------------------------------
# A closed government network may have no TLS; HTTPS=0 turns the Secure-only settings off.
HTTPS = env_bool("HTTPS", not (DEBUG or TESTING))
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_NAME = "__Secure-sessionid" if HTTPS else "sessionid"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # absolute: one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_TIMEOUT = int(env("SESSION_IDLE_TIMEOUT", str(30 * 60)))
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "3600")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Checks `check --deploy` may skip, each for a stated reason (tests/security/test_deploy.py
# runs `check --deploy --fail-level WARNING` with production settings and expects exit 0).
SILENCED_SYSTEM_CHECKS = [
    # W021 asks for SECURE_HSTS_PRELOAD. The app runs on an internal government host name
    # that is not on (and cannot be submitted to) the public browser preload list, and
    # preloading is irreversible for the whole domain; HSTS itself is on (SECURE_HSTS_SECONDS).
    "security.W021",
    # W040: SQLite keeps the open-issue index without its INCLUDE columns (issues.Issue
    # Meta); those only serve PostgreSQL's index-only scans at city scale.
    "models.W040",
]
if not HTTPS:
    # HTTPS=0 is an explicit operator decision for a closed network without TLS (SECURITY.md
    # "HTTPS"). Then HSTS (W004), the redirect (W008) and Secure cookies (W012, W016) cannot
    # work: a Secure cookie is never sent back over plain HTTP and nobody could log in.
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Development and tests serve static files straight from static/ (no collectstatic).
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Uploads and import ---------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_MAX_BYTES = int(env("IMPORT_MAX_BYTES", str(10 * 1024 * 1024)))
# Where an uploaded survey file waits between preview and confirm. With several app
# servers behind a load balancer, point it at storage they all share.
IMPORT_TEMP_DIR = env("IMPORT_TEMP_DIR")
# The filter forms of the issue list, dashboard and weekly list (menus of departments,
# categories, districts) are drawn once per query and language for this long: a department
# added shows in their menus after at most this many seconds. 0: drawn on every page.
FILTER_FORM_CACHE_SECONDS = int(env("FILTER_FORM_CACHE_SECONDS", "300"))
# The dashboard's and weekly list's now figures (open, overdue, colours per department and
# per category, district and sector) are counted again after every workflow step; changes
# that write no history (an enterprise's district, the official calendar) show within this
# many seconds. 0: counted on every page.
NOW_FIGURES_CACHE_SECONDS = int(env("NOW_FIGURES_CACHE_SECONDS", "60"))
# Rows in one issue-list download: about 2 s of XLSX writing, well inside the 30 s timeout.
EXPORT_MAX_ROWS = int(env("EXPORT_MAX_ROWS", "10000"))
# ...and at most this many seconds of row writing, so a download on a busy server still
# ends inside gunicorn's 30 s timeout (the file says where it was cut).
EXPORT_MAX_SECONDS = float(env("EXPORT_MAX_SECONDS", "12"))
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import_survey"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Evidence files and the access log (issue 13) --------------------------------------------
# Photos and documents go through Django's storage API and are served only by views that
# check access (issues.file_views): there is no MEDIA_URL, and nothing may serve MEDIA_ROOT.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
if env("FILE_STORAGE") == "s3":
    # Several app servers: an S3-compatible object store such as MinIO, through
    # django-storages (`pip install django-storages[s3]`); docs/production.md.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL") or None,
            "region_name": env("S3_REGION") or None,
            "access_key": env("S3_ACCESS_KEY_ID"),
            "secret_key": env("S3_SECRET_ACCESS_KEY"),
            "addressing_style": "path",
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
ATTACHMENT_MAX_BYTES = int(env("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# Days an access log entry is kept (`manage.py prune_access_log`, daily).
ACCESS_LOG_DAYS = int(env("ACCESS_LOG_DAYS", "365"))

# --- Email ---------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "visit-tracker@localhost")
# The app's address as users reach it, for links in reminder emails (e.g. https://visits.example.gov.cn).
SITE_URL = env("SITE_URL")

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Failed logins and refused authorisations (config.security, config.middleware).
        "security": {"level": "INFO"},
    },
}

if TESTING:
    # A password check costs ~450 ms with the real hasher; tests log in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
