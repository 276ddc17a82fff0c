"""How `SillageModelApi` answers its list and get, built once per API class instead of per request.

FAB's `ModelRestApi` does, on every request (issue 20, cProfile of a list of 100 usagers):
- `@rison` checks its JSON schema against the metaschema (`jsonschema.validate`) before
  checking the arguments: a quarter of the request. `rison_args` compiles the validator once;
- `query_count` and `apply_inner_select_joins` rebuild one `load_only` option per column, twice,
  and the count wraps the whole row query (the scope rule included) around every visible row:
  `RowPlan.load` is built once, and the count is kept per scope and data version
  (`security/stamp.py: cached_by_data`), so a page costs the same at 3,000 or 30,000 usagers;
- marshmallow dumps each field of each row through its generic machinery: `RowPlan.dump` reads
  the same attributes and converts them as marshmallow does (same JSON), with marshmallow itself
  for any field it does not know.
Nothing here decides what a user sees: rows still load through the scope hook, the read audit
still sees them load.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import urllib.parse

import jsonschema
import prison
from flask import current_app, request
from flask_appbuilder.const import API_URI_RIS_KEY
from marshmallow import fields
from sqlalchemy.orm import Load


def rison_args(schema: dict):
    """FAB's `@rison(schema)`, same answers, with the schema's validator built once."""
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def decorate(f):
        def wraps(self, *args, **kwargs):
            value = request.args.get(API_URI_RIS_KEY, None)
            kwargs["rison"] = {}
            if value:
                try:
                    kwargs["rison"] = prison.loads(value)
                except prison.decoder.ParserException:
                    if not current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
                        return self.response_400(message="Not a valid rison argument")
                    try:  # rison failed: JSON, as FAB accepts it
                        kwargs["rison"] = json.loads(urllib.parse.parse_qs(f"{API_URI_RIS_KEY}={value}")
                                                     .get(API_URI_RIS_KEY)[0])
                    except Exception:  # noqa: BLE001  (whatever the text: a 400)
                        return self.response_400(message="Not a valid rison/json argument")
            error = jsonschema.exceptions.best_match(validator.iter_errors(kwargs["rison"]))
            if error is not None:
                return self.response_400(message=f"Not a valid rison schema {str(error).split(chr(10), 1)[0]}")
            return f(self, *args, **kwargs)

        return functools.update_wrapper(wraps, f)

    return decorate


def doc_of(fab_method):
    """Give our endpoint FAB's docstring (the OpenAPI description is read from it)."""

    def decorate(f):
        f.__doc__ = fab_method.__doc__
        return f

    return decorate


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _iso(value):
    return value.isoformat()


class _Never:  # no value has this type: always converted
    pass


# marshmallow 3's serialisation of these fields, for a value that is not None: (the type a value
# already has when the conversion would give it back unchanged, the conversion)
_CONVERTERS = {
    fields.String: (str, _text),
    fields.Integer: (int, int),
    fields.DateTime: (_Never, _iso),  # format "iso" (the default)
    fields.Date: (_Never, dt.date.isoformat),
    fields.Raw: (object, None),
}
RAW, CONVERT, INFERRED, MARSHMALLOW = range(4)


def _field_plan(name: str, field: fields.Field) -> tuple:
    """(key, attribute, how, exact type, conversion, field) of one field, as `schema.dump` does it."""
    attribute = field.attribute or name
    found = _CONVERTERS.get(type(field))
    if isinstance(field, fields.DateTime) and field.format not in (None, "iso"):  # (Date is one too)
        found = None
    key = field.data_key or name
    if found is not None:
        exact, convert = found
        return key, attribute, RAW if convert is None else CONVERT, exact, convert, field
    if type(field) is fields.Inferred:  # by the value's type: foreign keys (int), texts
        return key, attribute, INFERRED, None, None, field
    return key, name, MARSHMALLOW, None, None, field  # nested, booleans, methods…: marshmallow itself


class RowPlan:
    """The load option and the dump of one API's columns, built once. Only for plain columns
    (no dotted relation, property or function): for others FAB's own path serves.

    A list reads plain columns (`selected`, `dump_rows`) rather than objects when nothing but the
    read audit listens to their loading: building 100 objects of 30 attributes, then reading
    them back, was a third of what was left of a list. The rows still pass through the scope
    hook (it filters every ORM statement naming the entity, columns included), and the ids read
    go to the read audit as loads would (`audit.rows_read`)."""

    def __init__(self, datamodel, columns, schema):
        model = datamodel.obj
        self.model = model
        self.load = Load(model).load_only(*(getattr(model, c) for c in columns))
        self.fields = [_field_plan(name, field) for name, field in schema.dump_fields.items()]
        pk = datamodel.get_pk_name()
        extra = [c for c in (pk, "usager_id") if c not in columns and c in model.__table__.columns]
        names = [*columns, *extra]
        self.selected = [getattr(model, c) for c in names]
        position = {name: i for i, name in enumerate(names)}
        self.pk_index = position[pk]
        self.usager_index = position.get("id" if model.__name__ == "Usager" else "usager_id")
        self.row_fields = [(key, position.get(attribute), how, exact, convert, field)
                           for key, attribute, how, exact, convert, field in self.fields]
        self.reads_columns = _only_audited_loading(model) and all(
            how != MARSHMALLOW and attribute in position for _k, attribute, how, *_ in self.fields)

    @staticmethod
    def applies(datamodel, columns, schema) -> bool:
        hooks = getattr(schema, "_hooks", {})
        return bool(columns) and not any(hooks.get(k) for k in ("pre_dump", "post_dump")) and all(
            "." not in c and not datamodel.is_relation(c) and not datamodel.is_property_or_function(c)
            and hasattr(datamodel.obj, c) for c in columns)

    def dump(self, obj) -> dict:
        loaded = obj.__dict__  # the loaded columns (others load as through the attribute)
        out = {}
        for key, attribute, how, exact, convert, field in self.fields:
            if how == MARSHMALLOW:
                out[key] = field.serialize(attribute, obj)
                continue
            value = loaded[attribute] if attribute in loaded else getattr(obj, attribute)
            if value is None or how == RAW or type(value) is exact:
                out[key] = value
            elif how == CONVERT:
                out[key] = convert(value)
            else:  # INFERRED
                out[key] = value if type(value) in (int, str) else field.serialize(attribute, obj)
        return out

    def dump_many(self, rows) -> list[dict]:
        dump = self.dump
        return [dump(obj) for obj in rows]

    def dump_rows(self, rows) -> list[dict]:
        """Rows of `selected` columns, dumped as `dump` dumps objects."""
        out = []
        fields_ = self.row_fields
        for row in rows:
            item = {}
            for key, index, how, exact, convert, field in fields_:
                value = row[index]
                if value is None or how == RAW or type(value) is exact:
                    item[key] = value
                elif how == CONVERT:
                    item[key] = convert(value)
                else:  # INFERRED: by the value's type (marshmallow's own choice of field)
                    item[key] = value if type(value) in (int, str) else field._serialize(value, key, None)
            out.append(item)
        return out

    def record_read(self, rows) -> None:
        from ...security.audit import rows_read

        usagers = [row[self.usager_index] for row in rows] if self.usager_index is not None else ()
        rows_read(self.model, [row[self.pk_index] for row in rows], usagers)


def _only_audited_loading(model) -> bool:
    """Nothing but the read audit listens to the loading of `model`'s objects (the shared secret
    rewrites evaluations as they load: those must load as objects)."""
    from sqlalchemy import event, inspect

    from ...security import audit

    manager = inspect(model).class_manager
    audited = event.contains(model, "load", audit._on_load)
    return len(list(manager.dispatch.load)) == (1 if audited else 0) and not list(manager.dispatch.refresh)


def filters_key(filters):
    """A hashable form of a list's filters (base filters included), or None when one holds a
    value computed at each request (a callable): then the count is not kept."""
    key = []
    for flt, value in zip(filters.filters, filters.values):
        if callable(value):
            return None
        try:
            hash(value)
        except TypeError:
            value = json.dumps(value, sort_keys=True, default=str)
        key.append((flt.column_name, type(flt).__name__, value))
    return tuple(key)
