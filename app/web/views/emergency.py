"""Break-the-glass page, the review of emergency accesses, and the shared-secret matrix."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import CategoryAccess, EmergencyAccess, Role, User, Usager
from ...security.roles import CATEGORIES
from ...security.scope import reset_scope
from ...domain import clock
from ...services import emergency
from ...services.errors import ValidationFailed


class EmergencyView(BaseView):
    route_base = "/urgence"
    class_permission_name = "Urgence"
    default_view = "open"
    method_permission_name = {"open": "read"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def open(self):
        errors, form = {}, request.form
        if request.method == "POST":
            try:
                birth = dt.date.fromisoformat(form.get("date_naissance", ""))
            except ValueError:
                birth = None
            try:
                access = emergency.open_access(db.session, g.user, form.get("nom", "")[:100], form.get("prenom", "")[:100],
                                               birth, form.get("reason", ""), current_app.config["SILLAGE_EMERGENCY_HOURS"])
            except ValidationFailed as error:
                db.session.rollback()
                errors = error.errors
            else:
                reset_scope()
                flash(_("Accès d'urgence ouvert jusqu'à %(t)s. Le DPO et la direction en sont informés.",
                        t=clock.time_text(access.expires_at)), "warning")
                return redirect(url_for("DossierView.show", usager_id=access.usager_id))
        return self.render_template("emergency/open.html", title=_("Accès d'urgence"), errors=errors, form=form,
                                    hours=current_app.config["SILLAGE_EMERGENCY_HOURS"]), (422 if errors else 200)


class EmergencyReviewView(BaseView):
    route_base = "/audit/urgences"
    class_permission_name = "HistoriqueAcces"
    default_view = "index"
    method_permission_name = {"index": "read", "review": "read"}

    @expose("/")
    @has_access
    def index(self):
        accesses = emergency.to_review(db.session)
        user_ids = {a.user_id for a in accesses}
        users = {u.id: f"{u.first_name} {u.last_name} ({u.username})"
                 for u in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()} if user_ids else {}
        usager_ids = {a.usager_id for a in accesses}
        usagers = {u.id: u for u in db.session.execute(select(Usager).where(Usager.id.in_(usager_ids))).scalars()} \
            if usager_ids else {}  # (through the scope: a dossier the reviewer may not see keeps its number)
        return self.render_template("emergency/review.html", title=_("Accès d'urgence à revoir"),
                                    accesses=accesses, users=users, usagers=usagers)

    @expose("/<int:access_id>", methods=["POST"])
    @has_access
    def review(self, access_id):
        access = db.session.get(EmergencyAccess, access_id) or abort(404)
        try:
            emergency.review(db.session, access, g.user, request.form.get("note", ""))
            flash(_("Accès revu."), "success")
        except ValidationFailed as error:
            for message in error.errors.values():
                flash(message, "danger")
        return redirect(url_for(".index"))


class CategoryMatrixView(BaseView):
    """The Administrateur edits who reads and writes each category (audited like any change)."""

    route_base = "/securite/categories"
    class_permission_name = "Securite"
    default_view = "index"
    method_permission_name = {"index": "write"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def index(self):
        roles = db.session.execute(select(Role).where(Role.name != "Public").order_by(Role.name)).scalars().all()
        rows = {(r.role_id, r.category): r for r in db.session.execute(select(CategoryAccess)).scalars()}
        if request.method == "POST":
            for role in roles:
                for category in CATEGORIES:
                    row = rows.get((role.id, category)) or CategoryAccess(role_id=role.id, category=category)
                    write = request.form.get(f"w-{role.id}-{category}") == "on"
                    read = write or request.form.get(f"r-{role.id}-{category}") == "on"
                    if row.id is None and not (read or write):
                        continue
                    row.can_read, row.can_write = read, write
                    db.session.add(row)
            db.session.commit()
            flash(_("Matrice du secret partagé enregistrée."), "success")
            return redirect(url_for(".index"))
        return self.render_template("emergency/categories.html", title=_("Secret partagé : accès par catégorie"),
                                    roles=roles, categories=CATEGORIES, rows=rows)
