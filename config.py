"""Sillage configuration, read from the environment with defaults that work on one laptop.

Everything secret or deployment-specific comes from the environment; nothing secret is committed.
"""
import json
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("SILLAGE_INSTANCE_DIR", BASE_DIR / "instance"))


def _secret_key() -> str:
    """Use SECRET_KEY if given, else a key generated once into instance/ (never committed)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'sillage.db'}")
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url[len("postgres://"):]
    return url


def _check_password(password: str) -> None:
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    from app.domain.passwords import password_problems

    problems = password_problems(password, Config.SILLAGE_PASSWORD_MIN_LENGTH)
    if problems:
        raise PasswordComplexityValidationError(problems[0])


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SILLAGE_DATA_DIR = os.environ.get("SILLAGE_DATA_DIR", str(INSTANCE_DIR / "data"))
    # A user keeps seeing an usager for this many months after the admission ended.
    SILLAGE_SCOPE_MONTHS_AFTER_EXIT = int(os.environ.get("SILLAGE_SCOPE_MONTHS_AFTER_EXIT", "6"))
    # Roles whose members see every établissement of the organisation.
    SILLAGE_ORG_WIDE_ROLES = ("Administrateur", "Direction", "DPO")
    SILLAGE_PAGE_SIZE = 25
    # SQLite: the usager search reads the FTS5 trigram table (migration 0029); "0": LIKE over every
    # row, only to measure what the index saves (bench/search.py). PostgreSQL's index needs no switch.
    SILLAGE_SEARCH_INDEX = os.environ.get("SILLAGE_SEARCH_INDEX", "1") == "1"
    # GMP: an AGGIR older than this is still counted, and listed as to be renewed.
    # The address users reach Sillage at (e.g. https://dui.example.org): FHIR canonical URLs; if
    # empty, the host of the request.
    SILLAGE_PUBLIC_URL = os.environ.get("SILLAGE_PUBLIC_URL", "")
    # Times are stored in UTC and shown in this zone (pages, exports, PDFs).
    SILLAGE_TIMEZONE = os.environ.get("SILLAGE_TIMEZONE", "Europe/Paris")
    SILLAGE_GMP_MAX_AGE_MONTHS = int(os.environ.get("SILLAGE_GMP_MAX_AGE_MONTHS", "12"))
    # Days before the end of an aide's rights (APA, PCH, aide sociale…) when it appears on the work list.
    SILLAGE_AIDE_RENEWAL_DAYS = int(os.environ.get("SILLAGE_AIDE_RENEWAL_DAYS", "90"))
    # Badges of the usager banner: the latest result `key` of a form family, as "family:key:Label"
    # separated by commas (e.g. "aggir:gir:GIR"); shown only to who may read that result.
    SILLAGE_BANNER_BADGES = [dict(zip(("family", "key", "label"), item.strip().split(":", 2)))
                             for item in os.environ.get("SILLAGE_BANNER_BADGES", "aggir:gir:GIR").split(",")
                             if item.count(":") == 2]
    # Identity vigilance: a new dossier resembling a person known in an établissement its author
    # cannot see is created, and a request goes to the identity referent (Direction); "0": not checked.
    SILLAGE_CROSS_ETABLISSEMENT_DUPLICATES = os.environ.get("SILLAGE_CROSS_ETABLISSEMENT_DUPLICATES", "1") == "1"
    # Transmissions: their author corrects one within this delay (the previous text is kept); after
    # it only an addendum. "À lire" lists what is new in the user's services over this many days.
    SILLAGE_TRANSMISSION_CORRECTION_MINUTES = int(os.environ.get("SILLAGE_TRANSMISSION_CORRECTION_MINUTES", "60"))
    SILLAGE_TRANSMISSION_UNREAD_DAYS = int(os.environ.get("SILLAGE_TRANSMISSION_UNREAD_DAYS", "14"))
    # Calendar feeds (ICS) read by phones: minimal by default (a generic title, the person's
    # initials, no place or notes of a health category); "1" puts what the user reads in them.
    SILLAGE_ICS_DETAIL = os.environ.get("SILLAGE_ICS_DETAIL", "0") == "1"
    SILLAGE_ICS_DAYS_BEFORE = int(os.environ.get("SILLAGE_ICS_DAYS_BEFORE", "31"))
    SILLAGE_ICS_DAYS_AFTER = int(os.environ.get("SILLAGE_ICS_DAYS_AFTER", "366"))
    SILLAGE_ALLOW_MACRO_DOCUMENTS = os.environ.get("SILLAGE_ALLOW_MACRO_DOCUMENTS", "0") == "1"
    # Internal messaging: threads whose last message is older than this many days are deleted by
    # `flask sillage messages purge` (0: kept). E-mail notice of a new message ("Vous avez un
    # message dans Sillage", nothing else) only when SILLAGE_SMTP_HOST is set.
    SILLAGE_MESSAGE_RETENTION_DAYS = int(os.environ.get("SILLAGE_MESSAGE_RETENTION_DAYS", "730"))
    SILLAGE_SMTP_HOST = os.environ.get("SILLAGE_SMTP_HOST") or None
    SILLAGE_SMTP_PORT = int(os.environ.get("SILLAGE_SMTP_PORT", "25"))
    SILLAGE_SMTP_USER = os.environ.get("SILLAGE_SMTP_USER") or None
    SILLAGE_SMTP_PASSWORD = os.environ.get("SILLAGE_SMTP_PASSWORD") or None
    SILLAGE_SMTP_STARTTLS = os.environ.get("SILLAGE_SMTP_STARTTLS", "0") == "1"
    SILLAGE_SMTP_FROM = os.environ.get("SILLAGE_SMTP_FROM", "sillage@localhost")
    # Portal for usagers and families (/portail/): days an invitation link stays valid; parents'
    # access ends when the child comes of age (1, default); staff names shown in "who opened the
    # dossier" (0, default: service and role only); categories of the shared secret a portal user
    # may read (an agenda entry of another category shows "Rendez-vous" and the time).
    SILLAGE_PORTAIL_LIEN_JOURS = int(os.environ.get("SILLAGE_PORTAIL_LIEN_JOURS", "7"))
    SILLAGE_PORTAIL_FIN_MAJORITE = os.environ.get("SILLAGE_PORTAIL_FIN_MAJORITE", "1") == "1"
    SILLAGE_PORTAIL_NOMS_PERSONNEL = os.environ.get("SILLAGE_PORTAIL_NOMS_PERSONNEL", "0") == "1"
    SILLAGE_PORTAIL_CATEGORIES = tuple(c for c in os.environ.get(
        "SILLAGE_PORTAIL_CATEGORIES", "administratif,social_educatif").split(",") if c)
    # Public address of Sillage, for the invitation links (empty: the address of the request).
    SILLAGE_PUBLIC_URL = os.environ.get("SILLAGE_PUBLIC_URL", "").rstrip("/")
    # Largest file accepted by the one upload path (services/attachments.py); beyond: refused (413).
    SILLAGE_UPLOAD_MAX_BYTES = int(os.environ.get("SILLAGE_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
    # clamd's socket ("/run/clamav/clamd.ctl" or "host:3310"): every upload scanned; unset: no scan.
    SILLAGE_CLAMD_SOCKET = os.environ.get("SILLAGE_CLAMD_SOCKET", "")

    # Security (issue 5): second factor, sessions, throttling, passwords, audit
    SILLAGE_MFA_REQUIRED = os.environ.get("SILLAGE_MFA_REQUIRED", "1") == "1"
    SILLAGE_MFA_EXEMPT_ROLES = tuple(r for r in os.environ.get("SILLAGE_MFA_EXEMPT_ROLES", "").split(",") if r)
    SILLAGE_SESSION_IDLE_MINUTES = int(os.environ.get("SILLAGE_SESSION_IDLE_MINUTES", "30"))
    SILLAGE_SESSION_MAX_HOURS = int(os.environ.get("SILLAGE_SESSION_MAX_HOURS", "12"))
    # Sign-in throttle, counted in the database (login_throttle): every worker and every app
    # server sees the same counts, with no Redis nor in-process counter.
    SILLAGE_LOGIN_FREE_ATTEMPTS = int(os.environ.get("SILLAGE_LOGIN_FREE_ATTEMPTS", "3"))  # then 1 s, 2 s, 4 s…
    SILLAGE_LOGIN_LOCK_AFTER = int(os.environ.get("SILLAGE_LOGIN_LOCK_AFTER", "10"))  # failures in 15 min that lock
    SILLAGE_LOGIN_LOCK_MINUTES = int(os.environ.get("SILLAGE_LOGIN_LOCK_MINUTES", "15"))
    SILLAGE_PASSWORD_MIN_LENGTH = int(os.environ.get("SILLAGE_PASSWORD_MIN_LENGTH", "12"))
    SILLAGE_AUDIT_KEY = os.environ.get("SILLAGE_AUDIT_KEY")  # default: derived from SECRET_KEY
    # The chain's end, signed after each commit in a file outside the database (audit_anchor.py).
    SILLAGE_AUDIT_ANCHOR = os.environ.get("SILLAGE_AUDIT_ANCHOR", str(INSTANCE_DIR / "audit-anchor.log"))
    SILLAGE_AUDIT_READS = os.environ.get("SILLAGE_AUDIT_READS", "1") == "1"  # "0" only to measure its cost
    SILLAGE_EMERGENCY_HOURS = int(os.environ.get("SILLAGE_EMERGENCY_HOURS", "4"))
    # Unsaved form drafts are kept this many days for their author, then purged.
    # Projet personnalisé: first PP within 6 months of admission (the avenant, CASF D311), revised
    # yearly; per établissement category: {"EHPAD": {"premier": 6, "revision": 12}} (JSON).
    SILLAGE_PP_FIRST_MONTHS = int(os.environ.get("SILLAGE_PP_FIRST_MONTHS", "6"))
    SILLAGE_PP_REVISION_MONTHS = int(os.environ.get("SILLAGE_PP_REVISION_MONTHS", "12"))
    SILLAGE_PP_DELAYS = json.loads(os.environ.get("SILLAGE_PP_DELAYS", "{}"))
    SILLAGE_DRAFT_DAYS = int(os.environ.get("SILLAGE_DRAFT_DAYS", "30"))
    SILLAGE_AUDIT_RETENTION_DAYS = int(os.environ.get("SILLAGE_AUDIT_RETENTION_DAYS", "365"))
    SESSION_COOKIE_NAME = "sillage_session"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"  # else: when HTTPS

    # Flask-AppBuilder
    APP_NAME = "Sillage"
    APP_THEME = ""
    FAB_BASE_TEMPLATE = "sillage/base.html"
    FAB_INDEX_VIEW = "app.web.views.home.HomeView"
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.SillageSecurityManager"
    FAB_CREATE_DB = False  # Alembic owns the schema
    FAB_UPDATE_PERMS = False  # permissions are created by `flask sillage init`
    FAB_ADD_SECURITY_API = False  # FAB #2466: we expose only what goes through our scope rules
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100
    FAB_ROLES_MAPPING = {}
    AUTH_TYPE = 1  # AUTH_DB
    AUTH_ROLE_ADMIN = "Administrateur"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    # FAB's limiter counts by address only (behind a proxy: one address for the whole office) and
    # answers 429 to everyone: Sillage's own throttle (app/security/auth.py) keys by account and
    # address instead.
    AUTH_RATE_LIMITED = False
    RATELIMIT_ENABLED = False
    # Trusted reverse proxies in front (nginx: 1): their X-Forwarded-For / -Proto / -Host give the
    # client's real address to the throttle and the audit trail. 0: none (direct, the default).
    SILLAGE_PROXY_COUNT = int(os.environ.get("SILLAGE_PROXY_COUNT", "0"))
    FAB_PASSWORD_COMPLEXITY_ENABLED = True  # FAB's user forms use our rule (app.domain.passwords)
    FAB_PASSWORD_COMPLEXITY_VALIDATOR = staticmethod(lambda password: _check_password(password))
    JWT_ACCESS_TOKEN_EXPIRES = 3600

    # Flask-Babel: French first, English second
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_FOLDER = str(BASE_DIR / "translations")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {"fr": {"flag": "fr", "name": "Français"}, "en": {"flag": "gb", "name": "English"}}

    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
