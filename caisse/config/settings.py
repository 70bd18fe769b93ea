"""Django settings of Caisse.

Everything that changes between machines comes from environment variables:

- ``CAISSE_DATABASE_URL``: database (``postgres://…``); embedded SQLite ``./caisse.sqlite3`` by default.
- ``CAISSE_SECRET_KEY``: secret key. When absent, the installation's own key, created once in
  ``var/cle_secrete`` (readable by its owner only) and shared by every command and the server
  (sessions survive a restart; the SEPA references of ``claims.sepa`` stay the same from the
  back-office and from ``caisse exporter paiements``).
- ``CAISSE_DEBUG``: ``1`` for development (default ``1``, but ``caisse serve`` and ``caisse demo``
  serve with ``0`` unless it is set: French error pages, no technical detail).
- ``CAISSE_ALLOWED_HOSTS``: comma-separated host names.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw in {"1", "true", "True"}:
        return True
    if raw in {"0", "false", "False"}:
        return False
    raise ImproperlyConfigured(f"{name} doit valoir 0 ou 1, pas « {raw} ».")


DEBUG = env_bool("CAISSE_DEBUG", True)


def installation_key() -> str:
    """The installation's secret key (``var/cle_secrete``), created on first use; empty when it
    can be neither read nor written (a read-only installation must give ``CAISSE_SECRET_KEY``)."""
    import secrets

    key_file = BASE_DIR.parent / "var" / "cle_secrete"
    try:
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_urlsafe(50))
        return key_file.read_text(encoding="utf-8").strip()
    except FileExistsError:  # another process created it meanwhile
        return key_file.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


SECRET_KEY = os.environ.get("CAISSE_SECRET_KEY") or installation_key() or (
    "dev-only-insecure-key-caisse" if DEBUG else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured("CAISSE_SECRET_KEY est obligatoire : la clé de l'installation (var/cle_secrete) "
                               "ne peut être ni lue ni créée.")
ALLOWED_HOSTS = os.environ.get("CAISSE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "caisse.core",
    "caisse.accounts",
    "caisse.beneficiaries",
    "caisse.professionals",
    "caisse.rights",
    "caisse.claims",
    "caisse.allowances",
    "caisse.work_accidents",
    "caisse.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "caisse.web.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "caisse.config.urls"
WSGI_APPLICATION = "caisse.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "caisse.web.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("CAISSE_DATABASE_URL") or f"sqlite:///{Path.cwd() / 'caisse.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:  # the URL may hold a password: it is not echoed
    problem = (
        f"schéma « {DATABASE_URL.split('://', 1)[0]}:// » inconnu"
        if isinstance(exc, dj_database_url.UnknownSchemeError) and "://" in DATABASE_URL
        else "adresse mal formée"
    )
    raise ImproperlyConfigured(
        f"CAISSE_DATABASE_URL : {problem} (attendu : postgres://utilisateur:mot_de_passe@hôte:port/base "
        "ou sqlite:///chemin/vers/base.sqlite3)."
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that does not answer fails in seconds rather than after the system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "fr-fr"
# French only: a browser that asks for another language (LocaleMiddleware reads Accept-Language)
# still gets French numbers (1 832), dates and messages.
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR.parent / "var" / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
