"""`/api/v1/agenda` (issue 19 §4, paths and fields as clients outside the project use them): the
occurrences of a window, recurrences expanded; create, change, cancel an event (or one
occurrence); `/api/v1/agenda/flux` (re)generates the caller's ICS feed address. Under the scope
(an event the user does not see: 404) and the shared secret (masked detail), through
services.agenda."""
import datetime as dt

from flask import current_app, g, request, url_for
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...security.scope import current_scope
from ...services import agenda
from .base import json_body, service_errors

FIELDS = ("titre", "debut", "fin", "categorie", "usager_ids", "participant_ids", "service_id", "lieu", "rrule",
          "type", "notes", "journee")
MAX_WINDOW = dt.timedelta(days=400)


def feed_url(raw: str) -> str:
    """The address a phone subscribes to (SILLAGE_PUBLIC_URL when set: the proxy's host)."""
    path = url_for("AgendaView.feed", token=raw)
    base = current_app.config.get("SILLAGE_PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path


def _int_arg(name):
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValueError(name)
    return int(value)


class AgendaApi(BaseApi):
    route_base = "/api/v1/agenda"
    resource_name = "agenda"
    class_permission_name = "Agenda"
    method_permission_name = {"list_occurrences": "read", "create_event": "write", "update_event": "write",
                              "cancel_event": "write", "new_feed": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Agenda"

    @expose("", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_occurrences")
    def list_occurrences(self):
        """Occurrences between `debut` and `fin` (ISO 8601, at most 400 days), recurrences
        expanded in Europe/Paris; filters `usager_id`, `user_id` (a participant), `service_id`.
        ---
        get:
          parameters:
          - {in: query, name: debut, required: true, schema: {type: string, format: date-time}}
          - {in: query, name: fin, required: true, schema: {type: string, format: date-time}}
          - {in: query, name: usager_id, schema: {type: integer}}
          - {in: query, name: user_id, schema: {type: integer}}
          - {in: query, name: service_id, schema: {type: integer}}
          responses:
            200: {description: "{result: [{id, occurrence, debut, fin, titre, categorie, ...}]}"}
            400: {$ref: '#/components/responses/400'}
        """
        try:
            start = agenda.parse_iso(request.args.get("debut"))
            end = agenda.parse_iso(request.args.get("fin"))
        except ValueError:
            return self.response_400(message=_("« debut » et « fin » : dates et heures attendues (ISO 8601)."))
        if not start < end <= start + MAX_WINDOW:
            return self.response_400(message=_("« fin » suit « debut », de %(n)s jours au plus.", n=MAX_WINDOW.days))
        try:
            filters = {name: _int_arg(name) for name in ("usager_id", "user_id", "service_id")}
        except ValueError as exc:
            return self.response_400(message=_("« %(name)s » : nombre entier attendu.", name=str(exc)))
        occs = agenda.occurrences(db.session, start, end, **filters)
        names = agenda.staff_names(db.session, [p.user_id for o in occs for p in o.event.participants])
        scope = current_scope()
        return self.response(200, result=[agenda.as_dict(o, scope, names) for o in occs])

    @expose("", methods=["POST"])
    @protect()
    @safe
    @permission_name("create_event")
    @service_errors
    def create_event(self):
        """Create an event: `{"titre", "debut", "fin", "categorie"?, "usager_ids"?, "participant_ids"?,
        "service_id"?, "lieu"?, "rrule"?, "type"?, "notes"?, "journee"?}`.
        ---
        post:
          responses:
            201: {description: "{id, result, conflits}"}
            422: {$ref: '#/components/responses/422'}
        """
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k not in FIELDS}
        if unknown:
            return self.response_422(message=unknown)
        event = agenda.create(db.session, scope=current_scope(), user_id=g.user.id, values=payload)
        return self._answer(event, 201)

    def _answer(self, event, status):
        scope = current_scope()
        names = agenda.staff_names(db.session, [p.user_id for p in event.participants])
        first = agenda.Occurrence(event, event.debut, event.fin, event.debut if event.rrule else None, event.cancelled)
        found = agenda.conflicts_of(db.session, event, names)
        return self.response(status, id=event.id, result=agenda.as_dict(first, scope, names),
                             conflits=[agenda.conflict_dict(c, scope) for c in found])

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("update_event")
    @service_errors
    def update_event(self, pk):
        """Change an event (the fields given); its `uid` stays and its `sequence` grows.
        ---
        put:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: "{id, result, conflits}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        event = agenda.visible(db.session, pk)
        if event is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k not in FIELDS}
        if unknown:
            return self.response_422(message=unknown)
        agenda.update(db.session, scope=current_scope(), event=event, user_id=g.user.id, values=payload)
        return self._answer(event, 200)

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("cancel_event")
    @service_errors
    def cancel_event(self, pk):
        """Cancel the event, or with `?occurrence=<ISO>` one occurrence of a recurring event (it
        stays in the feeds as STATUS:CANCELLED).
        ---
        delete:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: query, name: occurrence, schema: {type: string, format: date-time}}
          responses:
            200: {description: "{id, sequence}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        event = agenda.visible(db.session, pk)
        if event is None:
            return self.response_404()
        if not agenda.can_read_detail(event, current_scope()):
            return self.response_422(message={"categorie": [_("Vous ne lisez pas la catégorie de cet événement.")]})
        occurrence = None
        if request.args.get("occurrence"):
            try:
                occurrence = agenda.parse_iso(request.args["occurrence"])
            except ValueError:
                return self.response_422(message={"occurrence": [_("Date et heure attendues (ISO 8601).")]})
        agenda.cancel(db.session, scope=current_scope(), event=event, occurrence=occurrence)
        return self.response(200, id=event.id, sequence=event.sequence, annule=event.cancelled,
                             occurrences_annulees=event.exdates or [])

    @expose("/flux", methods=["POST"])
    @protect()
    @safe
    @permission_name("new_feed")
    @service_errors
    def new_feed(self):
        """(Re)generate the caller's ICS feed address (`{"service_id"?}`: a service's feed): the
        previous address stops working. The address is shown once.
        ---
        post:
          responses:
            201: {description: "{url}"}
            422: {$ref: '#/components/responses/422'}
        """
        payload = json_body() if request.data else {}
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        service_id = payload.get("service_id")
        if service_id is not None:
            from ...models import Service

            if isinstance(service_id, bool) or not isinstance(service_id, int) or db.session.get(Service, service_id) is None:
                return self.response_422(message={"service_id": [_("Ce service n'est pas dans votre périmètre.")]})
        raw = agenda.new_feed(db.session, user_id=g.user.id, service_id=service_id)
        return self.response(201, url=feed_url(raw))
