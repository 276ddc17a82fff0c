"""The dossier's documents (GED): upload, replace, archive, download and preview, posted from the
"Documents" panel of the dossier page (templates/dossier/_documents.html), through
services.documents. Scope and shared secret apply as everywhere: a document the user may not
read answers 404."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from ...domain import clock
from ...extensions import db
from ...models import Usager
from ...security.scope import current_scope
from ...services import documents
from ...services.errors import StaleVersion, ValidationFailed

# The preview is shown in an <iframe> of the dossier page: this answer alone may be framed, by
# the application's own pages, and runs nothing (PDF viewers and images need no script of ours).
PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def panel(sm, usager: Usager, args) -> dict:
    """What the dossier page's Documents panel shows (None when the user may not read documents)."""
    if not sm.has_access("can_read", "Document"):
        return {"documents_panel": None}
    try:
        du = dt.date.fromisoformat(args["doc_du"]) if args.get("doc_du") else None
        au = dt.date.fromisoformat(args["doc_au"]) if args.get("doc_au") else None
    except ValueError:
        du = au = None
    search = {"type": args.get("doc_type") or "", "q": (args.get("doc_q") or "")[:200], "du": du, "au": au}
    items = documents.documents_of(db.session, usager.id, type_code=search["type"] or None, du=du, au=au,
                                   texte=search["q"])
    searched = search["type"] or search["q"] or du or au  # (otherwise `items` are all the checklist reads)
    return {"banner_documents": None if searched else items, "documents_panel": {
        "documents": items, "checklist": documents.checklist(db.session, usager, documents=None if searched else items),
        "types": documents.types(db.session),
        "search": search, "statuts": documents.STATUTS, "previewable": documents.PREVIEWABLE,
        "today": clock.today(), "can_write": sm.has_access("can_write", "Document") and not usager.archived_at,
        "can_archive": sm.has_access("can_archive", "Document"),
    }}


def _date(name):
    raw = request.form.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({name: _("Date attendue au format AAAA-MM-JJ.")}) from None


class DocumentView(BaseView):
    route_base = "/dossier"
    class_permission_name = "Document"
    method_permission_name = {"upload": "write", "replace": "write", "archive": "archive", "fichier": "read",
                              "apercu": "read"}
    default_view = "fichier"

    def _usager(self, usager_id) -> Usager:
        return db.session.get(Usager, usager_id) or abort(404)

    def _document(self, usager_id, document_id):
        self._usager(usager_id)
        return documents.document_of(db.session, usager_id, document_id) or abort(404)

    def _back(self, usager_id):
        return redirect(url_for("DossierView.show", usager_id=usager_id, _anchor="documents"), 303)

    def _refused(self, exc: ValidationFailed):
        db.session.rollback()
        for message in exc.errors.values():
            flash(message, "danger")

    @expose("/<int:usager_id>/documents", methods=["POST"])
    @has_access
    def upload(self, usager_id):
        usager = self._usager(usager_id)
        try:
            documents.upload(db.session, scope=current_scope(), usager=usager, type_code=request.form.get("type_code"),
                             titre=request.form.get("titre"), upload=request.files.get("fichier"),
                             user_id=g.user.id, date_document=_date("date_document"), expire_le=_date("expire_le"))
        except ValidationFailed as exc:
            self._refused(exc)
        else:
            flash(_("Document enregistré."), "success")
        return self._back(usager_id)

    @expose("/<int:usager_id>/documents/<int:document_id>/remplacer", methods=["POST"])
    @has_access
    def replace(self, usager_id, document_id):
        document = self._document(usager_id, document_id)
        try:
            documents.replace(db.session, scope=current_scope(), document=document, upload=request.files.get("fichier"),
                              expected_version=request.form.get("version"), user_id=g.user.id,
                              expire_le=_date("expire_le"))
        except ValidationFailed as exc:
            self._refused(exc)
        except StaleVersion:
            db.session.rollback()
            flash(_("Ce document vient d'être remplacé par quelqu'un d'autre : vérifiez-le, puis recommencez."),
                  "danger")
        else:
            flash(_("Nouvelle version enregistrée ; les précédentes restent consultables."), "success")
        return self._back(usager_id)

    @expose("/<int:usager_id>/documents/<int:document_id>/archiver", methods=["POST"])
    @has_access
    def archive(self, usager_id, document_id):
        documents.archive(db.session, self._document(usager_id, document_id), g.user.id)
        flash(_("Document archivé."), "info")
        return self._back(usager_id)

    def _send(self, usager_id, document_id, inline):
        document = self._document(usager_id, document_id)
        version = documents.version_of(document, request.args.get("version", type=int)) or abort(404)
        if inline and version.type_mime not in documents.PREVIEWABLE:
            abort(404)
        try:
            path = documents.checked_path(version)
        except documents.TamperedFile:
            return self.render_template("dossier/document_altere.html", usager_id=usager_id), 409
        documents.record_download(version, inline=inline)
        response = send_file(path, mimetype=version.type_mime, as_attachment=not inline,
                             download_name=documents.download_name(document, version), max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        if inline:
            response.headers["Content-Security-Policy"] = PREVIEW_CSP
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    @expose("/<int:usager_id>/documents/<int:document_id>/fichier")
    @has_access
    def fichier(self, usager_id, document_id):
        return self._send(usager_id, document_id, inline=False)

    @expose("/<int:usager_id>/documents/<int:document_id>/apercu")
    @has_access
    def apercu(self, usager_id, document_id):
        """The file inline, for the panel's preview: PDF and PNG/JPEG only (never HTML, SVG…)."""
        return self._send(usager_id, document_id, inline=True)
