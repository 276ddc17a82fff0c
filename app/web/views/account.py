""""Mon compte": change one's password (current one required), recovery codes, API tokens."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...domain.passwords import RULE, password_problems
from ...extensions import db
from ...models import ApiToken
from ...models.base import utcnow
from ...security import auth
from ...security.audit import record_event
from ...security.sessions import end_user_sessions
from ...services import drafts
from ..base import local_path, login_required

TOKEN_DAYS = (30, 90, 180, 365)


def _render(template, **context):
    ab = current_app.appbuilder
    return render_template(template, appbuilder=ab, base_template=ab.base_template, **context)


class PasswordView(BaseView):
    route_base = "/compte"
    default_view = "change"

    @expose("/mot-de-passe", methods=["GET", "POST"])
    @login_required
    def change(self):
        user = current_user
        errors = {}
        row = db.session.get(auth.UserSecurity, user.id)
        forced = bool(row and row.must_change_password)
        if request.method == "POST":
            current = request.form.get("current", "")
            new, confirm = request.form.get("password", ""), request.form.get("confirm", "")
            correct, wait = auth.check_own_password(user, current, request.remote_addr, "changement de mot de passe")
            if wait:
                errors["current"] = _("Trop d'essais : réessayez dans %(n)s secondes.", n=wait)
            elif not correct:
                errors["current"] = _("Le mot de passe actuel est incorrect.")
            problems = password_problems(new, current_app.config["SILLAGE_PASSWORD_MIN_LENGTH"],
                                         (user.username, user.first_name, user.last_name, user.email))
            if problems:
                errors["password"] = problems[0]
            elif new != confirm:
                errors["confirm"] = _("Les deux saisies ne sont pas identiques.")
            elif new == current:
                errors["password"] = _("Le nouveau mot de passe doit être différent de l'actuel.")
            if not errors:
                current_app.appbuilder.sm.set_password(user, new)
                end_user_sessions(user.id, keep_sid=session.sid)
                session.pop("must_change_password", None)
                session.rotate()
                flash(_("Mot de passe modifié. Vos autres sessions ont été fermées."), "success")
                return redirect("/")
        return _render("auth/password.html", title=_("Changer mon mot de passe"), errors=errors, forced=forced,
                       rule=RULE % {"n": current_app.config["SILLAGE_PASSWORD_MIN_LENGTH"]}), (422 if errors else 200)


class AccountView(BaseView):
    route_base = "/compte"
    default_view = "index"

    @expose("/")
    @login_required
    def index(self):
        tokens = db.session.execute(select(ApiToken).where(ApiToken.user_id == current_user.id)
                                    .order_by(ApiToken.created_at.desc())).scalars().all()
        row = db.session.get(auth.UserSecurity, current_user.id)
        days = current_app.config["SILLAGE_DRAFT_DAYS"]
        return _render("auth/account.html", title=_("Mon compte"), tokens=tokens, security=row,
                       drafts=drafts.of_user(db.session, current_user.id, days), draft_days=days,
                       now=utcnow(), token_days=TOKEN_DAYS, new_token=session.pop("new_token", None),
                       codes=session.pop("new_codes", None))

    @expose("/jetons", methods=["POST"])
    @login_required
    def create_token(self):
        name = (request.form.get("name") or "").strip()[:100]
        scope = request.form.get("scope")
        try:
            days = int(request.form.get("days", "90"))
        except ValueError:
            days = 0
        if not name or scope not in ("read", "write") or days not in TOKEN_DAYS:
            flash(_("Jeton non créé : donnez un nom, une portée et une durée proposée."), "danger")
            return redirect(url_for(".index"))
        # a token outlives the session: it is made only with both factors, given again now
        correct, wait = auth.check_own_password(current_user, request.form.get("password", ""), request.remote_addr,
                                                "création de jeton")
        if not correct:
            flash(_("Trop d'essais : réessayez dans %(n)s secondes.", n=wait) if wait
                  else _("Jeton non créé : mot de passe incorrect."), "danger")
            return redirect(url_for(".index"))
        if auth.mfa_enrolled(current_user) and not auth.check_second_factor(current_user,
                                                                          (request.form.get("code") or "")[:40]):
            record_event("mfa_failed", details={"motif": "création de jeton"})
            flash(_("Jeton non créé : code de double authentification incorrect."), "danger")
            return redirect(url_for(".index"))
        raw = auth.create_token(current_user, scope, days, name, current_user.id)
        record_event("token_created", entity="ApiToken", details={"nom": name, "portee": scope, "jours": days})
        session["new_token"] = raw
        return redirect(url_for(".index"))

    @expose("/jetons/<int:token_id>/revoquer", methods=["POST"])
    @login_required
    def revoke_token(self, token_id):
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != current_user.id:
            return redirect(url_for(".index"))
        auth.revoke_token(token)
        record_event("token_revoked", entity="ApiToken", entity_id=token.id)
        flash(_("Jeton révoqué."), "success")
        return redirect(url_for(".index"))

    @expose("/codes-de-secours", methods=["POST"])
    @login_required
    def new_codes(self):
        if not auth.mfa_enrolled(current_user):
            return redirect(url_for(".index"))
        session["new_codes"] = auth.new_recovery_codes(current_user.id)
        db.session.commit()
        record_event("mfa_recovery_codes_renewed")
        return redirect(url_for(".index"))


class LockView(BaseView):
    """Quick lock for a shared workstation: the page is hidden at once (script) and the session
    answers nothing else until the same user gives their password back."""

    route_base = "/verrou"
    default_view = "lock"

    @expose("/", methods=["POST"])
    @login_required
    def lock(self):
        session["locked"] = True
        record_event("session_locked")
        if request.accept_mimetypes.best == "application/json":
            return {"locked": True}
        return redirect(url_for(".unlock"))

    @expose("/deverrouiller", methods=["GET", "POST"])
    @login_required
    def unlock(self):
        error = None
        if request.method == "POST":
            correct, wait = auth.check_own_password(current_user, request.form.get("password", ""), request.remote_addr,
                                                    "déverrouillage")
            if correct:
                session.pop("locked", None)
                record_event("session_unlocked")
                if request.accept_mimetypes.best == "application/json":
                    return {"locked": False}
                return redirect(local_path(request.args.get("next")))
            error = _("Trop d'essais : réessayez dans %(n)s secondes.", n=wait) if wait else _("Mot de passe incorrect.")
            if request.accept_mimetypes.best == "application/json":
                return {"locked": True, "message": error}, 401
        return _render("auth/locked.html", title=_("Session verrouillée"), error=error), (401 if error else 423)


class LanguageView(BaseView):
    """The language menu: the choice is kept in the session and the user stays on the page they
    chose it on (FAB's own view sent them to the last list page it had recorded)."""

    route_base = "/langue"

    @expose("/<lang>")
    def choose(self, lang):
        if lang not in current_app.config["LANGUAGES"]:
            return redirect(local_path(request.args.get("next")))
        session["locale"] = lang
        return redirect(local_path(request.args.get("next")))
