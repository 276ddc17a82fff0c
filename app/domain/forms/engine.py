"""Filling a form: check answers against a definition, drop hidden ones, compute results.

The server is the authority: answers to hidden fields are dropped and never required; computed
fields are derived here, never typed; what can be computed is computed even while other answers
are missing or wrong.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field as dc_field

from flask_babel import gettext as _

from .. import nomenclatures
from . import dependencies, expressions
from .algorithms import REGISTRY
from .definition import is_repeated, repeated_members

MAX_TEXT = {"text": 1000, "long_text": 20000}


@dataclass
class Result:
    answers: dict = dc_field(default_factory=dict)
    computed: dict = dc_field(default_factory=dict)
    errors: dict = dc_field(default_factory=dict)
    algorithm_versions: dict = dc_field(default_factory=dict)
    hidden: list = dc_field(default_factory=list)  # field and section codes hidden by show_if


def _coerce(field: dict, value):
    """Typed answer, or raise ValueError with a French message."""
    kind = field["type"]
    if kind in ("text", "long_text"):
        if not isinstance(value, str):
            raise ValueError(_("texte attendu"))
        limit = field.get("max_length", MAX_TEXT[kind])
        if len(value) > limit:
            raise ValueError(_("%(n)s caractères au plus", n=limit))
        return value
    if kind in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                try:
                    value = float(value.replace(",", "."))
                except ValueError:
                    raise ValueError(_("nombre attendu")) from None
            else:
                raise ValueError(_("nombre attendu"))
        if not math.isfinite(value):
            raise ValueError(_("nombre attendu"))
        if abs(value) > expressions.MAX_NUMBER:
            raise ValueError(_("nombre hors limites (±10^15 au plus)"))
        if kind == "integer":
            if value != int(value):
                raise ValueError(_("nombre entier attendu"))
            value = int(value)
        if field.get("min") is not None and value < field["min"]:
            raise ValueError(_("au moins %(n)s", n=field["min"]))
        if field.get("max") is not None and value > field["max"]:
            raise ValueError(_("au plus %(n)s", n=field["max"]))
        return value
    if kind in ("date", "datetime"):
        if not isinstance(value, str):
            raise ValueError(_("date attendue (AAAA-MM-JJ)"))
        try:
            parsed = dt.date.fromisoformat(value) if kind == "date" else dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(_("date attendue (AAAA-MM-JJ)") if kind == "date" else _("date et heure attendues")) from None
        return parsed.isoformat()
    if kind == "yes_no":
        if not isinstance(value, bool):
            raise ValueError(_("oui ou non attendu (true/false)"))
        return value
    if kind in ("single_choice", "ordinal"):
        codes = {str(o["code"]): o["code"] for o in field["options"]}
        if str(value) not in codes or isinstance(value, (list, dict)):
            raise ValueError(_("valeur inconnue ; possibles : %(v)s", v=", ".join(codes)))
        return codes[str(value)]
    if kind == "multiple_choice":
        codes = {str(o["code"]): o["code"] for o in field["options"]}
        if not isinstance(value, list) or any(str(v) not in codes for v in value):
            raise ValueError(_("liste de valeurs parmi : %(v)s", v=", ".join(codes)))
        return [codes[str(v)] for v in dict.fromkeys(map(str, value))]
    if kind == "matrix":
        rows = {r["code"] for r in field["rows"]}
        codes = {str(o["code"]) for o in field["options"]}
        if not isinstance(value, dict) or set(value) - rows or any(str(v) not in codes for v in value.values()):
            raise ValueError(_("une valeur par ligne de la matrice, parmi les options"))
        return value
    if kind in ("list_choice", "file"):
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError(_("code attendu"))
        return value
    if kind == "nomenclature":
        values = value if isinstance(value, list) else [value]
        offered = {c.code for c in nomenclatures.choices(field["nomenclature"])}
        if not all(isinstance(v, str) and v for v in values):
            raise ValueError(_("codes de la nomenclature attendus"))
        unknown = [v for v in values if v not in offered]
        if unknown:
            raise ValueError(_("codes inconnus de cette nomenclature : %(v)s", v=", ".join(unknown[:5])))
        return list(dict.fromkeys(values))
    raise ValueError(_("ce champ ne se saisit pas"))


def evaluate(definition: dict, answers: dict, settings: dict | None = None) -> Result:
    settings = {**(definition.get("settings") or {}), **(settings or {})}
    result = Result()
    if not isinstance(answers, dict):
        result.errors["answers"] = _("un objet {code: valeur} est attendu")
        return result
    entries = dependencies.top_level(definition)
    fields = [f for f, _s, _a in entries]
    known = {f["code"]: f for f in fields}
    for code in answers:
        if code not in known:
            result.errors[code] = _("champ inconnu dans cette définition")
        elif known[code]["type"] in ("computed", "note"):
            result.errors[code] = _("champ calculé ou informatif : il ne se saisit pas")
    typed = {}
    for f in fields:
        code = f["code"]
        if f["type"] in ("computed", "note", "group") or answers.get(code) in (None, "", []):
            continue
        try:
            typed[code] = _coerce(f, answers[code])
        except ValueError as exc:
            result.errors[code] = str(exc)
    names = dict.fromkeys(known)
    shown: dict = {}  # section or group code → visible?
    runs: dict = {}
    for f, section, ancestors in dependencies.order(entries):  # a field after what it reads
        code = f["code"]
        visible = all(_visible(part, names, shown) for part in (section, *ancestors)) and (
            not f.get("show_if") or _truthy(f["show_if"], names))
        if f["type"] == "group" and not is_repeated(f):
            shown[code] = visible
        if not visible:  # hidden: empty for every other expression, never an error, never required
            result.hidden.append(code)
            typed.pop(code, None)
            for key in [k for k in result.errors if k == code or k.startswith(f"{code}[")]:
                result.errors.pop(key)
            continue
        if f["type"] == "computed":
            _compute(f, typed, names, settings, result, runs)
        elif is_repeated(f):
            rows, row_computed = _occurrences(f, answers.get(code), names, result.errors, settings)
            if rows:
                typed[code] = names[code] = rows
                if any(row_computed):
                    result.computed[code] = row_computed
        else:
            names[code] = typed.get(code)
    for f in fields:
        code = f["code"]
        if code in result.hidden:
            continue
        if is_repeated(f):
            _count_occurrences(f, typed.get(code) or [], result.errors)
        elif f["type"] not in ("computed", "note", "group"):
            _check_answer(f, code, code in typed, names, result.errors)
    result.answers = typed
    result.hidden.extend(s["code"] for s in definition["sections"] if shown.get(s["code"]) is False)
    return result


def _visible(part, names, shown) -> bool:
    """A section or an enclosing group: shown unless its show_if is false (evaluated once)."""
    if part is None or not part.get("show_if"):
        return True
    if part["code"] not in shown:
        shown[part["code"]] = _truthy(part["show_if"], names)
    return shown[part["code"]]


def _truthy(source, names) -> bool:
    return bool(expressions.evaluate(source, names))


def _required(f, names) -> bool:
    if f.get("required_if"):
        return _truthy(f["required_if"], names)
    return bool(f.get("required"))


def _required_message(f) -> str:
    legacy = f.get("required") if isinstance(f.get("required"), str) else None  # definitions saved before required_if
    return f.get("required_message") or legacy or _("réponse obligatoire")


def _check_answer(f, key, answered, scope, errors) -> None:
    if answered:
        for constraint in f.get("constraints") or []:
            if expressions.evaluate(constraint["expression"], scope) is False:
                errors.setdefault(key, constraint["message"])
    elif _required(f, scope) and key not in errors:
        errors[key] = _required_message(f)


def _occurrences(group: dict, value, names: dict, errors: dict, settings) -> tuple[list[dict], list[dict]]:
    """The typed rows of a repeatable group and each row's computed values; errors as
    "group[i].field". Blank rows (a form's empty last line) are not occurrences."""
    code = group["code"]
    if value in (None, "", []):
        return [], []
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        errors[code] = _("une liste de lignes {code: valeur} est attendue")
        return [], []
    members = {f["code"]: f for f in repeated_members(group)}
    entries = list(dependencies.layout(group.get("items"), None))
    rows, computed_rows = [], []
    for index, row in enumerate(value):
        here = f"{code}[{index}]"  # the position in what was sent
        typed = {}
        for key, answer in row.items():
            if key not in members:
                errors[f"{here}.{key}"] = _("champ inconnu dans ce groupe")
            elif members[key]["type"] in ("computed", "note"):
                continue  # a line's computed value shown back by the page: recomputed here
            elif answer not in (None, "", []):
                try:
                    typed[key] = _coerce(members[key], answer)
                except ValueError as exc:
                    errors[f"{here}.{key}"] = str(exc)
        if not typed:
            continue  # a blank line (or one whose only answers are refused: their errors stand)
        scope = {**names, **dict.fromkeys(members)}
        line = Result()
        shown: dict = {}
        for member, _section, ancestors in dependencies.order(entries):
            mcode = member["code"]
            visible = all(_visible(g, scope, shown) for g in ancestors) and (
                not member.get("show_if") or _truthy(member["show_if"], scope))
            if member["type"] == "group":
                shown[mcode] = visible
            if not visible:
                typed.pop(mcode, None)
                errors.pop(f"{here}.{mcode}", None)
                line.hidden.append(mcode)
            elif member["type"] == "computed":
                _compute(member, typed, scope, settings, line, {})
                if mcode in line.errors:
                    errors[f"{here}.{mcode}"] = line.errors.pop(mcode)
            else:
                scope[mcode] = typed.get(mcode)
        for member in members.values():
            if member["code"] not in line.hidden and member["type"] not in ("computed", "note", "group"):
                _check_answer(member, f"{here}.{member['code']}", member["code"] in typed, scope, errors)
        rows.append(typed)
        computed_rows.append(line.computed)
    return rows, computed_rows


def _count_occurrences(group: dict, rows: list, errors: dict) -> None:
    low, high = group["repeat"].get("min", 0), group["repeat"].get("max")
    if group.get("required"):
        low = max(low, 1)
    if len(rows) < low and group["code"] not in errors:
        errors[group["code"]] = _("au moins %(n)s ligne(s)", n=low)
    elif high is not None and len(rows) > high:
        errors[group["code"]] = _("au plus %(n)s ligne(s)", n=high)


def _compute(f, typed, names, settings, result, runs) -> None:
    """One computed field, from what it reads (already evaluated: dependency order)."""
    code = f["code"]
    if f.get("algorithm"):
        algorithm = REGISTRY[f["algorithm"]]
        if algorithm.name not in runs:
            runs[algorithm.name] = algorithm.run({k: names.get(k) for k in algorithm.inputs}, settings)
            result.algorithm_versions[algorithm.name] = algorithm.version
        computed, errors = runs[algorithm.name]
        output = f.get("output", code)
        if output in computed:
            result.computed[code] = computed[output]
        elif output in errors:
            missing = errors[output]
            result.errors.setdefault(code, _("incalculable : il manque %(v)s", v=", ".join(missing))
                                     if isinstance(missing, list) else str(missing))
    else:
        try:
            value = expressions.evaluate_strict(f["expression"], names)
        except expressions.NumberOutOfRange as exc:
            result.errors.setdefault(code, str(exc))
            value = None
        if value is not None:
            result.computed[code] = value
    names[code] = result.computed.get(code)
