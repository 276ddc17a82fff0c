"""Identity vigilance for the identity referent (Direction): dossiers created while a similar
person was known in an établissement their author could not see, to compare and close."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import IdentityReferral, Usager, User
from ...models.base import utcnow


class IdentityReferralView(BaseView):
    route_base = "/identite"
    class_permission_name = "VigilanceIdentite"
    method_permission_name = {"index": "read", "close": "write"}
    default_view = "index"

    @expose("/signalements/")
    @has_access
    def index(self):
        referrals = db.session.execute(select(IdentityReferral).order_by(
            IdentityReferral.status.desc(), IdentityReferral.requested_at.desc()).limit(200)).scalars().all()
        ids = {i for r in referrals for i in [r.usager_id, *(r.candidate_ids or [])]}
        usagers = {u.id: u for u in db.session.execute(select(Usager).where(Usager.id.in_(ids))).scalars()} if ids else {}
        users = dict(db.session.execute(select(User.id, User.username)).all())
        return self.render_template("identite/index.html", title=_("Vigilance identité"), referrals=referrals,
                                    usagers=usagers, users=users)

    @expose("/signalements/<int:referral_id>/clore", methods=["POST"])
    @has_access
    def close(self, referral_id):
        referral = db.session.get(IdentityReferral, referral_id)
        if referral is None:  # outside the scope, or absent
            abort(404)
        note = (request.form.get("note") or "").strip()[:2000]
        if not note:
            flash(_("Indiquez la conclusion (même personne, personnes différentes…)."), "danger")
        elif referral.status == "ouvert":
            referral.status, referral.note = "clos", note
            referral.closed_by_id, referral.closed_at = g.user.id, utcnow()
            db.session.commit()
            flash(_("Signalement clos."), "success")
        return redirect(url_for(".index"))
