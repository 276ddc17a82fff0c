"""`/api/v1/usager/<id>/transmissions` and `/api/v1/transmissions/…`: the cahier de liaison, under
the usager's scope (outside it: 404) and the shared secret (a category the user may not read is
absent), through services.transmissions."""
import datetime as dt

from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...models import Usager
from ...security.scope import current_scope
from ...services import transmissions
from .base import json_body, service_errors

FIELDS = ("categorie", "texte", "cible", "donnees", "actions", "resultats", "importante", "service_id")


def _user_id():
    return g.user.id


class UsagerTransmissionApi(BaseApi):
    route_base = "/api/v1/usager"
    resource_name = "usager"
    class_permission_name = "Transmission"
    method_permission_name = {"list_transmissions": "read", "post_transmission": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Transmission"

    @expose("/<int:pk>/transmissions", methods=["POST"])
    @protect()
    @safe
    @permission_name("post_transmission")
    @service_errors
    def post_transmission(self, pk):
        """Write a transmission about this usager: `{"categorie", "texte"?, "cible"?, "donnees"?,
        "actions"?, "resultats"?, "importante"?, "service_id"?}` (a text or DAR).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            201: {description: "{id, result}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        if db.session.get(Usager, pk) is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k not in FIELDS}
        if unknown:
            return self.response_422(message=unknown)
        item = transmissions.write(db.session, scope=current_scope(), author_id=_user_id(), usager_ids=[pk],
                                   values=payload)
        return self.response(201, id=item.id, **{k: v for k, v in transmissions.as_dict(item).items() if k != "id"})

    @expose("/<int:pk>/transmissions", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_transmissions")
    def list_transmissions(self, pk):
        """The usager's transmissions the user may read, newest first; `depuis` (ISO 8601): written
        at or after; `page` (from 1) by 100.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: query, name: depuis, schema: {type: string, format: date-time}}
          - {in: query, name: page, schema: {type: integer}}
          responses:
            200: {description: "{result: [...], next_page}"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        if db.session.get(Usager, pk) is None:
            return self.response_404()
        start = None
        if request.args.get("depuis"):
            try:
                start = parse_since(request.args["depuis"])
            except ValueError:
                return self.response_400(message=_("« depuis » : date et heure attendues (ISO 8601)."))
        page = request.args.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= 100_000:
            return self.response_400(message=_("« page » est un entier à partir de 1."))
        rows, more = transmissions.feed(db.session, usager_id=pk, filters=transmissions.Filters(start=start),
                                        page=int(page), page_size=100)
        read = transmissions.read_ids(db.session, _user_id(), [t.id for t in rows])
        return self.response(200, result=[transmissions.as_dict(t, lu=t.id in read) for t in rows],
                             next_page=int(page) + 1 if more else None)


def parse_since(value: str) -> dt.datetime:
    """An ISO date or date-time; with an offset it is converted to UTC, without it is UTC."""
    value = value.strip().replace("Z", "+00:00").replace(" ", "+", 1) if "T" in value else value.strip()
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


class TransmissionApi(BaseApi):
    route_base = "/api/v1/transmissions"
    resource_name = "transmissions"
    class_permission_name = "Transmission"
    method_permission_name = {"lu": "read", "a_lire": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Transmission"

    @expose("/<int:tid>/lu", methods=["POST"])
    @protect()
    @safe
    @permission_name("lu")
    def lu(self, tid):
        """Mark a transmission read (acknowledgement; the author sees who read it).
        ---
        post:
          parameters:
          - {in: path, name: tid, schema: {type: integer}}
          responses:
            204: {description: Acknowledged}
            404: {$ref: '#/components/responses/404'}
        """
        item = transmissions.visible(db.session, tid)
        if item is None:
            return self.response_404()
        transmissions.mark_read(db.session, item, _user_id())
        return "", 204

    @expose("/a-lire", methods=["GET"])
    @protect()
    @safe
    @permission_name("a_lire")
    def a_lire(self):
        """What is new in the user's services that they have not marked read, important first.
        ---
        get:
          responses:
            200: {description: "{count, result: [...]}"}
        """
        rows = transmissions.unread(db.session, current_scope(), _user_id())
        return self.response(200, count=len(rows), result=[transmissions.as_dict(t, lu=False) for t in rows])
