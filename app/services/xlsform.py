"""XLSForm import: a workbook in the ODK layout (survey, choices, settings) becomes the draft of a
Sillage definition. pyxform reads the workbook; this module maps its tree to the definition
format and translates XPath conditions to Sillage expressions. What has no equivalent (types,
functions, appearances…) is listed in French for the quality officer, never dropped silently.
"""
from __future__ import annotations

import io
import json
import re
import zipfile

from flask_babel import gettext as _
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

from ..domain.forms import definition as definitions

CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TYPES = {"text": "text", "integer": "integer", "decimal": "decimal", "date": "date", "dateTime": "datetime",
         "select one": "single_choice", "select all that apply": "multiple_choice", "note": "note",
         "acknowledge": "yes_no", "trigger": "yes_no", "calculate": "computed", "range": "integer", "file": "file"}
MAX_EXPRESSION_PASSES = 50


class XlsFormError(ValueError):
    """A workbook that cannot be read as an XLSForm (its message is for the user)."""


def convert(content: bytes, code: str) -> tuple[dict, list[str]]:
    """(definition data, warnings) of an XLSForm workbook; the data still goes through the normal
    check of a draft. Raises XlsFormError for a workbook pyxform refuses."""
    _check_container(content)
    warnings: list[str] = []
    try:
        # (bytes only: given a str, pyxform would read a path of the server)
        workbook = get_xlsform(xlsform=io.BytesIO(content))
        tree = workbook_to_json(workbook_dict=workbook, form_name=code, fallback_form_name=code, warnings=[])
    except (PyXFormError, ValueError, KeyError, TypeError, OSError) as exc:  # pyxform's reading errors
        raise XlsFormError(_("XLSForm illisible : %(e)s", e=str(exc)[:300])) from None
    except Exception as exc:  # noqa: BLE001 — a broken zip or sheet deep in openpyxl: still the user's file
        raise XlsFormError(_("XLSForm illisible (%(e)s)", e=type(exc).__name__)) from None
    converter = _Converter(warnings)
    converter.collect_names(tree.get("children") or [])
    sections = converter.sections(tree.get("children") or [], tree.get("title") or code)
    if not sections:
        raise XlsFormError(_("Aucune question importable dans la feuille « survey »."))
    title = str(tree.get("title") or code)[:200]
    data = {"code": code, "title": title, "version": 1, "kind": "evaluation",
            "description": _("Importé d'un XLSForm (%(f)s).", f=tree.get("id_string") or code),
            "sections": sections}
    warnings.append(_("« applies_to » absent : le formulaire sera proposé dans tous les établissements."))
    return _without_refused_expressions(data, warnings), warnings


MAX_BYTES = 2 * 1024 * 1024  # an XLSForm of a few hundred questions weighs some tens of kB
MAX_UNPACKED = 20 * 1024 * 1024


def _check_container(content: bytes) -> None:
    """An .xlsx by its bytes (a zip holding a workbook), bounded before openpyxl unpacks it."""
    if not isinstance(content, bytes) or not content:
        raise XlsFormError(_("Fichier vide : choisissez un classeur .xlsx au format XLSForm."))
    if len(content) > MAX_BYTES:
        raise XlsFormError(_("Fichier trop volumineux (%(n)s Mo au plus).", n=MAX_BYTES // (1024 * 1024)))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise XlsFormError(_("Ce fichier n'est pas un classeur .xlsx (format XLSForm attendu).")) from None
    if "xl/workbook.xml" not in names:
        raise XlsFormError(_("Ce fichier n'est pas un classeur .xlsx (format XLSForm attendu)."))
    if unpacked > MAX_UNPACKED:
        raise XlsFormError(_("Classeur trop volumineux une fois décompressé."))


def _without_refused_expressions(data: dict, warnings: list[str]) -> dict:
    """Conditions and calculations that translate but do not check (a type, an unknown field)
    are removed one by one, each listed; what remains is what the draft check will see."""
    for _pass in range(MAX_EXPRESSION_PASSES):
        errors = definitions.check(data)
        expression_errors = [e for e in errors if _expression_key(e.path)]
        if not expression_errors:
            return data
        owner, key = _locate(data, expression_errors[0].path)
        removed = owner.pop(key)
        warnings.append(_("%(c)s : expression non reprise (%(m)s) : %(e)s", c=owner.get("code", "?"),
                          m=expression_errors[0].message,
                          e=json.dumps(removed, ensure_ascii=False) if key == "constraints" else removed))
        if key == "expression":  # a calculation that does not check: shown as a note saying so
            code, text = owner["code"], _("%(l)s (calcul non repris)", l=owner.get("label") or owner["code"])
            owner.clear()
            owner.update(code=code, type="note", text=text)
    return data


EXPRESSION_KEYS = ("show_if", "required_if", "expression", "constraints")


def _expression_key(path: str) -> bool:
    return any(f".{key}" in path or path.startswith(key) for key in EXPRESSION_KEYS)


def _locate(data, path):
    """(the dict holding the expression, its key) for sections[0].items[2].show_if and the like."""
    node = data
    for name, index in re.findall(r"([a-z_]+)|\[(\d+)\]", path):
        if name in EXPRESSION_KEYS:
            return node, name
        node = node[name] if name else node[int(index)]
    raise KeyError(path)  # pragma: no cover — _expression_key chose the path


class _Converter:
    def __init__(self, warnings):
        self.warnings = warnings
        self.codes: dict[str, str] = {}  # XLSForm name → Sillage code

    # -- names ---------------------------------------------------------------------------------
    def collect_names(self, children):
        for child in children:
            if child.get("name") == "meta" and child.get("control", {}).get("bodyless"):
                continue
            name = str(child.get("name") or "")
            code = self._code(name)
            if code != name:
                self.warnings.append(_("« %(n)s » renommé « %(c)s » (codes : minuscules, chiffres et _)", n=name, c=code))
            self.codes[name] = code
            self.collect_names(child.get("children") or [])

    def _code(self, name: str) -> str:
        code = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")[:60] or "champ"
        if not code[0].isalpha():
            code = f"q_{code}"[:63]
        base, n = code, 2
        while code in self.codes.values():
            code, n = f"{base[:58]}_{n}", n + 1
        return code

    # -- structure -----------------------------------------------------------------------------
    def sections(self, children, title) -> list[dict]:
        sections, loose = [], []
        for child in children:
            if child.get("name") == "meta" and child.get("control", {}).get("bodyless"):
                continue  # pyxform's own instanceID
            if child.get("type") == "group":
                self._flush(sections, loose, title)
                items = self.items(child.get("children") or [])
                if items:
                    section = {"code": self.codes[child["name"]], "title": _label(child) or child["name"],
                               "items": items}
                    self._common(section, child, keys=("show_if",))
                    sections.append(section)
                continue
            loose.extend(self.items([child]))
        self._flush(sections, loose, title)
        return sections

    def _flush(self, sections, loose, title):
        if loose:
            code = "questions" if not any(s["code"] == "questions" for s in sections) else f"questions_{len(sections)}"
            sections.append({"code": code, "title": str(title)[:200], "items": list(loose)})
            loose.clear()

    def items(self, children) -> list[dict]:
        out = []
        for child in children:
            item = self.item(child)
            if item is not None:
                out.append(item)
        return out

    def item(self, node) -> dict | None:
        kind, name = node.get("type"), node.get("name")
        code = self.codes.get(name)
        if kind in ("group", "repeat"):
            items = self.items(node.get("children") or [])
            if not items:
                return None
            item = {"code": code, "label": _label(node) or name, "type": "group", "items": items}
            if kind == "repeat":
                item["repeat"] = {}
                if node.get("control", {}).get("jr:count") or node.get("repeat_count"):
                    self.warnings.append(_("%(c)s : nombre de répétitions calculé non repris", c=code))
            self._common(item, node, keys=("show_if",))
            return item
        target = TYPES.get(kind)
        if target is None:
            self.warnings.append(_("%(c)s : type « %(t)s » sans équivalent, question non reprise", c=code, t=kind))
            return None
        label = _label(node) or name
        item = {"code": code, "type": target, "text": label} if target == "note" else {
            "code": code, "label": label, "type": target}
        if target in ("single_choice", "multiple_choice"):
            item["options"] = self._options(code, node.get("choices") or [])
            if not item["options"]:
                self.warnings.append(_("%(c)s : liste de choix vide ou externe, question non reprise", c=code))
                return None
        if target == "computed":
            expression = self.translate((node.get("bind") or {}).get("calculate"), code, "calculation")
            if expression is None:
                return None
            item["expression"] = expression
        if kind == "range":
            parameters = node.get("parameters") or {}
            for key, target_key in (("start", "min"), ("end", "max")):
                if _number(parameters.get(key)) is not None:
                    item[target_key] = _number(parameters[key])
        if (node.get("control") or {}).get("appearance"):
            self.warnings.append(_("%(c)s : apparence « %(a)s » non reprise", c=code, a=node["control"]["appearance"]))
        if node.get("default") not in (None, "") and target not in ("computed", "note", "file"):
            item["default"] = _default(node["default"], target)
        self._common(item, node)
        for key in ("media", "guidance_hint", "choice_filter", "trigger"):
            if node.get(key):
                self.warnings.append(_("%(c)s : colonne « %(k)s » non reprise", c=code, k=key))
        return item

    def _common(self, item, node, keys=("show_if", "required", "constraint")):
        code = item["code"]
        hint = _text(node.get("hint"))
        if hint and item.get("type") not in ("note", None):
            item["help"] = hint
        bind = node.get("bind") or {}
        if "show_if" in keys and bind.get("relevant"):
            condition = self.translate(bind["relevant"], code, "relevant")
            if condition:
                item["show_if"] = condition
        if "required" in keys and bind.get("required") not in (None, "", "no", "false()", "false"):
            if bind["required"] in ("yes", "true()", "true"):
                item["required"] = True
            else:
                condition = self.translate(bind["required"], code, "required")
                if condition:
                    item["required_if"] = condition
            if bind.get("jr:requiredMsg"):
                item["required_message"] = _text(bind["jr:requiredMsg"])[:500]
        if "constraint" in keys and bind.get("constraint"):
            expression = self.translate(bind["constraint"], code, "constraint")
            if expression:
                message = _text(bind.get("jr:constraintMsg")) or _("Valeur refusée.")
                item["constraints"] = [{"expression": f"{code} is None or ({expression})", "message": message[:500]}]
        for key in ("readonly", "jr:preload"):
            if bind.get(key):
                self.warnings.append(_("%(c)s : « %(k)s » non repris", c=code, k=key))

    def _options(self, code, choices) -> list[dict]:
        options, seen = [], set()
        for choice in choices:
            raw = str(choice.get("name", ""))
            value = raw if definitions.OPTION_CODE.match(raw) else re.sub(r"[^A-Za-z0-9_.-]", "_", raw).strip("_.-")
            if not value or value in seen:
                self.warnings.append(_("%(c)s : choix « %(v)s » non repris (code vide ou en double)", c=code, v=raw))
                continue
            if value != raw:
                self.warnings.append(_("%(c)s : choix « %(v)s » codé « %(n)s »", c=code, v=raw, n=value))
            seen.add(value)
            options.append({"code": value, "label": _label(choice) or value})
        return options

    # -- expressions ---------------------------------------------------------------------------
    def translate(self, source, code, column) -> str | None:
        """An XPath expression of the XLSForm as a Sillage expression, or None (listed)."""
        try:
            return _XPath(str(source), self.codes, code).translate()
        except _Untranslatable as exc:
            self.warnings.append(_("%(c)s : %(k)s « %(e)s » non reprise (%(r)s)", c=code, k=column, e=source,
                                   r=str(exc)))
            return None


class _Untranslatable(ValueError):
    pass


TOKEN = re.compile(r"""\s*(?:
    (?P<ref>\$\{(?P<name>[^}]+)\})
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<word>[A-Za-z_][A-Za-z0-9_:-]*(?=\s*\()|div\b|mod\b|and\b|or\b)
  | (?P<dot>\.(?![\d.]))
  | (?P<other>\S+)
)""", re.VERBOSE)
FUNCTIONS = {"selected": 2, "count-selected": 1, "string-length": 1, "not": 1, "if": 3, "round": 2, "int": 1,
             "abs": 1, "min": None, "max": None, "true": 0, "false": 0, "coalesce": 2}


class _XPath:
    """A small translator: tokens to a Sillage expression, function calls parsed with their
    arguments. Anything it does not know is refused, not guessed."""

    def __init__(self, source, codes, self_code):
        self.tokens = [m for m in TOKEN.finditer(source) if m.group(0).strip()]
        self.codes, self.self_code, self.position = codes, self_code, 0

    def translate(self) -> str:
        out = self._sequence(stop=())
        if self.position != len(self.tokens):
            raise _Untranslatable(_("parenthèse ou virgule en trop"))
        if not out.strip():
            raise _Untranslatable(_("expression vide"))
        return out.strip()

    def _sequence(self, stop) -> str:
        parts = []
        while self.position < len(self.tokens):
            token = self.tokens[self.position]
            text = token.group(0).strip()
            if text in stop:
                break
            self.position += 1
            parts.append(self._token(token, text))
        return " ".join(p for p in parts if p)

    def _token(self, token, text) -> str:
        if token.group("ref"):
            name = token.group("name").strip()
            if name not in self.codes:
                raise _Untranslatable(_("champ inconnu ${%(n)s}", n=name))
            return self.codes[name]
        if token.group("string"):
            return json.dumps(text[1:-1], ensure_ascii=False)
        if token.group("number"):
            return text
        if token.group("dot"):
            return self.self_code
        if token.group("op"):
            if text == "(":
                inner = self._sequence(stop=(")",))
                self._expect(")")
                return f"({inner})"
            if text == ")" or text == ",":
                raise _Untranslatable(_("parenthèse ou virgule inattendue"))
            return {"=": "=="}.get(text, text)
        if token.group("word"):
            if text in ("and", "or"):
                return text
            if text in ("div", "mod"):
                return {"div": "/", "mod": "%"}[text]
            return self._call(text)
        raise _Untranslatable(_("« %(t)s » inconnu", t=text))

    def _expect(self, text):
        if self.position >= len(self.tokens) or self.tokens[self.position].group(0).strip() != text:
            raise _Untranslatable(_("« %(t)s » attendu", t=text))
        self.position += 1

    def _call(self, name) -> str:
        if name not in FUNCTIONS:
            raise _Untranslatable(_("fonction %(f)s() sans équivalent", f=name))
        self._expect("(")
        args = []
        while self.position < len(self.tokens) and self.tokens[self.position].group(0).strip() != ")":
            args.append(self._sequence(stop=(",", ")")))
            if self.position < len(self.tokens) and self.tokens[self.position].group(0).strip() == ",":
                self.position += 1
        self._expect(")")
        wanted = FUNCTIONS[name]
        if wanted is not None and len(args) != wanted:
            raise _Untranslatable(_("%(f)s() attend %(n)s argument(s)", f=name, n=wanted))
        if name == "selected":
            return f"({args[1]} in {args[0]})"
        if name in ("count-selected", "string-length"):
            return f"len({args[0]})"
        if name == "not":
            return f"(not ({args[0]}))"
        if name == "if":
            return f"(({args[1]}) if ({args[0]}) else ({args[2]}))"
        if name == "true":
            return "True"
        if name == "false":
            return "False"
        if name == "coalesce":
            return f"(({args[0]}) if present({args[0]}) else ({args[1]}))"
        return f"{name}({', '.join(args)})"


def _label(node) -> str:
    return _text(node.get("label"))


def _text(value) -> str:
    """A label in French when the workbook has several languages (label::French (fr)…)."""
    if isinstance(value, dict):
        french = next((v for k, v in value.items() if "fr" in k.lower()), None)
        value = french or value.get("default") or next(iter(value.values()), "")
    return str(value or "").strip()


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _default(value, target):
    if target in ("integer", "decimal"):
        number = _number(value)
        return number if number is not None else None
    if target == "yes_no":
        return str(value).lower() in ("ok", "yes", "true", "1", "oui")
    if target == "multiple_choice":
        return str(value).split()
    return str(value)
