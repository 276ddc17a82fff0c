"""`/api/v1/reunions`: meetings in the user's établissements (outside: 404), each with the agenda
items the user may read (the person's scope and the shared secret), through services.reunions."""
import datetime as dt

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...security.scope import current_scope
from ...services import reunions
from .base import json_body, service_errors

FIELDS = ("type", "etablissement_id", "service_id", "debut", "lieu", "titre")


def _day(value, end=False):
    day = dt.date.fromisoformat(value)
    return reunions.parse_local(dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time()))


class ReunionApi(BaseApi):
    route_base = "/api/v1/reunions"
    resource_name = "reunions"
    class_permission_name = "Reunion"
    method_permission_name = {"list_reunions": "read", "get_reunion": "read", "post_reunion": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Reunion"

    @expose("", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_reunions")
    def list_reunions(self):
        """Meetings the user sees, newest first; `du`, `au`: local days (AAAA-MM-JJ), both included.
        ---
        get:
          parameters:
          - {in: query, name: du, schema: {type: string, format: date}}
          - {in: query, name: au, schema: {type: string, format: date}}
          responses:
            200: {description: "{result: [...]}"}
            400: {$ref: '#/components/responses/400'}
        """
        try:
            start = _day(request.args["du"]) if request.args.get("du") else None
            end = _day(request.args["au"], end=True) if request.args.get("au") else None
        except ValueError:
            return self.response_400(message=_("« du » et « au » : dates attendues (AAAA-MM-JJ)."))
        return self.response(200, result=[reunions.as_dict(r) for r in reunions.between(db.session, start, end)])

    @expose("/<int:rid>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_reunion")
    def get_reunion(self, rid):
        """One meeting with its participants and the agenda items the user may read.
        ---
        get:
          parameters:
          - {in: path, name: rid, schema: {type: integer}}
          responses:
            200: {description: "{result: {...}}"}
            404: {$ref: '#/components/responses/404'}
        """
        reunion = reunions.visible(db.session, rid)
        if reunion is None:
            return self.response_404()
        return self.response(200, result=reunions.as_dict(reunion, with_points=True))

    @expose("", methods=["POST"])
    @protect()
    @safe
    @permission_name("post_reunion")
    @service_errors
    def post_reunion(self):
        """Plan a meeting: `{"type", "etablissement_id", "debut", "service_id"?, "lieu"?, "titre"?}`
        (`debut`: ISO 8601; without an offset, the structure's local time).
        ---
        post:
          responses:
            201: {description: "{id, result}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k not in FIELDS}
        if unknown:
            return self.response_422(message=unknown)
        reunion = reunions.create(db.session, scope=current_scope(), values=payload)
        return self.response(201, id=reunion.id, result=reunions.as_dict(reunion, with_points=True))
