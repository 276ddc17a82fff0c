"""`/api/v1/usager/<id>/evaluations`: an usager's evaluations, under the usager's scope."""
import datetime as dt

from flask import g
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...models import Usager
from ...security.roles import METHOD_ACTIONS
from ...services import fhir, forms
from .base import fhir_base_url, fhir_json, json_body, service_errors


def _json(evaluation):
    return {"id": evaluation.id, "form": evaluation.form_code, "version": evaluation.form_version,
            "status": evaluation.status, "evaluated_on": evaluation.evaluated_on.isoformat(),
            "answers": evaluation.answers, "computed": evaluation.computed,
            "algorithms": evaluation.algorithm_versions, "corrects": evaluation.corrects_id,
            "validated_at": evaluation.validated_at.isoformat() if evaluation.validated_at else None,
            "record_version": evaluation.version}


class EvaluationApi(BaseApi):
    route_base = "/api/v1/usager"
    resource_name = "usager"
    class_permission_name = "Evaluation"
    method_permission_name = {**METHOD_ACTIONS, "create": "write", "list_for": "read", "fhir_response": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Evaluation"

    @expose("/<int:pk>/evaluations", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_for")
    def list_for(self, pk):
        """The usager's evaluations, most recent first.
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
        result = [_json(e) for e in forms.evaluations_of(db.session, pk)]
        return self.response(200, count=len(result), result=result)

    @expose("/<int:pk>/evaluations/<int:eid>/fhir", methods=["GET"])
    @protect()
    @safe
    @permission_name("fhir_response")
    def fhir_response(self, pk, eid):
        """One evaluation as a FHIR R4 QuestionnaireResponse, with what this user may read of it.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: eid, schema: {type: integer}}
          responses:
            200: {description: "QuestionnaireResponse (application/fhir+json)"}
            404: {$ref: '#/components/responses/404'}
        """
        if db.session.get(Usager, pk) is None:
            return self.response_404()
        found = next((e for e in forms.evaluations_of(db.session, pk) if e.id == eid), None)
        if found is None:  # another usager's, outside the scope, or of a category not read
            return self.response_404()
        return fhir_json(fhir.questionnaire_response(found, fhir_base_url()))

    @expose("/<int:pk>/evaluations", methods=["POST"])
    @protect()
    @safe
    @permission_name("create")
    @service_errors
    def create(self, pk):
        """Store an evaluation: `{"form", "version", "answers", "status": "draft" | "validated"}`
        (optional `"evaluated_on"`, `"corrects"`); returns it with its computed values.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [form, answers, status]
                  properties:
                    form: {type: string}
                    version: {type: integer}
                    answers: {type: object}
                    status: {type: string, enum: [draft, validated]}
                    evaluated_on: {type: string, format: date}
                    corrects: {type: integer}
          responses:
            201: {description: The stored evaluation}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        usager = db.session.get(Usager, pk)
        if usager is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        errors = {}
        version = payload.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            errors["version"] = [_("Nombre entier attendu.")]
        if not isinstance(payload.get("form"), str):
            errors["form"] = [_("Code de formulaire attendu.")]
        evaluated_on = None
        if payload.get("evaluated_on") is not None:
            try:
                evaluated_on = dt.date.fromisoformat(str(payload["evaluated_on"]))
            except ValueError:
                errors["evaluated_on"] = [_("Date attendue au format AAAA-MM-JJ.")]
        corrects = payload.get("corrects")
        if corrects is not None:
            previous = [e for e in forms.evaluations_of(db.session, pk) if e.id == corrects]
            if isinstance(corrects, bool) or not previous:
                errors["corrects"] = [_("Évaluation inconnue pour cet usager.")]
        if errors:
            return self.response_422(message=errors)
        evaluation = forms.save_evaluation(
            db.session, usager=usager, code=payload["form"], version=version, answers=payload.get("answers", {}),
            status=payload.get("status"), evaluated_on=evaluated_on, corrects_id=corrects,
            user_id=getattr(g.get("user"), "id", None))
        return self.response(201, id=evaluation.id, result=_json(evaluation))
