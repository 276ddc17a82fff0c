"""Per-structure variants (issue 15 §4): an overlay on a base form, resolved against the base's
published version, re-resolved when the base publishes, conflicts listed, families counted."""
from __future__ import annotations

import pytest

from app.domain import clock
from app.domain.forms import definition as definitions
from app.extensions import db
from app.services import forms, indicators

from . import factories as f
from .test_evaluations import profile

ITEMS = ("  - {code: humeur, label: Humeur, type: single_choice, options: [{code: gaie, label: Gaie}, "
         "{code: triste, label: Triste}]}\n"
         "  - {code: sommeil, label: Sommeil, type: text}\n"
         "  - {code: poids, label: Poids, type: decimal}\n")


def _base(code, items=ITEMS):
    forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, "Base", items)))


def _variant(code, base, overlay, applies="applies_to:\n  categories:\n  - EHPAD\n"):
    return (f"code: {code}\ntitle: Variante de {base}\nversion: 1\nvariant_of: {base}\n{applies}"
            f"overlay:\n{overlay}")


OVERLAY = ("  hide: [sommeil]\n"
           "  relabel: {humeur: Humeur du jour}\n"
           "  add_options: {humeur: [{code: inquiete, label: Inquiète}]}\n"
           "  add_fields:\n  - section: s\n    after: humeur\n    items:\n"
           "    - {code: appetit, label: Appétit, type: yes_no}\n"
           "  add_sections:\n  - code: local\n    title: Propre à la structure\n    items:\n"
           "    - {code: remarque, label: Remarque, type: long_text}\n")


def _codes(data):
    return [field["code"] for field, _parts in definitions.all_fields(data)]


def test_a_variant_holds_only_its_overlay_and_resolves_against_the_base(app):
    with app.app_context():
        base, code = "vb_" + f.unique_name("").lower(), "vv_" + f.unique_name("").lower()
        _base(base)
        draft = forms.save_draft(db.session, _variant(code, base, OVERLAY))
        assert "Sommeil" not in draft.source_text and "poids" not in draft.source_text  # the overlay only
        data = draft.data
        assert data["variant_of"] == base and data["base_version"] == 1 and data["kind"] == "evaluation"
        assert _codes(data) == ["humeur", "appetit", "poids", "remarque"]
        humeur = data["sections"][0]["items"][0]
        assert humeur["label"] == "Humeur du jour" and [o["code"] for o in humeur["options"]] == [
            "gaie", "triste", "inquiete"]
        assert draft.family == base
        forms.publish(db.session, draft)
        result = forms.compute(db.session, code, {"humeur": "inquiete", "appetit": True})
        assert result.errors == {} and result.answers["humeur"] == "inquiete"


@pytest.mark.parametrize("overlay, where, expected", [
    ("  hide: [inconnu]\n", "overlay.hide[0]", "absent de la base"),
    ("  relabel: {inconnu: X}\n", "overlay.relabel.inconnu", "absent"),
    ("  add_options: {sommeil: [{code: a, label: A}]}\n", "overlay.add_options.sommeil", "champ à choix"),
    ("  add_options: {humeur: [{code: gaie, label: Gaie}]}\n", "overlay.add_options.humeur", "déjà"),
    ("  add_fields:\n  - section: nulle\n    items: [{code: x, label: X, type: text}]\n",
     "overlay.add_fields[0].section", "section"),
    ("  add_fields:\n  - section: s\n    items: [{code: poids, label: X, type: text}]\n", "", "double"),
    ("  nouveau: 1\n", "overlay", "inconnue"),
])
def test_an_overlay_that_does_not_fit_its_base_is_refused_with_its_line(app, overlay, where, expected):
    with app.app_context():
        base, code = "vb_" + f.unique_name("").lower(), "vv_" + f.unique_name("").lower()
        _base(base)
        with pytest.raises(definitions.InvalidDefinition) as refused:
            forms.save_draft(db.session, _variant(code, base, overlay))
        db.session.rollback()
        errors = refused.value.errors
        assert any(expected in e.message for e in errors), [str(e) for e in errors]
        if where:
            assert any(e.path == where and e.line for e in errors), [str(e) for e in errors]
        assert forms.versions(db.session, code) == []


def test_a_variant_needs_a_published_base_that_is_not_itself_a_variant(app):
    with app.app_context():
        base, code = "vb_" + f.unique_name("").lower(), "vv_" + f.unique_name("").lower()
        with pytest.raises(definitions.InvalidDefinition, match="non publié"):
            forms.save_draft(db.session, _variant(code, base, "  hide: [sommeil]\n"))
        db.session.rollback()
        _base(base)
        forms.publish(db.session, forms.save_draft(db.session, _variant(code, base, "  hide: [sommeil]\n")))
        with pytest.raises(definitions.InvalidDefinition, match="elle-même une variante|lui-même une variante"):
            forms.save_draft(db.session, _variant(code + "_2", code, "  hide: [poids]\n"))
        db.session.rollback()


def test_a_new_base_version_reaches_its_variants_and_conflicts_are_listed_until_fixed(app, as_user):
    with app.app_context():
        base = "vb_" + f.unique_name("").lower()
        follows, breaks = "vv_" + f.unique_name("").lower(), "vw_" + f.unique_name("").lower()
        _base(base)
        forms.publish(db.session, forms.save_draft(db.session, _variant(follows, base, "  hide: [poids]\n")))
        forms.publish(db.session, forms.save_draft(db.session, _variant(breaks, base, "  hide: [sommeil]\n")))
        # the base drops "sommeil" and adds a field
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(
            base, "Base", ITEMS.replace("  - {code: sommeil, label: Sommeil, type: text}\n",
                                        "  - {code: douleur, label: Douleur, type: integer}\n"), version=2)))
        following = forms.get(db.session, follows)
        assert following.version == 2 and following.data["base_version"] == 2
        assert _codes(following.data) == ["humeur", "douleur"]
        kept = forms.get(db.session, breaks)
        assert kept.version == 1 and kept.data["base_version"] == 1  # its last good resolution
        conflicts = forms.variant_conflicts(db.session)
        assert list(conflicts) == [breaks] and "sommeil" in conflicts[breaks][0]
    page = as_user("qualite").get("/formulaires/").data.decode()
    assert "Variantes à mettre à jour" in page and breaks in page
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, _variant(breaks, base, "  hide: [douleur]\n")))
        assert forms.get(db.session, breaks).data["base_version"] == 2
        assert forms.variant_conflicts(db.session) == {}


def test_the_editor_shows_the_overlay_and_the_resolved_form_the_builder_sends_there(app, as_user):
    with app.app_context():
        base, code = "vb_" + f.unique_name("").lower(), "vv_" + f.unique_name("").lower()
        _base(base)
        forms.save_draft(db.session, _variant(code, base, OVERLAY))
    quality = as_user("qualite")
    page = quality.get(f"/formulaires/{code}/brouillon").data.decode()
    assert "Formulaire résolu" in page and "appetit" in page and "poids" in page
    response = quality.get(f"/formulaires/{code}/constructeur")
    assert response.status_code == 302 and response.location.endswith(f"/formulaires/{code}/brouillon")


def test_the_api_takes_a_variant_and_reports_variants_that_cannot_follow(app, api):
    quality = api("qualite")
    base, code = "vb_" + f.unique_name("").lower(), "vv_" + f.unique_name("").lower()
    assert quality.put(f"/api/v1/forms/{base}/draft", json={"source": f.grid_yaml(base, "Base", ITEMS)}).status_code == 200
    assert quality.post(f"/api/v1/forms/{base}/publish", json={}).status_code == 200
    response = quality.put(f"/api/v1/forms/{code}/draft", json={"source": _variant(code, base, "  hide: [poids]\n")})
    assert response.status_code == 200, response.json
    assert quality.post(f"/api/v1/forms/{code}/publish", json={}).status_code == 200
    summary = quality.get(f"/api/v1/forms/{code}").json
    assert summary["result"]["variant_of"] == base if "result" in summary else summary["variant_of"] == base
    refused = quality.put(f"/api/v1/forms/{code}/draft", json={"source": _variant(code, base, "  hide: [nul]\n")})
    assert refused.status_code == 422 and refused.json["message"]["source"][0].startswith("ligne ")
    narrower = ITEMS.replace("  - {code: poids, label: Poids, type: decimal}\n", "")
    assert quality.put(f"/api/v1/forms/{base}/draft",
                       json={"source": f.grid_yaml(base, "Base", narrower, version=2)}).status_code == 200
    published = quality.post(f"/api/v1/forms/{base}/publish", json={"confirm": True})
    assert published.status_code == 200 and list(published.json["variant_conflicts"]) == [code]


def test_the_gmp_counts_a_gir_entered_through_a_variant_of_aggir(app, api):
    with app.app_context():
        code = "aggir_" + f.unique_name("").lower()
        forms.publish(db.session, forms.save_draft(db.session, _variant(
            code, "aggir", "  relabel: {gestion: Gestion (argent de poche)}\n")))
        usager = f.gen_usager()
        etab = f.etablissement().id
        on = clock.today()
        before = indicators.gmp(db.session, etab, on)
        forms.save_evaluation(db.session, usager=usager, code=code, version=None, status="validated",
                              answers=profile({"toilette": "C", "habillage": "C"}), evaluated_on=on)
        after = indicators.gmp(db.session, etab, on)
        assert after.evaluated == before.evaluated + 1 and usager.id not in after.missing
        assert after.distribution[3] == before.distribution[3] + 1
