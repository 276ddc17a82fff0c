"""Safe expressions for `show_if`, constraints and simple computed values (simpleeval, never eval).

Expressions are checked when a definition is saved: syntax, known names, allowed functions, and
comparisons of a field with a literal of the wrong type or an option it does not have.
"""
from __future__ import annotations

import ast
import datetime as dt

from flask_babel import gettext as _
from simpleeval import EvalWithCompoundTypes, InvalidExpression

FUNCTIONS = {
    "len": lambda v: len(v) if v is not None else 0,
    "abs": abs, "min": min, "max": max, "round": round,
    "present": lambda v: v not in (None, "", [], {}),
    # count(matrix_or_list, value): how many rows of a matrix (or items of a list) hold `value`
    "count": lambda v, x: sum(1 for i in (v.values() if isinstance(v, dict) else v or []) if i == x),
    "age": lambda d: (dt.date.today() - dt.date.fromisoformat(str(d)[:10])).days // 365 if d else None,
}
NUMERIC = {"integer", "decimal", "computed_number"}
TEXTUAL = {"text", "long_text", "single_choice", "ordinal", "list_choice", "date", "datetime"}


class ExpressionError(ValueError):
    pass


def parse(source: str) -> ast.AST:
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError(_("expression vide"))
    if len(source) > 2000:
        raise ExpressionError(_("expression trop longue (2000 caractères au plus)"))
    try:
        return ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(_("syntaxe invalide (%(m)s, colonne %(c)s)", m=exc.msg, c=exc.offset)) from None


ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
                 ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv, ast.Compare,
                 ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
                 ast.Name, ast.Load, ast.Constant, ast.Call, ast.List, ast.Tuple, ast.IfExp)


def check(source: str, fields: dict) -> list[str]:
    """Problems of an expression against the definition's fields {code: field dict}."""
    try:
        tree = parse(source)
    except ExpressionError as exc:
        return [str(exc)]
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            problems.append(_("construction non permise : %(n)s", n=type(node).__name__))
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                problems.append(_("fonction inconnue : %(n)s", n=ast.unparse(node.func)))
        elif isinstance(node, ast.Name) and node.id not in fields and node.id not in FUNCTIONS \
                and node.id not in ("True", "False", "None"):
            problems.append(_("champ inconnu : %(n)s", n=node.id))
        elif isinstance(node, ast.Compare):
            problems.extend(_compare_problems(node, fields))
    return problems


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
    evaluator = EvalWithCompoundTypes(names=dict(names), functions=FUNCTIONS)
    try:
        return evaluator.eval(source.strip())
    except (InvalidExpression, TypeError, ValueError, ZeroDivisionError, OverflowError, KeyError):
        return None
