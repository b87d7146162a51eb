"""Configuration classes, read from the environment. `APP_ENV` picks one: development (default),
production or testing. Production settings have no defaults for secrets and fail at start."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_list(name: str, default: str) -> list[str]:
    return [p.strip() for p in os.environ.get(name, default).split(",") if p.strip()]


def _env_by_language(prefix: str) -> dict[str, str]:
    """Settings named PREFIX<LANG>, by language tag: CRISIS_LINE_TEXT_PT_BR is "pt-br"."""
    return {
        k[len(prefix) :].lower().replace("_", "-"): v
        for k, v in os.environ.items()
        if k.startswith(prefix) and v
    }


def database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres:// URLs (as hosting platforms write them)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings shared by every environment."""

    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'ipt_groups.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")
    # Dates in an imported waitlist: ISO always, and this local format (US month first by default, as the
    # phone region; %d/%m/%Y where the day comes first; empty: ISO only).
    IMPORT_DATE_FORMAT = os.environ.get("IMPORT_DATE_FORMAT", "%m/%d/%Y")
    PORT = _env_int("PORT", 8000)  # make run's web port; sign-in links use it without PUBLIC_BASE_URL
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)  # set to 1 behind one reverse proxy
    CHECKIN_TTL_HOURS = _env_int("CHECKIN_TTL_HOURS", 48)
    # Added to the built-in lists (checkins/crisis.py), never replacing them; "es:no aguanto más" is Spanish.
    CRISIS_PHRASES = _env_list("CRISIS_PHRASES", "")
    PROGRAMME_NAME = os.environ.get("PROGRAMME_NAME", "Wellbeing Groups")
    PROGRAMME_TIMEZONE = os.environ.get("PROGRAMME_TIMEZONE", "UTC")
    # Empty: the built-in text in the reader's language (checkins/crisis.py, the US 988 line). Set, it is
    # the text for every language without its own CRISIS_LINE_TEXT_<LANG> (the right number first).
    CRISIS_LINE_TEXT = os.environ.get("CRISIS_LINE_TEXT", "")
    CRISIS_LINE_TEXTS = _env_by_language("CRISIS_LINE_TEXT_")
    # Empty: the reply to HELP is the catalogue's, in the reader's language; set, it is English readers'.
    HELP_TEXT = os.environ.get("HELP_TEXT", "")
    # Directories of catalogue files (en.toml, pt-BR.toml ...) added to the shipped ones; a later one wins.
    CATALOGUE_DIRS = [p for p in os.environ.get("CATALOGUE_DIRS", "").split(os.pathsep) if p.strip()]
    # "invitation": a check-in opens with a neutral text the member answers to begin ("first_item": item 1).
    CHECKIN_OPENING = os.environ.get("CHECKIN_OPENING", "invitation")
    ONCALL_PHONE = os.environ.get("ONCALL_PHONE", "")
    ONCALL_LANGUAGE = os.environ.get("ONCALL_LANGUAGE", "en")  # the language of texts to ONCALL_PHONE
    ESCALATE_AFTER_MINUTES = _env_int("ESCALATE_AFTER_MINUTES", 30)  # an open safety alert re-notifies
    QUIET_HOURS = os.environ.get("QUIET_HOURS", "21:00-08:00")
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
    SMS_DRILL = os.environ.get("SMS_DRILL", "0") == "1"  # production rehearsal: console SMS allowed
    # Inbound texts the database could not take, kept for replay (checkins/spool.py).
    INBOUND_SPOOL_PATH = os.environ.get(
        "INBOUND_SPOOL_PATH", str(BASE_DIR / "instance" / "inbound-spool.jsonl")
    )
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
    TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
    TWILIO_API_URL = os.environ.get("TWILIO_API_URL", "https://api.twilio.com")
    TWILIO_TIMEOUT_S = float(os.environ.get("TWILIO_TIMEOUT_S", "10"))
    SMS_RATE_PER_S = float(os.environ.get("SMS_RATE_PER_S", "10"))
    SMS_MAX_RETRIES = _env_int("SMS_MAX_RETRIES", 3)
    SMS_RETRY_BASE_S = float(os.environ.get("SMS_RETRY_BASE_S", "1.0"))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # A store that is down: the admin API counts in each worker's memory until it is back (a warning is
    # logged), and any other limiter error lets the request through; webhooks fail open (api/ratelimits.py).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # A Redis that does not answer costs each request at most this long, not the OS's TCP timeout.
    RATELIMIT_STORAGE_OPTIONS = (
        {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        if RATELIMIT_STORAGE_URI.startswith("redis")
        else {}
    )
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")  # per token
    WEBHOOK_RATE_LIMIT = os.environ.get("WEBHOOK_RATE_LIMIT", "30 per minute")  # per sending number
    COMPLETION_MIN_RATE = float(os.environ.get("COMPLETION_MIN_RATE", "0.75"))
    COMPLETION_REQUIRE_TERMINATION = os.environ.get("COMPLETION_REQUIRE_TERMINATION", "1") == "1"
    COMPLETION_LATE_COUNTS = os.environ.get("COMPLETION_LATE_COUNTS", "1") == "1"
    COMPLETION_EXCUSED_COUNTS_AS_MISSED = os.environ.get("COMPLETION_EXCUSED_COUNTS_AS_MISSED", "1") == "1"
    MISSED_YOU_TEXT = os.environ.get("MISSED_YOU_TEXT", "0") == "1"  # text members after 2 absences in a row
    # Unset outside production: one made at random once per instance (instance/calendar-feed-secret).
    CALENDAR_FEED_SECRET = os.environ.get("CALENDAR_FEED_SECRET", "")
    # The pages: the session cookie's signature, sign-in codes' keyed hashes. Required in production;
    # elsewhere, when unset, one is made once and kept in instance/secret_key.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SESSION_COOKIE_NAME = "ipt_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"  # Strict would drop the cookie when a link in a text is tapped
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    WEB_IDLE_MINUTES = _env_int("WEB_IDLE_MINUTES", 60)  # a signed-in browser left alone this long signs out
    WEB_SESSION_HOURS = _env_int("WEB_SESSION_HOURS", 12)  # and after this long whatever it does
    SIGNIN_CODE_MINUTES = _env_int("SIGNIN_CODE_MINUTES", 10)
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "10 per 10 minutes")  # per address
    # CSRF tokens are checked on every form of the pages (web/), not on the API or the webhooks; a
    # token lives as long as its session.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    SCHEDULER_TICK_SECONDS = _env_int("SCHEDULER_TICK_SECONDS", 15)
    DISPATCH_BATCH_SIZE = _env_int("DISPATCH_BATCH_SIZE", 500)
    DISPATCH_THREADS = _env_int("DISPATCH_THREADS", 4)  # parallel sends on PostgreSQL (SQLite: one)
    # The bearer token of /metrics and of /readyz's detail; unset, both refuse (never public metrics).
    MONITORING_TOKEN = os.environ.get("MONITORING_TOKEN", "")
    # Set by gunicorn.conf.py for its workers (prometheus-client reads it too): /metrics sums every worker's.
    PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    SCHEDULER_METRICS_PORT = _env_int("SCHEDULER_METRICS_PORT", 0)  # 0: the scheduler serves no metrics
    SCHEDULER_METRICS_ADDR = os.environ.get("SCHEDULER_METRICS_ADDR", "127.0.0.1")
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # text (readable) or json (one object per line)
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    API_TITLE = "ipt-groups"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Empty: the copy of swagger-ui bundled in ipt_groups/static/swagger-ui/ (its VERSION file), so the
    # docs work offline and load no script from elsewhere. Set, a base URL of another swagger-ui-dist.
    OPENAPI_SWAGGER_UI_URL = os.environ.get("OPENAPI_SWAGGER_UI_URL", "")
    # No call to the public validator: the page talks to this server only.
    OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}
    API_SPEC_OPTIONS = {
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


class DevelopmentConfig(Config):
    """The embedded default: SQLite under instance/, console SMS."""


class TestingConfig(Config):
    """The test suite: TEST_DATABASE_URL (PostgreSQL in CI) or a throw-away SQLite file."""

    TESTING = True
    API_RATE_LIMIT = WEBHOOK_RATE_LIMIT = "100000 per minute"  # tests that need a limit lower it
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("TEST_DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'test.sqlite3'}")
    )
    SMS_BACKEND = "console"
    TWILIO_API_URL = "http://127.0.0.1:9"  # never the real Twilio, even by mistake
    SECRET_KEY = "testing-only-secret-key"
    SIGNIN_RATE_LIMIT = "100000 per minute"
    CALENDAR_FEED_SECRET = "test-calendar-feed-secret"  # no file written under instance/ by the suite


class ProductionConfig(Config):
    """Production: DATABASE_URL is required, and Twilio must be fully configured when chosen."""

    ENV_NAME = "production"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL", ""))
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "twilio")
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"  # behind TLS
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_for(env: str | None = None) -> type[Config]:
    """The config class for APP_ENV (or `env`)."""
    name = env or os.environ.get("APP_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV={name!r} is not one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
