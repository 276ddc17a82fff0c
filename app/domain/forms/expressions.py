"""Safe expressions for `show_if`, constraints and simple computed values (simpleeval, never eval).

Expressions are checked when a definition is saved: syntax, known names, allowed functions, and
comparisons of a field with a literal of the wrong type or an option it does not have.
"""
from __future__ import annotations

import ast
import datetime as dt
import functools

from flask_babel import gettext as _
from simpleeval import EvalWithCompoundTypes

from .. import clock

MAX_LENGTH, MAX_DEPTH, MAX_NODES = 2000, 30, 300
MAX_NUMBER, MAX_ROUND_DIGITS = 10 ** 15, 15


class NumberOutOfRange(ValueError):
    pass


def _round(value, digits=0):
    if isinstance(digits, bool) or not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
        raise NumberOutOfRange(_("round : %(n)s chiffres au plus", n=MAX_ROUND_DIGITS))
    return round(value, digits)


FUNCTIONS = {
    "len": lambda v: len(v) if v is not None else 0,
    "abs": abs, "min": min, "max": max, "round": _round,
    "present": lambda v: v not in (None, "", [], {}),
    # count(matrix_or_list, value): how many rows of a matrix (or items of a list) hold `value`
    "count": lambda v, x: sum(1 for i in (v.values() if isinstance(v, dict) else v or []) if i == x),
    "age": lambda d: (clock.today() - dt.date.fromisoformat(str(d)[:10])).days // 365 if d else None,
}
NUMERIC = {"integer", "decimal", "computed_number"}
TEXTUAL = {"text", "long_text", "single_choice", "ordinal", "list_choice", "date", "datetime"}


class ExpressionError(ValueError):
    pass


def parse(source: str) -> ast.AST:
    """The syntax tree of an expression small enough to check and evaluate without recursion
    limits: length, nesting depth and number of nodes bounded. Kept per process: a grid's
    conditions are read again at every answer check (never modified by the evaluator)."""
    if not isinstance(source, str):
        raise ExpressionError(_("expression vide"))
    return _parse(source)


def _syntax_problem(message: str) -> str:
    """Python's parser message, as a quality officer reads it."""
    if "was never closed" in message:
        return _("« %(c)s » jamais fermé", c=message[1])
    if message.startswith("unmatched"):
        return _("« %(c)s » sans ouverture correspondante", c=message.split("'")[1] if "'" in message else ")")
    if "unterminated string" in message:
        return _("guillemet non fermé")
    return _("expression incomplète ou mal formée")


@functools.lru_cache(maxsize=4096)  # at most MAX_LENGTH characters each: a few MB
def _parse(source: str) -> ast.AST:
    if not source.strip():
        raise ExpressionError(_("expression vide"))
    if len(source) > MAX_LENGTH:
        raise ExpressionError(_("expression trop longue (%(n)s caractères au plus)", n=MAX_LENGTH))
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(_("syntaxe invalide (%(m)s, colonne %(c)s)", m=_syntax_problem(exc.msg),
                                c=exc.offset)) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(_("expression trop imbriquée (%(n)s niveaux au plus)", n=MAX_DEPTH)) from None
    stack, nodes = [(tree, 0)], 0
    while stack:  # iterative: a deep tree must not exhaust the stack of whoever checks it
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(_("expression trop imbriquée (%(n)s niveaux au plus)", n=MAX_DEPTH))
        if nodes > MAX_NODES:
            raise ExpressionError(_("expression trop complexe (%(n)s éléments au plus)", n=MAX_NODES))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
                 ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv, ast.Compare,
                 ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
                 ast.Name, ast.Load, ast.Constant, ast.Call, ast.List, ast.Tuple, ast.IfExp)


def check(source: str, fields: dict, types: dict | None = None) -> list[str]:
    """Problems of an expression against the definition's fields {code: field dict} and their
    value types ({code: kind}, see `infer`): names, functions, literals, operand types."""
    try:
        tree = parse(source)
    except ExpressionError as exc:
        return [str(exc)]
    problems = []
    if types is not None:
        infer(tree.body, types, problems)
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            problems.append(_("construction non permise : %(n)s", n=type(node).__name__))
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                problems.append(_("fonction inconnue : %(n)s", n=ast.unparse(node.func)))
            elif node.func.id == "round" and len(node.args) > 1 and _bad_digits(node.args[1]):
                problems.append(_("round : le nombre de chiffres va de -%(n)s à %(n)s", n=MAX_ROUND_DIGITS))
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
                node.value, bool) and abs(node.value) > MAX_NUMBER:
            problems.append(_("nombre hors limites (±10^15 au plus)"))
        elif isinstance(node, ast.Name) and node.id not in fields and node.id not in FUNCTIONS \
                and node.id not in ("True", "False", "None"):
            problems.append(_("champ inconnu : %(n)s", n=node.id))
        elif isinstance(node, ast.Compare):
            problems.extend(_compare_problems(node, fields))
    return problems


def _bad_digits(node) -> bool:
    """A literal number of digits for `round` out of bounds (a field's value is checked at run time)."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ROUND_DIGITS


def _compare_problems(node: ast.Compare, fields: dict) -> list[str]:
    operands = [node.left, *node.comparators]
    names = [o for o in operands if isinstance(o, ast.Name) and o.id in fields]
    literals = [o for o in operands if isinstance(o, ast.Constant) and o.value is not None]
    problems = []
    for name in names:
        field = fields[name.id]
        kind = field.get("type")
        options = {str(o.get("code")) for o in field.get("options") or []}
        for literal in literals:
            value = literal.value
            if kind in NUMERIC and isinstance(value, str):
                problems.append(_("« %(n)s » est un nombre, comparé au texte %(v)s", n=name.id, v=repr(value)))
            elif kind in TEXTUAL and isinstance(value, (int, float)) and not isinstance(value, bool):
                problems.append(_("« %(n)s » est un texte, comparé au nombre %(v)s", n=name.id, v=repr(value)))
            elif kind == "yes_no" and not isinstance(value, bool):
                problems.append(_("« %(n)s » est oui/non (True/False), comparé à %(v)s", n=name.id, v=repr(value)))
            elif options and kind in ("single_choice", "ordinal", "multiple_choice") and str(value) not in options:
                problems.append(_("« %(n)s » n'a pas d'option %(v)s", n=name.id, v=repr(value)))
    return problems


def evaluate(source: str, names: dict):
    """Value of a checked expression. A missing answer is None; an error gives None (unknown)."""
    try:
        return evaluate_strict(source, names)
    except NumberOutOfRange:
        return None


def evaluate_strict(source: str, names: dict):
    """Like `evaluate`, but a number beyond ±10^15 (or a `round` beyond 15 digits) raises
    NumberOutOfRange, for computed fields to report it. Nothing else ever raises: a checked
    expression is bounded, and any other failure (a type met at run time) means unknown."""
    try:
        tree = parse(source)
        evaluator = EvalWithCompoundTypes(names=dict(names), functions=FUNCTIONS)
        value = evaluator.eval(source.strip(), previously_parsed=tree.body)
    except NumberOutOfRange:
        raise
    except ExpressionError:
        return None
    except Exception:  # noqa: BLE001 — run-time types of answers: unknown, never a 500
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not abs(value) <= MAX_NUMBER:
        raise NumberOutOfRange(_("résultat hors limites (±10^15 au plus)"))
    return value


# --- types ----------------------------------------------------------------------------------------
# The kind of value a name holds, for checking operators at save: a type met only at run time
# would silently give an empty result. None: unknown (never an error).
NUMBER, TEXT, BOOL, DATE, LIST, MAP = "nombre", "texte", "oui/non", "date", "liste", "tableau"
FIELD_KINDS = {"integer": NUMBER, "decimal": NUMBER, "text": TEXT, "long_text": TEXT, "single_choice": None,
               "ordinal": None, "list_choice": None, "file": TEXT, "date": DATE, "datetime": DATE,
               "yes_no": BOOL, "multiple_choice": LIST, "nomenclature": LIST, "matrix": MAP}
ARITHMETIC = (ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
FUNCTION_ARGUMENTS = {"abs": (NUMBER,), "round": (NUMBER, NUMBER), "age": (DATE,),
                      "len": ((TEXT, LIST, MAP),), "count": ((LIST, MAP), None)}
FUNCTION_RESULTS = {"len": NUMBER, "abs": NUMBER, "round": NUMBER, "present": BOOL, "count": NUMBER, "age": NUMBER}


def field_kind(field: dict) -> str | None:
    if field.get("type") == "group":
        return LIST if field.get("repeat") else None
    return FIELD_KINDS.get(field.get("type"))


def _label(node) -> str:
    return node.id if isinstance(node, ast.Name) else ast.unparse(node)[:40]


def infer(node, types: dict, problems: list) -> str | None:
    """The kind of an expression's value, adding a French problem for each operator applied to
    operands it cannot take."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return BOOL
        return NUMBER if isinstance(value, (int, float)) else TEXT if isinstance(value, str) else None
    if isinstance(node, ast.Name):
        return types.get(node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            infer(item, types, problems)
        return LIST
    if isinstance(node, ast.UnaryOp):
        kind = infer(node.operand, types, problems)
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            _expect(node.operand, kind, (NUMBER,), problems)
            return NUMBER
        return BOOL
    if isinstance(node, ast.BoolOp):
        kinds = {infer(v, types, problems) for v in node.values}
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(node, ast.IfExp):
        infer(node.test, types, problems)
        a, b = infer(node.body, types, problems), infer(node.orelse, types, problems)
        return a if a == b else None
    if isinstance(node, ast.BinOp):
        left, right = infer(node.left, types, problems), infer(node.right, types, problems)
        if isinstance(node.op, ast.Add):
            for operand, kind in ((node.left, left), (node.right, right)):
                _expect(operand, kind, (NUMBER, TEXT, LIST), problems)
            if left and right and left != right and {left, right} <= {NUMBER, TEXT, LIST}:
                problems.append(_("« %(a)s » (%(ka)s) + « %(b)s » (%(kb)s) : types incompatibles",
                                  a=_label(node.left), ka=left, b=_label(node.right), kb=right))
            return left if left == right or right is None else right if left is None else None
        _expect(node.left, left, (NUMBER,), problems)
        _expect(node.right, right, (NUMBER,), problems)
        return NUMBER
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        kinds = [infer(o, types, problems) for o in operands]
        for op, (a, ka), (b, kb) in zip(node.ops, zip(operands, kinds), zip(operands[1:], kinds[1:])):
            if isinstance(op, ORDERING):
                for operand, kind in ((a, ka), (b, kb)):
                    _expect(operand, kind, (NUMBER, TEXT, DATE), problems)
                literal = isinstance(a, ast.Constant) or isinstance(b, ast.Constant)  # see _compare_problems
                if ka and kb and ka != kb and {ka, kb} <= {NUMBER, TEXT, DATE} and not literal:
                    problems.append(_("« %(a)s » (%(ka)s) comparé à « %(b)s » (%(kb)s)", a=_label(a), ka=ka,
                                      b=_label(b), kb=kb))
            elif isinstance(op, (ast.In, ast.NotIn)):
                _expect(b, kb, (LIST, TEXT, MAP), problems)
        return BOOL
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        kinds = [infer(a, types, problems) for a in node.args]
        for arg, kind, wanted in zip(node.args, kinds, FUNCTION_ARGUMENTS.get(node.func.id, ())):
            if wanted is not None:
                _expect(arg, kind, wanted if isinstance(wanted, tuple) else (wanted,), problems, node.func.id)
        if node.func.id in ("min", "max"):
            known = {k for k in kinds if k}
            return known.pop() if len(known) == 1 else None
        return FUNCTION_RESULTS.get(node.func.id)
    return None


def _expect(node, kind, wanted, problems, function=None) -> None:
    if kind is None or kind in wanted:
        return
    expected = " ou ".join(wanted)
    if function:
        problems.append(_("%(f)s(« %(a)s ») : %(w)s attendu, pas %(k)s", f=function, a=_label(node), w=expected, k=kind))
    else:
        problems.append(_("« %(a)s » est %(k)s : %(w)s attendu ici", a=_label(node), k=kind, w=expected))
