"""Pages of the projet personnalisé: the versions of an usager's PP, and one page per version with
its three phases, participation and signatures, each part edited in place.

Every form is turned into the API's payload and handed to services.projets, which checks it; a
refused save shows the page again with what was typed, the errors next to it and the form open.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...domain import clock, nomenclatures, vocab
from ...domain import projet as rules
from ...extensions import db
from ...models import Etablissement, User, Usager
from ...models.projet import ProjetPersonnalise
from ...security.roles import CATEGORIES
from ...security.scope import OutOfScope, current_scope
from ...services import forms, projets
from ...services.errors import StaleVersion, ValidationFailed
from ...services.projets import as_dict as projet_json

CODE_SEPARATOR = " — "


def picked_code(value: str) -> str:
    """A picked SERAFIN-PH entry ("1.1.1.1 — Besoins en…") or a typed code → the code."""
    return (value or "").split(CODE_SEPARATOR)[0].strip()


def _codes(name: str) -> list[str]:
    return [c for c in (picked_code(v) for v in request.form.getlist(name)) if c]


def _int(value):
    return int(value) if value and value.isdigit() and len(value) < 10 else None


class ProjetView(BaseView):
    route_base = "/projets"
    class_permission_name = "Projet"
    method_permission_name = {"index": "read", "show": "read", "create": "write", "save": "write",
                              "pdf": "read", "scan": "read", "signed_pdf": "read", "due": "read"}
    default_view = "index"

    def _usager(self, usager_id) -> Usager:
        usager = db.session.get(Usager, usager_id)
        if usager is None:
            abort(404)
        return usager

    def _projet(self, usager_id, pid) -> ProjetPersonnalise:
        projet = db.session.get(ProjetPersonnalise, pid)
        if projet is None or projet.usager_id != usager_id or projet.archived_at is not None:
            abort(404)
        return projet

    def _can_write(self) -> bool:
        return self.appbuilder.sm.has_access("can_write", "Projet")

    def _staff(self):
        return db.session.execute(select(User).where(User.active.is_(True)).order_by(User.last_name)).scalars().all()

    @expose("/echeances")
    @has_access
    def due(self):
        """What is late or due within the next 30 days in the user's établissements: PPs to build
        or revise, bilans, actions past their end."""
        today = clock.today()
        items = projets.echeances(db.session, current_scope(), today + dt.timedelta(days=30))
        ids = {i["usager_id"] for i in items}
        usagers = {u.id: u for u in db.session.execute(select(Usager).where(Usager.id.in_(ids))).scalars()} if ids else {}
        etabs = {e.id: e for e in db.session.execute(select(Etablissement)).scalars()}
        grouped = {}
        for item in items:
            if item["usager_id"] in usagers:
                grouped.setdefault(item["etablissement_id"], []).append(item)
        return self.render_template("projets/echeances.html", title=_("Échéances des projets personnalisés"),
                                    grouped=grouped, usagers=usagers, etabs=etabs, today=today.isoformat(),
                                    rules=rules)

    @expose("/<int:usager_id>/")
    @has_access
    def index(self, usager_id):
        usager = self._usager(usager_id)
        admissions = [a for a in usager.admissions if a.is_active]
        return self.render_template(
            "projets/index.html", usager=usager, versions=projets.projets_of(db.session, usager.id),
            etablissements={a.etablissement_id: a.etablissement for a in admissions}.values(),
            staff=self._staff(), can_write=self._can_write(), rules=rules, errors={}, posted={},
            today=clock.today())

    @expose("/<int:usager_id>/nouveau", methods=["POST"])
    @has_access
    def create(self, usager_id):
        usager = self._usager(usager_id)
        payload = {"etablissement_id": _int(request.form.get("etablissement_id")),
                   "date_debut": request.form.get("date_debut") or None,
                   "referent_id": _int(request.form.get("referent_id"))}
        try:
            projet = projets.create(db.session, scope=current_scope(), usager=usager, payload=payload)
        except OutOfScope:
            db.session.rollback()
            abort(404)
        except ValidationFailed as exc:
            db.session.rollback()
            admissions = [a for a in usager.admissions if a.is_active]
            return self.render_template(
                "projets/index.html", usager=usager, versions=projets.projets_of(db.session, usager.id),
                etablissements={a.etablissement_id: a.etablissement for a in admissions}.values(),
                staff=self._staff(), can_write=True, rules=rules, errors=exc.errors, posted=request.form,
                today=clock.today()), 422
        flash(_("Projet personnalisé créé : complétez les attentes et les objectifs."), "success")
        return redirect(url_for(".show", usager_id=usager.id, pid=projet.id))

    @expose("/<int:usager_id>/<int:pid>")
    @has_access
    def show(self, usager_id, pid):
        return self._render(self._projet(usager_id, pid))

    def _render(self, projet, errors=None, posted=None, opened=None, stale=None, status=200):
        usager = projet.usager
        data = projet_json(projet)
        codes = nomenclatures.serafin()
        staff = self._staff()
        evaluations = [e for e in forms.evaluations_of(db.session, usager.id) if e.status == "validated"
                       and e.definition.kind == "evaluation"]
        progress = projets.progression(db.session, projet)
        return self.render_template(
            "projets/page.html", usager=usager, projet=projet, data=data, rules=rules,
            besoins=nomenclatures.choices("serafin_besoins"), prestations=nomenclatures.choices("serafin_prestations"),
            code_label=lambda c: f"{c}{CODE_SEPARATOR}{codes[c].label}" if c in codes else c,
            staff=staff, staff_names={u.id: f"{u.first_name} {u.last_name}" for u in staff},
            evaluations=evaluations, charts=[_chart(o) for o in progress if o["points"]],
            shares=[(b, projets.share_reached(b)) for b in projet.bilans],
            editable=projet.statut in rules.EDITABLE and self._can_write(), can_write=self._can_write(),
            errors=errors or {}, posted=posted or {}, opened=opened, stale=stale, friendly=friendly,
            categories=CATEGORIES, vocab_roles=vocab.ROLE_CONTACT, today=clock.today(),
            contacts=usager.foyer.contacts if usager.foyer else []), status

    @expose("/<int:usager_id>/<int:pid>/<part>", methods=["POST"])
    @has_access
    def save(self, usager_id, pid, part):
        projet = self._projet(usager_id, pid)
        handler = PARTS.get(part)
        if handler is None:
            abort(404)
        try:
            result = handler(self, projet)
        except ValidationFailed as exc:
            db.session.rollback()
            db.session.refresh(projet)
            return self._render(projet, errors=exc.errors, posted=request.form, opened=part, status=422)
        except StaleVersion as exc:
            db.session.rollback()
            db.session.refresh(projet)
            return self._render(projet, posted=request.form, opened=part, stale=exc, status=409)
        flash(_("Enregistré."), "success")
        target = result if isinstance(result, ProjetPersonnalise) else projet
        return redirect(url_for(".show", usager_id=usager_id, pid=target.id) + f"#{part}")

    @expose("/<int:usager_id>/<int:pid>/scan/<int:sid>")
    @has_access
    def scan(self, usager_id, pid, sid):
        from flask import current_app, send_file

        from ...services import attachments

        projet = self._projet(usager_id, pid)
        signature = next((s for s in projet.signatures if s.id == sid and s.scan_path), None)
        path = attachments.path_of(current_app.config["SILLAGE_DATA_DIR"], usager_id,
                                   signature.scan_path) if signature else None
        if path is None:
            abort(404)
        return send_file(path, download_name=attachments.display_name(signature.scan_path), as_attachment=True,
                         max_age=0)

    @expose("/<int:usager_id>/<int:pid>/signe.pdf")
    @has_access
    def signed_pdf(self, usager_id, pid):
        """The PDF kept when the version was signed (`?falc=1`: its easy-read version)."""
        from flask import send_file

        projet = self._projet(usager_id, pid)
        path = projets.kept_pdf(projet, falc=request.args.get("falc") == "1")
        if path is None:
            abort(404)
        return send_file(path, mimetype="application/pdf", download_name=path.name, max_age=0)

    @expose("/<int:usager_id>/<int:pid>/pdf")
    @has_access
    def pdf(self, usager_id, pid):
        from flask import send_file
        import io

        projet = self._projet(usager_id, pid)
        body, name = projets.render_pdf(db.session, projet, falc=request.args.get("falc") == "1",
                                        with_codes=request.args.get("codes") == "1")
        return send_file(io.BytesIO(body), mimetype="application/pdf", download_name=name, max_age=0)

    # ---- the parts of the page, each a payload for the services ----------------------------
    def _update(self, projet, **changes):
        return projets.update(db.session, scope=current_scope(), projet=projet, payload=changes,
                              expected_version=request.form.get("version"))

    def _analyse(self, projet):
        return self._update(projet, synthese=request.form.get("synthese") or None, besoins=_codes("besoins"),
                            evaluations=[int(v) for v in request.form.getlist("evaluations") if v.isdigit()],
                            referent_id=_int(request.form.get("referent_id")),
                            date_revision=request.form.get("date_revision") or None,
                            bilans_prevus=[v for v in request.form.getlist("bilans_prevus") if v])

    def _attente(self, projet):
        current = projet_json(projet)["attentes"]
        remove = _int(request.form.get("remove"))
        kept = [a for a in current if a["id"] != remove]
        if remove is None:
            kept.append({"texte": request.form.get("texte"), "auteur": request.form.get("auteur"),
                         "auteur_nom": request.form.get("auteur_nom") or None})
        return self._update(projet, attentes=[{k: a[k] for k in ("texte", "auteur", "auteur_nom")} for a in kept])

    def _objectif(self, projet):
        objectifs = projet_json(projet)["objectifs"]
        for o in objectifs:
            o["indicateur"] = o["indicateur"] or {}
        target = _int(request.form.get("objectif_id"))
        if request.form.get("remove"):
            objectifs = [o for o in objectifs if o["id"] != target]
        else:
            indicateur = {"unite": request.form.get("unite") or None,
                          "echelle": request.form.get("echelle") or None,
                          "cible": _number(request.form.get("cible"))}
            values = {"objectif_personnel": request.form.get("objectif_personnel") or None,
                      "libelle": request.form.get("libelle"), "libelle_falc": request.form.get("libelle_falc") or None,
                      "besoins": _codes("besoins"), "indicateur": indicateur,
                      "categorie": request.form.get("categorie") or projets.DEFAULT_CATEGORY}
            existing = next((o for o in objectifs if o["id"] == target), None)
            if existing is not None:
                existing.update(values)
            else:
                objectifs.append({**values, "actions": []})
        return self._update(projet, objectifs=objectifs)

    def _action(self, projet):
        objectifs = projet_json(projet)["objectifs"]
        objectif = next((o for o in objectifs if o["id"] == _int(request.form.get("objectif_id"))), None)
        if objectif is None:
            raise ValidationFailed({"objectif_id": _("Objectif inconnu dans ce projet.")})
        target = _int(request.form.get("action_id"))
        if request.form.get("remove"):
            objectif["actions"] = [a for a in objectif["actions"] if a["id"] != target]
        else:
            values = {"libelle": request.form.get("libelle"), "prestation": picked_code(request.form.get("prestation")),
                      "referent_id": _int(request.form.get("referent_id")),
                      "frequence": request.form.get("frequence") or None,
                      "partenaires": request.form.get("partenaires") or None,
                      "ressources": request.form.get("ressources") or None,
                      "debut": request.form.get("debut") or None, "fin": request.form.get("fin") or None}
            existing = next((a for a in objectif["actions"] if a["id"] == target), None)
            if existing is not None:
                existing.update(values)
            else:
                objectif["actions"].append(values)
        return self._update(projet, objectifs=objectifs)

    def _statut(self, projet):
        return projets.set_status(db.session, projet, request.form.get("statut"), request.form.get("version"))

    def _signature(self, projet):
        rows = []
        for i in range(4):
            if request.form.get(f"nom-{i}"):
                rows.append({"qualite": request.form.get(f"qualite-{i}"), "nom": request.form.get(f"nom-{i}"),
                             "date": request.form.get(f"date-{i}"), "mode": request.form.get(f"mode-{i}")})
        scan = None
        upload = request.files.get("scan")
        if upload is not None and upload.filename:
            scan = projets.store_scan(projet, upload)
        try:
            return projets.sign(db.session, projet=projet, signataires=rows,
                                expected_version=request.form.get("version"), scan_path=scan)
        except Exception:  # refused or failed: no file left without its record
            projets.drop_scan(projet, scan)
            raise

    def _participation(self, projet):
        return projets.record_participation(db.session, projet=projet, payload={
            k: request.form.get(k) or None for k in ("etape", "qualite", "nom", "statut", "motif", "date")})

    def _bilan(self, projet):
        lines = []
        for o in projet.objectifs:
            atteinte = request.form.get(f"atteinte-{o.id}")
            if atteinte:
                lines.append({"objectif_id": o.id, "atteinte": atteinte, "mesure": _number(request.form.get(f"mesure-{o.id}")),
                              "avis_personne": request.form.get(f"avis-{o.id}") or None,
                              "decision": request.form.get(f"decision-{o.id}") or None})
        bilan = projets.add_bilan(db.session, scope=current_scope(), projet=projet, payload={
            "date": request.form.get("date") or None, "type": request.form.get("type"), "objectifs": lines,
            "commentaire": request.form.get("commentaire") or None})
        if bilan.type == "final":
            return projets.current(db.session, projet.usager_id, projet.etablissement_id) or projet
        return projet

    def _avenant(self, projet):
        try:
            date = dt.date.fromisoformat(request.form.get("date") or "")
        except ValueError:
            raise ValidationFailed({"date": _("Date attendue au format AAAA-MM-JJ.")})
        return projets.open_avenant(db.session, projet=projet, date=date, expected_version=request.form.get("version"))


FIELD_LABELS = {
    "texte": _l("Attente"), "auteur": _l("Exprimée par"), "libelle": _l("Libellé"), "besoins": _l("Besoins"),
    "prestation": _l("Prestation"), "referent_id": _l("Référent"), "debut": _l("Début"), "fin": _l("Fin"),
    "cible": _l("Cible"), "echelle": _l("Indicateur"), "unite": _l("Unité"), "categorie": _l("Catégorie"),
    "date": _l("Date"), "type": _l("Type"), "atteinte": _l("Atteinte"), "mesure": _l("Mesure"),
    "nom": _l("Nom"), "mode": _l("Mode"), "qualite": _l("Qualité"), "motif": _l("Raison"), "etape": _l("Étape"),
    "statut": _l("Statut"), "version": _l("Version"), "synthese": _l("Synthèse"), "date_revision": _l("Révision"),
    "objectif_id": _l("Objectif"), "signataires": _l("Signataires"), "bilans_prevus": _l("Bilans prévus"),
}


def friendly(errors: dict) -> list[tuple[str, str]]:
    """(field label, message) for the service's path-named errors ("objectifs[1].besoins[0]")."""
    import re

    out = []
    for path, message in errors.items():
        last = re.sub(r"\[\d+\]", "", path.split(".")[-1])
        out.append((str(FIELD_LABELS.get(last, "")), message))
    return out


def _number(value):
    try:
        return float(value.replace(",", ".")) if value else None
    except ValueError:
        return value  # the service answers "Nombre attendu." on the field


PARTS = {"analyse": ProjetView._analyse, "attente": ProjetView._attente, "objectif": ProjetView._objectif,
         "action": ProjetView._action, "statut": ProjetView._statut, "signature": ProjetView._signature,
         "participation": ProjetView._participation, "bilan": ProjetView._bilan, "avenant": ProjetView._avenant}


def _chart(objectif: dict) -> dict:
    """An objective's progress as an SVG polyline (measures, else ratings), drawn by the server:
    no script, readable without JavaScript."""
    points = objectif["points"]
    use_measure = all(p["mesure"] is not None for p in points)
    values = [p["mesure"] if use_measure else rules.ATTEINTE_SCORE.get(p["atteinte"]) for p in points]
    top = max([v for v in values if v is not None] + [objectif["cible"] or 0, 4 if objectif["echelle"] else 2, 1])
    width, height, pad = 320, 120, 24
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    coords = [(pad + i * step, height - pad - (v / top) * (height - 2 * pad)) for i, v in enumerate(values) if v is not None]
    return {"id": objectif["id"], "libelle": objectif["libelle"], "width": width, "height": height,
            "polyline": " ".join(f"{x:.0f},{y:.0f}" for x, y in coords), "coords": coords,
            "labels": [(pad + i * step, p["date"]) for i, p in enumerate(points)],
            "target_y": (height - pad - (objectif["cible"] / top) * (height - 2 * pad)) if objectif["cible"] else None,
            "rows": [(p["date"], rules.ATTEINTE.get(p["atteinte"], p["atteinte"]), p["mesure"]) for p in points],
            "unit": objectif["unite"] or (_("échelle 0-4") if objectif["echelle"] else _("atteinte"))}
