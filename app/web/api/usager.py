"""`/api/v1/usager/`: dossiers (identity, contacts, situation), scoped like the UI."""
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...models import Usager
from ...security.scope import current_scope
from ...services import usagers
from ..base import datamodel
from .base import SillageModelApi, json_body, parse_payload, service_errors

READ_COLUMNS = ["id", "version", *usagers.USAGER_FIELDS, "foyer_id", "archived_at", "created_at", "updated_at"]


class UsagerApi(SillageModelApi):
    resource_name = "usager"
    class_permission_name = "Usager"
    datamodel = datamodel(Usager)
    list_columns = show_columns = READ_COLUMNS
    add_columns = edit_columns = list(usagers.USAGER_FIELDS)
    search_columns = ["nom_naissance", "nom_utilise", "date_naissance", "matricule_ins", "sexe",
                      "statut_identite", "archived_at"]
    order_columns = ["nom_naissance", "date_naissance", "id", "updated_at"]
    openapi_spec_tag = "Usager"

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    @service_errors
    def post(self):
        """Create a dossier, with a first demande d'admission in `etablissement_id`.
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
            400: {$ref: '#/components/responses/400'}
            409: {description: Possible duplicates (resend with accept_duplicates)}
            422: {$ref: '#/components/responses/422'}
        """
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        extra = {k: payload.pop(k) for k in ("etablissement_id", "service_id", "accept_duplicates") if k in payload}
        values, errors = parse_payload(Usager, payload, usagers.USAGER_FIELDS)
        for key in ("etablissement_id", "service_id"):
            if extra.get(key) is not None and (isinstance(extra[key], bool) or not isinstance(extra[key], int)):
                errors[key] = [_("Nombre entier attendu.")]
        if not extra.get("etablissement_id"):
            errors.setdefault("etablissement_id", [_("Ce champ est obligatoire.")])
        if errors:
            return self.response_422(message=errors)
        usager = usagers.create_usager(
            db.session, values, scope=current_scope(), etablissement_id=extra["etablissement_id"],
            service_id=extra.get("service_id"), accept_duplicates=extra.get("accept_duplicates") is True,
        )
        if usager.referred_to_identity:
            return self.response(201, id=usager.id, result=self.show_model_schema.dump(usager),
                                 message=str(usagers.REFERRED_MESSAGE))
        return self._result(usager, 201)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    @service_errors
    def put(self, pk):
        """Change some fields; `version` (as last read) is required: 409 if someone saved meanwhile.
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
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        version = payload.pop("version", None)
        values, errors = parse_payload(Usager, payload, usagers.USAGER_FIELDS)
        if errors:
            return self.response_422(message=errors)
        usagers.update_usager(db.session, item, values, version)
        return self._result(item)
