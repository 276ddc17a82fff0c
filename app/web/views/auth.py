"""Sign-in in two steps (password, then second factor or enrolment), password change, logout.

The rules live in `app/security/auth.py`; these views only carry them to the browser. The
Flask-Login session exists only once both factors passed; between the two steps the session
holds a short-lived "pending" marker, never a signed-in user.
"""
from __future__ import annotations

import time

import segno
from flask import current_app, redirect, render_template, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.views import AuthDBView
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from ...extensions import db
from ..base import local_path
from ...security import auth
from ...security.audit import record_event
from ...security.sessions import end_user_sessions, purge_expired

PENDING_SECONDS = 300


def _render(template, **context):
    ab = current_app.appbuilder
    return render_template(template, appbuilder=ab, base_template=ab.base_template, **context)


def _wait_message(seconds: int) -> str:
    return _("Trop de tentatives : réessayez dans %(s)s secondes.", s=seconds)


def _pending_user():
    pending = session.get("mfa_pending")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = current_app.appbuilder.sm.load_user(pending["uid"])
    return user


def complete_login(user, method: str):
    """Both factors passed: a new session id, the user signed in, the event in the trail."""
    next_url = (session.get("mfa_pending") or {}).get("next") or session.get("login_next") or "/"
    session.clear()
    session.rotate()
    login_user(user, remember=False)
    session["login_method"] = method
    auth.clear_failures(user.username, request.remote_addr)
    record_event("login", user_id=user.id, username=user.username, details={"methode": method})
    purge_expired(current_app)
    row = db.session.get(auth.UserSecurity, user.id)
    if row is not None and row.must_change_password:
        session["must_change_password"] = True
        return redirect(url_for("PasswordView.change"))
    return redirect(local_path(next_url))


class SillageAuthView(AuthDBView):
    login_template = "auth/login.html"

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if current_user.is_authenticated:
            return redirect(local_path(request.args.get("next")))
        error = None
        if request.method == "POST":
            username = (request.form.get("username") or "").strip()
            result = auth.authenticate(username, request.form.get("password") or "", request.remote_addr)
            if result.user is None:
                error = _wait_message(result.wait_seconds) if result.wait_seconds else \
                    _("Identifiant ou mot de passe incorrect.")
            else:
                next_url = local_path(request.args.get("next", "/"))
                user = result.user
                if not auth.mfa_required(user):
                    session["login_next"] = next_url
                    return complete_login(user, "password")
                session.clear()
                session.rotate()
                session["mfa_pending"] = {"uid": user.id, "next": next_url, "at": time.time()}
                if auth.mfa_enrolled(user):
                    return redirect(url_for(".second_factor"))
                return redirect(url_for(".enrol"))
        return _render(self.login_template, title=_("Connexion"), error=error), (401 if error else 200)

    @expose("/login/code", methods=["GET", "POST"])
    def second_factor(self):
        user = _pending_user()
        if user is None or not auth.mfa_enrolled(user):
            return redirect(url_for(".login"))
        error = None
        if request.method == "POST":
            wait = auth.throttled_for(user.username, request.remote_addr)
            method = None if wait else auth.check_second_factor(user, request.form.get("code", ""))
            if method:
                return complete_login(user, method)
            if not wait:
                auth.register_failure(user.username, request.remote_addr)
                record_event("mfa_failed", user_id=user.id, username=user.username)
            error = _wait_message(wait) if wait else _("Code incorrect ou déjà utilisé.")
        return _render("auth/second_factor.html", title=_("Second facteur"), error=error), (401 if error else 200)

    @expose("/login/enrolement", methods=["GET", "POST"])
    def enrol(self):
        user = _pending_user()
        if user is None or auth.mfa_enrolled(user):
            return redirect(url_for(".login"))
        row = db.session.get(auth.UserSecurity, user.id)
        error = None
        if request.method == "POST" and row and row.totp_secret:
            codes = auth.confirm_enrolment(user, request.form.get("code", ""))
            if codes:
                response = complete_login(user, "totp")
                return _render("auth/recovery_codes.html", title=_("Codes de secours"), codes=codes,
                               next_url=response.location)
            error = _("Code incorrect : vérifiez l'heure de votre téléphone et saisissez le code affiché.")
            secret = row.totp_secret
        else:
            secret = auth.start_enrolment(user)
        uri = auth.provisioning_uri(user, secret)
        qr = Markup(segno.make(uri, error="m").svg_inline(scale=4, dark="#1a1a1a"))
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        return _render("auth/enrol.html", title=_("Activer la double authentification"), qr=qr,
                       secret=secret, grouped=grouped, error=error, username=user.username), (401 if error else 200)

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        """A POST ends the session (with its CSRF token): a link or an image on another site
        cannot. A GET only asks."""
        if request.method == "GET":
            if not current_user.is_authenticated:
                return redirect(url_for(".login"))
            return _render("auth/logout.html", title=_("Se déconnecter"))
        user_id = current_user.id if current_user.is_authenticated else None
        username = current_user.username if user_id else None
        logout_user()
        session.clear()
        if user_id:
            end_user_sessions(user_id)
            record_event("logout", user_id=user_id, username=username)
        return redirect(url_for(".login"))
