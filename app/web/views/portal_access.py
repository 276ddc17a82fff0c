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
    method_permission_name = {"index": "read", "usager": "read", "invite": "write", "revoke": "write"}

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

    def _page(self, usager, errors=None, url=None, status=200):
        return self.render_template(
            "portail_acces/usager.html", title=_("Portail des familles"), usager=usager,
            contacts=portal.contacts_of(db.session, usager), rights=portal.right_labels(db.session),
            rows=portal.accesses_of(db.session, usager.id), status=portal.status, labels=portal.STATUS_LABELS,
            errors=errors or {}, url=url, form=request.form), status

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
        access = db.session.get(PortalAccess, access_id)
        if access is None or access.usager_id != usager_id:
            abort(404)
        portal.revoke(db.session, access, g.user.id)
        flash(_("Accès révoqué."), "success")
        return redirect(url_for("PortalAccessView.usager", usager_id=usager_id))
