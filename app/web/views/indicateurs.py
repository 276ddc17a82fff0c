"""Pilotage for directors: the GMP and the GIR distribution of each établissement they see where
AGGIR is offered, with the residents counted, those without a valid GIR (never a silent
"missing") and the last year."""
from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from flask import abort, current_app, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...domain import clock
from ...domain.aggir import GIR_POINTS
from ...extensions import db
from ...models import Etablissement, Usager
from ...services import forms, indicators
from .. import params


class IndicateursView(BaseView):
    route_base = "/indicateurs"
    class_permission_name = "Indicateur"
    method_permission_name = {"gmp": "read"}
    default_view = "gmp"

    @expose("/gmp")
    @has_access
    def gmp(self):
        etabs = db.session.execute(select(Etablissement).where(Etablissement.archived_at.is_(None))
                                   .order_by(Etablissement.name)).scalars().all()  # (the scope filters them)
        grids = [d for d in forms.published(db.session, "evaluation") if d.family == "aggir"]
        etabs = [e for e in etabs if any(forms.applies(d, {forms.place(e)}) for d in grids)]  # where AGGIR is used
        error, on = None, clock.today()
        if request.args.get("date"):
            try:
                on = dt.date.fromisoformat(request.args["date"])
            except ValueError:
                error = _("Date invalide (jj/mm/aaaa).")
        max_age = current_app.config["SILLAGE_GMP_MAX_AGE_MONTHS"]
        figures = indicators.gmps(db.session, [e.id for e in etabs], on, max_age)
        chosen_id = params.arg("etablissement")
        if request.args.get("etablissement") and chosen_id not in figures:
            abort(404)  # another établissement's id, or none
        if chosen_id is None:
            chosen_id = next((e.id for e in etabs if figures[e.id].evaluated), etabs[0].id if etabs else None)
        chosen = next((e for e in etabs if e.id == chosen_id), None)
        detail = history = None
        people = {}
        if chosen is not None:
            detail = figures[chosen.id]
            history = [indicators.gmp(db.session, chosen.id, on - relativedelta(months=n), max_age)
                       for n in range(12, -1, -1)]
            if self.appbuilder.sm.has_access("can_read", "Usager"):  # who opens dossiers sees whom
                ids = set(detail.missing) | set(detail.outdated)
                people = {u.id: u for u in db.session.execute(select(Usager).where(Usager.id.in_(ids))).scalars()} \
                    if ids else {}
        return self.render_template("indicateurs/gmp.html", title=_("GMP et répartition des GIR"), etabs=etabs,
                                    figures=figures, chosen=chosen, detail=detail, history=history, people=people,
                                    on=on, error=error, points=GIR_POINTS, max_age=max_age)
