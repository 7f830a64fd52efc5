"""Settings for the whole project, read from the environment with working local defaults.

Every variable is listed in README.md. Nothing requires an account, a key or the internet.
"""

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from django.core.exceptions import ImproperlyConfigured

from commerce.env import REPO_ROOT, data_dir, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = REPO_ROOT
DATA_DIR = data_dir()

# Off by default so a local run shows the shop's own error pages; turn on while developing.
DEBUG = env_bool("DJANGO_DEBUG", False)

# Keys once published as defaults (in this repository or its compose file): never used with DEBUG off.
PLACEHOLDER_SECRET_KEYS = frozenset({"dev-only-insecure-key-change-me-in-any-deployment", "compose-only-change-me"})


def local_secret_key(path: Path) -> str:
    """This machine's own key, made once (random, readable by its owner only) and read on every start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")  # created with mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50) + "\n")
            try:
                os.link(temp, path)  # never overwrites: of two processes starting at once, one key wins
            except FileExistsError:
                pass
        finally:
            os.unlink(temp)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} does not hold a usable secret key; delete it and a new one is made")
    return key


# Deployments set DJANGO_SECRET_KEY (the same on every web and worker process); without it the shop
# uses the local stack's own key under DATA_DIR, generated on first start.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or local_secret_key(DATA_DIR / "secret-key.txt")
if not DEBUG and (SECRET_KEY in PLACEHOLDER_SECRET_KEYS or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is a published placeholder: with DEBUG off set a random key "
                               "of 50+ characters, or unset it to use the local key in DATA_DIR/secret-key.txt")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # commerce first: its `migrate` (SQL and Cassandra together) wins over the engine's.
    "commerce",
    "django_cassandra_engine",
    "commerce.apps.ShopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_elasticsearch_dsl",
    # Login attempts counted per username and address (identity: accounts).
    "axes",
    # The partner API (api/): its OpenAPI docs page serves its own static files.
    "ninja",
    "cart",
    "checkout",
    "orders",
    "fulfillment",
    "inventory",
    "identity",
]

MIDDLEWARE = [
    # First: it counts and times everything the shop does for a request (/metrics).
    "commerce.observability.metrics.RequestMetricsMiddleware",
    # Compresses the pages every middleware below returned (HTML only: commerce/middleware.py).
    "commerce.middleware.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before the static files, so their responses carry the policy too.
    "commerce.middleware.ContentSecurityPolicyMiddleware",
    "commerce.middleware.StaticFilesMiddleware",
    # Django's session, common, auth and messages middleware with their hooks run on the event loop
    # (commerce/middleware.py). Security, CSRF and X-Frame-Options stay Django's own, by the names
    # `check --deploy` looks for.
    "commerce.middleware.SessionMiddleware",
    "commerce.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "commerce.middleware.AuthenticationMiddleware",
    # The user read on the event loop, so async views' templates can read `user` (accounts).
    "commerce.middleware.ResolvedUserMiddleware",
    "commerce.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "commerce.urls"
ASGI_APPLICATION = "commerce.asgi.application"

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
                "commerce.context_processors.shop",
            ],
        },
    },
]


CASSANDRA_ALIAS = "cassandra"
CASSANDRA_HOSTS = env_str("CASSANDRA_HOSTS", "127.0.0.1")
CASSANDRA_PORT = env_int("CASSANDRA_PORT", 9042)
CASSANDRA_KEYSPACE = env_str("CASSANDRA_KEYSPACE", "commerce")

DATABASES = {
    # DATABASE_URL as dj-database-url reads it: sqlite:///path (default: under DATA_DIR) or
    # postgres://user:pass@host:port/name?sslmode=require (options in the query string).
    "default": dj_database_url.parse(env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")),
    CASSANDRA_ALIAS: {
        "ENGINE": "django_cassandra_engine",
        "NAME": CASSANDRA_KEYSPACE,
        "HOST": CASSANDRA_HOSTS,
        "OPTIONS": {
            "replication": {
                "strategy_class": "SimpleStrategy",
                "replication_factor": env_int("CASSANDRA_REPLICATION_FACTOR", 1),
            },
            "connection": {
                "port": CASSANDRA_PORT,
                # Django must start (and /healthz answer 503) while Cassandra is down.
                "lazy_connect": True,
                "retry_connect": True,
                "connect_timeout": 5,
                "protocol_version": 5,
                "execution_profiles": {
                    EXEC_PROFILE_DEFAULT: ExecutionProfile(
                        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
                        request_timeout=env_int("CASSANDRA_REQUEST_TIMEOUT", 10),
                    )
                },
            },
        },
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

ELASTICSEARCH_URL = env_str("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
# Tests use their own prefix so they never touch the shop's indices.
ELASTICSEARCH_INDEX_PREFIX = env_str("ELASTICSEARCH_INDEX_PREFIX", "")
ELASTICSEARCH_DSL = {"default": {"hosts": ELASTICSEARCH_URL, "request_timeout": 10}}
# Projections are written by workflow activities, never by model signals (Cassandra models send none).
ELASTICSEARCH_DSL_AUTOSYNC = False
ELASTICSEARCH_DSL_AUTO_REFRESH = False

TEMPORAL_ADDRESS = env_str("TEMPORAL_ADDRESS", "127.0.0.1:7233")
TEMPORAL_NAMESPACE = env_str("TEMPORAL_NAMESPACE", "default")
# Where staff open a workflow from the admin (Temporal's Web UI; the local stack's dev server serves
# one). Empty: the admin shows workflow ids without a link.
TEMPORAL_WEB_URL = env_str("TEMPORAL_WEB_URL", "http://127.0.0.1:8233").rstrip("/")
# Sync activities (cqlengine, the ORM) run in a thread pool of this many threads per worker (one
# worker per task queue), and each worker takes at most as many activity tasks at once, so one busy
# queue cannot starve the others. TEMPORAL_ACTIVITY_THREADS_<QUEUE> (e.g. _INVENTORY) sizes one queue.
TEMPORAL_ACTIVITY_THREADS = env_int("TEMPORAL_ACTIVITY_THREADS", 8)
TEMPORAL_ACTIVITY_THREADS_BY_QUEUE = {
    name.removeprefix("TEMPORAL_ACTIVITY_THREADS_").lower(): env_int(name, TEMPORAL_ACTIVITY_THREADS)
    for name in sorted(os.environ)
    if name.startswith("TEMPORAL_ACTIVITY_THREADS_")
}
# On SIGTERM a worker stops polling and gives in-flight activities this long to finish before it
# cancels them; runshop waits longer than this for its worker process.
TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS = env_int("TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS", 20)

# The staff console calls a SKU low on stock at this many available units or fewer.
INVENTORY_LOW_STOCK_UNITS = env_int("INVENTORY_LOW_STOCK_UNITS", 5)

# Cart and inventory timings (seconds unless named otherwise).
CART_HOLD_TTL_SECONDS = env_int("CART_HOLD_TTL_SECONDS", 15 * 60)
CART_IDLE_EXPIRY_SECONDS = env_int("CART_IDLE_EXPIRY_SECONDS", 30 * 24 * 3600)
CART_CONTINUE_AS_NEW_AFTER = env_int("CART_CONTINUE_AS_NEW_AFTER", 100)
# What one visitor can hold: lines per cart, units of one SKU per cart, new carts per client a minute.
CART_MAX_LINES = env_int("CART_MAX_LINES", 30)
CART_MAX_UNITS_PER_SKU = env_int("CART_MAX_UNITS_PER_SKU", 20)
CART_CREATIONS_PER_MINUTE = env_int("CART_CREATIONS_PER_MINUTE", 10)
# How long the web tier waits for a cart update before telling the shopper it is queued.
CART_UPDATE_TIMEOUT_SECONDS = env_int("CART_UPDATE_TIMEOUT_SECONDS", 10)
# The inventory service sweeps expired holds on its own timer, whatever the signal traffic.
INVENTORY_SWEEP_SECONDS = env_int("INVENTORY_SWEEP_SECONDS", 60)
INVENTORY_SWEEP_PAGE_SIZE = env_int("INVENTORY_SWEEP_PAGE_SIZE", 500)
INVENTORY_CONTINUE_AS_NEW_ROUNDS = env_int("INVENTORY_CONTINUE_AS_NEW_ROUNDS", 100)

# Checkout (a later change moves these into the store-config workflow entity).
CHECKOUT_STEP_TIMEOUT_SECONDS = env_int("CHECKOUT_STEP_TIMEOUT_SECONDS", 60 * 60)
CHECKOUT_MAX_DECLINED_ATTEMPTS = env_int("CHECKOUT_MAX_DECLINED_ATTEMPTS", 5)
CHECKOUT_DECLINED_LOCKOUT_SECONDS = env_int("CHECKOUT_DECLINED_LOCKOUT_SECONDS", 30 * 60)
# How long the web waits for a checkout step's answer before saying it is queued.
CHECKOUT_UPDATE_TIMEOUT_SECONDS = env_int("CHECKOUT_UPDATE_TIMEOUT_SECONDS", 10)
SHIPPING_STANDARD_CENTS = env_int("SHIPPING_STANDARD_CENTS", 595)
SHIPPING_EXPRESS_CENTS = env_int("SHIPPING_EXPRESS_CENTS", 1495)
ORDER_APPROVAL_THRESHOLD_CENTS = env_int("ORDER_APPROVAL_THRESHOLD_CENTS", 100_000)
# An order above the threshold waits this long for staff approval, then is cancelled.
ORDER_APPROVAL_TIMEOUT_SECONDS = env_int("ORDER_APPROVAL_TIMEOUT_SECONDS", 48 * 3600)
# A delivered order stays open this long for refunds (returns); then its workflow ends.
ORDER_REFUND_WINDOW_SECONDS = env_int("ORDER_REFUND_WINDOW_SECONDS", 30 * 24 * 3600)
# How long the (simulated) processor honours an authorization; the OMS re-authorizes past it.
PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = env_int("PAYMENT_AUTHORIZATION_VALIDITY_SECONDS", 7 * 24 * 3600)

# Fulfillment. FULFILLMENT_MANUAL forces the manual strategy (staff mark each stage) for every supplier.
FULFILLMENT_MANUAL = env_bool("FULFILLMENT_MANUAL", False)
# Simulated supplier stages (seconds; 0 makes an order travel to delivered at once).
FULFILLMENT_PROCESSING_SECONDS = env_float("FULFILLMENT_PROCESSING_SECONDS", 60.0)
FULFILLMENT_SHIPPING_SECONDS = env_float("FULFILLMENT_SHIPPING_SECONDS", 60.0)
FULFILLMENT_DELIVERY_SECONDS = env_float("FULFILLMENT_DELIVERY_SECONDS", 120.0)
# The simulated dropship partner: how often it is polled, and the share of its calls that fail
# transiently (0..1; the workflow retries them).
DROPSHIP_POLL_SECONDS = env_float("DROPSHIP_POLL_SECONDS", 5.0)
DROPSHIP_FAILURE_RATE = env_float("DROPSHIP_FAILURE_RATE", 0.2, high=0.9)

SHOP_NAME = env_str("SHOP_NAME", "Heron & Co.")
# How stale a web process's copy of the store configuration may be (identity/config.py).
STORE_CONFIG_REFRESH_SECONDS = env_float("STORE_CONFIG_REFRESH_SECONDS", 5.0)
# Where the shop is reached from outside: links in emails.
SHOP_BASE_URL = env_str("SHOP_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Email (order confirmations): written as files under DATA_DIR/emails by default; EMAIL_HOST switches
# to SMTP. Order links in emails carry a signed token valid for ORDER_LINK_MAX_AGE_DAYS.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(DATA_DIR / "emails")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "shop@localhost")
ORDER_LINK_MAX_AGE_DAYS = env_int("ORDER_LINK_MAX_AGE_DAYS", 90)

# Argon2 for new passwords; the others only verify (and upgrade) hashes made before it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# django-axes first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Shopper accounts (identity/accounts.py). Sign-in pages; links in emails use SHOP_BASE_URL.
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "identity:profile"
# The email verification link's lifetime, and how often a shopper may ask for a new one.
ACCOUNT_VERIFY_LINK_MAX_AGE_HOURS = env_int("ACCOUNT_VERIFY_LINK_MAX_AGE_HOURS", 72)
ACCOUNT_VERIFY_EMAILS_PER_HOUR = env_int("ACCOUNT_VERIFY_EMAILS_PER_HOUR", 3)
# Password reset links: lifetime (Django's PASSWORD_RESET_TIMEOUT, seconds; a used link dies at once)
# and reset emails per address an hour (five times that per client address).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3 * 3600)
ACCOUNT_PASSWORD_RESETS_PER_HOUR = env_int("ACCOUNT_PASSWORD_RESETS_PER_HOUR", 3)
ACCOUNT_REGISTRATIONS_PER_HOUR = env_int("ACCOUNT_REGISTRATIONS_PER_HOUR", 20)
ACCOUNT_MAX_ADDRESSES = env_int("ACCOUNT_MAX_ADDRESSES", 10)
# django-axes: after AXES_FAILURE_LIMIT failed sign-ins for one email from one address, that pair is
# locked out for AXES_COOLOFF_MINUTES (the shop's 429 page; the password is not even checked). Counted
# in the SQL database every web process shares; `manage.py axes_reset` (or axes_reset_username)
# lifts a lockout early.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "identity.accounts.axes_username"
AXES_LOCKOUT_CALLABLE = "identity.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
# Only failures are logged (AccessAttempt); successful sign-ins are not written to a log table.
AXES_DISABLE_ACCESS_LOG = True
# No banner at every process start: operator commands print one line when a store is down.
AXES_VERBOSE = False

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

STATIC_URL = "static/"
# Served straight from the apps' static folders by WhiteNoise: no STATIC_ROOT, no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_MAX_AGE = env_int("STATIC_MAX_AGE", 3600)

# Sessions live server-side in the SQL database (Django's db backend; SQLite locally, PostgreSQL in
# docker-compose), seen by every web process: logging out deletes the row, so the old cookie no
# longer signs in or carries the cart. Not in Cassandra: the shop's pages (and their cart count) keep
# working while Cassandra is down, as they did with signed cookies. The `session-sweep` workflow drops
# expired rows.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
# The longest a session lives without a change: it must outlive an idle cart, whose id it carries.
SESSION_COOKIE_AGE = max(14 * 24 * 3600, CART_IDLE_EXPIRY_SECONDS)
# The `session-sweep` workflow deletes expired sessions and cache entries this often (no cron: the
# identity worker starts it); 0 starts none (then run `manage.py clearsessions` yourself).
SESSION_SWEEP_SECONDS = env_int("SESSION_SWEEP_SECONDS", 3600)
if SESSION_SWEEP_SECONDS and not 60 <= SESSION_SWEEP_SECONDS <= 7 * 24 * 3600:
    raise ImproperlyConfigured(f"SESSION_SWEEP_SECONDS must be 0 or 60..604800, got {SESSION_SWEEP_SECONDS}")

# One cache shared by every web and worker process: a table in the SQL database (SQLite locally,
# PostgreSQL in docker-compose), made by `manage.py migrate` (createcachetable). It holds the rate
# limit windows and the console's confirmed action ids: small, short-lived keys.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "commerce_cache",
        "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 20_000)},
    },
    # The rate limits' windows (commerce/ratelimit.py: a row per allowed request) in a table of their
    # own, so a busy API never culls the console's confirmations, nor other windows' slots, early.
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "commerce_ratelimit",
        "OPTIONS": {"MAX_ENTRIES": env_int("RATELIMIT_MAX_ENTRIES", 500_000)},
    },
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Every web and worker process writes sessions and the cache: WAL lets readers run beside the one
    # writer, and IMMEDIATE takes the write lock at BEGIN, so a busy database makes a write wait (up
    # to `timeout` seconds) instead of failing halfway through a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    })

CSRF_COOKIE_HTTPONLY = False

# DJANGO_HTTPS: the shop is served over HTTPS (directly or behind a TLS-terminating proxy). Off for
# http://127.0.0.1. It turns on redirects to HTTPS, HSTS and secure cookies together.
HTTPS = env_bool("DJANGO_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
# Load balancers probe, and Prometheus scrapes, over plain HTTP inside the network: not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# The proxy in front says which scheme the browser used; trust it only when one is there (and it
# strips this header from clients): DJANGO_PROXY_SSL_HEADER=0 when uvicorn serves TLS itself.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_PROXY_SSL_HEADER", HTTPS) else None
)
# DJANGO_SECURE_COOKIES (the older name) still works, and can turn secure cookies on without HTTPS.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# The partner API (api/, /api/v1/): requests each token may make per minute (a fixed window on the
# shared cache, counted across every web process); past it the API answers 429 with Retry-After.
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 120)
if not 1 <= API_REQUESTS_PER_MINUTE <= 10_000:
    raise ImproperlyConfigured(f"API_REQUESTS_PER_MINUTE must be 1..10000, got {API_REQUESTS_PER_MINUTE}")

# Sent on every response by commerce.middleware.ContentSecurityPolicyMiddleware. Scripts, styles,
# images and forms come from this site only; no inline scripts (the admin has none either). Style
# attributes stay allowed: colour swatches are drawn with them, and they cannot run code.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# Serving and observability (commerce/observability/, docs/architecture.md).
# `runshop` serves the web with this many uvicorn processes (1..32), each with its own Temporal client;
# the default is one per CPU core.
WEB_PROCESSES = env_int("WEB_PROCESSES", max(1, min(32, os.cpu_count() or 1)))
if not 1 <= WEB_PROCESSES <= 32:
    raise ImproperlyConfigured(f"WEB_PROCESSES must be 1..32, got {WEB_PROCESSES}")
# Where every web process writes its Prometheus samples, so /metrics adds up the whole tier. runshop
# sets a fresh directory per run; set it yourself (an empty directory, emptied at each start) when you
# run several uvicorn or gunicorn processes another way. Empty: each process reports only its own.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
# The workers' process serves the Temporal SDK's metrics at http://HOST:PORT/metrics; port 0: none.
WORKER_METRICS_HOST = env_str("WORKER_METRICS_HOST", "127.0.0.1")
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 9464)
if not 0 <= WORKER_METRICS_PORT <= 65535:
    raise ImproperlyConfigured(f"WORKER_METRICS_PORT must be 0..65535, got {WORKER_METRICS_PORT}")
# OpenTelemetry traces of requests and the workflows they start: off unless OTEL_TRACING is on. They
# go to OTLP over HTTP (where the standard OTEL_EXPORTER_OTLP_ENDPOINT says; default
# http://localhost:4318), to the console, or nowhere. Services are named <prefix>-web and
# <prefix>-workers.
OTEL_TRACING = env_bool("OTEL_TRACING", False)
OTEL_TRACES_EXPORTER = env_str("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
if OTEL_TRACES_EXPORTER not in ("otlp", "console", "none"):
    raise ImproperlyConfigured(f"OTEL_TRACES_EXPORTER must be otlp, console or none, got {OTEL_TRACES_EXPORTER!r}")
OTEL_SERVICE_NAME_PREFIX = env_str("OTEL_SERVICE_NAME_PREFIX", "commerce")
# Log lines for people (plain, the default) or one JSON object a line for a log pipeline (json), with
# workflow_id, run_id and activity_type as fields on every line that concerns a workflow.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # The Cassandra driver is chatty about reconnects; warnings are enough.
        "cassandra": {"level": "WARNING"},
        # It warns at interpreter exit that its reactor thread did not join: harmless.
        "cassandra.io.libevreactor": {"level": "ERROR"},
        "elastic_transport": {"level": "WARNING"},
    },
}
if LOG_FORMAT == "json":
    # Declared only in this mode: the filter also stops the SDK appending its details to messages.
    LOGGING["formatters"]["json"] = {"()": "commerce.observability.logs.JsonFormatter"}
    LOGGING["filters"] = {"workflow_context": {"()": "commerce.observability.logs.WorkflowContextFilter"}}
    LOGGING["handlers"]["console"] = {"class": "logging.StreamHandler", "formatter": "json",
                                      "filters": ["workflow_context"]}
    # uvicorn's own lines (startup, access log) as JSON too, instead of its coloured text handlers.
    LOGGING["loggers"].update({
        name: {"handlers": ["console"], "level": "INFO", "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    })
