"""Form definitions for quality officers: list, versions, YAML editor with errors by line,
publication after a diff, new version, clone. No code needed to adapt a grid."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import func, select

from ...domain.forms import builder
from ...domain.forms import definition as definitions
from ...domain.forms.diff import diff
from ...domain.forms.engine import evaluate
from ...extensions import db
from ...models import Evaluation, FormDefinition
from ...security.scope import UNSCOPED
from ...services import forms
from ...services.errors import ValidationFailed
from .. import params


class FormulairesView(BaseView):
    route_base = "/formulaires"
    class_permission_name = "Formulaire"
    method_permission_name = {"index": "read", "detail": "read", "editor": "write", "publish": "write",
                              "new_version": "write", "clone": "write", "preview": "write",
                              "preview_compute": "write", "builder": "write", "restore": "write",
                              "import_xlsform": "write"}
    default_view = "index"

    def _versions(self, code):
        versions = forms.versions(db.session, code)
        if not versions:
            abort(404)
        return versions

    @expose("/")
    @has_access
    def index(self):
        rows = db.session.execute(select(FormDefinition).order_by(FormDefinition.code, FormDefinition.version)).scalars()
        # Numbers only, over every établissement and category (like the impact before publishing): the
        # quality officer reads no dossier, yet judges a form by how much it is used.
        counts = dict(((c, v), n) for c, v, n in db.session.execute(
            select(Evaluation.form_code, Evaluation.form_version, func.count()).where(Evaluation.archived_at.is_(None))
            .group_by(Evaluation.form_code, Evaluation.form_version), execution_options={UNSCOPED: True}).all())
        latest = {}
        for row in rows:
            latest[row.code] = row  # the last version of each code, whatever its status
        return self.render_template("formulaires/index.html", definitions=list(latest.values()), counts=counts,
                                    conflicts=forms.variant_conflicts(db.session),
                                    can_write=self.appbuilder.sm.has_access("can_write", "Formulaire"))

    @expose("/importer-xlsform", methods=["POST"])
    @has_access
    def import_xlsform(self):
        """An XLSForm workbook becomes a draft; what it could not take is listed, never dropped."""
        from ...services.xlsform import XlsFormError

        code = (request.form.get("code") or "").strip()
        upload = request.files.get("file")
        try:
            draft, warnings = forms.import_xlsform(db.session, upload.read() if upload else b"", code)
        except XlsFormError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".index"))
        except definitions.InvalidDefinition as exc:
            db.session.rollback()
            flash(_("L'XLSForm converti n'est pas une définition valide : %(e)s",
                    e=" ; ".join(f"{e.path} : {e.message}" if e.path else e.message for e in exc.errors[:20])), "danger")
            return redirect(url_for(".index"))
        flash(_("XLSForm importé : brouillon %(c)s, version %(v)s.", c=draft.code, v=draft.version), "success")
        if warnings:
            flash(_("Non repris de l'XLSForm : %(w)s", w=" ; ".join(warnings)), "warning")
        return redirect(url_for(".editor", code=draft.code))

    @expose("/<code>")
    @has_access
    def detail(self, code):
        versions = self._versions(code)
        return self.render_template("formulaires/detail.html", code=code, versions=versions,
                                    can_write=self.appbuilder.sm.has_access("can_write", "Formulaire"),
                                    can_export=self.appbuilder.sm.has_access("can_read", "Evaluation"))

    @expose("/<code>/brouillon", methods=["GET", "POST"])
    @has_access
    def editor(self, code):
        versions = self._versions(code)
        draft = next((v for v in versions if v.status == "draft"), None)
        text = request.form.get("source") if request.method == "POST" else (draft.source_text if draft else None)
        if text is None:
            abort(404)
        errors = []
        if request.method == "POST":
            try:
                forms.save_draft(db.session, text)
            except definitions.InvalidDefinition as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                flash(_("Brouillon enregistré."), "success")
                return redirect(url_for(".editor", code=code))
        error_lines = {e.line for e in errors if e.line}
        resolved = definitions.dump(draft.data) if draft and draft.data.get("variant_of") else None
        return self.render_template("formulaires/editor.html", code=code, text=text, errors=errors,
                                    error_lines=error_lines, draft=draft, resolved=resolved), (422 if errors else 200)

    @expose("/<code>/constructeur", methods=["GET", "POST"])
    @has_access
    def builder(self, code):
        """The common edits without YAML: add, reorder, edit and remove fields, options, show_if
        from pickers. Each edit is saved as the same draft the YAML editor shows, and checked
        the same way (a refused edit changes nothing and says why)."""
        draft = self._draft(code)
        if draft.data.get("variant_of"):  # the builder would write the resolved form over the overlay
            flash(_("Une variante se modifie par son calque, dans l'éditeur : le formulaire résolu y est affiché."),
                  "info")
            return redirect(url_for(".editor", code=code))
        errors = []
        if request.method == "POST":
            try:
                data = _apply(draft.data, request.form)
                forms.save_draft(db.session, _header_comments(draft.source_text) + definitions.dump(data))
            except builder.BuilderError as exc:
                errors = [str(exc)]
            except definitions.InvalidDefinition as exc:
                db.session.rollback()
                errors = [f"{e.path} : {e.message}" if e.path else e.message for e in exc.errors]
            else:
                flash(_("Brouillon enregistré."), "success")
                return redirect(url_for(".builder", code=code, _anchor=request.form.get("anchor", "")))
        fields = [(f["code"], builder.type_label(f)) for f, _parts in definitions.all_fields(draft.data)
                  if f["type"] not in ("note", "group")]
        return self.render_template(
            "formulaires/builder.html", code=code, draft=draft, data=draft.data, errors=errors, fields=fields,
            palette=builder.PALETTE, type_labels=builder.TYPE_LABELS, type_label=builder.type_label,
            with_options=builder.WITH_OPTIONS, options_text=builder.options_text,
            constraints_text=builder.constraints_text, operators=builder.OPERATORS,
            expression_help=builder.EXPRESSION_HELP), (422 if errors else 200)

    def _draft(self, code):
        draft = next((v for v in self._versions(code) if v.status == "draft"), None)
        if draft is None:
            abort(404)
        return draft

    @expose("/<code>/apercu")
    @has_access
    def preview(self, code):
        """Fill the draft as a user would, show_if and computed values live; nothing is saved."""
        draft = self._draft(code)
        result = evaluate(draft.data, {})
        result.errors = {}
        return self.render_template("evaluations/fill.html", usager=None, form_def=draft.data, row=draft,
                                    answers={}, result=result, evaluation=None, preview=True,
                                    compute_url=url_for(".preview_compute", code=code))

    @expose("/<code>/apercu/calcul", methods=["POST"])
    @has_access
    def preview_compute(self, code):
        draft = self._draft(code)
        payload = request.get_json(silent=True)
        answers = payload.get("answers") if isinstance(payload, dict) else None
        if not isinstance(answers, dict):
            return jsonify(message=_("Un objet {code: valeur} est attendu.")), 400
        result = evaluate(draft.data, answers)
        return jsonify(computed=result.computed, errors=result.errors, hidden=result.hidden)

    @expose("/<code>/nouvelle-version", methods=["POST"])
    @has_access
    def new_version(self, code):
        self._versions(code)
        try:
            forms.new_version(db.session, code)
        except ValidationFailed as exc:
            db.session.rollback()
            flash(" ".join(exc.errors.values()), "danger")
            return redirect(url_for(".detail", code=code))
        except definitions.InvalidDefinition as exc:
            db.session.rollback()
            for error in exc.errors:
                flash(str(error), "danger")
            return redirect(url_for(".detail", code=code))
        return redirect(url_for(".editor", code=code))

    @expose("/<code>/cloner", methods=["POST"])
    @has_access
    def clone(self, code):
        self._versions(code)
        new_code = (request.form.get("new_code") or "").strip()
        try:
            clone = forms.clone(db.session, code, new_code)
        except definitions.InvalidDefinition as exc:
            db.session.rollback()
            for error in exc.errors:
                flash(str(error), "danger")
            return redirect(url_for(".detail", code=code))
        except ValidationFailed as exc:
            db.session.rollback()
            flash(" ".join(exc.errors.values()), "danger")
            return redirect(url_for(".detail", code=code))
        flash(_("Copie créée en brouillon : %(c)s.", c=clone.code), "success")
        return redirect(url_for(".editor", code=clone.code))

    @expose("/<code>/publier", methods=["GET", "POST"])
    @has_access
    def publish(self, code):
        versions = self._versions(code)
        draft = next((v for v in versions if v.status == "draft"), None)
        if draft is None:
            abort(404)
        current = forms.get(db.session, code)
        impact = forms.publish_impact(db.session, draft)
        if request.method == "POST" and impact and not request.form.get("confirm"):
            flash(_("Cette publication touche des saisies existantes : cochez la case de confirmation."), "danger")
        elif request.method == "POST":
            try:
                forms.publish(db.session, draft)
            except (ValidationFailed, definitions.InvalidDefinition):
                db.session.rollback()
                flash(_("Le brouillon n'est pas valide : corrigez-le avant de le publier."), "danger")
                return redirect(url_for(".editor", code=code))
            flash(_("Version %(v)s publiée.", v=draft.version), "success")
            for variant, problems in forms.variant_conflicts(db.session, base=code).items():
                flash(_("La variante %(c)s ne suit pas cette version : %(p)s", c=variant, p=" ; ".join(problems)),
                      "warning")
            return redirect(url_for(".detail", code=code))
        changes = diff(current.data, draft.data) if current else None
        return self.render_template("formulaires/publish.html", code=code, draft=draft, current=current,
                                    changes=changes, impact=impact), (422 if request.method == "POST" else 200)

    @expose("/<code>/versions/<int:version>/republier", methods=["POST"])
    @has_access
    def restore(self, code, version):
        """Roll back to an earlier version: its text becomes the draft of a new version."""
        self._versions(code)
        try:
            forms.restore_version(db.session, code, version)
        except ValidationFailed as exc:
            db.session.rollback()
            flash(" ".join(map(str, exc.errors.values())), "danger")
            return redirect(url_for(".detail", code=code))
        flash(_("Le texte de la version %(v)s est le nouveau brouillon : vérifiez-le, puis publiez-le.", v=version),
              "success")
        return redirect(url_for(".publish", code=code))


def _header_comments(source: str) -> str:
    """The comment lines that open a draft's YAML (its sources, its reservations): the builder
    writes the YAML anew from the data, and keeps them."""
    header = []
    for line in source.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        header.append(line)
    return "".join(header)


def _int(form, name) -> int:
    value = params.arg(name, form)
    if value is None:
        raise builder.BuilderError(_("Requête incomplète."))
    return value


def _picked(form, data, prefix: str, typed: str | None) -> str | None:
    """A condition from the pickers (<prefix>_field, _op, _value) or the expression typed."""
    if not form.get(f"{prefix}_field"):
        return typed
    kinds = {f["code"]: f["type"] for f, _parts in definitions.all_fields(data)}
    return builder.condition(form[f"{prefix}_field"], form.get(f"{prefix}_op", "=="), form.get(f"{prefix}_value", ""),
                             kinds.get(form[f"{prefix}_field"], "text"))


def _apply(data: dict, form) -> dict:
    """The builder edit posted in `form`, applied to `data`."""
    op = form.get("op")
    if op == "add_section":
        return builder.add_section(data, form.get("code", ""), form.get("title", ""))
    section = _int(form, "section")
    if op == "add_field":
        return builder.add_field(data, section, form.get("type", ""), form.get("code", ""), form.get("label", ""),
                                 parent=form.get("parent"))
    index = form.get("index", "")
    if op in ("up", "down"):
        return builder.move_field(data, section, index, -1 if op == "up" else 1)
    if op == "remove":
        return builder.remove_field(data, section, index)
    if op == "update":
        return builder.update_field(
            data, section, index, label=form.get("label", ""), help_text=form.get("help", ""),
            required=bool(form.get("required")), required_message=form.get("required_message", ""),
            options=form.get("options"), show_if=_picked(form, data, "cond", form.get("show_if")),
            required_if=_picked(form, data, "req", form.get("required_if")), default=form.get("default"),
            minimum=form.get("min"), maximum=form.get("max"), max_length=form.get("max_length"),
            constraints=form.get("constraints"), expression=form.get("expression"), rows=form.get("rows"),
            repeat_min=form.get("repeat_min"), repeat_max=form.get("repeat_max"))
    raise builder.BuilderError(_("Action inconnue."))
