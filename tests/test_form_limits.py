"""No definition can hurt the server, and expressions mean what they say (issue 15 §1-2): YAML
bombs, huge or deep definitions and expressions, unbounded numbers are refused at save with their
line, fast; computed fields follow their dependencies, cycles are refused, hidden means empty,
computed fields work per line of a repeat, required_if, option codes, unknown lists."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from app.domain import clock
from app.domain.forms import definition, expressions
from app.domain.forms.engine import evaluate
from app.extensions import db
from app.models import AuditEvent

from . import factories as f

BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
    f"{x}: &{x} [{', '.join(['*' + p] * 9)}]" for p, x in zip("abcdefgh", "bcdefghi")])


def form(*items, code="limites", sections=None):
    return {"code": code, "title": "Limites", "version": 1, "kind": "evaluation",
            "sections": sections or [{"code": "s", "title": "S", "items": list(items)}]}


def computed(code, expression, **extra):
    return {"code": code, "label": code, "type": "computed", "expression": expression, **extra}


def number(code, **extra):
    return {"code": code, "label": code, "type": "integer", **extra}


def problems(data) -> str:
    return " | ".join(str(e) for e in definition.check(data))


def refused_quickly(text: str) -> str:
    with pytest.raises(definition.InvalidDefinition) as exc:
        definition.load(text)
    return str(exc.value)


def test_a_yaml_bomb_a_huge_or_deep_definition_is_refused_within_a_second():
    assert "alias" in refused_quickly(BOMB)
    assert "imbrication" in refused_quickly("a: " + "[" * 5000 + "]" * 5000)
    assert "trop longue" in refused_quickly("title: " + "x" * (6 * 1024 * 1024))
    many = form(*[number(f"c{i}") for i in range(60_000)])
    assert "trop de champs" in problems(many) or "trop volumineuse" in problems(many)
    definition.load(open("forms/aggir.yaml", encoding="utf-8").read())  # its aliases stay fine


@pytest.mark.parametrize("source, message", [
    ("round(x, -1000000000)", "round"),
    ("+".join(["x"] * 600), "trop"),
    (" + ".join(f"abs(x{'+x' * 10})" for _ in range(40)), "trop complexe"),
    ("-" * 900 + "x", "trop"),
    ("abs(" * 100 + "x" + ")" * 100, "trop imbriquée"),
    ("(" * 5000 + "x" + ")" * 5000, "trop long"),
    ("x * 10000000000000000", "hors limites"),
])
def test_expressions_are_bounded_at_save(source, message):
    found = problems(form(number("x"), computed("y", source)))
    assert message in found and "items[1].expression" in found


def test_numbers_beyond_the_bound_are_an_error_at_fill_time_not_a_500():
    data = form(number("x"), computed("a", "x * x"), computed("b", "a * a"), computed("c", "b * b"))
    assert problems(data) == ""
    result = evaluate(data, {"x": 10 ** 6})
    assert result.computed["a"] == 10 ** 12 and "b" not in result.computed and "c" not in result.computed
    assert "hors limites" in result.errors["b"]
    assert "hors limites" in evaluate(data, {"x": 10 ** 16}).errors["x"]


def test_random_bounded_expressions_never_raise():
    rng = random.Random(14)
    atoms = ["x", "y", "1", "0", "-3", "2.5", "'a'", "None", "True", "[1, 2]"]
    ops = ["+", "-", "*", "/", "//", "%", "==", "<", "and", "or"]
    data_fields = [number("x"), {"code": "y", "label": "y", "type": "text"}]
    for _ in range(400):
        parts = [rng.choice(atoms)]
        for _ in range(rng.randint(0, 12)):
            parts += [rng.choice(ops), rng.choice(atoms)]
        source = " ".join(parts)
        if rng.random() < 0.3:
            source = f"{rng.choice(['len', 'abs', 'round', 'min', 'max', 'present'])}({source})"
        result = evaluate(form(*data_fields, computed("z", source)),
                          {"x": rng.choice([0, 7, 10 ** 15]), "y": rng.choice(["", "abc"])})
        assert isinstance(result.errors, dict)  # whatever the value: no exception


def test_computed_fields_follow_their_dependencies_not_the_file_order():
    data = form(computed("ca", "cb + 1"), computed("cb", "x * 2"), number("x"))
    assert problems(data) == ""
    assert evaluate(data, {"x": 5}).computed == {"cb": 10, "ca": 11}


def test_a_cycle_is_refused_at_save_naming_the_fields():
    found = problems(form(computed("c1", "c2 + 1"), computed("c2", "c1 + 1"), number("x")))
    assert "dépendance circulaire : c1 → c2 → c1" in found
    assert "c3 → c3" in problems(form(computed("c3", "c3 + 1")))
    assert "dépendance circulaire" in problems(form(number("a", show_if="b > 1"), number("b", show_if="a > 1")))


def test_a_hidden_field_counts_as_empty_elsewhere():
    data = form({"code": "fume", "label": "Fume", "type": "yes_no"},
                number("cigarettes", show_if="fume == True"),
                computed("paquets", "cigarettes / 20"),
                {"code": "note_tabac", "label": "Note", "type": "text", "show_if": "cigarettes > 10"})
    assert problems(data) == ""
    result = evaluate(data, {"fume": False, "cigarettes": 40, "note_tabac": "ancien"})
    assert "cigarettes" in result.hidden and "note_tabac" in result.hidden
    assert "paquets" not in result.computed and result.answers == {"fume": False}
    assert evaluate(data, {"fume": True, "cigarettes": 40}).computed == {"paquets": 2}


def test_computed_fields_inside_a_repeat_are_computed_per_line():
    data = form({"code": "prises", "label": "Prises", "type": "group", "repeat": {"min": 0},
                 "items": [number("dose"), number("fois"), computed("total", "dose * fois")]},
                computed("lignes", "len(prises)"))
    assert problems(data) == ""
    result = evaluate(data, {"prises": [{"dose": 2, "fois": 3}, {"dose": 5, "fois": 1, "total": 999}]})
    assert result.errors == {}
    assert result.computed == {"prises": [{"total": 6}, {"total": 5}], "lignes": 2}
    assert result.answers["prises"] == [{"dose": 2, "fois": 3}, {"dose": 5, "fois": 1}]


def test_required_takes_a_boolean_and_required_if_a_condition():
    assert "required_if" in problems(form(number("x", required="x > 3")))
    data = form(number("age"), {"code": "tuteur", "label": "Tuteur", "type": "text", "required_if": "age < 18",
                                "required_message": "Nommez le tuteur."})
    assert problems(data) == ""
    assert evaluate(data, {"age": 12}).errors == {"tuteur": "Nommez le tuteur."}
    assert evaluate(data, {"age": 40}).errors == {}
    assert "champ inconnu" in problems(form({"code": "t", "label": "T", "type": "text", "required_if": "nope > 1"}))


@pytest.mark.parametrize("options, message", [
    ([{"code": 1, "label": "Un"}, {"code": "1", "label": "Un bis"}], "en double"),
    ([{"code": "", "label": "Vide"}], "invalide"),
    ([{"code": "a b", "label": "Espace"}], "invalide"),
])
def test_option_codes_are_unique_as_strings_non_empty_and_codes(options, message):
    assert message in problems(form({"code": "choix", "label": "Choix", "type": "single_choice", "options": options}))


def test_the_editor_refuses_a_bomb_and_an_unknown_list_with_their_line(app, as_user):
    client = as_user("qualite")
    code = "liste_" + f.unique_name("").lower()
    assert client.post("/formulaires/aggir/cloner", data={"new_code": code}).status_code == 302
    refused = client.post(f"/formulaires/{code}/brouillon", data={"source": BOMB})
    assert refused.status_code == 422 and "alias" in refused.data.decode()
    source = (f"code: {code}\ntitle: Liste\nversion: 1\nkind: evaluation\nsections:\n"
              "  - code: s\n    title: S\n    items:\n      - code: motif\n        label: Motif\n"
              "        type: list_choice\n        list: a_choisir\n")
    refused = client.post(f"/formulaires/{code}/brouillon", data={"source": source})
    text = refused.data.decode()
    assert refused.status_code == 422 and "a_choisir" in text and "inconnue" in text and "ligne 12" in text


def test_a_definition_is_not_copied_into_the_audit_trail(app):
    from app.services import forms

    with app.app_context():
        code = "copie_" + f.unique_name("").lower()
        marker = "DEFINITION-" + code
        forms.save_draft(db.session, f"code: {code}\ntitle: {marker}\nversion: 1\nkind: evaluation\nsections:\n"
                                     "  - code: s\n    title: S\n    items:\n      - {code: x, label: X, type: integer}\n")
        changes = db.session.execute(select(AuditEvent.changes).where(AuditEvent.entity == "FormDefinition")
                                     .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert marker not in str(changes) and changes["source_text"] == "modifié"
    assert expressions.MAX_NUMBER == 10 ** 15


@pytest.mark.parametrize("source, message", [
    ("nom + 1", "types incompatibles"),
    ("len(age_ans)", "len(« age_ans »)"),
    ("age_ans > nom", "comparé à"),
    ("nom * 2", "nombre attendu"),
    ("abs(nom)", "abs(« nom »)"),
    ("double + nom", "types incompatibles"),  # a computed field's type is inferred from its expression
])
def test_operators_are_type_checked_at_save(source, message):
    fields = [{"code": "nom", "label": "Nom", "type": "text"}, number("age_ans"), computed("double", "age_ans * 2")]
    assert message in problems(form(*fields, computed("c", source)))
    assert problems(form(*fields, computed("ok", "len(nom) + age_ans + double"))) == ""


def test_prefill_offers_today_the_usager_and_the_last_validated_value_through_the_secret(app, as_user, make_user):
    from flask import g

    from app.models import Usager
    from app.security.scope import scope_for_user
    from app.services import forms

    suffix = f.unique_name("").lower()
    source, code = "src_" + suffix, "prefill_" + suffix
    with app.app_context():
        usager = f.gen_usager()
        uid, birth = usager.id, usager.date_naissance
        for text in (f.grid_yaml(source, "Source", "  - {code: score, label: Score, type: integer}")
                     .replace("sensitivity: soins", "sensitivity: medical"),
                     f.grid_yaml(code, "Préremplie", "\n".join([
                         "  - {code: le, label: Le, type: date, prefill: today}",
                         "  - {code: age, label: Âge, type: integer, prefill: usager.age}",
                         "  - {code: etab, label: Établissement, type: text, prefill: usager.etablissement}",
                         f"  - {{code: score, label: Dernier score, type: integer, prefill: {source}.score}}"]))):
            forms.publish(db.session, forms.save_draft(db.session, text))
        forms.save_evaluation(db.session, usager=usager, code=source, version=1, status="validated",
                              answers={"score": 17})
        data = forms.get(db.session, code).data
    assert "prefill attendu" in problems(form({"code": "x", "label": "X", "type": "text", "prefill": "ailleurs"}))
    educator = make_user("educ.tilleuls", "Éducatif", [f.TILLEULS])
    today = clock.today()
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    for username, score in (("soin.tilleuls", 17), (educator, None)):
        with app.test_request_context("/"):
            g.sillage_scope = scope_for_user(db.session, app.appbuilder.sm.find_user(username=username))
            answers = forms.starting_answers(db.session, data, db.session.get(Usager, uid))
            assert answers["le"] == today.isoformat() and answers["age"] == age and answers["etab"] == f.TILLEULS
            assert answers.get("score") == score, username  # a medical value only to who reads it
            db.session.rollback()


def test_the_pch_criterion_counts_moving_about_once():
    """CASF annexe 2-5: "se déplacer (dans le logement, à l'extérieur)" is one activity."""
    data = definition.load(open("forms/geva.yaml", encoding="utf-8").read())
    both = evaluate(data, {"capacites": {"deplacer_logement": "C", "deplacer_exterieur": "C"}}).computed
    assert both["difficultes_graves"] == 1 and both["eligibilite_pch"] is False
    worse = evaluate(data, {"capacites": {"deplacer_logement": "B", "deplacer_exterieur": "D"}}).computed
    assert worse["difficultes_absolues"] == 1 and worse["eligibilite_pch"] is True
    two = evaluate(data, {"capacites": {"deplacer_exterieur": "C", "marcher": "C"}}).computed
    assert two["difficultes_graves"] == 2 and two["eligibilite_pch"] is True
    assert "eligibilite_pch" not in evaluate(data, {}).computed


def test_control_characters_are_refused_with_their_line():
    assert "U+0000" in refused_quickly("code: x\ntitle: a\x00b\n") and "ligne 2" in refused_quickly("code: x\ntitle: a\x00b\n")
