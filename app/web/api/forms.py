"""`/api/v1/forms/`: published form definitions, and computing answers without storing them."""
from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...security.roles import METHOD_ACTIONS
from ...services import forms
from .. import params
from .base import json_body


def _summary(found):
    return {"code": found.code, "title": found.title, "version": found.version, "kind": found.kind,
            "applies_to": found.data.get("applies_to", {}), "status": found.status}


class FormsApi(BaseApi):
    resource_name = "forms"
    class_permission_name = "Formulaire"
    method_permission_name = {**METHOD_ACTIONS, "compute": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Formulaires"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_list")
    def get_list(self):
        """Published form definitions.
        ---
        get:
          responses:
            200: {description: "{count, result: [{code, title, version, kind, applies_to, status}]}"}
        """
        result = [_summary(d) for d in forms.published(db.session)]
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
        version = params.arg("version")
        if "version" in request.args and version is None:
            return self.response_400(message=_("La version est un nombre entier."))
        found = forms.get(db.session, code, version)
        if found is None:
            return self.response_404()
        return self.response(200, result=found.data, status=found.status)

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
        if forms.get(db.session, code) is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        version = payload.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            return self.response_422(message={"version": [_("Nombre entier attendu.")]})
        answers = payload.get("answers", {})
        if not isinstance(answers, dict):
            return self.response_422(message={"answers": [_("Un objet {code: valeur} est attendu.")]})
        result = forms.compute(db.session, code, answers, version)
        if result is None:
            return self.response_422(message={"version": [_("Version inconnue de ce formulaire.")]})
        return self.response(200, computed=result.computed, errors=result.errors,
                             algorithms=result.algorithm_versions, hidden=result.hidden)
