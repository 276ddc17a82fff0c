"""`/api/v1/usager/<id>/portail/invitations`: invite a contact of the usager's foyer (or the
usager themself) to the portal, list the accesses, revoke one — the path and fields issue 19 §4
spells, through services/portal.py. Scoped: another établissement's usager is a 404."""
from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...models import PortalAccess, Usager
from ...services import portal
from .base import json_body, service_errors

FIELDS = ("contact_id", "email", "droits", "expire_le")


def base_url() -> str:
    from flask import current_app

    return current_app.config.get("SILLAGE_PUBLIC_URL") or request.host_url.rstrip("/")


class PortalInvitationApi(BaseApi):
    route_base = "/api/v1/usager"
    resource_name = "usager"
    class_permission_name = "Portail"
    method_permission_name = {"list_invitations": "read", "create_invitation": "write", "revoke_invitation": "write",
                              "reset_account": "write", "disable_account": "write", "enable_account": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Portail"

    @expose("/<int:pk>/portail/invitations", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_invitations")
    def list_invitations(self, pk):
        """The usager's portal invitations and accesses, newest first (`statut`: invite,
        lien_expire, actif, revoque, termine — with `motif_fin`).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: "{count, result}"}
            404: {$ref: '#/components/responses/404'}
        """
        if db.session.get(Usager, pk) is None:
            return self.response_404()
        result = [portal.as_dict(a) for a in portal.accesses_of(db.session, pk)]
        return self.response(200, count=len(result), result=result)

    @expose("/<int:pk>/portail/invitations", methods=["POST"])
    @protect()
    @safe
    @permission_name("create_invitation")
    @service_errors
    def create_invitation(self, pk):
        """Invite: `{"contact_id": id of a contact of the usager's foyer, or null for the usager
        themself, "droits": ["agenda", "projet", "documents:<type_code>", "messages",
        "consultations", "coordonnees"], "expire_le"?: "AAAA-MM-JJ" (end of the access), "email"?:
        address (default: the contact's, or the usager's)}` → 201 `{"id", "url"}` (the one-use link,
        shown once).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            201: {description: "{id, url}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        usager = db.session.get(Usager, pk)
        if usager is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        errors = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k not in FIELDS}
        if "contact_id" not in payload:
            errors["contact_id"] = [_("Champ obligatoire (null pour inviter la personne elle-même).")]
        if "droits" not in payload:
            errors["droits"] = [_("Champ obligatoire.")]
        if errors:
            return self.response_422(message=errors)
        access, url = portal.invite(db.session, usager=usager, contact_id=payload.get("contact_id"),
                                    email=payload.get("email"), droits=payload.get("droits"),
                                    expire_le=payload.get("expire_le"), invited_by_id=g.user.id, base_url=base_url())
        return self.response(201, id=access.id, url=url)

    @expose("/<int:pk>/portail/invitations/<int:access_id>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("revoke_invitation")
    def revoke_invitation(self, pk, access_id):
        """Revoke an invitation or an access (at once: the link and the portal pages stop).
        ---
        delete:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: access_id, schema: {type: integer}}
          responses:
            200: {description: "{result}"}
            404: {$ref: '#/components/responses/404'}
        """
        access = db.session.get(PortalAccess, access_id)
        if access is None or access.usager_id != pk:
            return self.response_404()
        portal.revoke(db.session, access, g.user.id)
        return self.response(200, result=portal.as_dict(access))

    def _access(self, pk, access_id):
        """The access, through the usager's scope (another établissement's: None, a 404)."""
        access = db.session.get(PortalAccess, access_id)
        if access is None or access.usager_id != pk or db.session.get(Usager, pk) is None:
            return None
        return access

    @expose("/<int:pk>/portail/invitations/<int:access_id>/reinitialiser", methods=["POST"])
    @protect()
    @safe
    @permission_name("reset_account")
    @service_errors
    def reset_account(self, pk, access_id):
        """Recovery of an account whose person lost their second factor: its password and
        second factor stop working, its portal sessions end, and a one-use link (valid
        SILLAGE_PORTAIL_LIEN_JOURS days) lets the person choose new ones → 200 `{"result", "url"}`
        (the link, shown once). 422 when the invitation was not accepted or the account is disabled.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: access_id, schema: {type: integer}}
          responses:
            200: {description: "{result, url}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        access = self._access(pk, access_id)
        if access is None:
            return self.response_404()
        url = portal.reset_account(db.session, access, user_id=g.user.id, base_url=base_url())
        return self.response(200, result=portal.as_dict(access), url=url)

    def _set_disabled(self, pk, access_id, disabled):
        access = self._access(pk, access_id)
        if access is None:
            return self.response_404()
        portal.set_account_disabled(db.session, access, disabled=disabled)
        return self.response(200, result=portal.as_dict(access))

    @expose("/<int:pk>/portail/invitations/<int:access_id>/desactiver", methods=["POST"])
    @protect()
    @safe
    @permission_name("disable_account")
    @service_errors
    def disable_account(self, pk, access_id):
        """Disable the account of this access: no sign-in, its open sessions end at their next
        request (`compte`: desactive).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: access_id, schema: {type: integer}}
          responses:
            200: {description: "{result}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        return self._set_disabled(pk, access_id, True)

    @expose("/<int:pk>/portail/invitations/<int:access_id>/reactiver", methods=["POST"])
    @protect()
    @safe
    @permission_name("enable_account")
    @service_errors
    def enable_account(self, pk, access_id):
        """Re-enable the account of this access (`compte`: actif).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: access_id, schema: {type: integer}}
          responses:
            200: {description: "{result}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        return self._set_disabled(pk, access_id, False)
