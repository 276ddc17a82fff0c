"""`POST /api/v1/security/login`: the API's door, with the same throttle and second factor as
the login form. A JWT carries the id of a server-side session (`sid`), so logout, a password
change or a second-factor reset revoke it like a browser session."""
from __future__ import annotations

from flask import current_app, request
from flask_appbuilder.api import safe
from flask_babel import gettext as _
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.views import expose
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt, get_jwt_identity, jwt_required

from ...extensions import db
from ...security import auth
from ...security.audit import record_event
from ...security.sessions import api_session_alive, open_api_session


class SillageSecurityApi(SecurityApi):
    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Sign in and get a JWT.
        ---
        post:
          description: >-
            Password and, for an account with a second factor, the current TOTP code (or a
            recovery code). Without a valid code the answer is 401 with `mfa_required: true`.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password]
                  properties:
                    username: {type: string}
                    password: {type: string}
                    provider: {type: string, enum: [db]}
                    totp: {type: string, description: TOTP code or recovery code}
                    refresh: {type: boolean}
          responses:
            200:
              description: Signed in
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token: {type: string}
                      refresh_token: {type: string}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
        """
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        username, password = payload.get("username"), payload.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            return self.response_400(message=_("« username » et « password » (textes) sont obligatoires."))
        if payload.get("provider", "db") != "db":
            return self.response_400(message=_("Seul le fournisseur « db » est proposé."))
        totp = payload.get("totp")
        if totp is not None and not isinstance(totp, str):
            return self.response_400(message=_("« totp » doit être un texte."))
        result = auth.authenticate(username, password, request.remote_addr)
        if result.user is None:
            if result.wait_seconds:
                return self.response(429, message=_("Trop de tentatives."), retry_after=result.wait_seconds)
            return self.response(401, message=_("Identifiant ou mot de passe incorrect."))
        user = result.user
        method = "password"
        if auth.mfa_required(user):
            if not auth.mfa_enrolled(user):
                return self.response(401, message=_("Double authentification à activer d'abord par l'interface web."),
                                     mfa_required=True, enrolment_required=True)
            if not totp:
                return self.response(401, message=_("Code de double authentification requis."), mfa_required=True)
            wait = auth.throttled_for(user.username, request.remote_addr)
            method = None if wait else auth.check_second_factor(user, totp)
            if method is None:
                if not wait:
                    auth.register_failure(user.username, request.remote_addr)
                    record_event("mfa_failed", user_id=user.id, username=user.username, details={"api": True})
                return self.response(401, message=_("Code de double authentification invalide."), mfa_required=True)
        row = db.session.get(auth.UserSecurity, user.id)
        if row is not None and row.must_change_password:
            return self.response(403, message=_("Mot de passe à changer d'abord par l'interface web."),
                                 password_change_required=True)
        auth.clear_failures(user.username, request.remote_addr)
        sid = open_api_session(user.id)
        record_event("login", user_id=user.id, username=user.username, details={"methode": method, "api": True})
        response = {"access_token": create_access_token(identity=str(user.id), fresh=True,
                                                        additional_claims={"sid": sid})}
        if payload.get("refresh"):
            response["refresh_token"] = create_refresh_token(identity=str(user.id), additional_claims={"sid": sid})
        return self.response(200, **response)

    @expose("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    @safe
    def refresh(self):
        """A new access token for the same server-side session.
        ---
        post:
          responses:
            200:
              description: Refreshed
            401:
              $ref: '#/components/responses/401'
        """
        sid = get_jwt().get("sid")
        if not api_session_alive(sid, current_app):
            return self.response(401, message=_("Session terminée."))
        return self.response(200, access_token=create_access_token(
            identity=get_jwt_identity(), fresh=False, additional_claims={"sid": sid}))
