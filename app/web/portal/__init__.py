"""The portal's pages (`/portail/`): a blueprint of its own, outside FAB.

A portal session is the key `portal_account_id` of the session (with the account's
`session_stamp`, so a revoked or disabled account's sessions end); it is never a Flask-Login
user, so no staff view nor staff API opens for it (they see an anonymous visitor), and a staff
session opens no portal page (they need a portal sign-in). Every page goes through
services/portal.py `page` (access in force, right held) and is audited there as the portal
account's read; the request's own loads are not recorded a second time.
"""
from __future__ import annotations

import datetime as dt
import time

import segno
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ...extensions import db
from ...models import PortalAccount
from ...security.audit import unaudited_read
from ...security.scope import Scope
from ...domain import clock
from ...services import documents as documents_service, portal
from ...services.errors import ValidationFailed

bp = Blueprint("portail", __name__, url_prefix="/portail")
ACCOUNT, STAMP, PENDING, SIGNUP = "portal_account_id", "portal_stamp", "portal_pending", "portal_signup"


@bp.before_request
def _portal_session():
    """The portal's scope before any query: nothing, or the usagers of the account's accesses."""
    unaudited_read()  # each page records its own read, as the portal account's (services/portal.py)
    g.sillage_scope = Scope(months_after_exit=0, readable=frozenset(), writable=frozenset())
    g.portal_account = None
    account_id = session.get(ACCOUNT)
    if account_id is None:
        return None
    account = db.session.get(PortalAccount, account_id)
    if account is None or account.disabled_at is not None or session.get(STAMP) != account.session_stamp \
            or _expired():
        _forget()
        return None
    g.portal_account = account
    g.portal_actor = portal.actor_name(account)
    g.sillage_scope = portal.portal_scope(db.session, portal.account_usager_ids(db.session, account.id))
    session["portal_seen"] = int(time.time())  # (keeps the idle limit of the session moving)
    return None


def _expired() -> bool:
    """The staff sessions' limits (SILLAGE_SESSION_IDLE_MINUTES, SILLAGE_SESSION_MAX_HOURS),
    held here: a portal session is no `web_session` row (no staff user), so its signed cookie,
    re-signed at each request, would otherwise last as long as it is used."""
    now = time.time()
    idle = current_app.config["SILLAGE_SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SILLAGE_SESSION_MAX_HOURS"] * 3600
    started, seen = session.get("portal_started"), session.get("portal_seen")
    return not isinstance(started, int) or now - started > absolute or (isinstance(seen, int) and now - seen > idle)


def _forget():
    for key in (ACCOUNT, STAMP, PENDING, SIGNUP, "portal_seen", "portal_started"):
        session.pop(key, None)


def _signed_in():
    if g.portal_account is None:
        abort(redirect(url_for("portail.login")))
    return g.portal_account


def _access(usager_id, right=None):
    access = portal.page(db.session, _signed_in(), usager_id, right)
    if access is None:
        abort(404)
    return access


def _render(template, status=200, **context):
    return render_template(f"portail/{template}", account=g.portal_account, **context), status


def _begin_session(account: PortalAccount):
    """A portal sign-in starts from an empty session: a staff session in the same browser ends."""
    session.clear()
    session[ACCOUNT], session[STAMP] = account.id, account.session_stamp
    session["portal_started"] = session["portal_seen"] = int(time.time())
    g.portal_account = account


# --- signing in ------------------------------------------------------------------------------------

@bp.route("/connexion", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        account, wait = portal.authenticate(db.session, request.form.get("email", ""),
                                            request.form.get("password", ""), request.remote_addr)
        if wait:
            error = _("Trop d'essais : réessayez dans %(n)s secondes.", n=wait)
        elif account is None:
            error = _("Adresse e-mail ou mot de passe incorrect.")
        else:
            _forget()
            session[PENDING] = account.id
            if account.second_factor == "email":
                portal.start_email_code(db.session, account)
            return redirect(url_for("portail.code"))
    return _render("login.html", 401 if error else 200, title=_("Connexion à l'espace famille"), error=error,
                   added=request.args.get("ajoute") == "1")


@bp.route("/connexion/code", methods=["GET", "POST"])
def code():
    account = db.session.get(PortalAccount, session.get(PENDING) or 0)
    if account is None:
        return redirect(url_for("portail.login"))
    error = None
    if request.method == "POST":
        if portal.second_factor_ok(db.session, account, request.form.get("code", ""), request.remote_addr):
            _begin_session(account)
            return redirect(url_for("portail.home"))
        error = _("Code incorrect ou expiré.")
    return _render("code.html", 401 if error else 200, title=_("Code de connexion"), error=error,
                   by_email=account.second_factor == "email")


@bp.route("/deconnexion", methods=["POST"])
def logout():
    """Sign out: the account's sessions end everywhere (a copy of this cookie included: it is
    signed, not kept on the server, so only a new stamp makes it worthless)."""
    if g.portal_account is not None:
        portal.end_sessions(db.session, g.portal_account)
    _forget()
    session.clear()
    return redirect(url_for("portail.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token):
    g.sillage_scope = portal.portal_scope(db.session, portal.invitation_usager_ids(db.session, token))
    access = portal.invitation_for_token(db.session, token)
    if access is None:
        return _render("invitation_invalid.html", 404, title=_("Lien d'invitation invalide"))
    existing = db.session.execute(db.select(PortalAccount.id).where(PortalAccount.email == access.email)).first()
    state = session.get(SIGNUP) if isinstance(session.get(SIGNUP), dict) else {}
    if state.get("access") != access.id:
        state = {"access": access.id, "secret": portal.new_totp_secret()}
    errors, factor = {}, request.form.get("second_factor", "totp")
    if request.method == "POST":
        email_code_ok = False
        if factor == "email" and not existing:
            email_code_ok = _email_code_step(state, access.email, errors)
        if not errors:
            try:
                account = portal.accept(db.session, access, password=request.form.get("password"),
                                        confirm=request.form.get("confirm"), second_factor=factor,
                                        totp_secret=state["secret"], code=request.form.get("code"),
                                        email_code_ok=email_code_ok, remote_addr=request.remote_addr)
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                if existing:  # the password alone never signs in: the usual sign-in, with its second factor
                    _forget()
                    return redirect(url_for("portail.login", ajoute=1))
                _begin_session(account)
                return redirect(url_for("portail.dossier", usager_id=access.usager_id))
    session[SIGNUP] = state
    return _render("invitation.html", 400 if errors else 200, title=_("Créer votre accès"), access=access,
                   errors=errors, existing=bool(existing), factor=factor, **_enrolment(access.email, state))


def _email_code_step(state: dict, address: str, errors: dict) -> bool:
    """The e-mailed code as a second factor at enrolment: send one ("envoyer"), or check the
    one sent (its hash and expiry kept in the signed session state)."""
    if not portal.smtp_configured():
        return False
    if request.form.get("action") == "envoyer":
        code, code_hash, expires = portal.new_email_code()
        state.update(code_hash=code_hash, code_expires=expires.isoformat())
        portal.send_email_code(address, code)
        errors["code"] = _("Un code vient d'être envoyé à %(a)s : saisissez-le.", a=address)
        return False
    return portal.check_email_code(state.get("code_hash"), dt.datetime.fromisoformat(state["code_expires"])
                                   if state.get("code_expires") else None, request.form.get("code"))


def _enrolment(address: str, state: dict) -> dict:
    """The TOTP key to enrol (QR code and grouped text) of the state kept in the session."""
    secret = state["secret"]
    qr = Markup(segno.make(portal.provisioning_uri(address, secret), error="m")
                .svg_inline(scale=4, dark="#1a1a1a", title=_("Code QR à scanner")))
    return {"qr": qr, "secret": secret, "grouped": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
            "smtp": portal.smtp_configured()}


@bp.route("/reinitialisation/<token>", methods=["GET", "POST"])
def reset(token):
    """The recovery link the structure issued (services/portal.py `reset_account`): a new
    password and a new second factor, then signed in afresh."""
    account = portal.account_for_reset_token(db.session, token)
    if account is None:
        return _render("invitation_invalid.html", 404, title=_("Lien de réinitialisation invalide"))
    state = session.get(SIGNUP) if isinstance(session.get(SIGNUP), dict) else {}
    if state.get("account") != account.id:
        state = {"account": account.id, "secret": portal.new_totp_secret()}
    errors, factor = {}, request.form.get("second_factor", "totp")
    if request.method == "POST":
        email_code_ok = _email_code_step(state, account.email, errors) if factor == "email" else False
        if not errors:
            try:
                portal.complete_reset(db.session, account, password=request.form.get("password"),
                                      confirm=request.form.get("confirm"), second_factor=factor,
                                      totp_secret=state["secret"], code=request.form.get("code"),
                                      email_code_ok=email_code_ok)
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                _begin_session(account)
                return redirect(url_for("portail.home"))
    session[SIGNUP] = state
    return _render("reinitialisation.html", 400 if errors else 200, title=_("Réinitialiser votre accès"),
                   recovering=account, errors=errors, factor=factor, **_enrolment(account.email, state))


# --- the pages ---------------------------------------------------------------------------------

@bp.route("/")
def home():
    account = _signed_in()
    accesses = portal.active_accesses(db.session, account)
    if len(accesses) == 1:
        return redirect(url_for("portail.dossier", usager_id=accesses[0].usager_id))
    return _render("home.html", title=_("Mon espace famille"), accesses=accesses, label=portal.usager_label)


@bp.route("/<int:usager_id>/")
def dossier(usager_id):
    access = _access(usager_id)
    portal.record_view(access, "accueil", request.path)
    return _render("dossier.html", title=portal.usager_label(access), access=access, who=portal.usager_label(access),
                   documents=portal.has_documents(access))


@bp.route("/<int:usager_id>/agenda")
def agenda(usager_id):
    access = _access(usager_id, "agenda")
    start = clock.today()
    rows = portal.agenda(db.session, access, start)
    portal.record_view(access, "agenda", request.path)
    return _render("agenda.html", title=_("Agenda"), access=access, who=portal.usager_label(access), rows=rows)


@bp.route("/<int:usager_id>/projet")
def projet(usager_id):
    access = _access(usager_id, "projet")
    shown = portal.projet(db.session, access)
    portal.record_view(access, "projet", request.path)
    return _render("projet.html", title=_("Projet personnalisé"), access=access, who=portal.usager_label(access),
                   shown=shown)


@bp.route("/<int:usager_id>/projet.pdf")
def projet_pdf(usager_id):
    access = _access(usager_id, "projet")
    found = portal.projet_pdf(db.session, access)
    if found is None:
        abort(404)
    path, name = found
    portal.record_view(access, "projet_pdf", request.path)
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)


@bp.route("/<int:usager_id>/documents")
def documents(usager_id):
    access = _access(usager_id)
    if not portal.has_documents(access):
        abort(404)
    rows = portal.documents(db.session, access)
    portal.record_view(access, "documents", request.path, ids={"Document": [d.id for d in rows][:500]})
    return _render("documents.html", title=_("Documents"), access=access, who=portal.usager_label(access), rows=rows)


@bp.route("/<int:usager_id>/documents/<int:document_id>")
def document(usager_id, document_id):
    access = _access(usager_id)
    found = portal.document(db.session, access, document_id)
    version = documents_service.version_of(found) if found is not None else None
    if version is None:
        abort(404)
    try:
        path = documents_service.checked_path(version)
    except documents_service.TamperedFile:
        abort(404)
    portal.record_view(access, "document", request.path, ids={"Document": [found.id]})
    return send_file(path, mimetype=version.type_mime, as_attachment=True,
                     download_name=documents_service.download_name(found, version))


@bp.route("/<int:usager_id>/coordonnees")
def coordonnees(usager_id):
    access = _access(usager_id, "coordonnees")
    data = portal.coordonnees(db.session, access)
    portal.record_view(access, "coordonnees", request.path)
    return _render("coordonnees.html", title=_("Coordonnées"), access=access, who=portal.usager_label(access),
                   data=data)


@bp.route("/<int:usager_id>/consultations")
def consultations(usager_id):
    access = _access(usager_id, "consultations")
    rows = portal.consultations(db.session, access)
    portal.record_view(access, "consultations", request.path)
    return _render("consultations.html", title=_("Qui a ouvert le dossier"), access=access,
                   who=portal.usager_label(access), rows=rows)


@bp.route("/<int:usager_id>/messages", methods=["GET", "POST"])
def messages(usager_id):
    access = _access(usager_id, "messages")
    errors, sent = {}, False
    if request.method == "POST":
        thread_id = request.form.get("thread_id", type=int)
        if thread_id is not None and not portal.owns_thread(db.session, access, thread_id):
            abort(404)  # another account's thread (or none): a probe, traced as denied
        try:
            portal.write(db.session, access, sujet=request.form.get("sujet"), texte=request.form.get("texte"),
                         thread_id=thread_id)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            return redirect(url_for("portail.messages", usager_id=usager_id, envoye=1))
    sent = request.args.get("envoye") == "1"
    threads = portal.threads(db.session, access)
    portal.record_view(access, "messages", request.path)
    return _render("messages.html", 400 if errors else 200, title=_("Messages"), access=access,
                   who=portal.usager_label(access), threads=threads, errors=errors, sent=sent)


@bp.route("/<int:usager_id>/rgpd", methods=["GET", "POST"])
def rgpd(usager_id):
    access = _access(usager_id)
    errors, done = {}, request.args.get("envoye") == "1"
    if request.method == "POST":
        try:
            portal.rgpd_request(db.session, access, request.form.get("type"), request.form.get("texte"))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            return redirect(url_for("portail.rgpd", usager_id=usager_id, envoye=1))
    portal.record_view(access, "rgpd", request.path)
    return _render("rgpd.html", 400 if errors else 200, title=_("Vos droits sur les données"), access=access,
                   who=portal.usager_label(access), errors=errors, done=done)


def init_portal(app) -> None:
    app.register_blueprint(bp)
