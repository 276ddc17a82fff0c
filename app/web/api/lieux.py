"""`/api/v1/lieux-naissance/?q=`: birth places (INSEE communes and countries) matching a typed
prefix of their name or code, for the identity forms' completion list and API clients."""
from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name

from ...domain import places
from ...security.roles import METHOD_ACTIONS


class LieuNaissanceApi(BaseApi):
    resource_name = "lieux-naissance"
    class_permission_name = "Usager"  # offered where an identity is typed: to whoever may write one
    method_permission_name = {**METHOD_ACTIONS, "search": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Lieux de naissance"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("search")
    def search(self):
        """Communes (current, déléguées, associées, former codes), arrondissements and countries.
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, description: start of the name or of the INSEE code}
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 50}}
          responses:
            200: {description: "{count, result: [{code, libelle, type, type_libelle, departement}]}"}
            401: {$ref: '#/components/responses/401'}
        """
        try:
            limit = min(max(int(request.args.get("limit", 20)), 1), 50)
        except ValueError:
            limit = 20
        found = places.search((request.args.get("q") or "")[:100], limit=limit)
        return self.response(200, count=len(found), result=[p.as_dict() for p in found])
