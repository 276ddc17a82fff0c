"""The common edits of a definition, for the builder page: pure functions on its data.

Each returns a new definition dict; the caller saves it as the draft's YAML, where it is checked
like any other draft (so a builder edit can never store what the YAML editor would refuse).
"""
from __future__ import annotations

import copy
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

PALETTE = ("text", "long_text", "integer", "decimal", "date", "datetime", "yes_no", "single_choice",
           "multiple_choice", "ordinal", "list_choice", "nomenclature", "matrix", "file", "note", "computed",
           "group", "repeat")
# What a quality officer reads: never the format's code alone.
TYPE_LABELS = {
    "text": _l("Texte court"), "long_text": _l("Texte long"), "integer": _l("Nombre entier"),
    "decimal": _l("Nombre décimal"), "date": _l("Date"), "datetime": _l("Date et heure"), "yes_no": _l("Oui / Non"),
    "single_choice": _l("Choix unique"), "multiple_choice": _l("Choix multiple"), "ordinal": _l("Échelle ordinale"),
    "list_choice": _l("Liste de référence"), "nomenclature": _l("Nomenclature SERAFIN-PH"),
    "matrix": _l("Tableau (matrice)"), "file": _l("Fichier"), "note": _l("Note (texte affiché)"),
    "computed": _l("Champ calculé"), "group": _l("Groupe"), "repeat": _l("Groupe répété"),
}
WITH_OPTIONS = {"single_choice", "multiple_choice", "ordinal", "matrix"}
OPERATORS = {"==": _l("est égal à"), "!=": _l("est différent de"), "in": _l("contient"),
             ">=": _l("est supérieur ou égal à"), "<=": _l("est inférieur ou égal à"), ">": _l("est supérieur à"),
             "<": _l("est inférieur à")}
EXPRESSION_HELP = _l("Opérateurs : + - * / ; == (est égal à), != (est différent de), > < >= <= ; and (et), "
                     "or (ou), not (non) ; \"A\" in champ (contient) ; fonctions : len, abs, min, max, round, "
                     "present, count, age. Un champ caché compte comme vide.")


def type_label(field: dict) -> str:
    kind = "repeat" if field.get("type") == "group" and field.get("repeat") is not None else field.get("type")
    return str(TYPE_LABELS.get(kind, kind))


class BuilderError(ValueError):
    """A builder edit that cannot be applied (its message is for the user)."""


def _items(data: dict, section: int) -> list:
    try:
        return data["sections"][section].setdefault("items", [])
    except (IndexError, KeyError, TypeError):
        raise BuilderError(_("Section introuvable.")) from None


def _path(index) -> list[int]:
    """"3" is the 4th field of the section, "3.0" the 1st field of the group that is its 4th."""
    try:
        steps = [int(step) for step in str(index).split(".")]
    except ValueError:
        raise BuilderError(_("Champ introuvable.")) from None
    if not steps or any(step < 0 for step in steps):
        raise BuilderError(_("Champ introuvable."))
    return steps


def _container(data: dict, section: int, parent: str | None) -> list:
    """The items of the section, or of the group at `parent`."""
    items = _items(data, section)
    for step in _path(parent) if parent not in (None, "") else []:
        if step >= len(items) or items[step].get("type") != "group":
            raise BuilderError(_("Groupe introuvable."))
        items = items[step].setdefault("items", [])
    return items


def _place(data: dict, section: int, index) -> tuple[list, int]:
    steps = _path(index)
    items = _container(data, section, ".".join(map(str, steps[:-1])))
    if steps[-1] >= len(items):
        raise BuilderError(_("Champ introuvable."))
    return items, steps[-1]


def _field(data: dict, section: int, index) -> dict:
    items, position = _place(data, section, index)
    return items[position]


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


def options_text(options) -> str:
    return "\n".join(f"{o['code']}: {o.get('label', o['code'])}" for o in options or [])


def parse_constraints(text: str) -> list[dict]:
    """One constraint per line: "expression | message affiché si elle est fausse"."""
    constraints = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        expression, sep, message = line.partition("|")
        if not sep or not expression.strip() or not message.strip():
            raise BuilderError(_("Contrainte : « expression | message » attendu sur chaque ligne."))
        constraints.append({"expression": expression.strip(), "message": message.strip()})
    return constraints


def constraints_text(field: dict) -> str:
    return "\n".join(f"{c['expression']} | {c['message']}" for c in field.get("constraints") or [])


def condition(field_code: str, operator: str, value: str, kind: str) -> str:
    """An expression from the pickers: field, operator, value (typed by the field's kind)."""
    if operator not in OPERATORS:
        raise BuilderError(_("Opérateur inconnu."))
    literal = _literal(value, kind)
    if operator == "in":  # "a multiple choice contains value"
        return f"{literal} in {field_code}"
    return f"{field_code} {operator} {literal}"


def _literal(value: str, kind: str) -> str:
    if kind == "yes_no":
        return "True" if value.strip().lower() in ("oui", "true", "vrai", "1") else "False"
    if kind in ("integer", "decimal"):
        _number(value)
        return value.strip()
    return json.dumps(value, ensure_ascii=False)


def _number(value: str):
    try:
        number = float(str(value).replace(",", ".").strip())
    except ValueError:
        raise BuilderError(_("Un nombre est attendu (%(v)s).", v=value)) from None
    return int(number) if number.is_integer() else number


def default_value(text: str, field: dict):
    """A typed default from what was typed, by the field's kind; "" removes it."""
    kind = field.get("type")
    if kind == "yes_no":
        return text.strip().lower() in ("oui", "true", "vrai", "1")
    if kind in ("integer", "decimal"):
        return _number(text)
    if kind == "multiple_choice":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text.strip()


def add_section(data: dict, code: str, title: str) -> dict:
    """A new last section, with a first question to edit (a section is never empty)."""
    data = copy.deepcopy(data)
    code = code.strip()
    data.setdefault("sections", []).append({"code": code, "title": title.strip() or code, "items": [
        {"code": f"{code}_question", "label": _("Nouvelle question"), "type": "text"}]})
    return data


def add_field(data: dict, section: int, kind: str, code: str, label: str, parent: str | None = None) -> dict:
    """A new last field of the section (or of the group at `parent`), ready to edit."""
    if kind not in PALETTE:
        raise BuilderError(_("Type de champ inconnu."))
    data = copy.deepcopy(data)
    code, label = code.strip(), label.strip() or code.strip()
    field = {"code": code, "label": label, "type": kind}
    if kind == "note":
        field = {"code": code, "type": "note", "text": label}
    if kind in ("group", "repeat"):  # a group is never empty: a first question inside
        field = {"code": code, "label": label, "type": "group",
                 "items": [{"code": f"{code}_question", "label": _("Nouvelle question"), "type": "text"}]}
        if kind == "repeat":
            field["repeat"] = {"min": 0}
    if kind in ("single_choice", "multiple_choice", "ordinal", "matrix"):
        field["options"] = [{"code": "A", "label": "A"}, {"code": "B", "label": "B"}]
    if kind == "matrix":
        field["rows"] = [{"code": "ligne_1", "label": _("Ligne 1")}]
    if kind == "nomenclature":
        field["nomenclature"] = "serafin_besoins"
    if kind == "list_choice":
        field["list"] = "a_choisir"
    if kind == "computed":
        field["expression"] = "0"
    _container(data, section, parent).append(field)
    return data


def move_field(data: dict, section: int, index, delta: int) -> dict:
    data = copy.deepcopy(data)
    items, position = _place(data, section, index)
    target = max(0, min(len(items) - 1, position + delta))
    items.insert(target, items.pop(position))
    return data


def remove_field(data: dict, section: int, index) -> dict:
    data = copy.deepcopy(data)
    items, position = _place(data, section, index)
    if len(items) == 1:
        raise BuilderError(_("Dernier champ de la section ou du groupe : ajoutez-en un autre avant de le retirer."))
    items.pop(position)
    return data


def _set(field: dict, key: str, value) -> None:
    """Set `key`, or remove it when the value is empty."""
    if value in (None, "", [], {}):
        field.pop(key, None)
    else:
        field[key] = value


def update_field(data: dict, section: int, index, *, label: str, help_text: str, required: bool,
                 required_message: str, options: str | None, show_if: str | None, required_if: str | None = None,
                 default: str | None = None, minimum: str | None = None, maximum: str | None = None,
                 max_length: str | None = None, constraints: str | None = None, expression: str | None = None,
                 rows: str | None = None, repeat_min: str | None = None, repeat_max: str | None = None) -> dict:
    """Label, help, required (with its message) or required_if, options, show_if, default, bounds,
    constraints, a computed field's expression, a repeated group's line counts. A keyword left
    None is not in the form posted: unchanged; "" removes it."""
    data = copy.deepcopy(data)
    field = _field(data, section, index)
    kind = field.get("type")
    if kind == "note":
        field["text"] = label.strip() or field.get("text", "")
    else:
        field["label"] = label.strip() or field.get("label", field["code"])
    _set(field, "help", help_text.strip())
    field.pop("required_message", None)
    if required:
        field["required"] = True
        if required_message.strip():
            field["required_message"] = required_message.strip()
    else:
        field.pop("required", None)
    if required_if is not None:
        _set(field, "required_if", required_if.strip())
        if field.get("required_if"):
            field.pop("required", None)
            if required_message.strip():
                field["required_message"] = required_message.strip()
    if options is not None and kind in WITH_OPTIONS:
        field["options"] = parse_options(options)
    if rows is not None and kind == "matrix":
        field["rows"] = parse_options(rows)
    if show_if is not None:
        _set(field, "show_if", show_if.strip())
    if default is not None:
        _set(field, "default", default_value(default, field) if default.strip() else None)
    for key, text in (("min", minimum), ("max", maximum)):
        if text is not None:
            _set(field, key, _number(text) if text.strip() else None)
    if max_length is not None:
        _set(field, "max_length", int(_number(max_length)) if max_length.strip() else None)
    if constraints is not None:
        _set(field, "constraints", parse_constraints(constraints))
    if expression is not None and kind == "computed":
        if not expression.strip():
            raise BuilderError(_("Un champ calculé a une expression."))
        field["expression"] = expression.strip()
    if kind == "group" and field.get("repeat") is not None and (repeat_min is not None or repeat_max is not None):
        repeat = {}
        if (repeat_min or "").strip():
            repeat["min"] = int(_number(repeat_min))
        if (repeat_max or "").strip():
            repeat["max"] = int(_number(repeat_max))
        field["repeat"] = repeat
    return data
