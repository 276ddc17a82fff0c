"""`/api/v1/forms/`: form definitions as code — read them, compute answers without storing
them, and (Qualité, Administrateur) write a draft, publish it, list the versions."""
from flask import jsonify, request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...domain.forms import definition as definitions
from ...extensions import db
from ...models import Etablissement
from ...security.roles import METHOD_ACTIONS
from ...services import fhir, forms
from .. import params
from .base import fhir_base_url, fhir_json, json_body


def _summary(found):
    summary = {"code": found.code, "title": found.title, "version": found.version, "kind": found.kind,
               "applies_to": found.data.get("applies_to", {}), "status": found.status, "family": found.family}
    if found.data.get("variant_of"):
        summary.update(variant_of=found.data["variant_of"], base_version=found.data.get("base_version"))
    return summary


class FormsApi(BaseApi):
    resource_name = "forms"
    class_permission_name = "Formulaire"
    method_permission_name = {**METHOD_ACTIONS, "compute": "read", "put_draft": "write", "publish": "write",
                              "versions": "read", "fhir_questionnaire": "read", "import_xlsform": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Formulaires"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_list")
    def get_list(self):
        """Published form definitions; `?etablissement_id=N`: only those offered there.
        ---
        get:
          parameters:
          - {in: query, name: etablissement_id, schema: {type: integer}}
          responses:
            200: {description: "{count, result: [{code, title, version, kind, applies_to, status}]}"}
        """
        if "etablissement_id" in request.args:
            etab_id = params.arg("etablissement_id")
            etab = db.session.get(Etablissement, etab_id) if etab_id is not None else None
            if etab is None:  # unknown, or outside the caller's établissements
                return self.response_404()
            found = forms.offered_at(db.session, etab)
        else:
            found = forms.published(db.session)
        result = [_summary(d) for d in found]
        return self.response(200, count=len(result), result=result)

    @expose("/<code>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get(self, code):
        """A definition: the latest published version, or `?version=N`.
        ---
        get:
          parameters:
          - {in: path, name: code, schema: {type: string}}
          - {in: query, name: version, schema: {type: integer}}
          responses:
            200: {description: The definition as JSON}
            404: {$ref: '#/components/responses/404'}
        """
        found, refusal = self._requested(code)
        return refusal or self.response(200, result=found.data, status=found.status)

    def _requested(self, code):
        """(the published version, or `?version=N`; the refusal to answer instead: 400 or 404)."""
        version = params.arg("version")
        if "version" in request.args and version is None:
            return None, self.response_400(message=_("La version est un nombre entier."))
        found = forms.get(db.session, code, version)
        return found, (self.response_404() if found is None else None)

    @expose("/<code>/fhir", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def fhir_questionnaire(self, code):
        """The published definition (or `?version=N`) as a FHIR R4 Questionnaire.
        ---
        get:
          parameters:
          - {in: path, name: code, schema: {type: string}}
          - {in: query, name: version, schema: {type: integer}}
          responses:
            200: {description: "Questionnaire (application/fhir+json)"}
            404: {$ref: '#/components/responses/404'}
        """
        found, refusal = self._requested(code)
        return refusal or fhir_json(fhir.questionnaire(db.session, found, fhir_base_url()))

    @expose("/<code>/compute", methods=["POST"])
    @protect()
    @safe
    @permission_name("compute")
    def compute(self, code):
        """Check answers and compute results (e.g. each AGGIR variable's letter and "gir"); stores nothing.
        ---
        post:
          parameters:
          - {in: path, name: code, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    answers: {type: object}
                    version: {type: integer}
          responses:
            200: {description: "{computed, errors}: errors name the field codes"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        if not forms.versions(db.session, code):
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        version = payload.get("version")
        if version is not None and version != "draft" and (isinstance(version, bool) or not isinstance(version, int)):
            return self.response_422(message={"version": [_("Nombre entier ou « draft » attendu.")]})
        answers = payload.get("answers", {})
        if not isinstance(answers, dict):
            return self.response_422(message={"answers": [_("Un objet {code: valeur} est attendu.")]})
        result = forms.compute(db.session, code, answers, version)
        if result is None:
            return self.response_422(message={"version": [_("Version inconnue de ce formulaire.")]})
        return self.response(200, computed=result.computed, errors=result.errors,
                             algorithms=result.algorithm_versions, hidden=result.hidden)

    @expose("/<code>/draft", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put_draft")
    def put_draft(self, code):
        """Create or replace the draft of `code` from its YAML text.
        ---
        put:
          parameters:
          - {in: path, name: code, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {type: object, properties: {source: {type: string}}, required: [source]}
          responses:
            200: {description: "{code, version, status: draft, warnings}"}
            422: {description: 'message.source: the refusals, each "ligne N : …"'}
        """
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        source = payload.get("source")
        if not isinstance(source, str) or not source.strip():
            return self.response_422(message={"source": [_("Texte YAML de la définition attendu.")]})
        try:
            data, lines = definitions.parse_yaml(source)
            if data.get("code") != code:
                raise definitions.InvalidDefinition([definitions.DefinitionError(
                    "code", lines.get("code") or 1,
                    _("le code « %(c)s » ne correspond pas à l'adresse (%(u)s)", c=data.get("code"), u=code))])
            draft = forms.save_draft(db.session, source)
        except definitions.InvalidDefinition as exc:
            db.session.rollback()
            return self.response_422(message={"source": [_located(e) for e in exc.errors]})
        # (not self.response: its first parameter is already called "code")
        return jsonify(code=draft.code, version=draft.version, status="draft",
                       warnings=forms.draft_warnings(db.session, draft)), 200

    @expose("/<code>/xlsform", methods=["POST"])
    @protect()
    @safe
    @permission_name("import_xlsform")
    def import_xlsform(self, code):
        """Create or replace the draft of `code` from an XLSForm workbook (multipart field `file`).
        ---
        post:
          parameters:
          - {in: path, name: code, schema: {type: string}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema: {type: object, properties: {file: {type: string, format: binary}}, required: [file]}
          responses:
            200: {description: "{code, version, status: draft, warnings: what was not imported, then what the
              draft drops from the published version}"}
            422: {description: 'message.file (unreadable workbook) or message.source (refused definition)'}
        """
        from ...services.xlsform import XlsFormError

        upload = request.files.get("file")
        try:
            draft, warnings = forms.import_xlsform(db.session, upload.read() if upload else b"", code)
        except XlsFormError as exc:
            db.session.rollback()
            return self.response_422(message={"file": [str(exc)]})
        except definitions.InvalidDefinition as exc:
            db.session.rollback()
            return self.response_422(message={"source": [_located(e) for e in exc.errors]})
        return jsonify(code=draft.code, version=draft.version, status="draft",
                       warnings=warnings + forms.draft_warnings(db.session, draft)), 200

    @expose("/<code>/publish", methods=["POST"])
    @protect()
    @safe
    @permission_name("publish")
    def publish(self, code):
        """Publish the draft; 409 with its impact on existing submissions unless `confirm: true`.
        ---
        post:
          parameters:
          - {in: path, name: code, schema: {type: string}}
          requestBody:
            content:
              application/json:
                schema: {type: object, properties: {confirm: {type: boolean}}}
          responses:
            200: {description: "{version, variant_conflicts: {variant code: [problems]}}"}
            404: {$ref: '#/components/responses/404'}
            409: {description: "{message, impact}"}
        """
        payload = json_body() if request.data else {}
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        draft = forms.draft_of(db.session, code)
        if draft is None:
            return self.response_404()
        impact = forms.publish_impact(db.session, draft)
        if impact and payload.get("confirm") is not True:
            return self.response(409, message=_("Cette publication touche des saisies existantes : renvoyez avec "
                                                "\"confirm\": true pour publier."), impact=impact)
        try:
            forms.publish(db.session, draft)
        except definitions.InvalidDefinition as exc:
            db.session.rollback()
            return self.response_422(message={"source": [_located(e) for e in exc.errors]})
        conflicts = forms.variant_conflicts(db.session, base=code)  # its variants that could not follow it
        return self.response(200, version=draft.version, variant_conflicts=conflicts)

    @expose("/<code>/versions", methods=["GET"])
    @protect()
    @safe
    @permission_name("versions")
    def versions(self, code):
        """Every version of a definition with its status and dates (ISO 8601, UTC).
        ---
        get:
          parameters:
          - {in: path, name: code, schema: {type: string}}
          responses:
            200: {description: "{result: [{version, status, title, origin, created_at, published_at}]}"}
            404: {$ref: '#/components/responses/404'}
        """
        found = forms.versions(db.session, code)
        if not found:
            return self.response_404()
        return self.response(200, result=[
            {"version": v.version, "status": v.status, "title": v.title, "origin": v.origin,
             "created_at": _iso(getattr(v, "created_at", None)), "published_at": _iso(v.published_at)}
            for v in found])


def _located(error) -> str:
    """An error as external clients read it: "ligne N : chemin : message"."""
    where = f"{error.path} : " if error.path else ""
    return _("ligne %(n)s : %(w)s%(m)s", n=error.line or 1, w=where, m=error.message)


def _iso(value):
    return value.isoformat() + "Z" if value else None
