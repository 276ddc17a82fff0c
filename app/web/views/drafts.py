"""/brouillons/: the signed-in user's form drafts, autosaved by the browser (static/sillage.js).

JSON in and out; cookie session with the CSRF header like every other write. A draft is the
user's own: there is no id to guess, every query is by the user's id.
"""
from __future__ import annotations

import functools

from flask import current_app, g, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import db
from ...security.audit import unaudited_read
from ...services import drafts
from ...services.errors import ValidationFailed


def signed_in(view):
    """JSON callers get 401, not the login page. An autosave is not a consultation."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return jsonify(message=_("Connexion requise.")), 401
        unaudited_read()
        return view(*args, **kwargs)

    return wrapped


def _max_days() -> int:
    return current_app.config["SILLAGE_DRAFT_DAYS"]


class DraftView(BaseView):
    route_base = "/brouillons"
    default_view = "index"

    @expose("/", methods=["GET"])
    @signed_in
    def index(self):
        page = request.args.get("page")
        found = drafts.of_user(db.session, g.user.id, _max_days(), page=page[:300] if page else None)
        return jsonify(drafts=[drafts.as_json(d) for d in found])

    @expose("/", methods=["PUT"])
    @signed_in
    def save(self):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(message=_("Corps JSON attendu.")), 400
        try:
            draft = drafts.save(db.session, g.user.id, body.get("page"), body.get("form"), body.get("data"),
                                body.get("label"))
        except ValidationFailed as exc:
            db.session.rollback()
            return jsonify(message=_("Brouillon refusé."), errors=exc.errors), 422
        except LookupError:
            db.session.rollback()
            return jsonify(message=_("Cette page n'existe pas, ou vous n'y avez pas accès.")), 404
        return jsonify(saved_at=draft.updated_at.isoformat(timespec="seconds") + "Z")

    @expose("/", methods=["DELETE"])
    @signed_in
    def discard(self):
        body = request.get_json(silent=True) or {}
        page, key = body.get("page"), body.get("form")
        if not isinstance(page, str) or not isinstance(key, str):
            return jsonify(message=_("Indiquez la page et le formulaire.")), 400
        drafts.discard(db.session, g.user.id, page[:300], key[:100])
        return "", 204


def init_drafts(app):
    @app.after_request
    def _discard_saved_draft(response):
        """A form posted with its draft marker and answered by a redirect (saved, per the
        post/redirect/get pattern of every Sillage form) no longer needs its draft."""
        if request.method != "POST" or not 300 <= response.status_code < 400:
            return response
        marker = request.form.get("_draft", "") if request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data") else ""
        page, _sep, key = marker.partition(" ")
        user = g.get("user")
        if page and key and user is not None and getattr(user, "is_authenticated", False):
            try:
                drafts.discard(db.session, user.id, page[:300], key[:100])
            except Exception:  # the form is saved; a leftover draft is only offered again
                db.session.rollback()
                current_app.logger.exception("draft not discarded")
        return response
