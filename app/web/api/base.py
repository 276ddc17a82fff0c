"""Shared behaviour of Sillage's REST resources: JSON parsing, errors, archiving."""
from __future__ import annotations

import datetime as dt
import functools
import json

from flask import current_app, request
from flask_appbuilder.api import ModelRestApi, expose, merge_response_func, protect, safe
from flask_appbuilder.api.schemas import get_item_schema, get_list_schema
from flask_appbuilder.const import (
    API_DESCRIPTION_COLUMNS_RIS_KEY, API_LABEL_COLUMNS_RIS_KEY, API_LIST_COLUMNS_RIS_KEY,
    API_LIST_TITLE_RIS_KEY, API_ORDER_COLUMNS_RIS_KEY, API_RESULT_RES_KEY, API_SELECT_COLUMNS_RIS_KEY,
    API_SHOW_COLUMNS_RIS_KEY, API_SHOW_TITLE_RIS_KEY,
)
from flask_appbuilder.exceptions import FABException, InvalidColumnArgsFABException, InvalidOrderByColumnFABException
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text
from werkzeug.exceptions import BadRequest

from ...domain import clock
from ...extensions import db
from ...models.base import INTEGER_MAX
from ...security import stamp
from ...security.roles import METHOD_ACTIONS
from ...security.scope import PER_ROW, OutOfScope, current_scope
from ...services.errors import DuplicateSuspected, StaleVersion, ValidationFailed
from ...services.usagers import set_archived
from .reads import RowPlan, doc_of, filters_key, rison_args

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
    """FAB's list/get (filters, pagination, OpenAPI, same answers), our own writes through
    services. The list and the get are FAB's, without its per-request costs (api/reads.py)."""

    allow_browser_login = True
    method_permission_name = {**METHOD_ACTIONS, "archive": "archive", "restore": "archive",
                              "delete": "archive"}
    page_size = 25
    max_page_size = 100

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison_args(get_list_schema)
    @merge_response_func(ModelRestApi.merge_order_columns, API_ORDER_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_columns, API_LIST_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_title, API_LIST_TITLE_RIS_KEY)
    @doc_of(ModelRestApi.get_list)
    def get_list(self, **kwargs):
        return self.get_list_headless(**kwargs)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison_args(get_item_schema)
    @merge_response_func(ModelRestApi.merge_show_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_columns, API_SHOW_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_title, API_SHOW_TITLE_RIS_KEY)
    @doc_of(ModelRestApi.get)
    def get(self, pk, **kwargs):
        return self.get_headless(pk, **kwargs)

    def _plan(self, kind: str) -> RowPlan | None:
        """The list's or the show's RowPlan, built at the first request (not a cached_property:
        FAB's constructor reads every attribute before the schemas exist)."""
        plans = self.__dict__.setdefault("_sillage_plans", {})
        if kind not in plans:
            columns, schema = getattr(self, f"{kind}_select_columns"), getattr(self, f"{kind}_model_schema")
            plans[kind] = RowPlan(self.datamodel, columns, schema) if RowPlan.applies(self.datamodel, columns, schema) \
                else None
        return plans[kind]

    def get_list_headless(self, **kwargs):
        """FAB's, but for the count (kept per scope and data version) and, for plain columns,
        the rows (one load option built once, dumped without marshmallow's machinery)."""
        response = {}
        args = kwargs.get("rison", {})
        try:
            select_columns, pruned = self._handle_columns_args(args, self.list_select_columns, self.list_columns)
        except InvalidColumnArgsFABException as e:
            return self.response_400(message=str(e))
        self.set_response_key_mappings(response, self.get_list, args, **{API_SELECT_COLUMNS_RIS_KEY: pruned})
        try:
            joined_filters = self._handle_filters_args(args)
        except FABException as e:
            return self.response_400(message=str(e))
        try:
            order_column, order_direction = self._handle_order_args(args)
        except InvalidOrderByColumnFABException as e:
            return self.response_400(message=str(e))
        page_index, page_size = self._handle_page_args(args)
        datamodel = self.datamodel
        count = self._count(joined_filters)
        plan = self._plan("list")
        if plan is not None and not pruned and select_columns == self.list_select_columns:
            query = datamodel.apply_filters(datamodel.session.query(datamodel.obj), self._inner(joined_filters))
            query = datamodel.apply_order_by(query, order_column, order_direction, aliases_mapping={},
                                             bypass_many_to_many=True, add_pk=True)
            query = datamodel.apply_pagination(query, page_index, page_size)
            if page_size and datamodel.session.get_bind().dialect.name == "postgresql":
                query = query.execution_options(**{PER_ROW: True})  # a page (security/scope.py: PER_ROW)
            if plan.reads_columns:  # plain columns, no objects (api/reads.py)
                rows = query.with_entities(*plan.selected).all()
                plan.record_read(rows)
                result, ids = plan.dump_rows(rows), [row[plan.pk_index] for row in rows]
            else:
                rows = query.options(plan.load).all()
                result, ids = plan.dump_many(rows), datamodel.get_keys(rows)
        else:  # dotted columns, or columns chosen by the request: FAB's path
            query = datamodel.apply_all(datamodel.session.query(datamodel.obj), joined_filters, order_column,
                                        order_direction, page_index, page_size, select_columns,
                                        self.list_outer_default_load)
            rows = [getattr(row, datamodel.obj.__name__, row) for row in query.all()]
            schema = self.model2schemaconverter.convert(pruned) if pruned else self.list_model_schema
            result, ids = schema.dump(rows, many=True), datamodel.get_keys(rows)
        response[API_RESULT_RES_KEY], response["ids"], response["count"] = result, ids, count
        self.pre_get_list(response)
        return self.response(200, **response)

    def _label_columns_json(self, cols=None):
        """FAB's labels, translated once per locale (FAB translates each label on each request)."""
        return self._per_locale("labels", cols, super()._label_columns_json)

    def _description_columns_json(self, cols=None):
        return self._per_locale("descriptions", cols, super()._description_columns_json)

    def _per_locale(self, kind, cols, build):
        from flask_babel import get_locale

        key = (kind, tuple(cols or ()), str(get_locale()))
        kept = self.__dict__.setdefault("_sillage_texts", {})
        if key not in kept:
            kept[key] = build(cols)
        return dict(kept[key])

    def _handle_filters_args(self, rison_args):
        """FAB's; without filters in the request, the base filters as they are (FAB joins them into
        a new `Filters`, whose constructor rebuilds a converter for each search column)."""
        if not rison_args.get("filters"):
            return self._base_filters
        return super()._handle_filters_args(rison_args)

    def _inner(self, filters):
        """The filters FAB applies to its inner query: all of them when none is dotted (FAB's
        `get_inner_filters` would rebuild the same ones, its filter converters included)."""
        if any("." in flt.column_name for flt in filters.filters):
            return self.datamodel.get_inner_filters(filters)
        return filters

    def _count(self, filters) -> int:
        """The list's total, as FAB counts it (the scope hook filters it), kept per scope, filters
        and data version: without it each page re-reads every visible row."""
        datamodel = self.datamodel

        def count():
            return datamodel.apply_filters(datamodel.session.query(datamodel.obj), self._inner(filters)).count()

        key = filters_key(filters)
        scope = current_scope()
        if key is None or scope is None:
            return count()
        # (today: the scope keeps usagers some months after their exit)
        return stamp.cached_by_data(datamodel.session, ("count", type(self).__name__, key, scope, clock.today()), count)

    def get_headless(self, pk, **kwargs):
        """FAB's, with the row loaded and dumped as the list's (api/reads.py)."""
        args = kwargs.get("rison", {})
        plan = self._plan("show")
        if plan is None or args.get("columns") or args.get("select_columns"):
            return super().get_headless(pk, **kwargs)
        datamodel = self.datamodel
        query = datamodel.apply_filters(datamodel.session.query(datamodel.obj), self._base_filters)
        item = query.filter(datamodel.get_pk() == pk).options(plan.load).one_or_none()
        if item is None:
            return self.response_404()
        response = {}
        self.set_response_key_mappings(response, self.get, args, **{API_SELECT_COLUMNS_RIS_KEY: []})
        response["id"] = pk
        response[API_RESULT_RES_KEY] = plan.dump(item)
        self.pre_get(response)
        return self.response(200, **response)

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
