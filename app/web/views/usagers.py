"""Usager search: name (accent-insensitive), birth date, INS; filters; pagination."""
import datetime as dt
import math

from flask import current_app, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...services import organisation, parcours, usagers
from .. import params

STATUTS = {"": "—", "admis": _l("Admis"), "attente": _l("En liste d'attente"), "sorti": _l("Sorti"),
           "archive": _l("Archivé")}


class UsagerSearchView(BaseView):
    route_base = "/usagers"
    class_permission_name = "Usager"
    method_permission_name = {"search": "read"}
    default_view = "search"

    @expose("/")
    @has_access
    def search(self):
        errors = {}
        birth = None
        if request.args.get("date_naissance"):
            try:
                birth = dt.date.fromisoformat(request.args["date_naissance"])
            except ValueError:
                errors["date_naissance"] = _("Date invalide (jj/mm/aaaa).")
        statut = request.args.get("statut", "")
        if statut not in STATUTS:
            statut = ""
        page = max(params.arg("page") or 1, 1)
        size = current_app.config["SILLAGE_PAGE_SIZE"]
        q = (request.args.get("q") or "")[:200]
        rows, total = usagers.search_usagers(
            db.session, q=q, date_naissance=birth, ins=(request.args.get("ins") or "")[:30] or None,
            etablissement_id=params.arg("etablissement_id"), service_id=params.arg("service_id"),
            statut=statut or None, page=page, page_size=size,
        )
        etabs, services = organisation.etablissements(db.session), organisation.services(db.session)
        names = {s.id: s.name for s in services}
        placements = {usager_id: [names[s] for s in ids if s in names]
                      for usager_id, ids in parcours.current_services(db.session, [u.id for u in rows]).items()}
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return self.render_template(
            "usagers/search.html", rows=rows, total=total, more=total > usagers.COUNT_CAP, cap=usagers.COUNT_CAP,
            page=page, pages=max(math.ceil(min(total, usagers.COUNT_CAP) / size), 1),
            placements=placements, args=args, errors=errors, etablissements=etabs, services=services, statuts=STATUTS,
            can_write=self.appbuilder.sm.has_access("can_write", "Usager"),
        )
