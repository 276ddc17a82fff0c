"""RGPD rights as buttons: export (access, portability), rectification and erasure requests,
and the decisions (four eyes). The rules are in app/services/rgpd*.py."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import AccessRequest, ErasureRequest, RectificationRequest, Usager
from ...security.audit import record_event
from ...services import rgpd
from ...services.errors import ValidationFailed
from ...services.rgpd_export import export_zip


def _usager(usager_id) -> Usager:
    usager = db.session.execute(select(Usager).where(Usager.id == usager_id)).scalar_one_or_none()
    if usager is None:  # outside the user's scope, or absent: the same answer
        abort(404)
    return usager


def _request_in_scope(model, request_id):
    """An RGPD request, only if its usager is within the user's scope (else 404)."""
    req = db.session.get(model, request_id)
    if req is None:
        abort(404)
    _usager(req.usager_id)
    return req


def _zip(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _flash_errors(error: ValidationFailed):
    for message in error.errors.values():
        flash(message, "danger")


class RgpdView(BaseView):
    route_base = "/rgpd"
    class_permission_name = "Rgpd"
    default_view = "index"
    method_permission_name = {"index": "read", "export": "read", "rectification": "write", "erasure": "write",
                              "decide_erasure": "write", "decide_rectification": "write", "access": "write",
                              "answer_access": "write"}

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("rgpd/index.html", title=_("Demandes RGPD"), queue=rgpd.queue(db.session),
                                    approver=bool({r.name for r in g.user.roles} & rgpd.APPROVER_ROLES),
                                    complete_exporter=rgpd.may_export_completely(g.user),
                                    qualites=rgpd.QUALITE_DEMANDEUR)

    @expose("/dossier/<int:usager_id>/export")
    @has_access
    def export(self, usager_id):
        """The export of what the user may read (scope and shared secret, files included)."""
        usager = _usager(usager_id)
        try:
            data = export_zip(db.session, usager, current_app.config["SILLAGE_DATA_DIR"])
        except ValidationFailed as error:
            _flash_errors(error)
            return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor="rgpd"))
        record_event("export", entity="Usager", entity_id=usager.id, usager_id=usager.id,
                     details={"format": "zip (json, xlsx, pdf, documents)", "octets": len(data)})
        return _zip(data, f"sillage-usager-{usager.id}.zip")

    @expose("/dossier/<int:usager_id>/acces", methods=["POST"])
    @has_access
    def access(self, usager_id):
        """Record a request of access (art. 15); the DPO then makes the complete export from it."""
        import datetime as dt

        usager = _usager(usager_id)
        try:
            received = dt.date.fromisoformat(request.form.get("received_on") or "")
        except ValueError:
            received = None
        try:
            rgpd.record_access(db.session, usager, g.user, request.form.get("requested_by", ""),
                               request.form.get("qualite", ""), received)
            flash(_("Demande d'accès enregistrée : produisez l'export complet depuis les demandes RGPD."), "success")
        except ValidationFailed as error:
            _flash_errors(error)
            return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor="rgpd"))
        return redirect(url_for(".index", _anchor="access-requests"))

    @expose("/acces/<int:request_id>/export", methods=["POST"])
    @has_access
    def answer_access(self, request_id):
        """The complete export for the person, every category, from the recorded request."""
        req = _request_in_scope(AccessRequest, request_id)
        if req.status != "recue":
            flash(_("Cette demande a déjà reçu sa réponse."), "danger")
            return redirect(url_for(".index"))
        try:
            data = rgpd.answer_access(db.session, req, g.user, current_app.config["SILLAGE_DATA_DIR"])
        except ValidationFailed as error:
            db.session.rollback()
            _flash_errors(error)
            return redirect(url_for(".index"))
        return _zip(data, f"sillage-usager-{req.usager_id}-acces-complet.zip")

    @expose("/dossier/<int:usager_id>/rectification", methods=["POST"])
    @has_access
    def rectification(self, usager_id):
        usager = _usager(usager_id)
        try:
            rgpd.record_rectification(db.session, usager, g.user, request.form.get("requested_by", ""),
                                      request.form.get("content", ""))
            flash(_("Demande de rectification enregistrée ; elle apparaît dans les demandes RGPD."), "success")
        except ValidationFailed as error:
            _flash_errors(error)
        return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor="rgpd"))

    @expose("/dossier/<int:usager_id>/effacement", methods=["POST"])
    @has_access
    def erasure(self, usager_id):
        usager = _usager(usager_id)
        try:
            rgpd.request_erasure(db.session, usager, g.user, request.form.get("reason", ""),
                                 request.form.get("early_justification", ""))
            flash(_("Demande d'anonymisation enregistrée : le DPO ou la direction doit la valider."), "success")
        except ValidationFailed as error:
            _flash_errors(error)
        return redirect(url_for("DossierView.show", usager_id=usager.id, _anchor="rgpd"))

    @expose("/effacement/<int:request_id>/decision", methods=["POST"])
    @has_access
    def decide_erasure(self, request_id):
        """Refuse, or approve after a confirmation page that says what will be erased for good."""
        req = _request_in_scope(ErasureRequest, request_id)
        approve = request.form.get("decision") == "approve"
        if approve and request.form.get("confirm") != "1" and req.status == "attente":
            usager = _usager(req.usager_id)
            return self.render_template("rgpd/confirm_erasure.html", title=_("Confirmer l'anonymisation"), req=req,
                                        usager=usager, note=request.form.get("note", ""),
                                        requester=rgpd.queue(db.session).users.get(req.requested_by_id, ""))
        try:
            rgpd.decide_erasure(db.session, req, g.user, request.form.get("decision") == "approve",
                                request.form.get("note", ""), current_app.config["SILLAGE_DATA_DIR"])
            flash(_("Dossier anonymisé.") if req.status == "executee" else _("Demande refusée."), "success")
        except ValidationFailed as error:
            _flash_errors(error)
        return redirect(url_for(".index"))

    @expose("/rectification/<int:request_id>/decision", methods=["POST"])
    @has_access
    def decide_rectification(self, request_id):
        req = _request_in_scope(RectificationRequest, request_id)
        try:
            rgpd.decide_rectification(db.session, req, g.user, request.form.get("decision") == "accept",
                                      request.form.get("note", ""))
            flash(_("Décision enregistrée."), "success")
        except ValidationFailed as error:
            _flash_errors(error)
        return redirect(url_for(".index"))
