"""Answers as a reader sees them: the label of each answered field and its value in words."""
from __future__ import annotations

from flask_babel import gettext as _

from .. import nomenclatures
from .definition import all_fields, is_repeated, repeated_members


def readable_answers(definition: dict, answers: dict) -> list[tuple[str, str]]:
    """(label, text) of each answered field, in the definition's order (its own version)."""
    shown = []
    for field, _parts in all_fields(definition):
        value = answers.get(field["code"])
        if value is None or value == "" or value == [] or field["type"] in ("note", "computed"):
            continue
        if field["type"] == "group":
            if is_repeated(field) and isinstance(value, list):
                members = repeated_members(field)  # in the definition's order (JSONB keeps none)
                lines = [", ".join(f"{m.get('label', m['code'])} : {_text(m, row[m['code']])}" for m in members
                                   if m["code"] in row) for row in value if isinstance(row, dict)]
                shown.append((field.get("label") or field["code"], " | ".join(lines)))
            continue
        shown.append((field.get("label") or field["code"], _text(field, value)))
    return shown


def readable_results(definition: dict, computed: dict) -> list[tuple[str, str]]:
    """(label, text) of each computed value, in the definition's order, then any other key."""
    labels = {f["code"]: f.get("label") or f["code"] for f, _parts in all_fields(definition)}
    keys = [k for k in labels if k in computed] + [k for k in computed if k not in labels]
    return [(labels.get(k, k), readable_value(computed[k])) for k in keys if computed[k] not in (None, "", [], {})]


def readable_value(value) -> str:
    """A value without its field: booleans read Oui/Non, lists and lines as text."""
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, list):
        return " | ".join(readable_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} : {readable_value(v)}" for k, v in value.items())
    return str(value)


def _text(field: dict, value) -> str:
    kind = field["type"]
    options = {str(o["code"]): o.get("label", o["code"]) for o in field.get("options") or []}
    if kind == "yes_no":
        return _("Oui") if value is True else _("Non")
    if kind in ("single_choice", "ordinal"):
        return options.get(str(value), str(value))
    if kind == "multiple_choice":
        return ", ".join(options.get(str(v), str(v)) for v in value)
    if kind == "matrix":
        rows = {r["code"]: r.get("label", r["code"]) for r in field.get("rows") or []}
        return " ; ".join(f"{rows.get(r, r)} : {options.get(str(v), readable_value(v))}" for r, v in value.items())
    if kind == "file":  # "formulaires/<random 16>-<name sent>"
        return str(value).split("/", 1)[-1][17:] or str(value)
    if kind == "nomenclature":
        codes = nomenclatures.serafin()
        return " ; ".join(f"{v} {codes[v].label}" if v in codes else str(v) for v in value)
    return readable_value(value)
