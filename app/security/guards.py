"""Request-level guards, installed once for every page and endpoint.

- a password set by an administrator must be changed before anything else;
- a personal API token with the `read` scope cannot write;
- cookie-authenticated API writes need the CSRF header (FAB exempts its API blueprints);
- a locked workstation session answers nothing but the unlock page;
- security headers on every answer (CSP, frame-ancestors, nosniff, Referrer-Policy, HSTS).
"""
from __future__ import annotations

import secrets

from flask import g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
OPEN_ENDPOINTS = {"static", "SillageAuthView.logout", "PasswordView.change", "LockView.unlock",
                  "LockView.switch", "appbuilder.static"}
# Scripts: the application's files, and inline blocks carrying this response's nonce (FAB's and
# Flask-Admin's templates write theirs with it); never 'unsafe-inline' or 'unsafe-eval'.
CSP = ("default-src 'self'; script-src 'self'{nonce}; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def csp_nonce() -> str:
    """This response's script nonce (made on first use: a page without inline script has none)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _json_or_page(status, message, **extra):
    if request.path.startswith("/api/"):
        return jsonify(message=message, **extra), status
    return None


def init_guards(app) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce  # FAB's templates use it when defined

    @app.before_request
    def _guards():
        endpoint = request.endpoint or ""
        if endpoint in OPEN_ENDPOINTS or endpoint.endswith(".static"):
            return None
        if not current_user.is_authenticated:  # (loads the user: session, JWT or personal token)
            return None
        token = g.get("api_token")
        if token is not None:
            if token.scope == "read" and request.method not in SAFE_METHODS:
                return jsonify(message=_("Ce jeton ne permet que la lecture (portée « read »).")), 403
            return None
        if getattr(session, "sid", None) and session.get("_user_id"):
            if session.get("locked"):
                return _json_or_page(423, _("Session verrouillée.")) or redirect(url_for("LockView.unlock"))
            if session.get("must_change_password"):  # set at login; any reset ends the session
                return _json_or_page(403, _("Mot de passe à changer."), password_change_required=True) \
                    or redirect(url_for("PasswordView.change"))
            if (request.path.startswith("/api/") and request.method not in SAFE_METHODS
                    and "Authorization" not in request.headers and app.config.get("WTF_CSRF_ENABLED", True)):
                try:
                    validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"))
                except Exception:  # noqa: BLE001  (any CSRF failure is the same refusal)
                    return jsonify(message=_("Jeton CSRF manquant ou invalide (en-tête X-CSRFToken).")), 400
        return None

    @app.after_request
    def _headers(response):
        h = response.headers
        nonce = g.get("csp_nonce")
        h.setdefault("Content-Security-Policy", CSP.format(nonce=f" 'nonce-{nonce}'" if nonce else ""))
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Personal data stays out of shared and back-button caches: every page, API answer and
        # download (send_file's own "no-cache" would let a browser keep a copy), signed in by
        # cookie or by token; only the application's static assets may be cached.
        if "attachment" in h.get("Content-Disposition", "") or not request.path.startswith("/static/"):
            h["Cache-Control"] = "no-store"
        return response
