"""Shared secret at field level: answers of fields whose category the user does not read are
absent from the evaluations they load — pages, API answers and exports alike.

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


@event.listens_for(Evaluation, "load")
def _hide_unreadable_answers(target, _context):
    scope = current_scope()
    if scope is None or scope.readable is None or target.usager_id in scope.emergency_usager_ids:
        return
    hidden = {code for code, categories in _categories_of(target.definition_id).items()
              if not categories <= scope.readable}
    if hidden & set(target.answers or {}):
        set_committed_value(target, "answers", {k: v for k, v in target.answers.items() if k not in hidden})
