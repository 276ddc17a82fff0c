"""Form definitions: every error kind is reported with its YAML path and line, at save time."""
import copy

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from app.domain.forms import definition, engine, expressions
from app.services import forms

MINI = """\
code: essai
title: Essai
version: 1
kind: evaluation
sections:
  - code: s1
    title: Section
    items:
      - code: age
        label: Âge
        type: integer
        min: 0
        max: 130
      - code: autonome
        label: Autonome ?
        type: yes_no
      - code: niveau
        label: Niveau
        type: ordinal
        options:
          - {code: A, label: Bon}
          - {code: B, label: Moyen}
      - code: precision
        label: Précisez
        type: text
        show_if: autonome == False
        required: true
        required_message: Dites pourquoi.
      - code: double_age
        label: Double
        type: computed
        expression: age * 2
"""


def errors_of(text):
    with pytest.raises(definition.InvalidDefinition) as exc:
        definition.load(text)
    return exc.value.errors


def test_valid_definition_loads():
    assert definition.load(MINI)["code"] == "essai"


def test_yaml_syntax_error_has_its_line():
    [error] = errors_of(MINI.replace("title: Section", "title: [Section"))
    assert "YAML illisible" in error.message and error.line is not None


def test_missing_required_key_is_named():
    errors = errors_of(MINI.replace("kind: evaluation\n", ""))
    assert errors[0].path == "" and "kind" in errors[0].message


def test_unknown_type_points_at_the_field_and_line():
    errors = errors_of(MINI.replace("type: yes_no", "type: oui_non"))
    assert errors[0].path == "sections[0].items[1].type" and errors[0].line == 16


def test_duplicate_option_code_is_reported_with_path_and_line():
    errors = errors_of(MINI.replace("{code: B, label: Moyen}", "{code: A, label: Moyen}"))
    assert str(errors[0]) == "sections[0].items[2].options[1] : code « A » en double (ligne 22)"


def test_duplicate_field_code():
    errors = errors_of(MINI.replace("code: autonome", "code: age"))
    assert errors[0].path == "sections[0].items[1].code" and "en double" in errors[0].message


def test_unknown_field_in_show_if():
    errors = errors_of(MINI.replace("show_if: autonome == False", "show_if: autonomie == False"))
    assert errors[0].path == "sections[0].items[3].show_if" and "champ inconnu : autonomie" in errors[0].message
    assert errors[0].line == 26


def test_expression_syntax_error():
    errors = errors_of(MINI.replace("expression: age * 2", "expression: age * (2"))
    assert errors[0].path == "sections[0].items[4].expression" and "syntaxe" in errors[0].message


def test_type_mismatch_in_expression():
    errors = errors_of(MINI.replace("show_if: autonome == False", "show_if: age > 'vingt'"))
    assert "nombre, comparé au texte" in errors[0].message


def test_comparison_with_an_unknown_option():
    errors = errors_of(MINI.replace("show_if: autonome == False", "show_if: niveau == 'C'"))
    assert "n'a pas d'option 'C'" in errors[0].message


def test_forbidden_constructs_are_refused():
    for source in ("__import__('os')", "age.__class__", "[x for x in age]", "lambda: 1", "open('x')"):
        assert expressions.check(source, {"age": {"type": "integer"}}), source


def test_unknown_algorithm_and_output():
    errors = errors_of(MINI.replace("expression: age * 2", "algorithm: magie"))
    assert "algorithme inconnu « magie »" in errors[0].message
    errors = errors_of(MINI.replace("expression: age * 2", "algorithm: aggir\n        output: points"))
    assert "ne produit pas « points »" in errors[0].message


def test_min_above_max():
    errors = errors_of(MINI.replace("max: 130", "max: -1"))
    assert errors[0].path == "sections[0].items[0].min"


def test_unknown_key_is_reported():
    errors = errors_of(MINI.replace("        min: 0\n", "        minimum: 0\n"))
    assert "clé inconnue : minimum" in errors[0].message


def test_every_shipped_definition_round_trips_identically():
    for path in forms.FORMS_DIR.glob("*.yaml"):
        data = definition.load(path.read_text(encoding="utf-8"))
        text = definition.dump(data)
        again = definition.dump(definition.load(text))
        assert again == text, path.name


def test_hidden_fields_are_dropped_and_never_required():
    data = definition.load(MINI)
    shown = engine.evaluate(data, {"age": 30, "autonome": False})
    assert shown.errors == {"precision": "Dites pourquoi."}
    hidden = engine.evaluate(data, {"age": 30, "autonome": True, "precision": "inutile"})
    assert hidden.errors == {} and "precision" not in hidden.answers
    assert hidden.computed["double_age"] == 60


def test_wrong_types_are_field_errors():
    data = definition.load(MINI)
    result = engine.evaluate(data, {"age": "abc", "autonome": "oui", "niveau": "Z", "double_age": 4, "x": 1})
    assert set(result.errors) == {"age", "autonome", "niveau", "double_age", "x"}
    assert engine.evaluate(data, {"age": 131}).errors["age"] == "au plus 130"


ANSWER_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                          st.text(max_size=50), st.lists(st.text(max_size=5), max_size=3),
                          st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@settings(max_examples=300, deadline=None)
@given(answers=st.dictionaries(st.sampled_from(["age", "autonome", "niveau", "precision", "double_age", "zz"]),
                               ANSWER_VALUES, max_size=6))
def test_any_answers_give_errors_or_results_never_an_exception(answers):
    data = definition.load(MINI)
    result = engine.evaluate(data, answers)
    assert set(result.answers) <= {"age", "autonome", "niveau", "precision"}
    assert all(isinstance(message, str) for message in result.errors.values())


@settings(max_examples=300, deadline=None)
@given(source=st.text(max_size=40))
def test_any_expression_text_is_checked_without_crashing(source):
    problems = expressions.check(source, {"age": {"type": "integer"}})
    assert isinstance(problems, list)
    if not problems:
        expressions.evaluate(source, {"age": 3})


@settings(max_examples=150, deadline=None)
@given(mutation=st.sampled_from(["code", "title", "version", "kind", "sections", "type", "options", "label"]),
       value=st.one_of(st.none(), st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=2)))
def test_random_breakage_of_a_definition_is_reported_not_raised(mutation, value):
    data = yaml.safe_load(MINI)
    broken = copy.deepcopy(data)
    if mutation in ("type", "options", "label"):
        broken["sections"][0]["items"][2][mutation] = value
    else:
        broken[mutation] = value
    errors = definition.check(broken)
    assert all(isinstance(e, definition.DefinitionError) for e in errors)


def test_defaults_are_checked_like_answers_and_start_new_forms():
    good = MINI.replace("      - code: age\n", "      - code: age\n        default: 40\n", 1)
    assert good != MINI
    assert definition.defaults(definition.load(good))["age"] == 40
    bad = good.replace("default: 40", "default: quarante")
    assert any("valeur par défaut refusée" in e.message and e.path.endswith("default") for e in errors_of(bad))


@pytest.mark.parametrize("source, french", [
    ("(age + 1", "« ( » jamais fermé"), ("age)", "sans ouverture"), ('"abc', "guillemet non fermé"),
    ("age +", "expression incomplète"),
])
def test_expression_syntax_errors_read_in_french(source, french):
    with pytest.raises(expressions.ExpressionError) as refused:
        expressions.parse(source)
    assert french in str(refused.value) and "never" not in str(refused.value)
