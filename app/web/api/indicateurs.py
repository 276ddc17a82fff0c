"""`/api/v1/indicateurs/…`: the directors' figures, for an établissement the user sees."""
import datetime as dt

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...domain import clock
from ...extensions import db
from ...models import Etablissement
from ...security.roles import METHOD_ACTIONS
from ...services import indicators
from .. import params


class IndicateursApi(BaseApi):
    resource_name = "indicateurs"
    class_permission_name = "Indicateur"
    method_permission_name = {**METHOD_ACTIONS, "occupation": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Indicateurs"

    @expose("/occupation", methods=["GET"])
    @protect()
    @safe
    @permission_name("occupation")
    def occupation(self):
        """Occupancy of an établissement on a date: per service and modality, then per modality
        against the authorised capacity.
        ---
        get:
          parameters:
          - {in: query, name: etablissement_id, required: true, schema: {type: integer}}
          - {in: query, name: date, schema: {type: string, format: date}, description: default today}
          responses:
            200: {description: "{etablissement_id, date, lignes: [{service_id, service, modalite, capacite, occupes, absents,
              taux}]} — service_id null: the établissement's line for the modality; taux null without capacity"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        etablissement_id = params.arg("etablissement_id")
        if etablissement_id is None:
            return self.response_400(message=_("Paramètre etablissement_id attendu (nombre entier)."))
        raw = request.args.get("date")
        try:
            on = dt.date.fromisoformat(raw) if raw else clock.today()
        except ValueError:
            return self.response_400(message=_("Date attendue au format AAAA-MM-JJ."))
        if db.session.get(Etablissement, etablissement_id) is None:  # (the scope: not seen, not found)
            return self.response_404()
        return self.response(200, etablissement_id=etablissement_id, date=on.isoformat(),
                             lignes=indicators.occupation(db.session, etablissement_id, on))
