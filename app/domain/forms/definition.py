"""Form definitions as data: YAML text → checked definition, with errors that name the YAML path
and line (`sections[2].fields[4].options: code « B » en double (ligne 87)`).

Structure is checked by the published JSON Schema (forms/schema.json); meaning (unique codes,
expressions, algorithms, bounds) by the rules below. Nothing here touches a database.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator

from . import dependencies, expressions
from .algorithms import REGISTRY

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "forms" / "schema.json"
CHOICE_TYPES = {"single_choice", "multiple_choice", "ordinal"}
OPTION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class DefinitionError:
    path: str
    line: int | None
    message: str

    def __str__(self):
        where = _(" (ligne %(n)s)", n=self.line) if self.line else ""
        return f"{self.path or '(racine)'} : {self.message}{where}"


class InvalidDefinition(ValueError):
    def __init__(self, errors: list[DefinitionError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


def _schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


_VALIDATOR = None


def validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = Draft202012Validator(_schema())
    return _VALIDATOR


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_map(node, parts=(), lines=None) -> dict:
    """YAML path → 1-based line, from PyYAML's node tree."""
    lines = {} if lines is None else lines
    lines[_path(parts)] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[_path(parts + (key.value,))] = key.start_mark.line + 1
            _line_map(value, parts + (key.value,), lines)
            lines[_path(parts + (key.value,))] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, parts + (index,), lines)
    return lines


def _line(lines: dict, path: str):
    """Line of a path, or of its nearest ancestor present in the YAML."""
    while path:
        if path in lines:
            return lines[path]
        parent = path.rsplit(".", 1)[0] if "." in path.rsplit("]", 1)[-1] else path.rsplit("[", 1)[0]
        path = "" if parent == path else parent
    return lines.get("")


# Bounds that keep any definition cheap to check, store and fill (the largest shipped grid,
# GEVA, is about 40 KB and 150 fields).
MAX_SOURCE_BYTES = 256 * 1024
MAX_FIELDS = 1000
MAX_YAML_DEPTH = 40


class _TooDeep(yaml.composer.ComposerError):
    """Sillage's own refusal, already in French."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with its nesting bounded. Aliases (`*ref`, which the canonical
    export itself writes for repeated option lists) stay allowed, but what they expand to is
    measured before anything walks it: a few nested ones (a "billion laughs" of 540 bytes)
    would expand to gigabytes."""

    def compose_node(self, parent, index):
        depth = getattr(self, "_depth", 0)
        if depth > MAX_YAML_DEPTH:
            raise _TooDeep(None, None, _("imbrication trop profonde (%(n)s niveaux au plus)", n=MAX_YAML_DEPTH),
                           self.peek_event().start_mark)
        self._depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth


def _expanded_size(root, limit: int) -> int | None:
    """Number of nodes once aliases are expanded (None beyond `limit`), without recursion:
    each node's size is memoised, so shared nodes are measured once."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else (
            node.value if isinstance(node, yaml.SequenceNode) else [])
        if not ready:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        if any(id(c) not in sizes for c in children):
            return None  # a node that contains itself (recursive alias)
        sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
        if sizes[id(node)] > limit:
            return None
    return sizes[id(root)]


def error_at(parts, lines: dict | None, message: str) -> DefinitionError:
    """An error at a path of the definition, with its YAML line when known."""
    path = _path(parts)
    return DefinitionError(path, _line(lines or {}, path), message)


# PyYAML's problems, as a quality officer reads them (the fallback still gives the column).
YAML_PROBLEMS = (
    ("mapping values are not allowed", _l("deux-points inattendu : une valeur qui contient « : » se met entre "
                                          "guillemets")),
    ("could not find expected ':'", _l("deux-points attendu après la clé")),
    ("cannot start any token", _l("caractère interdit à cet endroit (une tabulation ? indentez avec des espaces ; "
                                  "sinon mettez la valeur entre guillemets)")),
    ("did not find expected key", _l("clé attendue : indentation incohérente")),
    ("did not find expected '-' indicator", _l("tiret « - » attendu : indentation incohérente de la liste")),
    ("expected <block end>", _l("indentation incohérente")),
    ("expected ',' or ']'", _l("virgule ou « ] » attendu : crochet non fermé ?")),
    ("expected ',' or '}'", _l("virgule ou « } » attendu : accolade non fermée ?")),
    ("found unexpected end of stream", _l("fin du texte inattendue : guillemet, crochet ou accolade non fermé")),
    ("found undefined alias", _l("alias *nom sans ancre &nom correspondante")),
    ("found duplicate anchor", _l("ancre &nom définie deux fois")),
    ("unknown escape character", _l("caractère d'échappement inconnu après « \\ »")),
    ("expected alphabetic or numeric character", _l("nom d'ancre ou d'alias invalide")),
    ("found unexpected ':'", _l("deux-points inattendu")),
    ("expected a single document", _l("un seul document attendu (retirez « --- » en trop)")),
    ("could not determine a constructor", _l("étiquette YAML non permise (!…)")),
)


def yaml_message(exc) -> str:
    problem = str(getattr(exc, "problem", None) or exc)
    mark = getattr(exc, "problem_mark", None)
    column = _(", colonne %(c)s", c=mark.column + 1) if mark else ""
    if isinstance(exc, _TooDeep):
        return _("YAML illisible : %(m)s%(c)s", m=problem, c=column)
    for english, french in YAML_PROBLEMS:
        if english in problem:
            return _("YAML illisible : %(m)s%(c)s", m=french, c=column)
    return _("YAML illisible : syntaxe invalide%(c)s", c=column)


def parse_yaml(text: str) -> tuple[dict, dict]:
    """YAML text → (data, line map); a syntax error is a DefinitionError with its line."""
    if len(text.encode("utf-8", "replace")) > MAX_SOURCE_BYTES:
        raise InvalidDefinition([DefinitionError("", 1, _("définition trop longue (%(n)s Ko au plus)",
                                                          n=MAX_SOURCE_BYTES // 1024))])
    loader = None
    try:
        loader = _BoundedLoader(text)  # (its reader already refuses control characters)
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, MAX_FIELDS * 60) is None:
            raise InvalidDefinition([DefinitionError("", 1, _("définition trop volumineuse une fois ses alias YAML "
                                                              "(*nom) développés"))])
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else 1
        raise InvalidDefinition([DefinitionError("", line, _("caractère non permis dans un YAML (code %(c)s)",
                                                             c=f"U+{exc.character:04X}" if isinstance(exc.character, int)
                                                             else "?"))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidDefinition([DefinitionError("", mark.line + 1 if mark else None, yaml_message(exc))]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise InvalidDefinition([DefinitionError("", 1, _("une définition est un objet YAML (code, title, sections…)"))])
    return data, _line_map(node)


def iter_fields(items, parts):
    """(field, path parts) for every field, groups included, in order."""
    for index, item in enumerate(items or []):
        here = parts + (index,)
        yield item, here
        if item.get("type") == "group":
            yield from iter_fields(item.get("items"), here + ("items",))


def all_fields(data: dict) -> list[tuple[dict, tuple]]:
    fields = []
    for s_index, section in enumerate(data.get("sections") or []):
        fields.extend(iter_fields(section.get("items"), ("sections", s_index, "items")))
    return fields


def is_repeated(field: dict) -> bool:
    return field.get("type") == "group" and bool(field.get("repeat"))


def repeated_members(group: dict) -> list[dict]:
    """The fields of one occurrence of a repeatable group (its sub-groups flattened)."""
    return [f for f, _parts in iter_fields(group.get("items"), ()) if f.get("type") != "group"]


def nested_codes(data: dict) -> set[str]:
    """Codes of fields answered inside the occurrences of a repeatable group, not on their own."""
    return {f["code"] for f, _parts in all_fields(data) if is_repeated(f) for f in repeated_members(f)}


def check(data: dict, lines: dict | None = None) -> list[DefinitionError]:
    """Every problem of a definition: structure (JSON Schema), then meaning."""
    lines = lines or {}
    errors = []
    too_big = _size_problem(data)
    if too_big:
        return [DefinitionError("", 1, too_big)]
    for error in sorted(validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = _path(tuple(error.absolute_path))
        errors.append(DefinitionError(path, _line(lines, path), _french_schema_message(error)))
    if errors:
        return errors

    def err(parts, message):
        errors.append(error_at(parts, lines, message))

    fields = all_fields(data)
    by_code = {}
    for field, parts in fields:
        code = field["code"]
        if code in by_code:
            err(parts + ("code",), _("code de champ « %(c)s » en double (déjà utilisé plus haut)", c=code))
        by_code.setdefault(code, field)
    types = value_kinds(data, by_code)
    section_codes = set()
    for index, section in enumerate(data["sections"]):
        if section["code"] in section_codes:
            err(("sections", index, "code"), _("code de section « %(c)s » en double", c=section["code"]))
        section_codes.add(section["code"])
        if section.get("show_if"):
            for problem in expressions.check(section["show_if"], by_code, types):
                err(("sections", index, "show_if"), problem)
    for field, parts in fields:
        _check_field(field, parts, by_code, types, data, err)
    _check_cycles(data, fields, err)
    return errors


def value_kinds(data, by_code) -> dict:
    """{code: kind of its value} for type-checking expressions; a computed field's kind is that of
    its expression, inferred in dependency order (problems are reported where it is checked)."""
    kinds = {code: expressions.field_kind(field) for code, field in by_code.items()}
    levels = [dependencies.top_level(data)] + [list(dependencies.layout(f.get("items"), None))
                                               for f in by_code.values() if is_repeated(f)]
    for entries in levels:
        for field, _section, _ancestors in dependencies.order(entries):
            if field.get("type") == "computed" and field.get("expression"):
                try:
                    tree = expressions.parse(field["expression"])
                except expressions.ExpressionError:
                    continue
                kinds[field["code"]] = expressions.infer(tree.body, kinds, [])
            elif field.get("type") == "computed" and field.get("output", field["code"]) == "gir":
                kinds[field["code"]] = expressions.NUMBER
    return kinds


def _check_cycles(data, fields, err):
    """A computed field or a condition that reads itself, directly or through others, has no
    value: refused, naming the fields."""
    parts_of = {f["code"]: parts for f, parts in fields}
    levels = [dependencies.top_level(data)] + [list(dependencies.layout(f.get("items"), None))
                                               for f, _parts in fields if is_repeated(f)]
    for entries in levels:
        for cycle in dependencies.cycles(entries):
            path = " → ".join(cycle + [cycle[0]]) if len(cycle) > 1 else f"{cycle[0]} → {cycle[0]}"
            err(parts_of[cycle[0]], _("dépendance circulaire : %(p)s", p=path))


def _size_problem(data) -> str | None:
    """A definition built elsewhere than from YAML (API JSON, builder) is bounded too: depth and
    number of nodes, counted without recursion, before anything walks it."""
    stack, nodes, items = [(data, 0)], 0, 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_YAML_DEPTH:
            return _("imbrication trop profonde (%(n)s niveaux au plus)", n=MAX_YAML_DEPTH)
        if nodes > MAX_FIELDS * 60:
            return _("définition trop volumineuse")
        if isinstance(value, dict):
            items += "type" in value and "code" in value
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    if items > MAX_FIELDS:
        return _("trop de champs (%(n)s au plus)", n=MAX_FIELDS)
    return None


def _check_field(field, parts, by_code, types, data, err):
    kind = field["type"]
    options = field.get("options") or []
    seen = set()
    for key in ("options", "rows"):
        strings = set()
        for index, option in enumerate(field.get(key) or []):
            text = str(option["code"])
            if not OPTION_CODE.match(text):
                err(parts + (key, index, "code"), _("code « %(c)s » invalide : lettres, chiffres, _ . - (64 au plus), "
                                                    "sans espace", c=text))
            elif text in strings:
                err(parts + (key, index), _("code « %(c)s » en double", c=option["code"]))
            strings.add(text)
            if key == "options":
                seen.add(option["code"])
    if field.get("renamed_from") and field["renamed_from"] in by_code:
        err(parts + ("renamed_from",), _("« %(c)s » existe encore dans cette version : un champ renommé n'y est plus",
                                         c=field["renamed_from"]))
    if field.get("prefill") and kind in ("computed", "note", "group", "file"):
        err(parts + ("prefill",), _("un champ %(t)s ne se pré-remplit pas", t=kind))
    if isinstance(field.get("required"), str):
        err(parts + ("required",), _("required prend true ou false ; une condition va dans required_if, "
                                     "un message dans required_message"))
    if field.get("required_if"):
        if field.get("required") is True:
            err(parts + ("required_if",), _("required: true et required_if ensemble : gardez l'un des deux"))
        for problem in expressions.check(field["required_if"], by_code, types):
            err(parts + ("required_if",), problem)
    if kind in CHOICE_TYPES | {"matrix"} and not options:
        err(parts, _("le type %(t)s demande des options", t=kind))
    if kind == "matrix":
        rows = [r["code"] for r in field.get("rows") or []]
        if not rows:
            err(parts, _("une matrice demande des lignes (rows)"))
        if len(rows) != len(set(rows)):
            err(parts + ("rows",), _("code de ligne en double"))
    if kind in ("integer", "decimal") and field.get("min") is not None and field.get("max") is not None \
            and field["min"] > field["max"]:
        err(parts + ("min",), _("le minimum dépasse le maximum"))
    if kind == "list_choice" and not field.get("list"):
        err(parts, _("indiquez la liste de valeurs (list)"))
    if kind == "nomenclature" and not field.get("nomenclature"):
        err(parts, _("indiquez la nomenclature (nomenclature)"))
    if kind == "computed":
        if bool(field.get("expression")) == bool(field.get("algorithm")):
            err(parts, _("un champ calculé a soit une expression, soit un algorithme"))
        if field.get("expression"):
            for problem in expressions.check(field["expression"], by_code, types):
                err(parts + ("expression",), problem)
        if field.get("algorithm"):
            algorithm = REGISTRY.get(field["algorithm"])
            if algorithm is None:
                err(parts + ("algorithm",), _("algorithme inconnu « %(a)s » (connus : %(k)s)",
                                              a=field["algorithm"], k=", ".join(sorted(REGISTRY))))
            else:
                output = field.get("output", field["code"])
                if output not in algorithm.outputs:
                    err(parts + ("output",), _("l'algorithme %(a)s ne produit pas « %(o)s »", a=algorithm.name, o=output))
    if "default" in field and kind not in ("computed", "note", "group", "file"):
        from .engine import _coerce  # the same typing as an answer

        try:
            _coerce(field, field["default"])
        except ValueError as exc:
            err(parts + ("default",), _("valeur par défaut refusée : %(m)s", m=str(exc)))
    if kind == "group" and field.get("repeat"):
        low, high = field["repeat"].get("min", 0), field["repeat"].get("max")
        if high is not None and low > high:
            err(parts + ("repeat",), _("le minimum d'occurrences dépasse le maximum"))
    if field.get("show_if"):
        for problem in expressions.check(field["show_if"], by_code, types):
            err(parts + ("show_if",), problem)
    for index, constraint in enumerate(field.get("constraints") or []):
        for problem in expressions.check(constraint["expression"], by_code, types):
            err(parts + ("constraints", index, "expression"), problem)
    if "default" in field and kind in CHOICE_TYPES and field["default"] is not None:
        defaults = field["default"] if isinstance(field["default"], list) else [field["default"]]
        for value in defaults:
            if value not in seen:
                err(parts + ("default",), _("valeur par défaut « %(v)s » absente des options", v=value))


SCHEMA_MESSAGES = {
    "required": _l("champ obligatoire manquant : %(missing)s"),
    "type": _l("type attendu : %(expected)s"),
    "enum": _l("valeur non permise ; valeurs possibles : %(expected)s"),
    "pattern": _l("format invalide (attendu : %(expected)s)"),
    "additionalProperties": _l("clé inconnue : %(extra)s"),
    "minItems": _l("au moins %(expected)s élément(s)"),
    "minimum": _l("au moins %(expected)s"),
    "minLength": _l("ne peut être vide"),
    "maxLength": _l("trop long (%(expected)s caractères au plus)"),
}


def _french_schema_message(error) -> str:
    validator_name = error.validator
    if validator_name == "pattern" and list(error.absolute_path)[-1:] == ["prefill"]:
        return _("prefill attendu : today, usager.age, usager.etablissement, usager.service ou "
                 "<formulaire>.<champ> (la dernière valeur validée)")
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return str(SCHEMA_MESSAGES["required"]) % {"missing": missing}
    if validator_name == "additionalProperties":
        extra = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {}))))
        return str(SCHEMA_MESSAGES["additionalProperties"]) % {"extra": extra}
    template = SCHEMA_MESSAGES.get(validator_name)
    if template:
        return str(template) % {"expected": error.validator_value}
    if validator_name in ("oneOf", "anyOf"):
        return _("élément non conforme au format (voir forms/README.md)")
    return error.message


def load(text: str) -> dict:
    """YAML text → checked definition; raises InvalidDefinition with every error."""
    data, lines = parse_yaml(text)
    errors = check(data, lines)
    if errors:
        raise InvalidDefinition(errors)
    return data


def dump(data: dict) -> str:
    """Canonical YAML of a definition: export → import → export gives identical text."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)


def answer_categories(data: dict) -> dict[str, set[str]]:
    """{answer or computed code: shared-secret categories of what it holds}, for fields with their
    own category. A repeatable group's answer holds its lines: it carries its members' categories.
    A computed field without a category of its own carries those of every field it is computed
    from (its expression's names, its algorithm's inputs), transitively: a GIR computed from care
    answers is care data."""
    found: dict[str, set[str]] = {}
    nested = nested_codes(data)
    sources: dict[str, set[str]] = {}
    for field, _parts in all_fields(data):
        if field.get("sensitivity") and field["code"] not in nested:
            found.setdefault(field["code"], set()).add(field["sensitivity"])
        elif field.get("type") == "computed":
            sources[field["code"]] = _computed_sources(field)
        if is_repeated(field):
            for member in repeated_members(field):
                if member.get("sensitivity"):
                    found.setdefault(field["code"], set()).add(member["sensitivity"])
    changed = True
    while changed:  # to a fixed point: computed fields may depend on computed fields
        changed = False
        for code, names in sources.items():
            inherited = set().union(*(found.get(n, set()) for n in names)) if names else set()
            if not inherited <= found.get(code, set()):
                found.setdefault(code, set()).update(inherited)
                changed = True
    return found


def _computed_sources(field: dict) -> set[str]:
    if field.get("algorithm"):
        algorithm = REGISTRY.get(field["algorithm"])
        return set(algorithm.inputs) if algorithm else set()
    return dependencies.names(field.get("expression"))


def defaults(data: dict) -> dict:
    """The `default` of each field answered on its own: what a new form starts with."""
    nested = nested_codes(data)
    return {f["code"]: f["default"] for f, _parts in all_fields(data)
            if "default" in f and f["code"] not in nested and f["type"] not in ("computed", "note", "group", "file")}
