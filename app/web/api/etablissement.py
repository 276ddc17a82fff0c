"""`/api/v1/etablissement/`: établissements the user may see."""
import datetime as dt

from flask import current_app, request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...domain import clock
from ...extensions import db
from ...models import Etablissement, Organisme
from ...models.referentiels import CategorieEtablissement
from ...services import indicators
from ...services.concurrency import check_version
from ...services.errors import ValidationFailed
from ...services.organisation import organisation_errors
from ...services.usagers import commit_or_stale
from ..base import datamodel
from .base import SillageModelApi, json_body, parse_payload, service_errors

FIELDS = ["organisme_id", "name", "finess", "categorie_id", "adresse", "code_postal", "commune", "telephone"]


class EtablissementApi(SillageModelApi):
    resource_name = "etablissement"
    class_permission_name = "Etablissement"
    datamodel = datamodel(Etablissement)
    list_columns = show_columns = ["id", "version", *FIELDS, "categorie.code", "categorie.label", "archived_at"]
    add_columns = edit_columns = FIELDS
    search_columns = ["name", "finess", "commune", "categorie_id", "organisme_id"]
    order_columns = ["name", "id"]

    method_permission_name = {**SillageModelApi.method_permission_name, "gmp": "read"}

    @expose("/<int:pk>/gmp", methods=["GET"])
    @protect()
    @safe
    @permission_name("gmp")
    def gmp(self, pk):
        """GIR moyen pondéré of the établissement at `?date=YYYY-MM-DD` (default: today).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: query, name: date, schema: {type: string, format: date}}
          responses:
            200: {description: "{gmp, date, evaluated, admitted, distribution, missing_count, outdated_count;
              missing and outdated (usager ids) only for roles that read usagers}"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        if self._item_or_none(pk) is None:
            return self.response_404()
        raw = request.args.get("date")
        try:
            on = dt.date.fromisoformat(raw) if raw else clock.today()
        except ValueError:
            return self.response_400(message=_("Date attendue au format AAAA-MM-JJ."))
        result = indicators.gmp(db.session, pk, on, current_app.config["SILLAGE_GMP_MAX_AGE_MONTHS"])
        body = {"gmp": result.gmp, "date": on.isoformat(), "evaluated": result.evaluated, "admitted": result.admitted,
                "distribution": {str(k): v for k, v in result.distribution.items()},
                "missing_count": len(result.missing), "outdated_count": len(result.outdated)}
        if self.appbuilder.sm.has_access("can_read", "Usager"):  # who may open the dossiers gets their ids
            body.update(missing=result.missing, outdated=result.outdated)
        return self.response(200, **body)

    def _save(self, item, values):
        for key, value in values.items():
            setattr(item, key, value)
        errors = organisation_errors(item)
        if not item.organisme_id or db.session.get(Organisme, item.organisme_id) is None:
            errors["organisme_id"] = _("Organisme inconnu.")
        if not item.categorie_id or db.session.get(CategorieEtablissement, item.categorie_id) is None:
            errors["categorie_id"] = _("Catégorie inconnue.")
        if errors:
            raise ValidationFailed(errors)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    @service_errors
    def post(self):
        """Create an établissement.
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
            422: {$ref: '#/components/responses/422'}
        """
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        values, errors = parse_payload(Etablissement, payload, FIELDS)
        if errors:
            return self.response_422(message=errors)
        item = Etablissement()
        self._save(item, values)
        db.session.add(item)
        commit_or_stale(db.session, item, 1)
        return self._result(item, 201)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    @service_errors
    def put(self, pk):
        """Change an établissement; `version` required (409 if stale).
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
        values, errors = parse_payload(Etablissement, payload, FIELDS)
        if errors:
            return self.response_422(message=errors)
        check_version(db.session, item, version)
        with db.session.no_autoflush:
            self._save(item, values)
        commit_or_stale(db.session, item, version)
        return self._result(item)
