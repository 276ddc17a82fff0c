"""Property test (issue 15, "done when"): random definitions and random answers. A definition is
refused with errors or accepted; an accepted one never raises when answers are checked and
computed, whatever they are — the engine's promise that a checked definition cannot fail at
fill time."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app.domain.forms import definition
from app.domain.forms.engine import evaluate

KINDS = ("text", "integer", "decimal", "yes_no", "single_choice", "multiple_choice", "date", "computed", "group")
NAMES = [f"f{i}" for i in range(8)]
ATOMS = st.one_of(st.sampled_from(NAMES), st.integers(-10**16, 10**16).map(str), st.sampled_from(
    ['"A"', '"B"', "True", "False", "None", "1.5", "today()", '"x" * 3']))
OPERATORS = st.sampled_from(["+", "-", "*", "/", "//", "%", "==", "!=", "<", ">=", "and", "or", "in"])


@st.composite
def expressions(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return draw(ATOMS)
    shape = draw(st.sampled_from(["binary", "call", "not", "paren"]))
    left = draw(expressions(depth=depth + 1))
    if shape == "binary":
        return f"{left} {draw(OPERATORS)} {draw(expressions(depth=depth + 1))}"
    if shape == "call":
        function = draw(st.sampled_from(["round", "len", "min", "max", "abs", "count", "sum", "int", "open"]))
        return f"{function}({left}, {draw(expressions(depth=depth + 1))})"
    return f"not {left}" if shape == "not" else f"({left})"


@st.composite
def fields(draw, index, depth=0):
    kind = draw(st.sampled_from(KINDS if depth == 0 else KINDS[:-1]))
    field = {"code": NAMES[index] if depth == 0 else f"{NAMES[index]}_{draw(st.integers(0, 3))}",
             "label": f"Champ {index}", "type": kind}
    if kind in ("single_choice", "multiple_choice"):
        field["options"] = [{"code": "A", "label": "A"}, {"code": "B", "label": "B"}]
    if kind == "computed":
        field["expression"] = draw(expressions())
    if kind == "group":
        field["items"] = [draw(fields(index, depth + 1)) for _ in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            field["repeat"] = {"max": draw(st.integers(1, 5))}
    if kind in ("integer", "decimal") and draw(st.booleans()):
        field["min"], field["max"] = sorted(draw(st.lists(st.integers(-10**6, 10**6), min_size=2, max_size=2)))
    if kind != "computed" and draw(st.integers(0, 3)) == 0:
        field["show_if"] = draw(expressions())
    if kind not in ("computed", "group") and draw(st.integers(0, 3)) == 0:
        field["required_if" if draw(st.booleans()) else "required"] = draw(expressions()) \
            if draw(st.booleans()) else True
    return field


@st.composite
def definitions(draw):
    count = draw(st.integers(1, len(NAMES)))
    return {"code": "propriete", "title": "Propriété", "version": 1, "kind": "evaluation",
            "sections": [{"code": "s", "title": "S", "items": [draw(fields(i)) for i in range(count)]}]}


ANSWERS = st.dictionaries(
    st.sampled_from(NAMES + [f"{n}_{i}" for n in NAMES for i in range(4)]),
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
              st.text(max_size=30), st.sampled_from(["A", "B", "2026-12-04", "31/02/2026"]),
              st.lists(st.sampled_from(["A", "B", "C", 3]), max_size=4),
              st.lists(st.dictionaries(st.sampled_from(NAMES), st.integers(-5, 5)), max_size=3)),
    max_size=10)


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=definitions(), answers=st.lists(ANSWERS, min_size=1, max_size=3))
def test_a_random_definition_is_refused_or_never_fails_on_any_answers(app, data, answers):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("no database involved: once is enough")
    with app.test_request_context("/"):
        text = definition.dump(data)
        try:
            loaded = definition.load(text)
        except definition.InvalidDefinition as refused:
            assert refused.errors and all(e.message for e in refused.errors)
            return
        for given_answers in answers:
            result = evaluate(loaded, given_answers)  # must not raise
            assert isinstance(result.errors, dict) and isinstance(result.computed, dict)
