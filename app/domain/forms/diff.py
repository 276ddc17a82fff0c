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


def carry_over(answers: dict, source: dict, target: dict) -> tuple[dict, dict]:
    """Answers of a `source` version moved to `target`, by field code: (kept, dropped). A field
    the target lacks, or has with another type (a clone may differ), is dropped and listed."""
    before = {f["code"]: f["type"] for f, _p in all_fields(source)}
    after = {f["code"]: f["type"] for f, _p in all_fields(target)}
    kept, dropped = {}, {}
    for code, value in answers.items():
        if code in after and before.get(code, after[code]) == after[code]:
            kept[code] = value
        else:
            dropped[code] = value
    return kept, dropped
