"""Home page: what a user works on, in their scope."""
from flask_appbuilder import IndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from ...extensions import db
from ...models import Admission, DemandeAdmission, Etablissement


class HomeView(IndexView):
    route_base = ""
    index_template = "sillage/index.html"

    @expose("/")
    def index(self):
        stats = None
        if current_user.is_authenticated and self.appbuilder.sm.has_access("can_read", "Parcours"):
            active = (select(Admission.etablissement_id, func.count())
                      .where(Admission.date_sortie.is_(None), Admission.archived_at.is_(None))
                      .group_by(Admission.etablissement_id))
            waiting = (select(DemandeAdmission.etablissement_id, func.count())
                       .where(DemandeAdmission.statut == "en_attente", DemandeAdmission.archived_at.is_(None))
                       .group_by(DemandeAdmission.etablissement_id))
            actives = dict(db.session.execute(active).all())
            waitings = dict(db.session.execute(waiting).all())
            etabs = db.session.execute(select(Etablissement).order_by(Etablissement.name)).scalars().all()
            stats = [(e, actives.get(e.id, 0), waitings.get(e.id, 0)) for e in etabs]
        pending = []
        if current_user.is_authenticated:
            from flask import current_app

            from ...services import drafts

            pending = drafts.of_user(db.session, current_user.id, current_app.config["SILLAGE_DRAFT_DAYS"])
        return self.render_template(self.index_template, appbuilder=self.appbuilder, stats=stats, drafts=pending,
                                    projets_due=self._projets_due())

    def _projets_due(self):
        """(late, due within 30 days) deadlines of the projets personnalisés in the user's scope."""
        if not current_user.is_authenticated or not self.appbuilder.sm.has_access("can_read", "Projet"):
            return None
        import datetime as dt

        from ...security.scope import current_scope
        from ...services import projets

        today = dt.date.today()
        items = projets.echeances(db.session, current_scope(), today + dt.timedelta(days=30))
        late = sum(1 for i in items if i["echeance"] < today.isoformat())
        return late, len(items) - late
