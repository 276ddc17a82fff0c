"""`/api/v1/usager/<id>/ecrits…`: comptes rendus and reports, under the usager's scope (outside
it: 404) and the shared secret (a category the user may not read is absent), through
services.ecrits. A wrong state answers 409, an act the user's role may not do 403."""
import functools

from flask import g
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...models import Usager
from ...security.scope import current_scope
from ...services import ecrits
from .base import json_body, service_errors

FIELDS = ("type_code", "titre", "contenu", "texte", "categorie", "coauteurs", "etablissement_id")


def _acts(f):
    """Map the workflow's errors: 409 wrong state, 403 not allowed."""

    @functools.wraps(f)
    def wrapper(self, *args, **kwargs):
        try:
            return f(self, *args, **kwargs)
        except ecrits.WrongState as exc:
            db.session.rollback()
            return self.response(409, message=exc.message)
        except ecrits.NotAllowed as exc:
            db.session.rollback()
            return self.response(403, message=exc.message)

    return wrapper


class UsagerEcritApi(BaseApi):
    route_base = "/api/v1/usager"
    resource_name = "usager"
    class_permission_name = "Ecrit"
    method_permission_name = {"list_ecrits": "read", "get_ecrit": "read", "post_ecrit": "write", "put_ecrit": "write",
                              "soumettre": "write", "valider": "write", "refuser": "write", "diffuser": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Ecrit"

    def _ecrit(self, pk, eid):
        return ecrits.ecrit_of(db.session, pk, eid) if db.session.get(Usager, pk) is not None else None

    @expose("/<int:pk>/ecrits", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_ecrits")
    def list_ecrits(self, pk):
        """The usager's écrits the user may read, newest first.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: "{result: [...]}"}
            404: {$ref: '#/components/responses/404'}
        """
        if db.session.get(Usager, pk) is None:
            return self.response_404()
        return self.response(200, result=[ecrits.as_dict(e) for e in ecrits.ecrits_of(db.session, pk)])

    @expose("/<int:pk>/ecrits", methods=["POST"])
    @protect()
    @safe
    @permission_name("post_ecrit")
    @service_errors
    def post_ecrit(self, pk):
        """A new draft: `{"type_code", "titre", "contenu"? (HTML, sanitised), "texte"? (light
        markup), "reponses"? (answers to the type's form: the text is composed from them),
        "categorie"?, "coauteurs"? [user ids], "etablissement_id"?}`.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            201: {description: "the écrit"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        usager = db.session.get(Usager, pk)
        if usager is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k not in (*FIELDS, "reponses")}
        if unknown:
            return self.response_422(message=unknown)
        item = ecrits.create(db.session, scope=current_scope(), user=g.user, usager=usager, values=payload)
        return self.response(201, **ecrits.as_dict(item))

    @expose("/<int:pk>/ecrits/<int:eid>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_ecrit")
    def get_ecrit(self, pk, eid):
        """One écrit with its versions.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: eid, schema: {type: integer}}
          responses:
            200: {description: "the écrit"}
            404: {$ref: '#/components/responses/404'}
        """
        item = self._ecrit(pk, eid)
        if item is None:
            return self.response_404()
        return self.response(200, **ecrits.as_dict(item, with_versions=True))

    @expose("/<int:pk>/ecrits/<int:eid>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put_ecrit")
    @service_errors
    @_acts
    def put_ecrit(self, pk, eid):
        """Save a draft: the fields to change and `version` (409 with what changed meanwhile).
        ---
        put:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: eid, schema: {type: integer}}
          responses:
            200: {description: "the écrit"}
            403: {description: "a role that may not do this"}
            404: {$ref: '#/components/responses/404'}
            409: {description: "validated (locked), or changed since `version`"}
            422: {$ref: '#/components/responses/422'}
        """
        item = self._ecrit(pk, eid)
        if item is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload
                   if k not in FIELDS + ("version",) or k in ("type_code", "etablissement_id")}
        if unknown:
            return self.response_422(message=unknown)
        version = payload.pop("version", None)
        ecrits.update(db.session, scope=current_scope(), user=g.user, ecrit=item, values=payload,
                      expected_version=version)
        return self.response(200, **ecrits.as_dict(item))

    def _act(self, pk, eid, act, **extra):
        item = self._ecrit(pk, eid)
        if item is None:
            return self.response_404()
        payload = json_body() or {}
        act(db.session, scope=current_scope(), user=g.user, ecrit=item, expected_version=payload.get("version"),
            **{k: payload.get(k) for k in extra})
        return self.response(200, **ecrits.as_dict(item))

    @expose("/<int:pk>/ecrits/<int:eid>/soumettre", methods=["POST"])
    @protect()
    @safe
    @permission_name("soumettre")
    @service_errors
    @_acts
    def soumettre(self, pk, eid):
        """Submit a draft for validation (`{"version"}` optional).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: eid, schema: {type: integer}}
          responses:
            200: {description: "the écrit"}
            403: {description: "a role that may not do this"}
            404: {$ref: '#/components/responses/404'}
            409: {description: "not a draft"}
        """
        return self._act(pk, eid, ecrits.submit)

    @expose("/<int:pk>/ecrits/<int:eid>/valider", methods=["POST"])
    @protect()
    @safe
    @permission_name("valider")
    @service_errors
    @_acts
    def valider(self, pk, eid):
        """Validate a submitted écrit (a role its type names, not one of its authors): it is
        locked and its PDF stored among the dossier's documents.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: eid, schema: {type: integer}}
          responses:
            200: {description: "the écrit, with document_id"}
            403: {description: "a role that may not do this"}
            404: {$ref: '#/components/responses/404'}
            409: {description: "not submitted"}
        """
        return self._act(pk, eid, ecrits.validate)

    @expose("/<int:pk>/ecrits/<int:eid>/refuser", methods=["POST"])
    @protect()
    @safe
    @permission_name("refuser")
    @service_errors
    @_acts
    def refuser(self, pk, eid):
        """Refuse a submitted écrit with `{"commentaire"}`: back to draft, the comment kept.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: eid, schema: {type: integer}}
          responses:
            200: {description: "the écrit"}
            403: {description: "a role that may not do this"}
            404: {$ref: '#/components/responses/404'}
            409: {description: "not submitted"}
            422: {$ref: '#/components/responses/422'}
        """
        return self._act(pk, eid, ecrits.refuse, commentaire=True)

    @expose("/<int:pk>/ecrits/<int:eid>/diffuser", methods=["POST"])
    @protect()
    @safe
    @permission_name("diffuser")
    @service_errors
    @_acts
    def diffuser(self, pk, eid):
        """Mark a validated écrit diffused (sent to its addressee).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: eid, schema: {type: integer}}
          responses:
            200: {description: "the écrit"}
            403: {description: "a role that may not do this"}
            404: {$ref: '#/components/responses/404'}
            409: {description: "not validated"}
        """
        return self._act(pk, eid, ecrits.diffuse)
