"""Shared secret at field level: answers and computed values of fields whose category the user
does not read are absent from the evaluations they load — pages, API answers and exports alike.

Rows of a whole unreadable category are already filtered by the scope hook (scope.py); this
hook removes single fields of a readable form (a `sensitivity` set on one field). It replaces
the loaded value without marking it changed, so nothing hidden is ever written back.
"""
from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm.attributes import set_committed_value

from ..domain.forms.definition import answer_categories
from ..models import Evaluation, FormDefinition
from .scope import current_scope

_field_categories: dict = {}  # (database, definition id) → {answer code: categories}; published = immutable


def _categories_of(definition_id: int) -> dict:
    from ..extensions import db

    key = (str(db.engine.url), definition_id)
    if key not in _field_categories:
        with db.engine.connect() as conn:
            data = conn.execute(select(FormDefinition.data).where(FormDefinition.id == definition_id)).scalar() or {}
        found = answer_categories(data)
        _field_categories[key] = found
    return _field_categories[key]


def _hide_unreadable_values(target, *_args):
    scope = current_scope()
    if scope is None or scope.readable is None or target.usager_id in scope.emergency_usager_ids:
        return
    hidden = {code for code, categories in _categories_of(target.definition_id).items()
              if not categories <= scope.readable}
    if not hidden:
        return
    for column in ("answers", "computed"):  # a computed value is as secret as what it comes from
        values = getattr(target, column, None) or {}
        if hidden & set(values):
            set_committed_value(target, column, {k: v for k, v in values.items() if k not in hidden})


event.listen(Evaluation, "load", _hide_unreadable_values)
event.listen(Evaluation, "refresh", _hide_unreadable_values)
