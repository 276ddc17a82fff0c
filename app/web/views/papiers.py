"""The dossier's administrative and financial papers, on a page of their own
(/dossier/<id>/papiers, linked from the dossier's panel): one section per kind the user may read,
a form to record one (with its file), each paper correctable (optimistic concurrency) and
archivable. A refused form comes back open with what was typed and its errors. Everything goes
through services.papiers; rows pass through the scope hook (a financier paper does not exist for
who does not read that category)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from ...extensions import db
from ...models import Usager
from ...security.roles import CATEGORIES
from ...security.scope import current_scope
from ...domain import clock
from ...services import papiers
from ...services.errors import StaleVersion, ValidationFailed
from ..forms import apply_errors
from ..forms.papiers import FORMS


def _values(kind, form) -> dict:
    values = {}
    for name in kind.fields:
        if name == "lignes":
            values["lignes"] = [{k: entry.form[k].data for k in ("libelle", "quantite", "prix_unitaire")}
                                for entry in form.lignes]
        else:
            values[name] = form[name].data
    return values


class PapiersView(BaseView):
    route_base = "/dossier"
    class_permission_name = "Papiers"
    method_permission_name = {"index": "read", "create": "write", "edit": "write", "archive": "write"}
    default_view = "index"

    def _usager(self, usager_id) -> Usager:
        return db.session.get(Usager, usager_id) or abort(404)

    def _kind(self, key):
        kind = papiers.KINDS.get(key)
        if kind is None or kind not in papiers.readable_kinds(current_scope()):
            abort(404)
        return kind

    def _choices(self, form, usager_id, contrats):
        if "admission_id" in form:
            form.admission_id.choices = [(None, "—")] + [
                (a.id, f"{a.etablissement.name} — {a.service.name if a.service else ''} ({a.date_entree:%d/%m/%Y})")
                for a in papiers.admissions_of(db.session, usager_id)]
        if "contrat_id" in form:
            form.contrat_id.choices = [(None, "—")] + [
                (c.id, f"{papiers.rules.CONTRAT_TYPES.get(c.type, c.type)} — {c.admission.date_entree:%d/%m/%Y}")
                for c in contrats]
        return form

    def _page(self, usager, bound=None, status=200):
        bound = bound or {}
        scope = current_scope()
        today = clock.today()
        sections = []
        contrats = papiers.papers_of(db.session, usager.id, "contrats")
        for kind in papiers.readable_kinds(scope):
            items = contrats if kind.key == "contrats" else papiers.papers_of(db.session, usager.id, kind.key)
            new = bound.get(kind.key) or FORMS[kind.key](prefix=kind.key, formdata=None)
            edits = {}
            for item in items:
                key = f"{kind.key}-{item.id}"
                edits[item.id] = bound.get(key) or FORMS[kind.key](prefix=key, obj=item, formdata=None)
            for form in (new, *edits.values()):
                self._choices(form, usager.id, contrats)
            sections.append({"kind": kind, "papers": items, "new": new, "edits": edits,
                             "writable": scope is None or scope.writes(papiers.category(kind)),
                             "open": next((k for k in bound if k == kind.key or k.startswith(kind.key + "-")), None)})
        return self.render_template(
            "dossier/papiers.html", title=_("Papiers administratifs et financiers"), usager=usager,
            sections=sections, categories=CATEGORIES, today=today, rules=papiers.rules, papiers=papiers,
            can_write=self.appbuilder.sm.has_access("can_write", "Papiers") and not usager.archived_at), status

    @expose("/<int:usager_id>/papiers")
    @has_access
    def index(self, usager_id):
        return self._page(self._usager(usager_id))

    def _refused(self, usager, key, form, exc):
        db.session.rollback()
        if isinstance(exc, StaleVersion):
            flash(exc.message, "danger")
            return self._page(usager, {key: form}, 409)
        for message in apply_errors(form, exc.errors):
            flash(message, "danger")
        return self._page(usager, {key: form}, 422)

    def _back(self, usager_id, kind_key):
        return redirect(url_for(".index", usager_id=usager_id, _anchor=kind_key), 303)

    @expose("/<int:usager_id>/papiers/<kind_key>", methods=["POST"])
    @has_access
    def create(self, usager_id, kind_key):
        usager, kind = self._usager(usager_id), self._kind(kind_key)
        form = self._choices(FORMS[kind.key](prefix=kind.key), usager.id,
                             papiers.papers_of(db.session, usager.id, "contrats"))
        form.validate()
        try:
            papiers.create(db.session, scope=current_scope(), usager=usager, kind_key=kind.key,
                           values=_values(kind, form), user_id=g.user.id, upload=request.files.get("fichier"))
        except ValidationFailed as exc:
            return self._refused(usager, kind.key, form, exc)
        flash(_("Papier enregistré."), "success")
        return self._back(usager.id, kind.key)

    @expose("/<int:usager_id>/papiers/<kind_key>/<int:pid>", methods=["POST"])
    @has_access
    def edit(self, usager_id, kind_key, pid):
        usager, kind = self._usager(usager_id), self._kind(kind_key)
        paper = papiers.paper_of(db.session, usager.id, kind.key, pid) or abort(404)
        key = f"{kind.key}-{paper.id}"
        form = self._choices(FORMS[kind.key](prefix=key), usager.id,
                             papiers.papers_of(db.session, usager.id, "contrats"))
        form.validate()
        try:
            papiers.update(db.session, scope=current_scope(), kind_key=kind.key, paper=paper,
                           values=_values(kind, form), expected_version=form.version.data, user_id=g.user.id,
                           upload=request.files.get("fichier"))
        except (ValidationFailed, StaleVersion) as exc:
            return self._refused(usager, key, form, exc)
        flash(_("Papier corrigé."), "success")
        return self._back(usager.id, kind.key)

    @expose("/<int:usager_id>/papiers/<kind_key>/<int:pid>/archiver", methods=["POST"])
    @has_access
    def archive(self, usager_id, kind_key, pid):
        usager, kind = self._usager(usager_id), self._kind(kind_key)
        paper = papiers.paper_of(db.session, usager.id, kind.key, pid) or abort(404)
        try:
            papiers.archive(db.session, scope=current_scope(), kind_key=kind.key, paper=paper, user_id=g.user.id)
        except ValidationFailed as exc:
            db.session.rollback()
            for message in exc.errors.values():
                flash(message, "danger")
        else:
            flash(_("Papier archivé."), "info")
        return self._back(usager.id, kind.key)
