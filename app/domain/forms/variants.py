"""Variants: one structure's overlay on a shared form, resolved against the base's published version.

A variant (`variant_of: <code>`) holds only what differs — added sections and fields, hidden or
relabelled base fields, added options, its own `applies_to` — so that each new version of the base
reaches it (re-resolved and re-checked) instead of being copied by hand. The resolved form is an
ordinary definition: pages, engine, exports and indicators need nothing else. Pure functions: the
service layer finds the base and stores the result.
"""
from __future__ import annotations

import copy

from flask_babel import gettext as _
from jsonschema import Draft202012Validator

from .definition import (
    CHOICE_TYPES, DefinitionError, _french_schema_message, _schema, all_fields, check, error_at,
)

HEADER = ("code", "title", "version", "variant_of", "description", "applies_to")
OVERLAY = ("hide", "relabel", "add_options", "add_fields", "add_sections")

_VALIDATOR = None


def _validator():
    """The variant's own shape; added fields and sections use the definitions of forms/schema.json."""
    global _VALIDATOR
    if _VALIDATOR is None:
        base = _schema()
        codes = {"type": "array", "items": {"$ref": "#/$defs/code"}}
        _VALIDATOR = Draft202012Validator({
            "$defs": base["$defs"], "type": "object", "additionalProperties": False,
            "required": ["code", "title", "version", "variant_of"],
            "properties": {
                **{key: base["properties"][key] for key in ("code", "title", "version", "description", "applies_to")},
                "variant_of": {"$ref": "#/$defs/code"},
                "kind": base["properties"]["kind"],
                "overlay": {"type": "object", "additionalProperties": False, "properties": {
                    "hide": codes,
                    "relabel": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
                    "add_options": {"type": "object", "additionalProperties": {
                        "type": "array", "minItems": 1, "items": {"$ref": "#/$defs/option"}}},
                    "add_fields": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False, "required": ["section", "items"],
                        "properties": {"section": {"$ref": "#/$defs/code"}, "after": {"$ref": "#/$defs/code"},
                                       "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}}}}},
                    "add_sections": {"type": "array", "items": {"$ref": "#/$defs/section"}},
                }},
            }})
    return _VALIDATOR


def is_variant(data: dict) -> bool:
    return isinstance(data, dict) and "variant_of" in data


def _find(items: list, code: str):
    """(list holding the field, its index), searching groups too."""
    for index, item in enumerate(items):
        if item.get("code") == code:
            return items, index
        if item.get("type") == "group":
            found = _find(item.get("items") or [], code)
            if found:
                return found
    return None


def resolve(base: dict, variant: dict, lines: dict | None = None) -> tuple[dict, list[DefinitionError]]:
    """The base's data with the variant's overlay applied, and every problem (a conflict with this
    base version is an error with the overlay's path and line). The resolved form is checked whole."""
    lines = lines or {}
    errors = []
    for error in _validator().iter_errors(variant):
        parts = tuple(error.absolute_path)
        errors.append(error_at(parts, lines, _french_schema_message(error)))
    if errors:
        return {}, errors
    if variant.get("kind") not in (None, base["kind"]):
        errors.append(error_at(("kind",), lines, _("une variante garde la nature de sa base (%(k)s)", k=base["kind"])))

    def err(parts, message):
        errors.append(error_at(("overlay",) + parts, lines, message))

    data = copy.deepcopy(base)
    data.pop("origin", None)
    for key in HEADER:
        if key in variant:
            data[key] = copy.deepcopy(variant[key])
    data["base_version"] = base["version"]
    overlay = variant.get("overlay") or {}
    sections = data["sections"]
    for index, code in enumerate(overlay.get("hide") or []):
        found = next((f for s in sections if (f := _find(s["items"], code))), None)
        if found is None:
            err(("hide", index), _("champ « %(c)s » absent de la base (version %(v)s)", c=code, v=base["version"]))
        else:
            found[0].pop(found[1])
    data["sections"] = sections = [s for s in sections if s["items"]]  # a section whose fields are all hidden
    by_code = {f["code"]: f for f, _parts in all_fields(data)}
    for code, label in (overlay.get("relabel") or {}).items():
        field = by_code.get(code)
        if field is None:
            err(("relabel", code), _("champ « %(c)s » absent de la base ou masqué", c=code))
        else:
            field["text" if field["type"] == "note" else "label"] = label
    for code, options in (overlay.get("add_options") or {}).items():
        field = by_code.get(code)
        if field is None or field["type"] not in CHOICE_TYPES | {"matrix"}:
            err(("add_options", code), _("« %(c)s » n'est pas un champ à choix de la base", c=code))
            continue
        taken = {str(o["code"]) for o in field.get("options") or []}
        clash = [str(o["code"]) for o in options if str(o["code"]) in taken]
        if clash:
            err(("add_options", code), _("option(s) déjà dans la base : %(o)s", o=", ".join(clash)))
        field["options"] = (field.get("options") or []) + copy.deepcopy(options)
    by_section = {s["code"]: s for s in sections}
    for index, addition in enumerate(overlay.get("add_fields") or []):
        section = by_section.get(addition["section"])
        if section is None:
            err(("add_fields", index, "section"), _("section « %(s)s » absente de la base", s=addition["section"]))
            continue
        position = len(section["items"])
        if addition.get("after"):
            found = _find(section["items"], addition["after"])
            if found is None or found[0] is not section["items"]:
                err(("add_fields", index, "after"), _("champ « %(c)s » absent de la section « %(s)s »",
                                                      c=addition["after"], s=section["code"]))
                continue
            position = found[1] + 1
        section["items"][position:position] = copy.deepcopy(addition["items"])
    sections.extend(copy.deepcopy(overlay.get("add_sections") or []))
    if errors:
        return data, errors
    for error in check(data):  # the whole resolved form: an added field may clash with a new base field
        errors.append(DefinitionError(error.path, None, _("forme résolue (base v%(v)s) : %(m)s",
                                                          v=base["version"], m=error.message)))
    return data, errors
