"""Home page: per kind of work, the figures that matter, each a link to the list behind it.

Which parts a user gets follows their permissions (not their role's name): a structure that
gives the secretariat's rights to a chef de service gives them its home too. The lists behind the
figures are the dashboard's work lists: a page each, and an xlsx export of the same rows.
"""
from __future__ import annotations

from flask import Response, abort, current_app, redirect, url_for
from flask_appbuilder import BaseView, IndexView, expose
from flask_login import current_user

from ...extensions import db
from ...security import stamp
from ...domain import clock
from ...services import dashboard, drafts, xlsx

PREVIEW = 5  # lines of a work list shown on the home page


def _can(action: str, resource: str) -> bool:
    return current_app.appbuilder.sm.has_access(f"can_{action}", resource)


def _context() -> dict:
    return {"today": clock.today(), "user_id": current_user.id,
            "gmp_max_age": current_app.config["SILLAGE_GMP_MAX_AGE_MONTHS"],
            "aide_days": current_app.config["SILLAGE_AIDE_RENEWAL_DAYS"]}


def _worklists(ctx, *keys) -> dict:
    """The named work lists the user may open, their count and first lines: {key: (definition, lines)}."""
    found = {}
    for key in keys:
        definition = dashboard.WORKLISTS[key]
        if _can("read", definition.resource):
            found[key] = (definition, definition.lines(db.session, ctx, PREVIEW))
    return found


class HomeView(IndexView):
    route_base = ""
    index_template = "sillage/index.html"

    @expose("/")
    def index(self):
        if not current_user.is_authenticated:
            return self.render_template(self.index_template, appbuilder=self.appbuilder)
        today = clock.today()
        pilot = _can("read", "Indicateur")
        parts = {
            "secretariat": _can("write", "Parcours") and not pilot,
            "care": _can("write", "Evaluation") and not pilot and not _can("write", "Parcours"),
            "pilot": pilot,
            "quality": _can("write", "Formulaire"),
            "dpo": _can("read", "Rgpd") and _can("read", "Audit"),
        }
        keys = []
        if parts["secretariat"]:
            keys += ["attente", "pieces", "identites", "documents-manquants", "documents-expirent",
                     "contrats-a-remettre", "contrats-a-signer", "aides-a-renouveler", "mes-taches"]
        if _can("write", "Papiers") and not pilot:  # (Comptabilité: its papers' work lists)
            keys += ["contrats-a-remettre", "contrats-a-signer", "aides-a-renouveler"]
        if parts["care"]:
            keys += ["mes-usagers", "evaluations", "aggir"]
            keys += ["mes-taches"]
        if parts["pilot"]:
            keys += ["entrees", "sorties", "attente", "identites", "evaluations", "aggir", "ecrits-a-valider"]
            keys += ["mes-taches"]
        if parts["dpo"]:
            keys += ["conservation"]
        ctx = {**_context(), "gmps": {}}  # (each établissement's GMP, for its work list and its chart)
        lists = _worklists(ctx, *dict.fromkeys(keys))
        figures = {}
        if pilot:
            max_age = current_app.config["SILLAGE_GMP_MAX_AGE_MONTHS"]
            figures = {
                "occupancy": dashboard.occupancy_today(db.session, today),
                "months": dashboard.occupancy_months(db.session, today),
                "waiting": dashboard.waiting_by_status_and_age(db.session, today) if "attente" in lists else None,
                "identities": dashboard.identity_statuses(db.session) if _can("read", "Usager") else None,
                "girs": dashboard.gir_distributions(db.session, today, max_age, ctx["gmps"]),
            }
        if parts["quality"]:
            figures["forms"] = dashboard.forms_overview(db.session)
        if parts["dpo"]:
            from ...services import emergency, rgpd

            queue = rgpd.queue(db.session)
            figures["rgpd"] = {"erasures": len(queue.erasures), "rectifications": len(queue.rectifications),
                               "accesses": len(queue.accesses)}
            figures["emergencies"] = len(emergency.to_review(db.session))
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, parts=parts, lists=lists, figures=figures,
            today=today, age_buckets=dashboard.AGE_BUCKETS,
            drafts=drafts.of_user(db.session, current_user.id, current_app.config["SILLAGE_DRAFT_DAYS"]),
            projets_due=self._projets_due(today))

    def _projets_due(self, today):
        """(late, due within 30 days) deadlines of the projets personnalisés in the user's scope."""
        if not _can("read", "Projet"):
            return None
        import datetime as dt

        from ...security.scope import current_scope
        from ...services import projets

        # kept until the data moves, as the lists' counts are: every admission of the scope is read
        scope = current_scope()
        return stamp.cached_by_data(db.session, ("projets_due", scope, today), lambda: projets.due_counts(
            db.session, scope, today, today + dt.timedelta(days=30)))


class WorklistView(BaseView):
    """A work list of the home page, whole, and as xlsx. Each needs the read permission of what it
    lists (checked here, then the scope filters the rows as everywhere)."""
    route_base = "/accueil"

    def _get(self, key):
        if not current_user.is_authenticated:
            return None
        definition = dashboard.WORKLISTS.get(key)
        if definition is None:
            abort(404)
        if not _can("read", definition.resource):
            abort(403)
        return definition, definition.lines(db.session, _context(), None).rows

    @expose("/liste/<key>")
    def page(self, key):
        found = self._get(key)
        if found is None:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        definition, rows = found
        return self.render_template("sillage/worklist.html", title=str(definition.title), key=key,
                                    definition=definition, rows=rows)

    @expose("/liste/<key>.xlsx")
    def export(self, key):
        from ...security.audit import record_event

        found = self._get(key)
        if found is None:
            abort(401)
        definition, rows = found
        book = xlsx.Workbook()
        sheet = book.sheet(str(definition.title))
        sheet.header([str(c) for c in definition.columns])
        for row in rows:
            sheet.row(row["cells"])
        record_event("export", entity="Usager", details={"liste": key, "lignes": len(rows)})
        return Response(book.bytes(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{key}.xlsx"'})

