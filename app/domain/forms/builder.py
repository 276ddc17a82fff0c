"""The common edits of a definition, for the builder page: pure functions on its data.

Each returns a new definition dict; the caller saves it as the draft's YAML, where it is checked
like any other draft (so a builder edit can never store what the YAML editor would refuse).
"""
from __future__ import annotations

import copy
import json

from flask_babel import gettext as _

PALETTE = ("text", "long_text", "integer", "decimal", "date", "datetime", "yes_no", "single_choice",
           "multiple_choice", "ordinal", "list_choice", "nomenclature", "note")
WITH_OPTIONS = {"single_choice", "multiple_choice", "ordinal"}
OPERATORS = {"==": "==", "!=": "!=", "in": "in", ">=": ">=", "<=": "<="}


class BuilderError(ValueError):
    """A builder edit that cannot be applied (its message is for the user)."""


def _items(data: dict, section: int) -> list:
    try:
        return data["sections"][section].setdefault("items", [])
    except (IndexError, KeyError, TypeError):
        raise BuilderError(_("Section introuvable.")) from None


def _field(data: dict, section: int, index: int) -> dict:
    items = _items(data, section)
    if not 0 <= index < len(items):
        raise BuilderError(_("Champ introuvable."))
    return items[index]


def parse_options(text: str) -> list[dict]:
    """One option per line, "code: libellé" (or just the label: its code is made from it)."""
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        code, sep, label = line.partition(":")
        code, label = (code.strip(), label.strip()) if sep else (line.strip(), line.strip())
        options.append({"code": code, "label": label or code})
    return options


def options_text(field: dict) -> str:
    return "\n".join(f"{o['code']}: {o.get('label', o['code'])}" for o in field.get("options") or [])


def condition(field_code: str, operator: str, value: str, kind: str) -> str:
    """A show_if expression from the pickers: field, operator, value (typed by the field's kind)."""
    if operator not in OPERATORS:
        raise BuilderError(_("Opérateur inconnu."))
    if kind == "yes_no":
        literal = "True" if value in ("oui", "True", "true") else "False"
    elif kind in ("integer", "decimal"):
        try:
            float(value)
        except ValueError:
            raise BuilderError(_("Un nombre est attendu pour cette condition.")) from None
        literal = value
    else:
        literal = json.dumps(value, ensure_ascii=False)
    if operator == "in":  # "value in a multiple choice"
        return f"{literal} in {field_code}"
    return f"{field_code} {operator} {literal}"


def add_section(data: dict, code: str, title: str) -> dict:
    """A new last section, with a first question to edit (a section is never empty)."""
    data = copy.deepcopy(data)
    code = code.strip()
    data.setdefault("sections", []).append({"code": code, "title": title.strip() or code, "items": [
        {"code": f"{code}_question", "label": _("Nouvelle question"), "type": "text"}]})
    return data


def add_field(data: dict, section: int, kind: str, code: str, label: str) -> dict:
    if kind not in PALETTE:
        raise BuilderError(_("Type de champ inconnu."))
    data = copy.deepcopy(data)
    field = {"code": code.strip(), "label": label.strip() or code.strip(), "type": kind}
    if kind == "note":
        field = {"code": code.strip(), "type": "note", "text": label.strip() or code.strip()}
    if kind in WITH_OPTIONS:
        field["options"] = [{"code": "A", "label": "A"}, {"code": "B", "label": "B"}]
    if kind == "nomenclature":
        field["nomenclature"] = "serafin_besoins"
    if kind == "list_choice":
        field["list"] = "a_choisir"
    _items(data, section).append(field)
    return data


def move_field(data: dict, section: int, index: int, delta: int) -> dict:
    data = copy.deepcopy(data)
    items = _items(data, section)
    _field(data, section, index)
    target = max(0, min(len(items) - 1, index + delta))
    items.insert(target, items.pop(index))
    return data


def remove_field(data: dict, section: int, index: int) -> dict:
    data = copy.deepcopy(data)
    _field(data, section, index)
    _items(data, section).pop(index)
    return data


def update_field(data: dict, section: int, index: int, *, label: str, help_text: str, required: bool,
                 required_message: str, options: str | None, show_if: str | None) -> dict:
    """Label, help, required (the message shown, if given), options and show_if ("" removes it)."""
    data = copy.deepcopy(data)
    field = _field(data, section, index)
    if field.get("type") == "note":
        field["text"] = label.strip() or field.get("text", "")
    else:
        field["label"] = label.strip() or field.get("label", field["code"])
    if help_text.strip():
        field["help"] = help_text.strip()
    else:
        field.pop("help", None)
    field.pop("required_message", None)
    if required:
        field["required"] = True
        if required_message.strip():
            field["required_message"] = required_message.strip()
    else:
        field.pop("required", None)
    if options is not None and field.get("type") in WITH_OPTIONS:
        field["options"] = parse_options(options)
    if show_if is not None:
        if show_if.strip():
            field["show_if"] = show_if.strip()
        else:
            field.pop("show_if", None)
    return data
