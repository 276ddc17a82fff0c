"""What changed between two versions of a definition: fields added, removed, changed."""
from __future__ import annotations

from .definition import all_fields

COMPARED = ("label", "type", "help", "required", "options", "rows", "show_if", "constraints", "min", "max",
            "expression", "algorithm", "sensitivity", "default")


def diff(old: dict, new: dict) -> dict:
    before = {f["code"]: f for f, _p in all_fields(old)}
    after = {f["code"]: f for f, _p in all_fields(new)}
    changed = {}
    for code in before.keys() & after.keys():
        changes = {key: [before[code].get(key), after[code].get(key)] for key in COMPARED
                   if before[code].get(key) != after[code].get(key)}
        if changes:
            changed[code] = changes
    return {"added": [c for c in after if c not in before], "removed": [c for c in before if c not in after],
            "changed": changed}


def type_changes(published: list[dict], draft: dict) -> list[str]:
    """Field codes whose type differs from a published version: within a code, a field's code and
    type never change once published (a new type is a new field)."""
    types = {}
    for data in published:
        for field, _parts in all_fields(data):
            types.setdefault(field["code"], field["type"])
    return [f["code"] for f, _p in all_fields(draft) if f["code"] in types and types[f["code"]] != f["type"]]


def renames(target: dict) -> dict[str, str]:
    """{old code: new code} declared by `renamed_from` in a version."""
    return {f["renamed_from"]: f["code"] for f, _p in all_fields(target) if f.get("renamed_from")}


def carry_over(answers: dict, source: dict, target: dict) -> tuple[dict, dict]:
    """Answers of a `source` version moved to `target`, by field code (or the code a field was
    `renamed_from`): (kept, dropped). Dropped and listed: a field the target lacks or has with
    another type (a clone may differ), and a choice the target no longer offers (the rest of a
    multiple choice is kept)."""
    before = {f["code"]: f for f, _p in all_fields(source)}
    after = {f["code"]: f for f, _p in all_fields(target)}
    renamed = renames(target)
    kept, dropped = {}, {}
    for code, value in answers.items():
        new_code = code if code in after else renamed.get(code)
        field = after.get(new_code)
        if field is None or before.get(code, field)["type"] != field["type"]:
            dropped[code] = value
            continue
        value, lost = _offered(field, value)
        if lost:
            dropped[code] = lost
        if value not in (None, [], ""):
            kept[new_code] = value
    return kept, dropped


def _offered(field: dict, value):
    """(what of `value` the field still offers, what it does not) for choice fields."""
    if field["type"] not in ("single_choice", "ordinal", "multiple_choice", "matrix") or value is None:
        return value, None
    codes = {str(o["code"]) for o in field.get("options") or []}
    if field["type"] == "multiple_choice" and isinstance(value, list):
        return [v for v in value if str(v) in codes], [v for v in value if str(v) not in codes] or None
    if field["type"] == "matrix" and isinstance(value, dict):
        rows = {r["code"] for r in field.get("rows") or []}
        ok = {r: v for r, v in value.items() if r in rows and str(v) in codes}
        return ok, {r: v for r, v in value.items() if r not in ok} or None
    return (value, None) if str(value) in codes else (None, value)
