"""Agenda pages: day, week and month of the user (their events), of a service or of a person,
drawn server-side as tables (readable without script, by a screen reader); create, change and
cancel an event or one occurrence; the user's feed addresses; and the feed itself
(`/agenda/flux/<token>.ics`), read by a phone without a session.

Every write goes through services.agenda; the rows shown pass through the scope hook.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, g, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Admission, Evenement, Service, Usager
from ...models.agenda import KINDS
from ...security.audit import logged_path, record_event, unaudited_read
from ...security.roles import CATEGORIES
from ...security.scope import current_scope, scope_for_user
from ...domain import clock
from ...services import agenda, agenda_ics
from ...services.errors import ValidationFailed
from .. import params

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
VIEWS = ("jour", "semaine", "mois")


def _window(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """[first, last] local days shown."""
    if view == "jour":
        return day, day
    if view == "mois":
        first = day.replace(day=1)
        start = first - dt.timedelta(days=first.weekday())
        following = (first + dt.timedelta(days=32)).replace(day=1)
        last = following - dt.timedelta(days=1)
        return start, last + dt.timedelta(days=6 - last.weekday())
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def _local_input(value: str | None) -> str | None:
    """A datetime-local field (the structure's time) → ISO with its offset, for the service."""
    try:
        parsed = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return value or None
    return parsed.replace(tzinfo=clock.zone()).isoformat() if parsed.tzinfo is None else parsed.isoformat()


def _rrule_from_form(form, start_text: str | None) -> str | None:
    """Weekly on the ticked days, until a date (inclusive, local) or for a number of times."""
    days = [d for d in DAYS if d in form.getlist("jours")]
    if form.get("repetition") != "hebdo":
        return None
    rule = "FREQ=WEEKLY"
    if days:
        rule += ";BYDAY=" + ",".join(days)
    until, count = form.get("jusqu_au"), params.arg("nombre", form)
    if until:
        try:
            day = dt.date.fromisoformat(until)
        except ValueError:
            return rule + ";UNTIL=invalide"
        end = agenda.local_day_start(day + dt.timedelta(days=1)) - dt.timedelta(seconds=1)
        rule += ";UNTIL=" + end.strftime("%Y%m%dT%H%M%SZ")
    elif count:
        rule += f";COUNT={min(count, 500)}"
    return rule


def _form_values(form) -> dict:
    values = {k: form.get(k) or None for k in ("titre", "lieu", "notes", "categorie", "type")}
    values["debut"], values["fin"] = _local_input(form.get("debut")), _local_input(form.get("fin"))
    values["rrule"] = _rrule_from_form(form, form.get("debut"))
    values["usager_ids"] = [int(v) for v in form.getlist("usagers") if v.isdigit() and len(v) < 10]
    staff = [int(v) for v in form.getlist("participants") if v.isdigit() and len(v) < 10]
    if staff:
        values["participant_ids"] = staff
    values["service_id"] = params.arg("service_id", form)
    values["journee"] = form.get("journee") == "1"
    return values


class AgendaView(BaseView):
    route_base = "/agenda"
    class_permission_name = "Agenda"
    method_permission_name = {"index": "read", "show": "read", "feeds": "read", "new_feed": "read",
                              "revoke_feeds": "read", "create": "write", "edit": "write", "cancel": "write"}
    default_view = "index"

    def _can_write(self) -> bool:
        return self.appbuilder.sm.has_access("can_write", "Agenda")

    def _services(self) -> list[Service]:
        return list(db.session.execute(select(Service).where(Service.archived_at.is_(None))
                                       .order_by(Service.name)).scalars())

    def _people(self) -> list[Usager]:
        """People currently admitted where the user works (the scope hook keeps only those)."""
        return list(db.session.execute(
            select(Usager).join(Admission, Admission.usager_id == Usager.id)
            .where(Admission.date_sortie.is_(None), Admission.archived_at.is_(None))
            .order_by(Usager.nom_naissance, Usager.prenoms_naissance).distinct().limit(300)).scalars())

    def _event(self, event_id) -> Evenement:
        event = agenda.visible(db.session, event_id)
        if event is None:
            abort(404)
        return event

    @expose("/")
    @has_access
    def index(self):
        view = request.args.get("vue") if request.args.get("vue") in VIEWS else "semaine"
        try:
            day = dt.date.fromisoformat(request.args.get("date") or "")
        except ValueError:
            day = clock.today()
        usager_id, service_id = params.arg("usager_id"), params.arg("service_id")
        person = db.session.get(Usager, usager_id) if usager_id else None
        service = db.session.get(Service, service_id) if service_id else None
        if (usager_id and person is None) or (service_id and service is None):
            abort(404)
        first, last = _window(view, day)
        start, end = agenda.local_day_start(first), agenda.local_day_start(last + dt.timedelta(days=1))
        filters = {"usager_id": usager_id, "service_id": service_id,
                   "user_id": None if (usager_id or service_id) else g.user.id}
        occs = agenda.occurrences(db.session, start, end, **filters)
        names = agenda.staff_names(db.session, [p.user_id for o in occs for p in o.event.participants])
        scope = current_scope()
        by_day: dict[dt.date, list] = {}
        for occ in occs:
            local_start, local_end = clock.local(occ.start).date(), clock.local(occ.end - dt.timedelta(seconds=1)).date()
            current = max(local_start, first)
            while current <= min(local_end, last):
                by_day.setdefault(current, []).append((occ, agenda.as_dict(occ, scope, names)))
                current += dt.timedelta(days=1)
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        found = agenda.conflicts(occs, names)
        step = {"jour": dt.timedelta(days=1), "semaine": dt.timedelta(days=7)}.get(view)
        previous = day - step if step else (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        following = day + step if step else (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        args = {k: v for k, v in (("usager_id", usager_id), ("service_id", service_id)) if v}
        return self.render_template(
            "agenda/index.html", title=_("Agenda"), view=view, day=day, days=days, by_day=by_day,
            weeks=[days[i:i + 7] for i in range(0, len(days), 7)], person=person, service=service,
            services=self._services(), conflicts=[agenda.conflict_dict(c, scope) for c in found],
            previous=previous, following=following, args=args, today=clock.today(),
            can_write=self._can_write(), kinds=agenda.KIND_LABELS)

    def _form(self, event=None, errors=None, status=200, posted=None):
        scope = current_scope()
        return self.render_template(
            "agenda/form.html", title=_("Modifier l'événement") if event else _("Nouvel événement"), event=event,
            errors=errors or {}, posted=posted, kinds=agenda.KIND_LABELS, categories=CATEGORIES,
            writable=[c for c in CATEGORIES if scope is None or scope.writes(c)], default_categories=KINDS,
            people=self._people(), services=self._services(), days=DAYS,
            chosen_usagers={line.usager_id for line in event.usagers} if event else
            {params.arg("usager_id")} - {None}), status

    @expose("/nouveau", methods=["GET", "POST"])
    @has_access
    def create(self):
        if request.method == "GET":
            return self._form()
        try:
            event = agenda.create(db.session, scope=current_scope(), user_id=g.user.id, values=_form_values(request.form))
        except ValidationFailed as exc:
            db.session.rollback()
            return self._form(errors=exc.errors, status=422, posted=request.form)
        flash(_("Événement enregistré."), "success")
        return redirect(url_for(".show", event_id=event.id))

    @expose("/<int:event_id>")
    @has_access
    def show(self, event_id):
        event = self._event(event_id)
        scope = current_scope()
        names = agenda.staff_names(db.session, [p.user_id for p in event.participants])
        upcoming = agenda.occurrences(db.session, max(event.debut, agenda.local_day_start(clock.today())),
                                      agenda.local_day_start(clock.today()) + dt.timedelta(days=120)) \
            if event.rrule else []
        upcoming = [o for o in upcoming if o.event.id == event.id][:30]
        first = agenda.Occurrence(event, event.debut, event.fin, None, event.cancelled)
        return self.render_template(
            "agenda/show.html", title=_("Événement"), event=event, item=agenda.as_dict(first, scope, names),
            upcoming=[agenda.as_dict(o, scope) for o in upcoming], detail=agenda.can_read_detail(event, scope),
            conflicts=[agenda.conflict_dict(c, scope) for c in agenda.conflicts_of(db.session, event, names)],
            can_write=self._can_write(), kinds=agenda.KIND_LABELS, categories=CATEGORIES)

    @expose("/<int:event_id>/modifier", methods=["GET", "POST"])
    @has_access
    def edit(self, event_id):
        event = self._event(event_id)
        if not agenda.can_read_detail(event, current_scope()):
            abort(403)
        if request.method == "GET":
            return self._form(event)
        values = _form_values(request.form)
        if request.form.get("repetition") == "garder":
            values.pop("rrule")
        try:
            agenda.update(db.session, scope=current_scope(), event=event, user_id=g.user.id, values=values)
        except ValidationFailed as exc:
            db.session.rollback()
            return self._form(event, errors=exc.errors, status=422, posted=request.form)
        flash(_("Événement modifié."), "success")
        return redirect(url_for(".show", event_id=event.id))

    @expose("/<int:event_id>/annuler", methods=["POST"])
    @has_access
    def cancel(self, event_id):
        event = self._event(event_id)
        if not agenda.can_read_detail(event, current_scope()):
            abort(403)
        occurrence = None
        if request.form.get("occurrence"):
            try:
                occurrence = agenda.parse_iso(request.form["occurrence"])
            except ValueError:
                abort(400)
        try:
            agenda.cancel(db.session, scope=current_scope(), event=event, occurrence=occurrence)
        except ValidationFailed as exc:
            db.session.rollback()
            flash(next(iter(exc.errors.values())), "danger")
        else:
            flash(_("Occurrence annulée.") if occurrence else _("Événement annulé."), "success")
        return redirect(url_for(".show", event_id=event.id))

    # --- feeds ---------------------------------------------------------------------------------

    @expose("/abonnement")
    @has_access
    def feeds(self, url=None):
        return self.render_template("agenda/feeds.html", title=_("Abonnement au calendrier"), url=url,
                                    feeds=agenda.active_feeds(db.session, g.user.id), services=self._services())

    @expose("/abonnement/nouveau", methods=["POST"])
    @has_access
    def new_feed(self):
        from ..api.agenda import feed_url

        service_id = params.arg("service_id", request.form)
        if service_id is not None and db.session.get(Service, service_id) is None:
            abort(404)
        raw = agenda.new_feed(db.session, user_id=g.user.id, service_id=service_id)
        return self.feeds(url=feed_url(raw))

    @expose("/abonnement/revoquer", methods=["POST"])
    @has_access
    def revoke_feeds(self):
        agenda.revoke_feeds(db.session, user_id=g.user.id)
        flash(_("Adresses d'abonnement révoquées."), "success")
        return redirect(url_for(".feeds"))

    @expose("/flux/<token>.ics")
    def feed(self, token):
        """The feed, without a session: the token is the credential. Read as that user (their
        scope, their categories), audited as their read with the token masked."""
        unaudited_read()  # (recorded below, as the feed's owner and without the token)
        feed = agenda.feed_for_token(db.session, token)
        user = self.appbuilder.sm.get_user_by_id(feed.user_id) if feed is not None else None
        if user is None or not user.is_active:
            abort(404)
        g.sillage_scope = scope = scope_for_user(db.session, user)
        if not _reads_agenda(self.appbuilder.sm, user):
            abort(404)
        now = clock.today()
        start = agenda.local_day_start(now - dt.timedelta(days=current_app.config["SILLAGE_ICS_DAYS_BEFORE"]))
        end = agenda.local_day_start(now + dt.timedelta(days=current_app.config["SILLAGE_ICS_DAYS_AFTER"]))
        query = agenda.events_query(start, end, user_id=None if feed.service_id else user.id,
                                    service_id=feed.service_id)
        events = list(db.session.execute(query).scalars())
        service = db.session.get(Service, feed.service_id) if feed.service_id else None
        name = f"Sillage — {service.name}" if service else "Sillage"
        body = agenda_ics.calendar(events, scope, name=name)
        usagers = sorted({line.usager_id for e in events for line in e.usagers})
        record_event("read", user_id=user.id, username=user.username, entity="Evenement",
                     usager_id=usagers[0] if len(usagers) == 1 else None,
                     details={"method": request.method, "path": logged_path(request.path), "status": 200,
                              "flux": feed.prefix, "ids": {"Evenement": [e.id for e in events][:500]},
                              "usagers": usagers[:500]}, durable=False)
        feed.last_used_at = agenda.utcnow()
        db.session.commit()
        response = make_response(body)
        response.headers["Content-Type"] = "text/calendar; charset=utf-8"
        response.headers["Content-Disposition"] = 'inline; filename="sillage.ics"'
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def _reads_agenda(sm, user) -> bool:
    """The feed's owner still holds the right to read the agenda (a role changed since)."""
    return any(p.permission.name == "can_read" and p.view_menu.name == "Agenda"
               for role in user.roles for p in role.permissions)
