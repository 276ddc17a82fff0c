"""The SERAFIN-PH nomenclatures, browsable and searchable (reference data, not personal data)."""
from flask import request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from ...domain import nomenclatures


class NomenclatureView(BaseView):
    route_base = "/nomenclatures"
    class_permission_name = "Formulaire"
    method_permission_name = {"serafin": "read"}
    default_view = "serafin"

    @expose("/serafin-ph")
    @has_access
    def serafin(self):
        q = (request.args.get("q") or "")[:200]
        which = request.args.get("nomenclature")
        which = which if which in nomenclatures.KINDS else None
        found = nomenclatures.search(q, which)
        return self.render_template("nomenclatures/serafin.html", title=_("Nomenclatures SERAFIN-PH"), codes=found,
                                    q=q, which=which, total=len(nomenclatures.serafin()))
