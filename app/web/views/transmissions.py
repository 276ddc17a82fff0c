"""Pages of the cahier de liaison: what is new in the user's services (marked read one by one), the
feed with its filters, quick entry for several people of a service, a person's feed, one
transmission with its corrections, addenda and readers, and a printable view for a period.

Every write goes through services.transmissions; the rows shown pass through the scope hook.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Admission, Service, Transmission, User, Usager
from ...security.roles import CATEGORIES
from ...security.scope import OutOfScope, current_scope
from ...domain import clock
from ...services import transmissions
from ...services.errors import StaleVersion, ValidationFailed
from .. import params


def _local_day(value: str | None, end=False) -> dt.datetime | None:
    """A day typed in a filter (AAAA-MM-JJ, the structure's time zone) → its start in UTC (the
    next day's start for an end: the end is excluded)."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return None
    if end:
        day += dt.timedelta(days=1)
    local = dt.datetime.combine(day, dt.time()).replace(tzinfo=clock.zone())
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _filters() -> transmissions.Filters:
    categorie = request.args.get("categorie") or None
    return transmissions.Filters(
        start=_local_day(request.args.get("du")), end=_local_day(request.args.get("au"), end=True),
        author_id=params.arg("auteur"), categorie=categorie if categorie in CATEGORIES else None,
        cible=(request.args.get("cible") or None), importantes=request.args.get("importantes") == "1")


def _form_values() -> dict:
    form = request.form
    values = {k: form.get(k) for k in ("categorie", "cible", *transmissions.TEXT_FIELDS)}
    values["importante"] = form.get("importante") == "1"
    values["service_id"] = params.arg("service_id", form)
    return values


class TransmissionView(BaseView):
    route_base = "/transmissions"
    class_permission_name = "Transmission"
    method_permission_name = {"index": "read", "usager": "read", "show": "read", "printable": "read",
                              "mark_read": "read", "create": "write", "correct": "write", "add": "write"}
    default_view = "index"

    def _can_write(self) -> bool:
        return self.appbuilder.sm.has_access("can_write", "Transmission")

    def _transmission(self, tid) -> Transmission:
        item = transmissions.visible(db.session, tid)
        if item is None:
            abort(404)
        return item

    def _services(self) -> list[Service]:
        ids = transmissions.user_service_ids(db.session, current_scope(), g.user.id)
        if not ids:
            return []
        return list(db.session.execute(select(Service).where(Service.id.in_(ids)).order_by(Service.name)).scalars())

    def _people(self, service_id) -> list[Usager]:
        """The people currently admitted in the service (quick entry ticks several of them)."""
        if not service_id:
            return []
        return list(db.session.execute(
            select(Usager).join(Admission, Admission.usager_id == Usager.id)
            .where(Admission.service_id == service_id, Admission.date_sortie.is_(None), Admission.archived_at.is_(None))
            .order_by(Usager.nom_naissance, Usager.prenoms_naissance).distinct()).scalars())

    def _common(self):
        scope = current_scope()
        return {"categories": CATEGORIES, "cibles": transmissions.cibles(db.session),
                "writable": [c for c in CATEGORIES if scope is None or scope.writes(c)],
                "can_write": self._can_write(), "authors": self._authors()}

    def _authors(self) -> dict:
        return {u.id: f"{u.first_name} {u.last_name}" for u in
                db.session.execute(select(User).order_by(User.last_name)).scalars()}

    @expose("/")
    @has_access
    def index(self, errors=None, status=200):
        services = self._services()
        chosen = params.arg("service_id")
        shown_ids = [s.id for s in services if chosen in (None, s.id)]
        page = max(params.arg("page") or 1, 1)
        rows, more = transmissions.feed(db.session, service_ids=shown_ids, filters=_filters(), page=page)
        unread = transmissions.unread(db.session, current_scope(), g.user.id, limit=100)
        entry_id = params.arg("saisie") or chosen or (params.arg("service_id", request.form) if errors else None)
        entry_service = next((s for s in services if s.id == entry_id), None) or \
            (services[0] if len(services) == 1 else None)
        return self.render_template(
            "transmissions/index.html", title=_("Transmissions"), services=services, chosen=chosen, rows=rows,
            more=more, page=page, unread=unread, read=transmissions.read_ids(db.session, g.user.id, [t.id for t in rows]),
            entry_service=entry_service, people=self._people(getattr(entry_service, "id", None)),
            errors=errors or {}, posted=request.form if errors else {}, args=request.args, **self._common()), status

    @expose("/nouvelle", methods=["POST"])
    @has_access
    def create(self):
        ids = [int(v) for v in request.form.getlist("usagers") if v.isdigit() and len(v) < 10]
        try:
            transmissions.write(db.session, scope=current_scope(), author_id=g.user.id, usager_ids=ids,
                                values=_form_values())
        except ValidationFailed as exc:
            db.session.rollback()
            return self.index(errors=exc.errors, status=422)
        flash(_("Transmission enregistrée."), "success")
        target = request.form.get("retour")
        if target and target.startswith("/transmissions/"):
            return redirect(target)
        return redirect(url_for(".index", service_id=params.arg("service_id", request.form)))

    @expose("/usager/<int:usager_id>")
    @has_access
    def usager(self, usager_id):
        person = db.session.get(Usager, usager_id)
        if person is None:
            abort(404)
        page = max(params.arg("page") or 1, 1)
        rows, more = transmissions.feed(db.session, usager_id=person.id, filters=_filters(), page=page)
        services = self._services()
        placed = [s for s in services if s.id in set(
            db.session.execute(select(Admission.service_id).where(
                Admission.usager_id == person.id, Admission.date_sortie.is_(None))).scalars())]
        return self.render_template(
            "transmissions/usager.html", title=_("Transmissions"), usager=person, rows=rows, more=more, page=page,
            read=transmissions.read_ids(db.session, g.user.id, [t.id for t in rows]), args=request.args,
            entry_service=placed[0] if placed else (services[0] if len(services) == 1 else None),
            errors={}, posted={}, **self._common())

    @expose("/<int:tid>")
    @has_access
    def show(self, tid, errors=None, status=200):
        item = self._transmission(tid)
        mine = item.author_id == g.user.id
        return self.render_template(
            "transmissions/show.html", title=_("Transmission"), t=item, mine=mine,
            correctable=mine and transmissions.correctable(item, g.user.id),
            minutes=transmissions.correction_minutes(),
            readers=transmissions.readers(db.session, item) if mine else [],
            is_read=bool(transmissions.read_ids(db.session, g.user.id, [item.id])),
            addenda=list(db.session.execute(select(Transmission).where(Transmission.addendum_of_id == item.id)
                                            .order_by(Transmission.written_at)).scalars()),
            errors=errors or {}, posted=request.form if errors else {}, **self._common()), status

    @expose("/<int:tid>/lu", methods=["POST"])
    @has_access
    def mark_read(self, tid):
        transmissions.mark_read(db.session, self._transmission(tid), g.user.id)
        target = request.form.get("retour") or ""
        return redirect(target if target.startswith("/transmissions/") else url_for(".index"))

    @expose("/<int:tid>/corriger", methods=["POST"])
    @has_access
    def correct(self, tid):
        item = self._transmission(tid)
        try:
            transmissions.correct(db.session, scope=current_scope(), transmission=item, user_id=g.user.id,
                                  values=_form_values(), expected_version=request.form.get("version"))
        except (ValidationFailed, StaleVersion) as exc:
            db.session.rollback()
            errors = exc.errors if isinstance(exc, ValidationFailed) else {"correction": exc.message}
            return self.show(tid, errors=errors, status=422 if isinstance(exc, ValidationFailed) else 409)
        flash(_("Transmission corrigée ; le texte précédent est conservé."), "success")
        return redirect(url_for(".show", tid=item.id))

    @expose("/<int:tid>/addendum", methods=["POST"])
    @has_access
    def add(self, tid):
        item = self._transmission(tid)
        try:
            added = transmissions.addendum(db.session, scope=current_scope(), original=item, author_id=g.user.id,
                                           values=_form_values())
        except ValidationFailed as exc:
            db.session.rollback()
            return self.show(tid, errors={f"addendum_{k}": v for k, v in exc.errors.items()}, status=422)
        except OutOfScope:
            abort(404)
        flash(_("Complément ajouté."), "success")
        return redirect(url_for(".show", tid=added.id))

    @expose("/imprimer")
    @has_access
    def printable(self):
        """The cahier of the user's services (or one) over a period, oldest first, to print."""
        services = self._services()
        chosen = params.arg("service_id")
        filters = _filters()
        today = clock.today()
        if filters.start is None:
            filters.start = _local_day((today - dt.timedelta(days=1)).isoformat())
        rows, more = transmissions.feed(db.session, service_ids=[s.id for s in services if chosen in (None, s.id)],
                                        filters=filters, page_size=1000)
        return self.render_template("transmissions/print.html", rows=list(reversed(rows)), more=more,
                                    services=[s for s in services if chosen in (None, s.id)],
                                    start=filters.start, end=filters.end - dt.timedelta(seconds=1) if filters.end else None,
                                    **self._common())
