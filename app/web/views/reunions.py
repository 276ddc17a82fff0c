"""Pages of the meetings: the list by date and the creation form, one meeting (participants and
attendance, agenda, minutes per item, decisions, validation, PDF), and the user's follow-up tasks.

Every write goes through services.reunions; rows pass through the scope hook, so an item the user
may not read is simply not on the page (nor in the PDF they print).
"""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...domain import clock, nomenclatures
from ...extensions import db
from ...models import Admission, Etablissement, User, Usager
from ...security.roles import CATEGORIES
from ...security.scope import OutOfScope, current_scope
from ...services import reunions
from ...services.errors import ValidationFailed
from .projets import picked_code


def _local_day(value: str | None, end=False) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return None
    return reunions.parse_local(dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time()))


class ReunionView(BaseView):
    route_base = "/reunions"
    class_permission_name = "Reunion"
    method_permission_name = {
        "index": "read", "show": "read", "pdf": "read", "taches": "read", "tache_faite": "read",
        "create": "write", "participant": "write", "presences": "write", "point": "write", "minutes": "write",
        "decision": "write", "validate": "archive"}
    default_view = "index"

    def _can(self, action) -> bool:
        return self.appbuilder.sm.has_access(f"can_{action}", "Reunion")

    def _reunion(self, rid):
        reunion = reunions.visible(db.session, rid)
        if reunion is None:
            abort(404)
        return reunion

    def _users(self) -> list[User]:
        return list(db.session.execute(select(User).where(User.active.is_(True))
                                       .order_by(User.last_name, User.first_name)).scalars())

    def _people(self, etablissement_id) -> list[Usager]:
        """The people currently admitted in the établissement (those the user sees)."""
        return list(db.session.execute(
            select(Usager).join(Admission, Admission.usager_id == Usager.id)
            .where(Admission.etablissement_id == etablissement_id, Admission.date_sortie.is_(None),
                   Admission.archived_at.is_(None))
            .order_by(Usager.nom_naissance, Usager.prenoms_naissance).distinct()).scalars())

    @expose("/")
    @has_access
    def index(self, errors=None, status=200):
        du, au = request.args.get("du"), request.args.get("au")
        rows = reunions.between(db.session, _local_day(du), _local_day(au, end=True))
        etabs = list(db.session.execute(select(Etablissement).where(Etablissement.archived_at.is_(None))
                                        .order_by(Etablissement.name)).scalars())
        return self.render_template(
            "reunions/index.html", title=_("Réunions"), rows=rows, du=du or "", au=au or "", etabs=etabs,
            types=reunions.types(db.session), statuts=reunions.STATUTS, can_write=self._can("write"),
            errors=errors or {}, posted=request.form if errors else {}), status

    @expose("/nouvelle", methods=["POST"])
    @has_access
    def create(self):
        form = request.form
        try:
            reunion = reunions.create(db.session, scope=current_scope(), values={
                k: form.get(k) for k in ("type", "etablissement_id", "service_id", "debut", "lieu", "titre")})
        except ValidationFailed as exc:
            db.session.rollback()
            return self.index(errors=exc.errors, status=422)
        except OutOfScope:
            abort(404)
        flash(_("Réunion créée."), "success")
        return redirect(url_for(".show", rid=reunion.id))

    @expose("/<int:rid>")
    @has_access
    def show(self, rid, errors=None, status=200, point_id=None):
        reunion = self._reunion(rid)
        scope = current_scope()
        objectives = {p.usager_id: reunions.current_objectives(db.session, p.usager_id)
                      for p in reunion.points if p.usager_id}
        return self.render_template(
            "reunions/show.html", title=_("Réunion"), r=reunion, statuts=reunions.STATUTS,
            presences=reunions.PRESENCE_LABELS, kinds=reunions.KIND_LABELS, categories=CATEGORIES,
            writable=[c for c in CATEGORIES if scope is None or scope.writes(c)], users=self._users(),
            people=self._people(reunion.etablissement_id), objectives=objectives,
            prestations=nomenclatures.choices("serafin_prestations"), locked=reunion.statut == "validee",
            can_write=self._can("write"), can_validate=self._can("archive"), errors=errors or {},
            error_point=point_id, posted=request.form if errors else {}, clock=clock), status

    def _post(self, rid, action, success, point_id=None):
        reunion = self._reunion(rid)
        try:
            result = action(reunion)
        except ValidationFailed as exc:
            db.session.rollback()
            return self.show(rid, errors=exc.errors, status=422, point_id=point_id)
        message = success(result) if callable(success) else success
        flash(message, "success")
        return redirect(url_for(".show", rid=rid) + (f"#point-{point_id}" if point_id else ""))

    @expose("/<int:rid>/participants", methods=["POST"])
    @has_access
    def participant(self, rid):
        values = {k: request.form.get(k) for k in ("kind", "user_id", "nom", "organisation", "usager_id", "contact_id")}
        return self._post(rid, lambda r: reunions.add_participant(db.session, reunion=r, values=values),
                          _("Participant ajouté."))

    @expose("/<int:rid>/presences", methods=["POST"])
    @has_access
    def presences(self, rid):
        values = {k.removeprefix("presence_"): v for k, v in request.form.items() if k.startswith("presence_") and v}
        return self._post(rid, lambda r: reunions.record_attendance(db.session, reunion=r, presences=values),
                          _("Présences enregistrées."))

    @expose("/<int:rid>/points", methods=["POST"])
    @has_access
    def point(self, rid):
        values = {k: request.form.get(k) for k in ("titre", "usager_id", "categorie")}
        return self._post(rid, lambda r: reunions.add_point(db.session, scope=current_scope(), reunion=r, values=values),
                          _("Point ajouté à l'ordre du jour."))

    def _point(self, reunion, pid):
        point = reunions.point_of(db.session, reunion, pid)
        if point is None:
            abort(404)
        return point

    @expose("/<int:rid>/points/<int:pid>/compte-rendu", methods=["POST"])
    @has_access
    def minutes(self, rid, pid):
        return self._post(rid, lambda r: reunions.write_minutes(
            db.session, scope=current_scope(), point=self._point(r, pid), texte=request.form.get("compte_rendu")),
            _("Compte rendu du point enregistré."), point_id=pid)

    @expose("/<int:rid>/points/<int:pid>/decisions", methods=["POST"])
    @has_access
    def decision(self, rid, pid):
        form = request.form
        values = {"texte": form.get("texte"), "responsable_id": form.get("responsable_id"),
                  "echeance": form.get("echeance") or None, "objectif_id": form.get("objectif_id"),
                  "prestation": picked_code(form.get("prestation")) or None}
        outcomes = {"action": _("Décision enregistrée ; l'action est inscrite au projet personnalisé."),
                    "tache": _("Décision enregistrée ; une tâche de suivi est créée pour son responsable."),
                    "": _("Décision enregistrée.")}
        locked = _("Décision enregistrée. Le projet personnalisé est signé : une tâche de suivi rappelle d'ouvrir "
                   "un avenant pour y inscrire l'action.")

        def message(result):
            decision, outcome = result
            return locked if outcome == "tache" and values["objectif_id"] else outcomes[outcome]

        return self._post(rid, lambda r: reunions.decide(db.session, scope=current_scope(), point=self._point(r, pid),
                                                        values=values), message, point_id=pid)

    @expose("/<int:rid>/valider", methods=["POST"])
    @has_access
    def validate(self, rid):
        return self._post(rid, lambda r: reunions.validate(db.session, scope=current_scope(), reunion=r,
                                                          user_id=g.user.id),
                          lambda stored: _("Compte rendu validé : la réunion est verrouillée ; %(n)s compte(s) rendu(s) "
                                           "classé(s) dans les documents des personnes.", n=len(stored)))

    @expose("/<int:rid>/compte-rendu.pdf")
    @has_access
    def pdf(self, rid):
        reunion = self._reunion(rid)
        data = reunions.render_pdf(reunion, reunion.points)
        return Response(data, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="compte-rendu-reunion-{reunion.id}.pdf"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    @expose("/taches")
    @has_access
    def taches(self):
        return self.render_template("reunions/taches.html", title=_("Mes tâches"),
                                    tasks=reunions.tasks_of(db.session, g.user.id, open_only=False))

    @expose("/taches/<int:tid>/faite", methods=["POST"])
    @has_access
    def tache_faite(self, tid):
        if reunions.complete_task(db.session, task_id=tid, owner_id=g.user.id) is None:
            abort(404)
        flash(_("Tâche terminée."), "success")
        return redirect(url_for(".taches"))
