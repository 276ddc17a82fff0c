"""Pages of the écrits: the ones to validate (and the user's drafts), a person's écrits with a new
draft, one écrit (its text, its edit form while it is a draft, submit / validate / refuse /
diffuse, its versions, its PDF). Every act goes through services.ecrits; the rows shown pass
through the scope hook. Plain forms, no script (CSP)."""
from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...domain import ecrits as text
from ...extensions import db
from ...models import Ecrit, User, Usager
from ...security.roles import CATEGORIES
from ...security.scope import current_scope
from ...services import ecrits
from ...services.errors import StaleVersion, ValidationFailed
from .. import params


def _values(form) -> dict:
    values = {k: form.get(k) for k in ("type_code", "titre", "texte", "categorie") if k in form}
    if "coauteurs_envoyes" in form:
        values["coauteurs"] = [int(v) for v in form.getlist("coauteurs") if v.isdigit() and len(v) < 10]
    if form.get("etablissement_id"):
        values["etablissement_id"] = params.arg("etablissement_id", form)
    return values


class EcritView(BaseView):
    route_base = "/ecrits"
    class_permission_name = "Ecrit"
    method_permission_name = {"index": "read", "usager": "read", "show": "read", "pdf": "read", "create": "write",
                              "save": "write", "act": "write"}
    default_view = "index"

    def _can_write(self) -> bool:
        return self.appbuilder.sm.has_access("can_write", "Ecrit")

    def _ecrit(self, eid) -> Ecrit:
        item = db.session.get(Ecrit, eid)
        if item is None:
            abort(404)
        return item

    def _common(self) -> dict:
        scope = current_scope()
        return {"categories": CATEGORIES, "statuts": ecrits.STATUTS, "can_write": self._can_write(),
                "writable": [c for c in CATEGORIES if scope is None or scope.writes(c)],
                "types": ecrits.types(db.session)}

    @expose("/")
    @has_access
    def index(self):
        mine = [e for e in db.session.execute(select(Ecrit).where(Ecrit.statut == "brouillon")
                                              .order_by(Ecrit.updated_at.desc())).scalars()
                if ecrits.is_author(g.user, e)]
        return self.render_template("ecrits/index.html", title=_("Écrits"), a_valider=ecrits.to_validate(db.session, g.user),
                                    mine=mine, **self._common())

    @expose("/usager/<int:usager_id>")
    @has_access
    def usager(self, usager_id, errors=None, status=200):
        person = db.session.get(Usager, usager_id)
        if person is None:
            abort(404)
        forms_by_type = {t.code: d for t in ecrits.types(db.session) if (d := ecrits.form_of(db.session, t))}
        posted_form = request.form.get("formulaire") if errors else None
        answers = {}
        if posted_form and posted_form in forms_by_type:
            from .evaluations import answers_from_form

            answers = answers_from_form(forms_by_type[posted_form].data, request.form)
        return self.render_template("ecrits/usager.html", title=_("Écrits"), usager=person,
                                    rows=ecrits.ecrits_of(db.session, person.id), errors=errors or {},
                                    posted=request.form if errors else {}, forms_by_type=forms_by_type,
                                    posted_form=posted_form, answers=answers, **self._common()), status

    @expose("/usager/<int:usager_id>/nouveau", methods=["POST"])
    @has_access
    def create(self, usager_id):
        person = db.session.get(Usager, usager_id)
        if person is None:
            abort(404)
        values = _values(request.form)
        if request.form.get("formulaire"):  # the type's form: its answers compose the text
            from .evaluations import answers_from_form

            definition = ecrits.form_of(db.session, ecrits.type_by_code(db.session, values.get("type_code")))
            values["reponses"] = answers_from_form(definition.data, request.form) if definition else {}
        try:
            item = ecrits.create(db.session, scope=current_scope(), user=g.user, usager=person, values=values)
        except ValidationFailed as exc:
            db.session.rollback()
            return self.usager(usager_id, errors=exc.errors, status=422)
        flash(_("Brouillon enregistré."), "success")
        return redirect(url_for(".show", eid=item.id))

    @expose("/<int:eid>")
    @has_access
    def show(self, eid, errors=None, status=200):
        item = self._ecrit(eid)
        users = db.session.execute(select(User).where(User.active.is_(True)).order_by(User.last_name)).scalars().all()
        return self.render_template(
            "ecrits/show.html", title=item.titre, e=item, errors=errors or {},
            posted=request.form if errors else {}, source=text.to_text(item.contenu),
            html=text.sanitise(item.contenu),  # sanitised when saved; again here, in depth
            editable=self._can_write() and ecrits.may_edit(g.user, item, current_scope()),
            is_author=ecrits.is_author(g.user, item), may_validate=ecrits.may_validate(g.user, item),
            may_diffuse=ecrits.is_author(g.user, item) or bool(ecrits.role_names(g.user) & set(item.type.validating_roles)),
            users=[u for u in users if u.id != item.auteur_id], **self._common()), status

    @expose("/<int:eid>/enregistrer", methods=["POST"])
    @has_access
    def save(self, eid):
        item = self._ecrit(eid)
        try:
            ecrits.update(db.session, scope=current_scope(), user=g.user, ecrit=item, values=_values(request.form),
                          expected_version=request.form.get("version"))
        except ValidationFailed as exc:
            db.session.rollback()
            return self.show(eid, errors=exc.errors, status=422)
        except StaleVersion as exc:
            db.session.rollback()
            return self.show(eid, errors={"version": exc.message}, status=409)
        except (ecrits.WrongState, ecrits.NotAllowed) as exc:
            db.session.rollback()
            return self.show(eid, errors={"etat": exc.message}, status=409)
        flash(_("Écrit enregistré ; la version précédente est conservée."), "success")
        return redirect(url_for(".show", eid=item.id))

    @expose("/<int:eid>/<any(soumettre, valider, refuser, diffuser):acte>", methods=["POST"])
    @has_access
    def act(self, eid, acte):
        item = self._ecrit(eid)
        function = {"soumettre": ecrits.submit, "valider": ecrits.validate, "refuser": ecrits.refuse,
                    "diffuser": ecrits.diffuse}[acte]
        extra = {"commentaire": request.form.get("commentaire")} if acte == "refuser" else {}
        try:
            function(db.session, scope=current_scope(), user=g.user, ecrit=item,
                     expected_version=request.form.get("version"), **extra)
        except ValidationFailed as exc:
            db.session.rollback()
            return self.show(eid, errors=exc.errors, status=422)
        except StaleVersion as exc:
            db.session.rollback()
            return self.show(eid, errors={"etat": exc.message}, status=409)
        except (ecrits.WrongState, ecrits.NotAllowed) as exc:
            db.session.rollback()
            return self.show(eid, errors={"etat": exc.message}, status=409)
        flash({"soumettre": _("Écrit soumis à validation."), "valider": _("Écrit validé ; son PDF est rangé dans les documents du dossier."),
               "refuser": _("Écrit refusé : il revient en brouillon avec votre commentaire."),
               "diffuser": _("Écrit marqué comme diffusé.")}[acte], "success")
        return redirect(url_for(".show", eid=item.id))

    @expose("/<int:eid>/pdf")
    @has_access
    def pdf(self, eid):
        """The current text as a PDF (a draft's too); the validated one is also in the documents."""
        item = self._ecrit(eid)
        from ...services.ecrit_pdf import ecrit_pdf  # (fpdf: imported when a PDF is made, issue 20)

        response = make_response(ecrit_pdf(item, item.versions[0].numero if item.versions else None))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="ecrit-{item.id}.pdf"'
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
