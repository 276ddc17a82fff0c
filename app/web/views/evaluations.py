"""Filling an evaluation from the dossier, with a definition rendered as a form.

The browser shows and hides conditional fields at once by asking the server's compute endpoint
(the same engine); on save the server checks everything again and is the authority.
"""
from __future__ import annotations

import io
from contextlib import contextmanager

from flask import abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...domain.forms.definition import all_fields, is_repeated, nested_codes, repeated_members
from ...domain.forms.diff import carry_over
from ...domain.forms.engine import evaluate
from ...extensions import db
from ...models import Evaluation, User, Usager
from ...security.audit import record_event
from ...services import attachments, forms
from ...security.scope import current_scope
from ...services.errors import StaleVersion, ValidationFailed
from .. import params

SKIPPED = ("computed", "note", "group", "file")


def answers_from_form(definition: dict, form) -> dict:
    """The posted form → answers {code: value}, typed as the JSON API would send them."""
    answers = {}
    nested = nested_codes(definition)
    for field, _parts in all_fields(definition):
        code, kind = field["code"], field["type"]
        name = f"a-{code}"
        if is_repeated(field):
            rows = _rows_from_form(field, form)
            if rows:
                answers[code] = rows
            continue
        if kind in SKIPPED or code in nested:
            continue
        if kind in ("multiple_choice", "nomenclature"):
            values = form.getlist(name)
            if values:
                answers[code] = values
        elif kind == "matrix":
            row_values = {r["code"]: form.get(f"{name}-{r['code']}") for r in field["rows"]}
            row_values = {k: v for k, v in row_values.items() if v}
            if row_values:
                answers[code] = row_values
        elif kind == "yes_no":
            if form.get(name) in ("oui", "non"):
                answers[code] = form.get(name) == "oui"
        elif form.get(name, "").strip():
            answers[code] = form.get(name).strip()
    return answers


def _rows_from_form(group: dict, form) -> list[dict]:
    """Lines of a repeatable group, posted as a-<group>-<line>-<field>; blank lines dropped."""
    prefix = f"a-{group['code']}-"
    lines = sorted({int(key[len(prefix):].split("-", 1)[0]) for key in form
                    if key.startswith(prefix) and key[len(prefix):].split("-", 1)[0].isdigit()})
    rows = []
    for line in lines[:500]:
        row = {}
        for member in repeated_members(group):
            raw = (form.get(f"{prefix}{line}-{member['code']}") or "").strip()
            if raw and member["type"] == "yes_no":
                row[member["code"]] = raw == "oui"
            elif raw:
                row[member["code"]] = raw
        if row:
            rows.append(row)
    return rows


def prefill(definition, history, usager) -> dict:
    """The section's current values for its published version: answers carried over by field
    code (a field the new version dropped is not offered again)."""
    if not history:
        return forms.starting_answers(db.session, definition.data, usager)
    codes = {f["code"] for f, _parts in all_fields(definition.data)}
    return {k: v for k, v in history[0].answers.items() if k in codes}


def applicable(usager_id, places=None) -> list:
    """Grids this user may fill for this usager: offered in their établissements, and of a
    shared-secret category the user writes."""
    places = forms.places_of(db.session, usager_id) if places is None else places
    scope = current_scope()
    return [d for d in forms.published(db.session, "evaluation")
            if forms.applies(d, places) and (scope is None or scope.writes(forms.sensitivity_of(d.data)))]


class EvaluationView(BaseView):
    route_base = "/dossier"
    class_permission_name = "Evaluation"
    method_permission_name = {"fill": "write", "show": "read", "section": "write", "section_form": "write",
                              "correct": "write", "download": "read", "resume": "write", "pdf": "read"}
    default_view = "show"

    def _usager(self, usager_id):
        usager = db.session.get(Usager, usager_id)
        if usager is None:
            abort(404)
        return usager

    def _page(self, usager, definition_row, answers, result, status=200, evaluation=None, section=False, **extra):
        # fields of a category the user may not write (to fill) or read (to show) are left out
        withheld = forms.withheld_fields(definition_row.data, current_scope(), write=evaluation is None)
        return self.render_template(
            "evaluations/fill.html", usager=usager, form_def=definition_row.data, row=definition_row,
            answers=answers, result=result, evaluation=evaluation, section=section, withheld=withheld, **extra,
            compute_url=url_for("FormsApi.compute", code=definition_row.code)), status

    @contextmanager
    def _uploads(self, usager, definition_row, answers):
        """Files sent to `file` fields are stored in the usager's folder and put in `answers`
        (a field sent empty keeps the file it had); all are deleted again if the save fails."""
        stored, references = [], []
        try:
            data_dir = current_app.config["SILLAGE_DATA_DIR"]
            for field, _parts in all_fields(definition_row.data):
                if field["type"] != "file":
                    continue
                name = f"a-{field['code']}"
                upload = request.files.get(name)
                if upload is not None and upload.filename:
                    reference, path = attachments.store(data_dir, usager.id, field["code"], upload)
                    stored.append(path)
                    references.append(reference)
                    answers[field["code"]] = reference
                elif request.form.get(f"{name}-keep"):  # checked by the service: a file of this record
                    answers[field["code"]] = request.form[f"{name}-keep"]
            yield references
        except BaseException:
            for path in stored:
                path.unlink(missing_ok=True)
            raise

    def _refused(self, exc, usager, definition_row, answers, message, **extra):
        """A refused save: the page again, with what was typed and the errors on their fields."""
        db.session.rollback()
        result = evaluate(definition_row.data, answers)
        result.errors.update({k: v for k, v in exc.errors.items() if isinstance(v, str)})
        flash(message, "danger")
        return self._page(usager, definition_row, answers, result, status=422, **extra)

    @expose("/<int:usager_id>/evaluations/nouvelle/<code>", methods=["GET", "POST"])
    @has_access
    def fill(self, usager_id, code):
        usager = self._usager(usager_id)
        found = next((d for d in applicable(usager.id) if d.code == code), None)
        if found is None:
            abort(404)
        if request.method == "GET":
            answers = forms.starting_answers(db.session, found.data, usager)
            history = [e for e in forms.evaluations_of(db.session, usager.id) if e.form_code == code]
            previous = next((e for e in history if e.status == "validated"), None)
            if previous and request.args.get("reprendre"):  # start from the previous answers, by field code
                answers = {k: v for k, v in previous.answers.items()}
            result = evaluate(found.data, answers)
            result.errors = {}  # nothing was submitted yet: no error to show
            drafts = [e for e in history if e.status == "draft" and e.corrects_id is None]
            return self._page(usager, found, answers, result, open_drafts=drafts)
        # the version the page was rendered with: a version published meanwhile never re-maps
        # what was typed (retired versions stay fillable for the pages still open on them)
        posted = params.arg("form_version", request.form)
        rendered = forms.get(db.session, code, posted) if posted else None
        target = rendered or found
        answers = answers_from_form(target.data, request.form)
        status = "validated" if request.form.get("action") == "validate" else "draft"
        try:
            with self._uploads(usager, target, answers) as new_files:
                forms.save_evaluation(db.session, new_files=new_files, usager=usager, code=code, version=target.version, answers=answers,
                                      status=status, user_id=g.user.id)
        except ValidationFailed as exc:
            return self._refused(exc, usager, target, answers, _("L'évaluation n'est pas complète : corrigez les "
                                                                  "champs signalés, ou enregistrez-la comme brouillon."))
        if target.version != found.version:
            flash(_("Enregistrée avec la version %(v)s du formulaire, celle de la page ; la version %(n)s a été "
                    "publiée depuis.", v=target.version, n=found.version), "info")
        flash(_("Évaluation validée.") if status == "validated" else _("Brouillon enregistré."), "success")
        return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor="evaluations"))

    @expose("/<int:usager_id>/evaluations/<int:evaluation_id>/reprendre", methods=["GET", "POST"])
    @has_access
    def resume(self, usager_id, evaluation_id):
        """A saved draft, filled on and saved again or validated, with its own form version."""
        usager = self._usager(usager_id)
        draft = db.session.get(Evaluation, evaluation_id)
        if draft is None or draft.usager_id != usager.id or draft.status != "draft" or draft.archived_at:
            abort(404)
        definition = draft.definition
        extra = {"resumed": draft, "record_version": draft.version}
        if request.method == "GET":
            result = evaluate(definition.data, draft.answers)
            result.errors = {}
            return self._page(usager, definition, dict(draft.answers), result, **extra)
        answers = answers_from_form(definition.data, request.form)
        status = "validated" if request.form.get("action") == "validate" else "draft"
        try:
            with self._uploads(usager, definition, answers) as new_files:
                forms.save_evaluation(db.session, new_files=new_files, usager=usager, code=draft.form_code, version=draft.form_version,
                                      answers=answers, status=status, user_id=g.user.id, draft=draft,
                                      expected_version=request.form.get("record_version"))
        except StaleVersion as exc:
            db.session.rollback()
            return self._refused(ValidationFailed({}), usager, definition, answers, exc.message,
                                 resumed=draft, record_version=exc.current_version)
        except ValidationFailed as exc:
            return self._refused(exc, usager, definition, answers, _("L'évaluation n'est pas complète : corrigez "
                                                                      "les champs signalés, ou enregistrez le brouillon."),
                                 **extra)
        flash(_("Évaluation validée.") if status == "validated" else _("Brouillon enregistré."), "success")
        return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor="evaluations"))

    def _writable_section(self, usager_id, code):
        """(usager, section) of a dossier section this user may write, or 404."""
        usager = self._usager(usager_id)
        found = next((s for s in forms.dossier_sections(db.session, usager.id, forms.evaluations_of(db.session, usager.id))
                      if s["definition"].code == code and s["writable"]), None)
        if found is None or usager.archived_at:
            abort(404)
        return usager, found

    @staticmethod
    def _section_values(usager, found):
        """Answers and result a section's form opens with: its current values, no error yet."""
        answers = prefill(found["definition"], found["history"], usager)
        result = evaluate(found["definition"].data, answers)
        result.errors = {}
        return answers, result

    @expose("/<int:usager_id>/sections/<code>/formulaire")
    @has_access
    def section_form(self, usager_id, code):
        """The section's form alone, fetched when its panel opens on the dossier page: the page
        itself stays light, and the form is prefilled from the values current at that moment."""
        usager, found = self._writable_section(usager_id, code)
        definition = found["definition"]
        answers, result = self._section_values(usager, found)
        return self.render_template(
            "evaluations/section_form.html", usager=usager, row=definition, form_def=definition.data,
            answers=answers, result=result, withheld=forms.withheld_fields(definition.data, current_scope(), write=True))

    @expose("/<int:usager_id>/sections/<code>", methods=["GET", "POST"])
    @has_access
    def section(self, usager_id, code):
        """A dossier section. Edited in place on the dossier page, whose form posts here; this
        page shows it alone (live conditions, no JavaScript needed) and when a save is refused."""
        usager, found = self._writable_section(usager_id, code)
        definition = found["definition"]
        if request.method == "GET":
            answers, result = self._section_values(usager, found)
            return self._page(usager, definition, answers, result, section=True)
        answers = answers_from_form(definition.data, request.form)
        try:
            with self._uploads(usager, definition, answers) as new_files:
                forms.save_evaluation(db.session, new_files=new_files, usager=usager, code=code, version=definition.version,
                                      answers=answers, status="validated", user_id=g.user.id)
        except ValidationFailed as exc:
            return self._refused(exc, usager, definition, answers,
                                 _("La section n'est pas enregistrée : corrigez les champs signalés."), section=True)
        flash(_("« %(t)s » enregistré.", t=definition.title), "success")
        return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor=f"section-{code}"))

    @expose("/<int:usager_id>/evaluations/<int:evaluation_id>/corriger", methods=["GET", "POST"])
    @has_access
    def correct(self, usager_id, evaluation_id):
        """A correction is a new evaluation pointing to the one it corrects, filled with that
        one's own version, or (`?version=N`, explicitly) moved to a newer version: answers carried
        over by field code, and what could not be is listed."""
        usager = self._usager(usager_id)
        original = db.session.get(Evaluation, evaluation_id)
        if original is None or original.usager_id != usager.id or original.status != "validated":
            abort(404)
        version = original.form_version if "version" not in request.args else params.arg("version")
        target = (forms.get(db.session, original.form_code, version)
                  if version is not None and version >= original.form_version else None)
        if target is None:
            abort(404)
        answers, dropped = carry_over(original.answers, original.definition.data, target.data)
        extra = {"correction": original, "dropped": dropped, "newer": self._newer(original)}
        if request.method == "GET":
            result = evaluate(target.data, answers)
            result.errors = {}
            return self._page(usager, target, answers, result, **extra)
        answers = answers_from_form(target.data, request.form)
        status = "validated" if request.form.get("action") == "validate" else "draft"
        try:
            with self._uploads(usager, target, answers) as new_files:
                forms.save_evaluation(db.session, new_files=new_files, usager=usager, code=target.code, version=target.version,
                                      answers=answers, status=status, user_id=g.user.id, corrects_id=original.id)
        except ValidationFailed as exc:
            return self._refused(exc, usager, target, answers, _("La correction n'est pas complète : corrigez les "
                                                                  "champs signalés, ou enregistrez-la comme brouillon."),
                                 **extra)
        flash(_("Correction validée.") if status == "validated" else _("Brouillon enregistré."), "success")
        return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor="evaluations"))

    @expose("/<int:usager_id>/fichiers/<path:reference>")
    @has_access
    def download(self, usager_id, reference):
        """A file answered in an evaluation the user may read (scope and shared secret apply
        through the evaluations loaded); audited like any read."""
        usager = self._usager(usager_id)
        readable = any(reference in attachments.references(e.definition.data, e.answers)
                       for e in forms.evaluations_of(db.session, usager.id))
        path = attachments.path_of(current_app.config["SILLAGE_DATA_DIR"], usager.id, reference) if readable else None
        if path is None:
            abort(404)
        record_event("download", entity="Evaluation", usager_id=usager.id, details={"fichier": reference})
        return send_file(path, as_attachment=True, download_name=attachments.display_name(reference))

    @staticmethod
    def _newer(evaluation):
        latest = forms.get(db.session, evaluation.form_code)
        return latest if latest is not None and latest.version > evaluation.form_version else None

    @expose("/<int:usager_id>/evaluations/<int:evaluation_id>")
    @has_access
    def show(self, usager_id, evaluation_id):
        usager = self._usager(usager_id)
        evaluation = db.session.get(Evaluation, evaluation_id)
        if evaluation is None or evaluation.usager_id != usager.id:
            abort(404)
        result = evaluate(evaluation.definition.data, evaluation.answers)
        result.computed = evaluation.computed  # frozen when validated: never recomputed
        result.errors = {}
        writable = (evaluation.status == "validated" and self.appbuilder.sm.has_access("can_write", "Evaluation")
                    and (current_scope() is None or current_scope().writes(evaluation.sensitivity)))
        can_resume = (evaluation.status == "draft" and self.appbuilder.sm.has_access("can_write", "Evaluation")
                      and (current_scope() is None or current_scope().writes(evaluation.sensitivity)))
        return self._page(usager, evaluation.definition, evaluation.answers, result, evaluation=evaluation,
                          can_correct=writable, newer=self._newer(evaluation) if writable else None,
                          can_resume=can_resume, show_page=True)

    @expose("/<int:usager_id>/evaluations/<int:evaluation_id>/pdf")
    @has_access
    def pdf(self, usager_id, evaluation_id):
        """The evaluation to print: what the page shows, through the same scope and secret."""
        from ...services.evaluation_pdf import evaluation_pdf

        usager = self._usager(usager_id)
        evaluation = db.session.get(Evaluation, evaluation_id)
        if evaluation is None or evaluation.usager_id != usager.id or evaluation.archived_at:
            abort(404)
        ids = {evaluation.created_by_id, evaluation.validated_by_id} - {None}
        names = {u.id: f"{u.first_name} {u.last_name}".strip() or u.username
                 for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()} if ids else {}
        body, name = evaluation_pdf(evaluation, usager, names,
                                    forms.withheld_fields(evaluation.definition.data, current_scope()))
        return send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=True, download_name=name,
                         max_age=0)


class EvaluationExportView(BaseView):
    """The submissions of one form, every version, as xlsx (those the user may read)."""

    route_base = "/evaluations"
    class_permission_name = "Evaluation"
    method_permission_name = {"export": "read"}
    default_view = "export"

    @expose("/<code>/export.xlsx")
    @has_access
    def export(self, code):
        from flask import Response

        from ...security.audit import record_event
        from ...services.form_export import export_xlsx

        if not forms.versions(db.session, code):
            abort(404)
        content, count = export_xlsx(db.session, code, current_scope())
        record_event("export", entity="Evaluation", details={"formulaire": code, "lignes": count})
        return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{code}.xlsx"'})
