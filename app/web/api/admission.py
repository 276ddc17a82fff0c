"""`/api/v1/admission/`: admissions, exits and transfers, through the parcours services."""
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...models import Admission, Usager
from ...security.scope import current_scope
from ...services import parcours
from ..base import datamodel
from .base import SillageModelApi, json_body, parse_payload, service_errors

CREATE = ["usager_id", "service_id", "modalite_id", "date_entree", "decision_orientation_ref",
          "orientation_debut", "orientation_fin", "commentaire"]
EDIT = ["date_sortie", "motif_sortie_id", "decision_orientation_ref", "orientation_debut",
        "orientation_fin", "commentaire"]


class AdmissionApi(SillageModelApi):
    resource_name = "admission"
    class_permission_name = "Parcours"
    datamodel = datamodel(Admission)
    list_columns = show_columns = [
        "id", "version", "usager_id", "etablissement_id", "service_id", "modalite_id", "date_entree",
        "date_sortie", "motif_sortie_id", "decision_orientation_ref", "orientation_debut",
        "orientation_fin", "transfert_de_id", "commentaire", "archived_at",
    ]
    add_columns = CREATE
    edit_columns = EDIT
    search_columns = ["usager_id", "etablissement_id", "service_id", "date_entree", "date_sortie"]
    order_columns = ["date_entree", "date_sortie", "id"]
    method_permission_name = {**SillageModelApi.method_permission_name, "transfer": "write"}

    def _payload(self, allowed):
        payload = json_body()
        if payload is None:
            return None, None, self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        version = payload.pop("version", None)
        values, errors = parse_payload(Admission, payload, allowed)
        return values, version, (self.response_422(message=errors) if errors else None)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    @service_errors
    def post(self):
        """Admit an usager in a service (at most one active admission per service).
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/{{self.__class__.__name__}}.post'
          responses:
            201: {description: Created}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        values, _version, error = self._payload(CREATE)
        if error:
            return error
        usager = db.session.get(Usager, values.pop("usager_id", None) or 0)
        if usager is None:
            return self.response_422(message={"usager_id": [_("Usager inconnu.")]})
        admission = parcours.admit(db.session, scope=current_scope(), usager=usager, **values)
        return self._result(admission, 201)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    @service_errors
    def put(self, pk):
        """Record an exit (`date_sortie`, `motif_sortie_id`) or correct the orientation; `version` required.
        ---
        put:
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/{{self.__class__.__name__}}.put'
          responses:
            200: {description: Changed}
            404: {$ref: '#/components/responses/404'}
            409: {description: Stale version}
            422: {$ref: '#/components/responses/422'}
        """
        item = self._item_or_none(pk)
        if item is None:
            return self.response_404()
        values, version, error = self._payload(EDIT)
        if error:
            return error
        parcours.update_admission(db.session, item, values, version)
        return self._result(item)

    @expose("/<int:pk>/transfer", methods=["POST"])
    @protect()
    @safe
    @permission_name("transfer")
    @service_errors
    def transfer(self, pk):
        """Transfer to another service: `{"service_id", "date", "version"}`; returns the new admission.
        ---
        post:
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            201: {description: New admission}
            404: {$ref: '#/components/responses/404'}
            409: {description: Stale version}
            422: {$ref: '#/components/responses/422'}
        """
        item = self._item_or_none(pk)
        if item is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        values, errors = parse_payload(Admission, {"service_id": payload.get("service_id"),
                                                   "date_entree": payload.get("date")},
                                       ["service_id", "date_entree"])
        if errors:
            return self.response_422(message=errors)
        new = parcours.transfer(db.session, scope=current_scope(), admission=item,
                                service_id=values["service_id"], date_transfert=values["date_entree"],
                                expected_version=payload.get("version"))
        return self._result(new, 201)
