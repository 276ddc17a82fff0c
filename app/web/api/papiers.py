"""`/api/v1/usager/<id>/<kind>` for the administrative and financial papers (issue 18 §5, §6):
contrats, avenants, devis, factures, ressources, aides, assurances. Scoped like the dossier
(outside it: 404), the shared secret applied (a paper of a category the user may not read is
absent from lists and 404), field errors 422, `version` and 409 on corrections; through
services.papiers. `/api/v1/papiers/types`: the kinds and their vocabularies."""

from flask import g
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...domain import clock
from ...extensions import db
from ...models import Usager
from ...security.scope import current_scope
from ...services import papiers
from .base import json_body, service_errors

# Only these path segments: the other /usager/<id>/… routes keep their own answers (405…).
KIND = "<any(" + ", ".join(papiers.KINDS) + "):kind>"


class PapiersTypesApi(BaseApi):
    route_base = "/api/v1/papiers"
    resource_name = "papiers"
    class_permission_name = "Papiers"
    method_permission_name = {"types": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Papiers"

    @expose("/types", methods=["GET"])
    @protect()
    @safe
    @permission_name("types")
    def types(self):
        """The kinds of papers, their fields, category and vocabularies.
        ---
        get:
          responses:
            200: {description: "{result: [{code, libelle, categorie, champs, valeurs}]}"}
        """
        result = [{"code": k.key, "libelle": str(k.label), "categorie": papiers.category(k), "champs": list(k.fields),
                   "obligatoires": list(k.required),
                   "valeurs": {f: {code: str(label) for code, label in v.items()} for f, v in k.choices.items()}}
                  for k in papiers.KINDS.values()]
        return self.response(200, result=result)


class UsagerPapiersApi(BaseApi):
    route_base = "/api/v1/usager"
    resource_name = "usager"
    class_permission_name = "Papiers"
    method_permission_name = {"list_papers": "read", "create_paper": "write", "get_paper": "read",
                              "update_paper": "write", "archive_paper": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Papiers"

    def _usager(self, pk):
        return db.session.get(Usager, pk)

    def _paper(self, pk, kind, pid):
        if kind not in papiers.KINDS or self._usager(pk) is None:
            return None
        return papiers.paper_of(db.session, pk, kind, pid)

    @expose("/<int:pk>/" + KIND, methods=["GET"])
    @protect()
    @safe
    @permission_name("list_papers")
    def list_papers(self, pk, kind):
        """The usager's papers of a kind (contrats, avenants, devis, factures, ressources, aides,
        assurances) the user may read.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: kind, schema: {type: string, enum: [contrats, avenants, devis, factures, ressources, aides, assurances]}}
          responses:
            200: {description: "{result: [...]}"}
            404: {$ref: '#/components/responses/404'}
        """
        if kind not in papiers.KINDS or self._usager(pk) is None:
            return self.response_404()
        today = clock.today()
        result = [papiers.as_dict(kind, p, today) for p in papiers.papers_of(db.session, pk, kind)]
        return self.response(200, count=len(result), result=result)

    @expose("/<int:pk>/" + KIND, methods=["POST"])
    @protect()
    @safe
    @permission_name("create_paper")
    @service_errors
    def create_paper(self, pk, kind):
        """Record a paper: a JSON object of the kind's fields (see /api/v1/papiers/types), and
        `document_id`? (a document of the dossier, uploaded through /documents).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: kind, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {type: object}
          responses:
            201: {description: "{id, version, result}"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        usager = self._usager(pk)
        if kind not in papiers.KINDS or usager is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Objet JSON attendu."))
        paper = papiers.create(db.session, scope=current_scope(), usager=usager, kind_key=kind, values=payload,
                               user_id=getattr(g.get("user"), "id", None))
        return self.response(201, id=paper.id, version=paper.version, result=papiers.as_dict(kind, paper))

    @expose("/<int:pk>/" + KIND + "/<int:pid>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_paper")
    def get_paper(self, pk, kind, pid):
        """One paper.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: kind, schema: {type: string}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            200: {description: "{id, version, result}"}
            404: {$ref: '#/components/responses/404'}
        """
        paper = self._paper(pk, kind, pid)
        if paper is None:
            return self.response_404()
        return self.response(200, id=paper.id, version=paper.version, result=papiers.as_dict(kind, paper))

    @expose("/<int:pk>/" + KIND + "/<int:pid>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("update_paper")
    @service_errors
    def update_paper(self, pk, kind, pid):
        """Correct a paper: the fields to change and `version` (the one read); 409 when someone
        saved it since.
        ---
        put:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: kind, schema: {type: string}}
          - {in: path, name: pid, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {type: object}
          responses:
            200: {description: "{id, version, result}"}
            404: {$ref: '#/components/responses/404'}
            409: {description: Changed since it was read}
            422: {$ref: '#/components/responses/422'}
        """
        paper = self._paper(pk, kind, pid)
        if paper is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Objet JSON attendu."))
        papiers.update(db.session, scope=current_scope(), kind_key=kind, paper=paper, values=payload,
                       expected_version=payload.get("version"), user_id=getattr(g.get("user"), "id", None))
        return self.response(200, id=paper.id, version=paper.version, result=papiers.as_dict(kind, paper))

    @expose("/<int:pk>/" + KIND + "/<int:pid>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("archive_paper")
    @service_errors
    def archive_paper(self, pk, kind, pid):
        """Archive a paper (never deleted).
        ---
        delete:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: kind, schema: {type: string}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            204: {description: Archived}
            404: {$ref: '#/components/responses/404'}
        """
        paper = self._paper(pk, kind, pid)
        if paper is None or paper.archived_at is not None:
            return self.response_404()
        papiers.archive(db.session, scope=current_scope(), kind_key=kind, paper=paper,
                        user_id=getattr(g.get("user"), "id", None))
        return self.response(204)
