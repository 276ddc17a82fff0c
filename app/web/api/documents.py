"""`/api/v1/documents/types` and `/api/v1/usager/<id>/documents…`, `…/pieces-obligatoires`: the
document store (issue 18 §6, paths and fields as clients outside the project use them), under the
usager's scope (outside it: 404) and the shared secret (a document of a category the user may not
read is absent from lists and 404), through services.documents."""
import datetime as dt

from flask import g, request, send_file
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from ...domain import clock
from ...extensions import db
from ...models import Usager
from ...security.scope import current_scope
from ...services import documents
from ...services.attachments import FileTooLarge, max_bytes
from .base import service_errors


def _date(value):
    if value in (None, ""):
        return None
    return dt.date.fromisoformat(value)


class DocumentTypesApi(BaseApi):
    route_base = "/api/v1/documents"
    resource_name = "documents"
    class_permission_name = "Document"
    method_permission_name = {"types": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Documents"

    @expose("/types", methods=["GET"])
    @protect()
    @safe
    @permission_name("types")
    def types(self):
        """The référentiel of document types.
        ---
        get:
          responses:
            200: {description: "{result: [{code, libelle, categorie, expire}]}"}
        """
        result = [{"code": t.code, "libelle": t.label, "categorie": t.categorie, "expire": t.expire}
                  for t in documents.types(db.session)]
        return self.response(200, result=result)


class UsagerDocumentsApi(BaseApi):
    route_base = "/api/v1/usager"
    resource_name = "usager"
    class_permission_name = "Document"
    method_permission_name = {"list_documents": "read", "create_document": "write", "contenu": "read",
                              "pieces_obligatoires": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Documents"

    def _usager(self, pk):
        return db.session.get(Usager, pk)

    @expose("/<int:pk>/documents", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_documents")
    def list_documents(self, pk):
        """The usager's documents the user may read; `?type_code=`, `?du=`, `?au=` (dates of the
        document), `?q=` (words of the title).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: query, name: type_code, schema: {type: string}}
          - {in: query, name: du, schema: {type: string, format: date}}
          - {in: query, name: au, schema: {type: string, format: date}}
          - {in: query, name: q, schema: {type: string}}
          responses:
            200: {description: "{count, result}"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        if self._usager(pk) is None:
            return self.response_404()
        try:
            du, au = _date(request.args.get("du")), _date(request.args.get("au"))
        except ValueError:
            return self.response_400(message=_("Date attendue au format AAAA-MM-JJ."))
        today = clock.today()
        result = [documents.as_dict(d, today) for d in documents.documents_of(
            db.session, pk, type_code=request.args.get("type_code"), du=du, au=au, texte=request.args.get("q"))]
        return self.response(200, count=len(result), result=result)

    @expose("/<int:pk>/documents", methods=["POST"])
    @protect()
    @safe
    @permission_name("create_document")
    @service_errors
    def create_document(self, pk):
        """Upload a document: multipart/form-data with `fichier`, `type_code`, `titre`,
        `date_document`?, `expire_le`?.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    fichier: {type: string, format: binary}
                    type_code: {type: string}
                    titre: {type: string}
                    date_document: {type: string, format: date}
                    expire_le: {type: string, format: date}
          responses:
            201: {description: "{id, version, sha256, taille, type_mime}"}
            404: {$ref: '#/components/responses/404'}
            413: {description: File beyond the size limit}
            422: {$ref: '#/components/responses/422'}
        """
        usager = self._usager(pk)
        if usager is None:
            return self.response_404()
        try:
            form, files = request.form, request.files
        except RequestEntityTooLarge:
            return self._too_large()
        errors, dates = {}, {}
        for key in ("date_document", "expire_le"):
            try:
                dates[key] = _date(form.get(key))
            except ValueError:
                errors[key] = [_("Date attendue au format AAAA-MM-JJ.")]
        if errors:
            return self.response_422(message=errors)
        try:
            document = documents.upload(db.session, scope=current_scope(), usager=usager,
                                        type_code=form.get("type_code"), titre=form.get("titre"),
                                        upload=files.get("fichier"), user_id=getattr(g.get("user"), "id", None),
                                        **dates)
        except FileTooLarge as exc:
            db.session.rollback()
            return self.response(413, message={k: [v] for k, v in exc.errors.items()})
        current = document.current
        return self.response(201, id=document.id, version=document.version, sha256=current.sha256,
                             taille=current.taille, type_mime=current.type_mime)

    def _too_large(self):
        return self.response(413, message={"fichier": [_("Fichier trop volumineux : %(n)s Mo au plus.",
                                                         n=max_bytes() // (1024 * 1024) or 1)]})

    @expose("/<int:pk>/documents/<int:did>/contenu", methods=["GET"])
    @protect()
    @safe
    @permission_name("contenu")
    def contenu(self, pk, did):
        """The current version's bytes (`?version=<numero>`: an earlier one), as an attachment;
        409 when the stored file no longer matches its SHA-256 (recorded in the audit trail).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: did, schema: {type: integer}}
          - {in: query, name: version, schema: {type: integer}}
          responses:
            200: {description: The file}
            404: {$ref: '#/components/responses/404'}
            409: {description: The stored file was altered}
        """
        document = documents.document_of(db.session, pk, did) if self._usager(pk) else None
        numero = request.args.get("version", type=int)
        version = documents.version_of(document, numero) if document is not None else None
        if version is None:
            return self.response_404()
        try:
            path = documents.checked_path(version)
        except documents.TamperedFile:
            return self.response(409, message=_("Le fichier stocké ne correspond plus à son empreinte SHA-256 : "
                                                "il a été altéré ou perdu. Le téléchargement est refusé et "
                                                "l'incident est enregistré au journal d'audit."))
        documents.record_download(version)
        response = send_file(path, mimetype=version.type_mime, as_attachment=True,
                             download_name=documents.download_name(document, version), max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:pk>/pieces-obligatoires", methods=["GET"])
    @protect()
    @safe
    @permission_name("pieces_obligatoires")
    def pieces_obligatoires(self, pk):
        """The mandatory papers of the usager's current admissions, with their status.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: "{result: [{type_code, libelle, statut, document_id}]}"}
            404: {$ref: '#/components/responses/404'}
        """
        usager = self._usager(pk)
        if usager is None:
            return self.response_404()
        result = [{"type_code": p.type.code, "libelle": p.type.label, "statut": p.statut,
                   "document_id": p.document.id if p.document else None}
                  for p in documents.checklist(db.session, usager)]
        return self.response(200, result=result)
