"""Shared behaviour of Sillage's REST resources: JSON parsing, errors, archiving."""
from __future__ import annotations

import datetime as dt
import functools
import json

from flask import current_app, request
from flask_appbuilder.api import ModelRestApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text
from werkzeug.exceptions import BadRequest

from ...extensions import db
from ...models.base import INTEGER_MAX
from ...security.roles import METHOD_ACTIONS
from ...security.scope import OutOfScope
from ...services.errors import DuplicateSuspected, StaleVersion, ValidationFailed
from ...services.usagers import set_archived

MAX_STRING = 10_000


def _parse(column_type, value):
    if value is None or value == "":
        return None
    if isinstance(column_type, DateTime):
        if not isinstance(value, str):
            raise ValueError
        return dt.datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        if not isinstance(value, str):
            raise ValueError
        return dt.date.fromisoformat(value[:10]) if len(value) == 10 else dt.datetime.fromisoformat(value).date()
    if isinstance(column_type, Boolean):
        if not isinstance(value, bool):
            raise ValueError
        return value
    if isinstance(column_type, Integer):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError
        return int(value)
    if isinstance(column_type, (String, Text)):
        if not isinstance(value, str) or len(value) > MAX_STRING or "\x00" in value:
            raise ValueError
        return value
    if isinstance(column_type, JSON) or getattr(column_type, "impl", None) is not None:
        return value
    return value


TYPE_MESSAGES = {
    Date: _l("Date attendue au format AAAA-MM-JJ."), DateTime: _l("Date et heure attendues (ISO 8601)."),
    Boolean: _l("Booléen attendu (true ou false)."), Integer: _l("Nombre entier attendu."),
    String: _l("Texte attendu."), Text: _l("Texte attendu."),
}


def parse_payload(model, payload: dict, allowed) -> tuple[dict, dict]:
    """JSON object → typed values for the allowed fields; unknown fields and bad types are errors."""
    values, errors = {}, {}
    columns = model.__table__.columns
    for key, value in payload.items():
        if key not in allowed:
            errors[key] = [_("Champ inconnu ou non modifiable.")]
            continue
        column_type = columns[key].type if key in columns else String()
        try:
            values[key] = _parse(column_type, value)
        except (ValueError, TypeError, OverflowError):
            message = next((m for t, m in TYPE_MESSAGES.items() if isinstance(column_type, t)), _l("Valeur invalide."))
            errors[key] = [str(message)]
    return values, errors


def json_body():
    """The request's JSON object, or None when the body is not a JSON object."""
    if not request.is_json:
        return None
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def service_errors(f):
    """Map service errors to JSON answers: 422 fields, 409 conflicts, 404 out of scope."""

    @functools.wraps(f)
    def wrapper(self, *args, **kwargs):
        try:
            return f(self, *args, **kwargs)
        except ValidationFailed as exc:
            db.session.rollback()
            return self.response_422(message={k: [v] for k, v in exc.errors.items()})
        except StaleVersion as exc:
            db.session.rollback()
            return self.response(409, message=exc.message, current_version=exc.current_version,
                                 changes=exc.changes)
        except DuplicateSuspected as exc:
            db.session.rollback()
            return self.response(
                409, message=_("Des dossiers semblables existent déjà. Vérifiez puis renvoyez avec "
                               "\"accept_duplicates\": true s'il s'agit d'une autre personne."),
                duplicates=[{"id": c.usager.id, "nom_naissance": c.usager.nom_naissance,
                             "prenoms_naissance": c.usager.prenoms_naissance,
                             "date_naissance": c.usager.date_naissance.isoformat(),
                             "reason_codes": c.codes, "reasons": c.reasons} for c in exc.candidates])
        except OutOfScope:
            db.session.rollback()
            return self.response_404()

    return wrapper


class InvalidArgument(BadRequest):
    """A 400 whose message is only its text (FAB's @safe answers with str(exception))."""

    def __str__(self):
        return str(self.description)


class SillageModelApi(ModelRestApi):
    """FAB's list/get (filters, pagination, OpenAPI), our own writes through services."""

    allow_browser_login = True
    method_permission_name = {**METHOD_ACTIONS, "archive": "archive", "restore": "archive",
                              "delete": "archive"}
    page_size = 25
    max_page_size = 100

    def _sanitize_page_args(self, page, page_size):
        """FAB hands a negative page to the database as a negative OFFSET (PostgreSQL refuses it)
        and a huge one overflows it: outside 0 … INTEGER_MAX the list answers 400."""
        if page is not None and not 0 <= page <= INTEGER_MAX:
            raise InvalidArgument(_("« page » est un entier de 0 à %(max)s.", max=INTEGER_MAX))
        return super()._sanitize_page_args(page, page_size)

    def _item_or_none(self, pk):
        return self.datamodel.get(pk, self._base_filters)

    def _result(self, item, status=200):
        return self.response(status, id=item.id, result=self.show_model_schema.dump(item))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("delete")
    def delete(self, pk):
        """Archive the record (records are never hard-deleted).
        ---
        delete:
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200: {description: Archived}
            404: {$ref: '#/components/responses/404'}
        """
        return self._archive(pk)

    def _archive(self, pk):
        item = self._item_or_none(pk)
        if item is None:
            return self.response_404()
        set_archived(db.session, item, True, getattr(self._user(), "id", None))
        return self._result(item)

    @expose("/<int:pk>/archive", methods=["POST"])
    @protect()
    @safe
    @permission_name("archive")
    def archive(self, pk):
        """Archive the record (same as DELETE).
        ---
        post:
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200: {description: Archived}
            404: {$ref: '#/components/responses/404'}
        """
        return self._archive(pk)

    @expose("/<int:pk>/restore", methods=["POST"])
    @protect()
    @safe
    @permission_name("restore")
    def restore(self, pk):
        """Restore an archived record.
        ---
        post:
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200: {description: Restored}
            404: {$ref: '#/components/responses/404'}
        """
        item = self._item_or_none(pk)
        if item is None:
            return self.response_404()
        set_archived(db.session, item, False)
        return self._result(item)

    @staticmethod
    def _user():
        from flask import g

        return g.get("user")


def fhir_base_url() -> str:
    """Where FHIR canonical URLs point: SILLAGE_PUBLIC_URL (stable whatever the host a request
    came through), else this request's host."""
    return current_app.config.get("SILLAGE_PUBLIC_URL") or request.host_url


def fhir_json(resource: dict):
    return current_app.response_class(json.dumps(resource, ensure_ascii=False), mimetype="application/fhir+json")
