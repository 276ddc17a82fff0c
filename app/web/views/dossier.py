"""The dossier page: one screen per usager gathering identity, contacts, situation, coverage,
protection, foyer and parcours, each panel edited in place.

Every panel posts to its own URL; a refused save re-renders the page with what the user typed,
the errors on their fields and the panel open. Nothing typed is lost.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ...domain import clock, identity, vocab
from ...extensions import db
from ...models import (
    Admission, DemandeAdmission, Foyer, ModaliteAccueil, MotifSortie, User, Usager,
)
from ...security.scope import OutOfScope, constant, current_scope
from ...services import foyers, forms, organisation, parcours, rgpd, usagers
from ...services.errors import DuplicateSuspected, StaleVersion, ValidationFailed
from ...services.usagers import REFERRED_MESSAGE
from .. import params
from .documents import panel as documents_panel
from ..forms import apply_errors, form_values
from ..forms.dossier import (
    AdmissionForm, ContactForm, ContactPersonForm, CouvertureForm, DemandeForm, FoyerForm,
    IdentityForm, NewUsagerForm, ProtectionForm, SituationForm, SortieForm, TransfertForm,
)

SECTIONS = {
    "identite": (IdentityForm, usagers.IDENTITY_FIELDS),
    "coordonnees": (ContactForm, usagers.CONTACT_FIELDS),
    "situation": (SituationForm, usagers.SITUATION_FIELDS),
}


SUBMIT_LABELS = {"admission": _l("Admettre"), "transfert": _l("Transférer"), "sortie": _l("Enregistrer la sortie"),
                 "demande": _l("Enregistrer la demande")}


def submit_label(key: str) -> str:
    name, _sep, item_id = key.partition("-")
    if name in ("protection", "contact") and not item_id:
        return str(_l("Ajouter"))
    if name == "foyer":
        return str(_l("Enregistrer le foyer"))
    return str(SUBMIT_LABELS.get(name, _l("Enregistrer")))


# The usager, with its coverage and foyer in the same statement; the page's collections are read
# after it by `usagers.load_collections` (statements built once, like this one: `scope.constant`).
_USAGER = constant(select(Usager).where(Usager.id == bindparam("usager_id")).options(
    joinedload(Usager.couverture), joinedload(Usager.foyer)))


def _choices(rows, blank=True):
    return ([(None, "—")] if blank else []) + [(r.id, str(r)) for r in rows]


class DossierView(BaseView):
    route_base = "/dossier"
    class_permission_name = "Usager"
    method_permission_name = {
        "show": "read", "form_fragment": "write", "new": "write", "save_section": "write", "save_couverture": "write",
        "save_protection": "write", "save_foyer": "write", "join_foyer": "write",
        "save_contact": "write", "admit": "write", "discharge": "write", "transfer": "write", "cancel_exit": "write",
        "save_demande": "write", "archive": "archive", "restore": "archive",
    }
    default_view = "new"

    # ---- helpers -------------------------------------------------------------------------
    def _usager(self, usager_id) -> Usager:
        usager = db.session.execute(_USAGER, {"usager_id": usager_id}).scalar_one_or_none()
        if usager is None:  # absent, or outside the user's scope: the same answer
            abort(404)
        return usager

    def _services(self):
        return organisation.services(db.session, include_archived=False)

    def _etablissements(self):
        return organisation.etablissements(db.session, include_archived=False)

    def _ref(self, model):
        return db.session.execute(select(model).where(model.active.is_(True)).order_by(model.position)).scalars().all()

    def _form_for(self, usager: Usager, key: str):
        """The prefilled form of one panel key ("identite", "protection-12", "sortie-3"...), or None."""
        name, _, raw_id = key.partition("-")
        item_id = int(raw_id) if raw_id.isdigit() else None
        if raw_id and item_id is None:
            return None
        by_id = lambda items: next((i for i in items if i.id == item_id), None)  # noqa: E731
        if name in SECTIONS and item_id is None:
            form = SECTIONS[name][0](prefix=key, obj=usager, formdata=None)
            if name == "identite":
                form.prenoms_naissance.data = usager.prenoms_text
            return form
        simple = {"couverture": (CouvertureForm, usager.couverture), "foyer": (FoyerForm, usager.foyer),
                  "protection": (ProtectionForm, None), "admission": (AdmissionForm, None),
                  "demande": (DemandeForm, None), "contact": (ContactPersonForm, None)}
        if item_id is None and name in simple:
            if name == "contact" and usager.foyer is None:
                return None
            cls, obj = simple[name]
            return cls(prefix=key, obj=obj, formdata=None)
        active = [a for a in usager.admissions if a.is_active]
        items = {
            "protection": (ProtectionForm, usager.protections),
            "contact": (ContactPersonForm, usager.foyer.contacts if usager.foyer else []),
            "demande": (DemandeForm, usager.demandes),
            "sortie": (SortieForm, active),
            "transfert": (TransfertForm, active),
        }
        if item_id is None or name not in items:
            return None
        cls, candidates = items[name]
        obj = by_id(candidates)
        if obj is None:
            return None
        if name == "transfert":
            return cls(prefix=key, data={"version": obj.version}, formdata=None)
        return cls(prefix=key, obj=obj, formdata=None)

    def _forms(self, usager: Usager, bound: dict, wanted=()):
        """Forms shown open: the posted one (with the user's input) and any asked for by
        `?edit=key` (no-JavaScript path). The others load when their panel opens."""
        forms = dict(bound)
        for key in wanted:
            if key not in forms and (form := self._form_for(usager, key)) is not None:
                forms[key] = form
        for form in forms.values():
            self._fill_choices(form)
        return forms

    def _fill_choices(self, form, services=None, modalites=None, motifs=None):
        services = services if services is not None else self._services()
        if "service_id" in form:
            form.service_id.choices = _choices(services)
        if "modalite_id" in form:
            form.modalite_id.choices = _choices(modalites if modalites is not None else self._ref(ModaliteAccueil))
        if "motif_sortie_id" in form:
            all_motifs = motifs if motifs is not None else self._ref(MotifSortie)
            form.motif_sortie_id.choices = _choices([m for m in all_motifs if m.code != parcours.TRANSFER_REASON])
        if "etablissement_id" in form:
            form.etablissement_id.choices = _choices(self._etablissements())

    def _render(self, usager, bound=None, stale=None, status=200):
        """The page; a form in `bound` (posted, refused) is shown open with the user's input."""
        bound = bound or {}
        usagers.load_collections(db.session, usager)
        wanted = [request.args["edit"]] if request.args.get("edit") else []
        forms = self._forms(usager, bound, wanted)
        return self.render_template(
            "dossier/page.html", usager=usager, forms=forms, submit_label=submit_label,
            dossier_url=url_for(".show", usager_id=usager.id), action_url=lambda key: self._action_url(usager, key),
            stale=stale, timeline=parcours.timeline(usager), vocab=vocab,
            can_write=self.appbuilder.sm.has_access("can_write", "Usager"),
            can_write_parcours=self.appbuilder.sm.has_access("can_write", "Parcours"),
            can_archive=self.appbuilder.sm.has_access("can_archive", "Usager"),
            can_history=self.appbuilder.sm.has_access("can_read", "HistoriqueAcces"),
            can_portal=self.appbuilder.sm.has_access("can_read", "Portail"),
            can_papiers=self.appbuilder.sm.has_access("can_read", "Papiers"),
            can_rgpd=self.appbuilder.sm.has_access("can_write", "Rgpd"),
            can_complete_export=rgpd.may_export_completely(g.user), rgpd_qualites=rgpd.QUALITE_DEMANDEUR,
            foyer_matches=self._foyer_matches(usager), **self._evaluations(usager), **self._projets(usager),
            **documents_panel(self.appbuilder.sm, usager, request.args),
            **self._transmissions(usager), **self._ecrits(usager), **self._reunions(usager),
            **self._agenda(usager),
        ), status

    def _projets(self, usager):
        """The projet personnalisé panel: current version and next deadline per établissement."""
        if not self.appbuilder.sm.has_access("can_read", "Projet"):
            return {"projets_summary": None}
        from ...domain import projet as projet_rules
        from ...services import projets

        return {"projets_summary": projets.summary(db.session, usager, clock.today()), "projet_rules": projet_rules}

    def _transmissions(self, usager):
        """The transmissions panel: the last few the user may read about the person."""
        if not self.appbuilder.sm.has_access("can_read", "Transmission"):
            return {"transmissions_recent": None}
        from ...services import transmissions

        return {"transmissions_recent": transmissions.recent(db.session, usager.id),
                "transmission_cibles": transmissions.cibles(db.session)}

    def _ecrits(self, usager):
        """The écrits panel: the last few the user may read about the person."""
        if not self.appbuilder.sm.has_access("can_read", "Ecrit"):
            return {"ecrits_recent": None}
        from ...services import ecrits

        return {"ecrits_recent": ecrits.ecrits_of(db.session, usager.id, limit=5), "ecrit_statuts": ecrits.STATUTS}

    def _reunions(self, usager):
        """The meetings panel: meetings with an item about the person, only the items the user reads."""
        if not self.appbuilder.sm.has_access("can_read", "Reunion"):
            return {"reunions_panel": None}
        from ...services import reunions

        return {"reunions_panel": reunions.of_usager(db.session, usager.id)[:10]}

    def _agenda(self, usager):
        """The agenda panel: the person's next occurrences (masked as services.agenda says)."""
        if not self.appbuilder.sm.has_access("can_read", "Agenda"):
            return {"agenda_next": None}
        import datetime as dt

        from ...security.scope import current_scope
        from ...domain import clock
        from ...services import agenda

        start = agenda.local_day_start(clock.today())
        occs = agenda.occurrences(db.session, start, start + dt.timedelta(days=31), usager_id=usager.id,
                                  with_cancelled=False, with_people=False)[:5]
        return {"agenda_next": [agenda.as_line(o, current_scope()) for o in occs]}

    def _evaluations(self, usager):
        """The evaluations panel: list, GIR over time, grids that can be filled here."""
        sm = self.appbuilder.sm
        if not sm.has_access("can_read", "Evaluation"):
            return {"evaluations": None, "sections": [], "user_names": {}}
        from ...domain.forms.display import readable_answers
        from ..views.evaluations import applicable

        saved = forms.evaluations_of(db.session, usager.id)
        items = [e for e in saved if e.definition.kind == "evaluation"]
        girs = sorted((e.evaluated_on, e.computed.get("gir")) for e in items
                      if e.status == "validated" and e.definition.family == "aggir" and e.computed.get("gir"))
        can_write = sm.has_access("can_write", "Evaluation")
        places = {forms.place(a.etablissement) for a in usager.admissions if a.is_active}
        sections = forms.dossier_sections(db.session, usager.id, saved, places)
        for section in sections:  # the edit forms load when their panel opens
            section["writable"] = section["writable"] and can_write and not usager.archived_at
            current = section["history"][0] if section["history"] else None
            section["shown"] = readable_answers(current.definition.data, current.answers) if current else []
        authors = {e.validated_by_id for s in sections for e in s["history"] if e.validated_by_id}
        names = dict(db.session.execute(select(User.id, User.first_name + " " + User.last_name)
                                        .where(User.id.in_(authors))).all()) if authors else {}
        return {"evaluations": items, "gir_series": girs, "sections": sections, "user_names": names,
                "grids": applicable(usager.id, places) if can_write else []}

    def _foyer_matches(self, usager):
        from ...domain.text import fold

        q = fold(request.args.get("foyer_q"))
        if not q:
            return None
        query = select(Foyer).where(Foyer.archived_at.is_(None)).order_by(Foyer.libelle).limit(10)
        for token in q.split():
            query = query.where(Foyer.libelle.ilike(f"%{token}%"))
        return [f for f in db.session.execute(query).scalars() if f.id != usager.foyer_id]

    def _submit(self, usager, key, form, action, panel=None):
        """Validate the posted form, run the service, and answer like every panel does."""
        panel = panel or key
        self._fill_choices(form)
        if not form.validate():
            return self._render(usager, {key: form}, status=422)
        try:
            action(form)
        except ValidationFailed as exc:
            for message in apply_errors(form, exc.errors):
                flash(message, "danger")
            db.session.rollback()
            return self._render(usager, {key: form}, status=422)
        except StaleVersion as exc:
            db.session.rollback()
            form.version.data = exc.current_version
            return self._render(usager, {key: form}, stale=exc, status=409)
        except OutOfScope:
            db.session.rollback()
            abort(404)
        flash(_("Modifications enregistrées."), "success")
        return redirect(url_for(".show", usager_id=usager.id, _anchor=panel))

    # ---- pages ---------------------------------------------------------------------------
    @expose("/<int:usager_id>")
    @has_access
    def show(self, usager_id):
        return self._render(self._usager(usager_id))

    @expose("/<int:usager_id>/formulaire/<key>")
    @has_access
    def form_fragment(self, usager_id, key):
        """One panel's edit form, fetched when the user opens the panel (keeps the page light)."""
        usager = self._usager(usager_id)
        form = self._form_for(usager, key)
        if form is None:
            abort(404)
        self._fill_choices(form)
        return self.render_template("dossier/form_fragment.html", form=form, usager=usager, key=key,
                                    action=self._action_url(usager, key), submit_label=submit_label)

    @staticmethod
    def _action_url(usager, key):
        name, _, item_id = key.partition("-")
        uid = usager.id
        if name in SECTIONS:
            return url_for(".save_section", usager_id=uid, section=name)
        simple = {"couverture": ".save_couverture", "foyer": ".save_foyer", "protection": ".save_protection",
                  "contact": ".save_contact", "admission": ".admit", "demande": ".save_demande"}
        if name == "sortie":
            return url_for(".discharge", usager_id=uid, admission_id=int(item_id))
        if name == "transfert":
            return url_for(".transfer", usager_id=uid, admission_id=int(item_id))
        if item_id:
            return url_for(simple[name], usager_id=uid, item_id=int(item_id))
        return url_for(simple[name], usager_id=uid)

    @expose("/nouveau", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = NewUsagerForm(prefix="nouveau")
        self._fill_choices(form)
        form.etablissement_id.choices = form.etablissement_id.choices[1:] or [(None, "—")]
        candidates = None
        if request.method == "POST" and form.validate():
            data = form_values(form, usagers.USAGER_FIELDS)
            try:
                usager = usagers.create_usager(
                    db.session, data, scope=current_scope(), etablissement_id=form.etablissement_id.data,
                    service_id=form.service_id.data, accept_duplicates=form.accept_duplicates.data,
                )
            except ValidationFailed as exc:
                db.session.rollback()
                for message in apply_errors(form, exc.errors):
                    flash(message, "danger")
            except DuplicateSuspected as exc:
                candidates = exc.candidates
            except OutOfScope:
                abort(404)
            else:
                flash(_("Dossier créé, avec une demande d'admission en attente."), "success")
                if usager.referred_to_identity:
                    flash(REFERRED_MESSAGE, "warning")
                return redirect(url_for(".show", usager_id=usager.id))
        status = 422 if request.method == "POST" else 200
        return self.render_template("dossier/new.html", form=form, candidates=candidates), status

    @expose("/<int:usager_id>/<any(identite, coordonnees, situation):section>", methods=["POST"])
    @has_access
    def save_section(self, usager_id, section):
        usager = self._usager(usager_id)
        cls, fields = SECTIONS[section]
        form = cls(prefix=section)
        verified = usager.statut_identite in identity.VERIFIED

        def save(f):
            usagers.update_usager(db.session, usager, form_values(f, fields), f.version.data)
            if verified and usager.statut_identite == "provisoire":
                flash(_("Un trait strict de l'identité a changé : l'identité redevient provisoire. Vérifiez-la de "
                        "nouveau (pièce d'identité, téléservice INSi) avant de la valider ou de la qualifier."),
                      "warning")

        return self._submit(usager, section, form, save)

    @expose("/<int:usager_id>/couverture", methods=["POST"])
    @has_access
    def save_couverture(self, usager_id):
        usager = self._usager(usager_id)
        form = CouvertureForm(prefix="couverture")
        return self._submit(usager, "couverture", form, lambda f: usagers.save_couverture(
            db.session, usager, form_values(f, usagers.COUVERTURE_FIELDS), f.version.data))

    @expose("/<int:usager_id>/protection", methods=["POST"])
    @expose("/<int:usager_id>/protection/<int:item_id>", methods=["POST"])
    @has_access
    def save_protection(self, usager_id, item_id=None):
        usager = self._usager(usager_id)
        mesure = None
        if item_id is not None:
            mesure = next((m for m in usager.protections if m.id == item_id), None) or abort(404)
        key = f"protection-{item_id}" if item_id else "protection"
        form = ProtectionForm(prefix=key)
        return self._submit(usager, key, form, lambda f: usagers.save_protection(
            db.session, usager, form_values(f, usagers.PROTECTION_FIELDS), mesure, f.version.data),
            panel="protection")

    @expose("/<int:usager_id>/archiver", methods=["POST"])
    @has_access
    def archive(self, usager_id):
        usager = self._usager(usager_id)
        usagers.set_archived(db.session, usager, True, g.user.id)
        flash(_("Dossier archivé. Il reste consultable et peut être restauré."), "info")
        return redirect(url_for(".show", usager_id=usager.id))

    @expose("/<int:usager_id>/restaurer", methods=["POST"])
    @has_access
    def restore(self, usager_id):
        usager = self._usager(usager_id)
        usagers.set_archived(db.session, usager, False)
        flash(_("Dossier restauré."), "success")
        return redirect(url_for(".show", usager_id=usager.id))

    # ---- foyer ---------------------------------------------------------------------------
    @expose("/<int:usager_id>/foyer", methods=["POST"])
    @has_access
    def save_foyer(self, usager_id):
        usager = self._usager(usager_id)
        form = FoyerForm(prefix="foyer")
        return self._submit(usager, "foyer", form, lambda f: foyers.save_foyer(
            db.session, form_values(f, foyers.FOYER_FIELDS), usager.foyer, f.version.data, member=usager))

    @expose("/<int:usager_id>/foyer/rattacher", methods=["POST"])
    @has_access
    def join_foyer(self, usager_id):
        usager = self._usager(usager_id)
        foyer = None
        if request.form.get("foyer_id"):
            foyer = db.session.get(Foyer, params.arg("foyer_id", request.form) or 0) or abort(404)
        try:
            foyers.join_foyer(db.session, usager, foyer, request.form.get("version"))
        except StaleVersion:
            db.session.rollback()
            flash(_("Le dossier a changé entre-temps : rechargez la page et recommencez."), "warning")
        except ValidationFailed as exc:
            db.session.rollback()
            for message in exc.errors.values():
                flash(message, "danger")
        else:
            flash(_("Foyer mis à jour."), "success")
        return redirect(url_for(".show", usager_id=usager.id, _anchor="foyer"))

    @expose("/<int:usager_id>/contact", methods=["POST"])
    @expose("/<int:usager_id>/contact/<int:item_id>", methods=["POST"])
    @has_access
    def save_contact(self, usager_id, item_id=None):
        usager = self._usager(usager_id)
        if usager.foyer is None:
            abort(404)
        contact = None
        if item_id is not None:
            contact = next((c for c in usager.foyer.contacts if c.id == item_id), None) or abort(404)
        key = f"contact-{item_id}" if item_id else "contact"
        form = ContactPersonForm(prefix=key)
        return self._submit(usager, key, form, lambda f: foyers.save_contact(
            db.session, usager.foyer, form_values(f, foyers.CONTACT_FIELDS), contact, f.version.data),
            panel="foyer")

    # ---- parcours ------------------------------------------------------------------------
    def _parcours_write(self):
        if not self.appbuilder.sm.has_access("can_write", "Parcours"):
            abort(403)

    def _admission(self, usager, admission_id) -> Admission:
        adm = db.session.get(Admission, admission_id)
        if adm is None or adm.usager_id != usager.id:
            abort(404)
        return adm

    @expose("/<int:usager_id>/admission", methods=["POST"])
    @has_access
    def admit(self, usager_id):
        self._parcours_write()
        usager = self._usager(usager_id)
        form = AdmissionForm(prefix="admission")

        def action(f):
            demande = next((d for d in usager.demandes if d.statut in vocab.STATUTS_DEMANDE_OUVERTE
                            and (d.service_id in (None, f.service_id.data))), None)
            parcours.admit(db.session, scope=current_scope(), usager=usager, service_id=f.service_id.data,
                           modalite_id=f.modalite_id.data, date_entree=f.date_entree.data,
                           decision_orientation_ref=f.decision_orientation_ref.data,
                           orientation_debut=f.orientation_debut.data, orientation_fin=f.orientation_fin.data,
                           demande=demande)
        return self._submit(usager, "admission", form, action, panel="parcours")

    @expose("/<int:usager_id>/admission/<int:admission_id>/sortie", methods=["POST"])
    @has_access
    def discharge(self, usager_id, admission_id):
        self._parcours_write()
        usager = self._usager(usager_id)
        adm = self._admission(usager, admission_id)
        key = f"sortie-{adm.id}"
        return self._submit(usager, key, SortieForm(prefix=key), lambda f: parcours.discharge(
            db.session, adm, date_sortie=f.date_sortie.data, motif_sortie_id=f.motif_sortie_id.data,
            expected_version=f.version.data), panel="parcours")

    @expose("/<int:usager_id>/admission/<int:admission_id>/annuler-sortie", methods=["POST"])
    @has_access
    def cancel_exit(self, usager_id, admission_id):
        """A wrong exit undone, with its reason (audited); the page says why when it cannot be."""
        self._parcours_write()
        usager = self._usager(usager_id)
        adm = self._admission(usager, admission_id)
        try:
            parcours.cancel_exit(db.session, adm, reason=request.form.get("reason", "")[:500],
                                 expected_version=params.arg("version", request.form))
        except ValidationFailed as exc:
            db.session.rollback()
            for message in exc.errors.values():
                flash(message, "danger")
        except StaleVersion:
            db.session.rollback()
            flash(_("Cette admission vient d'être modifiée par quelqu'un d'autre : vérifiez-la, puis recommencez."),
                  "danger")
        else:
            flash(_("Sortie annulée : l'admission est de nouveau en cours."), "success")
        return redirect(url_for(".show", usager_id=usager.id, _anchor="parcours"))

    @expose("/<int:usager_id>/admission/<int:admission_id>/transfert", methods=["POST"])
    @has_access
    def transfer(self, usager_id, admission_id):
        self._parcours_write()
        usager = self._usager(usager_id)
        adm = self._admission(usager, admission_id)
        key = f"transfert-{adm.id}"
        return self._submit(usager, key, TransfertForm(prefix=key), lambda f: parcours.transfer(
            db.session, scope=current_scope(), admission=adm, service_id=f.service_id.data,
            date_transfert=f.date_transfert.data, expected_version=f.version.data), panel="parcours")

    @expose("/<int:usager_id>/demande", methods=["POST"])
    @expose("/<int:usager_id>/demande/<int:item_id>", methods=["POST"])
    @has_access
    def save_demande(self, usager_id, item_id=None):
        self._parcours_write()
        usager = self._usager(usager_id)
        demande = None
        if item_id is not None:
            demande = db.session.get(DemandeAdmission, item_id)
            if demande is None or demande.usager_id != usager.id:
                abort(404)
        key = f"demande-{item_id}" if item_id else "demande"
        form = DemandeForm(prefix=key)
        return self._submit(usager, key, form, lambda f: parcours.save_demande(
            db.session, scope=current_scope(), usager=usager,
            data=form_values(f, parcours.DEMANDE_FIELDS), demande=demande, expected_version=f.version.data),
            panel="parcours")
