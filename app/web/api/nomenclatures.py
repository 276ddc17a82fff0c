"""`/api/v1/nomenclatures/serafin-ph`: the SERAFIN-PH codes, searchable (for forms and clients)."""
from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...domain import nomenclatures
from ...security.roles import METHOD_ACTIONS


class NomenclatureApi(BaseApi):
    resource_name = "nomenclatures"
    class_permission_name = "Formulaire"  # reference data: whoever reads form definitions
    method_permission_name = {**METHOD_ACTIONS, "serafin": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Nomenclatures"

    @expose("/serafin-ph", methods=["GET"])
    @protect()
    @safe
    @permission_name("serafin")
    def serafin(self):
        """SERAFIN-PH besoins and prestations, CNSA and ANS numberings.
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, description: words of the code or label}
          - {in: query, name: nomenclature, schema: {type: string, enum: [serafin_besoins, serafin_prestations]}}
          - {in: query, name: leaves, schema: {type: boolean}, description: only codes that can be chosen}
          responses:
            200: {description: "{count, result: [{code, ans_code, label, parent, kind, level, leaf}]}"}
            400: {$ref: '#/components/responses/400'}
        """
        which = request.args.get("nomenclature") or None
        if which is not None and which not in nomenclatures.KINDS:
            return self.response_400(message=_("Nomenclature inconnue ; possibles : %(v)s",
                                               v=", ".join(nomenclatures.KINDS)))
        leaves = request.args.get("leaves", "").lower() in ("1", "true", "oui")
        found = nomenclatures.search((request.args.get("q") or "")[:200], which, leaves)
        return self.response(200, count=len(found), result=[c.as_dict() for c in found])
