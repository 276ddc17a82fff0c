"""Whole numbers read from a request (ids, versions, pages): only what an INTEGER column holds.

Anything else (huge, negative, not a number) reads as absent, so it reaches the database as
nothing rather than as an overflow in the driver (a 500). FAB's own CRUD routes and list
arguments are checked here too, before FAB reads them: an id out of range is a 404, a page, size,
order or filter out of range a 400.
"""
from __future__ import annotations

import re

from flask import abort, request
from flask_appbuilder.baseviews import BaseCRUDView

from ..models.base import INTEGER_MAX

PAGE_SIZE_MAX = 1000  # the most rows a CRUD list shows at once
_FILTER = re.compile(r"_flt_(\d)_(.*)")  # as FAB reads it (urltools.get_filter_args)


def whole_number(raw) -> int | None:
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:  # (int() refuses 4,300 digits or more)
        return None
    value = int(text)
    return value if value <= INTEGER_MAX else None


def arg(name: str, source=None) -> int | None:
    """`name` from the query string (or `source`, e.g. request.form) as a whole number, or None."""
    return whole_number((request.args if source is None else source).get(name))


def init_params(app) -> None:
    @app.url_value_preprocessor
    def _ids_in_range(endpoint, values):
        """FAB's CRUD routes take `<pk>` as text: an id no column holds names nothing (404)."""
        pk = (values or {}).get("pk")
        if isinstance(pk, str) and whole_number(pk) is None:
            abort(404)

    @app.before_request
    def _no_nul():
        """A NUL character is never text someone typed, and PostgreSQL refuses it in any string
        (an error deep in the driver): a query string or form holding one is a 400. (JSON bodies
        are checked field by field by the API, which names the field.)"""
        sources = (request.args, request.form) if request.method in ("POST", "PUT", "PATCH") else (request.args,)
        for source in sources:
            for key, value in source.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    abort(400)

    @app.before_request
    def _crud_args():
        """FAB's CRUD lists read page_<View> and psize_<View> with int(), _oc_<View> as a column
        name, _flt_<i>_<column> as the i-th filter of a column, and its actions their name and
        row ids: huge, negative or unknown, they reached the database, an index or None (a 500).
        Now a 400. Its download route serves FAB's upload folder, which Sillage has not: 404."""
        view = getattr(app.view_functions.get(request.endpoint), "__self__", None)
        if not isinstance(view, BaseCRUDView):
            return
        if request.endpoint.endswith(".download"):
            abort(404)
        if request.endpoint.endswith((".action", ".action_post")):  # FAB calls the named action blindly
            name = (request.view_args or {}).get("name") or request.form.get("action")
            if name not in view.actions or any(whole_number(pk) is None for pk in request.form.getlist("rowid")):
                abort(400)
        for key, value in request.args.items(multi=True):
            if (("page_" in key and whole_number(value) is None)  # (FAB finds them anywhere in the name)
                    or ("psize_" in key and not 1 <= (whole_number(value) or 0) <= PAGE_SIZE_MAX)
                    or ("_oc_" in key and value not in view.order_columns)
                    or ((flt := _FILTER.fullmatch(key)) and not _filter_ok(view, int(flt[1]), flt[2], value))):
                abort(400)


def _filter_ok(view, index: int, column: str, value: str) -> bool:
    """The index names one of the column's filters, and a number for a whole-number column fits it."""
    if index >= len(view._filters.get_search_filters().get(column, ())):
        return column not in view._filters.get_search_filters()  # (FAB ignores other columns)
    if view.datamodel.is_integer(column):
        text = value.strip().removeprefix("-")
        return not (text.isascii() and text.isdigit()) or whole_number(text) is not None  # (other text: FAB's own)
    return True
