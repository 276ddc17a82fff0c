"""The structure's side of the portal: in a dossier, invite a contact of the foyer (or the
person), see the accesses and their state, revoke one (services/portal.py). Secrétariat, chef de
service and direction ("Portail" in the role matrix), within their scope: another
établissement's usager is a 404."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import PortalAccess, Usager
from ...services import portal
from ...services.errors import ValidationFailed
from ..api.portal import base_url
from ..base import ResourcePermissions


class PortalAccessView(ResourcePermissions, BaseView):
    route_base = "/acces-portail"
    class_permission_name = "Portail"
    default_view = "index"
    method_permission_name = {"index": "read", "usager": "read", "invite": "write", "revoke": "write",
                              "reset": "write", "disable": "write", "enable": "write"}

    @expose("/")
    @has_access
    def index(self):
        """Accesses in force and pending invitations of the usagers the user sees."""
        rows = list(db.session.execute(select(PortalAccess).where(
            PortalAccess.revoked_at.is_(None), PortalAccess.ended_at.is_(None))
            .order_by(PortalAccess.invited_at.desc()).limit(500)).scalars())
        rows = [a for a in rows if portal.check_access(db.session, a)]
        return self.render_template("portail_acces/index.html", title=_("Accès au portail des familles"), rows=rows,
                                    status=portal.status, labels=portal.STATUS_LABELS)

    def _page(self, usager, errors=None, url=None, status=200, reset_url=None):
        return self.render_template(
            "portail_acces/usager.html", title=_("Portail des familles"), usager=usager,
            contacts=portal.contacts_of(db.session, usager), rights=portal.right_labels(db.session),
            rows=portal.accesses_of(db.session, usager.id), status=portal.status, labels=portal.STATUS_LABELS,
            errors=errors or {}, url=url, form=request.form, reset_url=reset_url, account_state=portal.account_state,
            account_labels=portal.ACCOUNT_LABELS), status

    @expose("/usager/<int:usager_id>")
    @has_access
    def usager(self, usager_id):
        usager = db.session.get(Usager, usager_id)
        if usager is None:
            abort(404)
        return self._page(usager)

    @expose("/usager/<int:usager_id>/inviter", methods=["POST"])
    @has_access
    def invite(self, usager_id):
        usager = db.session.get(Usager, usager_id)
        if usager is None:
            abort(404)
        contact = request.form.get("contact_id", "")
        try:
            _access, url = portal.invite(
                db.session, usager=usager, contact_id=None if contact in ("", "personne") else
                (int(contact) if contact.isdigit() else contact), email=request.form.get("email") or None,
                droits=request.form.getlist("droits"), expire_le=request.form.get("expire_le") or None,
                invited_by_id=g.user.id, base_url=base_url())
        except ValidationFailed as exc:
            db.session.rollback()
            return self._page(usager, errors=exc.errors, status=400)
        return self._page(usager, url=url)

    @expose("/usager/<int:usager_id>/<int:access_id>/revoquer", methods=["POST"])
    @has_access
    def revoke(self, usager_id, access_id):
        access = self._access(usager_id, access_id)
        portal.revoke(db.session, access, g.user.id)
        flash(_("Accès révoqué."), "success")
        return redirect(url_for("PortalAccessView.usager", usager_id=usager_id))

    @staticmethod
    def _access(usager_id, access_id) -> PortalAccess:
        """The access, through the usager's scope (another établissement's: 404)."""
        access = db.session.get(PortalAccess, access_id)
        if access is None or access.usager_id != usager_id or db.session.get(Usager, usager_id) is None:
            abort(404)
        return access

    @expose("/usager/<int:usager_id>/<int:access_id>/reinitialiser", methods=["POST"])
    @has_access
    def reset(self, usager_id, access_id):
        """Lost phone or mailbox: a new one-use link to enrol again (shown once)."""
        access = self._access(usager_id, access_id)
        try:
            url = portal.reset_account(db.session, access, user_id=g.user.id, base_url=base_url())
        except ValidationFailed as exc:
            db.session.rollback()
            return self._page(access.usager, errors=exc.errors, status=400)
        return self._page(access.usager, reset_url=url)

    @expose("/usager/<int:usager_id>/<int:access_id>/desactiver", methods=["POST"])
    @has_access
    def disable(self, usager_id, access_id):
        return self._set_disabled(usager_id, access_id, True)

    @expose("/usager/<int:usager_id>/<int:access_id>/reactiver", methods=["POST"])
    @has_access
    def enable(self, usager_id, access_id):
        return self._set_disabled(usager_id, access_id, False)

    def _set_disabled(self, usager_id, access_id, disabled):
        access = self._access(usager_id, access_id)
        try:
            portal.set_account_disabled(db.session, access, disabled=disabled)
        except ValidationFailed as exc:
            db.session.rollback()
            return self._page(access.usager, errors=exc.errors, status=400)
        flash(_("Compte désactivé.") if disabled else _("Compte réactivé."), "success")
        return redirect(url_for("PortalAccessView.usager", usager_id=usager_id))
