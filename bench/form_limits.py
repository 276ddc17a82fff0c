"""How long hostile definitions take to be refused (issue 15 §1: within a second each; the API
within two). Run: .venv/bin/python -m bench.form_limits"""
from __future__ import annotations

import time

from flask import Flask
from flask_babel import Babel

from app.domain.forms import definition

BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
    f"{x}: &{x} [{', '.join(['*' + p] * 9)}]" for p, x in zip("abcdefgh", "bcdefghi")])


def _form(expression):
    return {"code": "b", "title": "B", "version": 1, "kind": "evaluation", "sections": [{"code": "s", "title": "S", "items": [
        {"code": "x", "label": "x", "type": "integer"},
        {"code": "y", "label": "y", "type": "computed", "expression": expression}]}]}


CASES = {
    "YAML billion laughs (540 bytes)": lambda: definition.load(BOMB),
    "5,000 nested brackets in YAML": lambda: definition.load("a: " + "[" * 5000 + "]" * 5000),
    "6 MB of YAML": lambda: definition.load("title: " + "x" * (6 * 1024 * 1024)),
    "60,000 fields": lambda: definition.check({"code": "b", "title": "B", "version": 1, "kind": "evaluation",
                                               "sections": [{"code": "s", "title": "S", "items": [
                                                   {"code": f"c{i}", "label": "c", "type": "integer"}
                                                   for i in range(60_000)]}]}),
    "sum of 600 terms": lambda: definition.check(_form("+".join(["x"] * 600))),
    "900 unary minus": lambda: definition.check(_form("-" * 900 + "x")),
    "round(1, -1000000000)": lambda: definition.check(_form("round(x, -1000000000)")),
}


def main():
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        for name, case in CASES.items():
            started = time.perf_counter()
            try:
                case()
            except definition.InvalidDefinition:
                pass
            print(f"{name:35s} {1000 * (time.perf_counter() - started):8.1f} ms")


if __name__ == "__main__":
    main()
