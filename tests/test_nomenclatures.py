"""SERAFIN-PH: both numberings with the published mapping, browsable, searchable, and the only
codes a nomenclature field accepts."""
import pytest

from app.domain import nomenclatures
from app.domain.forms.engine import evaluate


def test_cnsa_codes_map_onto_exactly_the_ans_code_system():
    codes = nomenclatures.serafin()
    assert len(codes) == 109 and sum(c.leaf for c in codes.values()) == 73
    ans = nomenclatures.ans_codes()
    mapped = {c.ans_code: c for c in codes.values() if c.ans_code}
    assert set(mapped) == set(ans)  # every ANS code has its CNSA code, and only those
    assert codes["1.1.1.1"].ans_code == "1.1.1" and codes["2.2.1.3"].ans_code == "2.2.3"
    assert codes["1.1.1"].ans_code is None and codes["2.2.1"].ans_code is None  # CNSA-only groupings
    for code in codes.values():
        assert code.parent is None or code.parent in codes
        assert code.parent is None or code.code.startswith(code.parent + ".")


def test_search_ignores_accents_and_case_and_filters_by_kind():
    found = [c.code for c in nomenclatures.search("DOULEUR", "serafin_besoins")]
    assert found == ["1.1.1.3"]
    assert all(c.kind != "besoin" for c in nomenclatures.search("", "serafin_prestations"))
    assert {c.code for c in nomenclatures.search("3.2.4")} >= {"3.2.4", "3.2.4.1"}
    assert all(c.leaf for c in nomenclatures.choices("serafin_besoins"))


DEFINITION = {"code": "recueil", "version": 1, "kind": "evaluation", "sections": [{"code": "s", "title": "S", "items": [
    {"code": "besoins", "label": "Besoins", "type": "nomenclature", "nomenclature": "serafin_besoins"}]}]}


@pytest.mark.parametrize("value, ok", [
    (["1.1.1.3", "1.1.1.3"], True), ("1.1.1.3", True), (["1.1.1"], False), (["2.1.1.1"], False), (["9.9"], False),
    ([3], False),
])
def test_a_nomenclature_field_takes_leaf_codes_of_its_kind_only(value, ok):
    result = evaluate(DEFINITION, {"besoins": value})
    assert ("besoins" not in result.errors) is ok, result.errors


def test_pages_and_api(app, as_user, api):
    page = as_user("educ.sources").get("/nomenclatures/serafin-ph?q=douleur").data.decode()
    assert "1.1.1.3" in page and "Besoins en matière de douleur" in page and "1.1.3" in page
    body = api("educ.sources").get("/api/v1/nomenclatures/serafin-ph?nomenclature=serafin_besoins&leaves=1&q=sensorielles").json
    assert body["count"] == 1 and body["result"][0]["ans_code"] == "1.1.2"
    bad = api("educ.sources").get("/api/v1/nomenclatures/serafin-ph?nomenclature=autre")
    assert bad.status_code == 400 and "serafin_besoins" in bad.json["message"]
    assert as_user("educ.sources").get("/nomenclatures/serafin-ph?q=" + "x" * 5000).status_code == 200


def test_users_read_the_labels_without_the_published_typos(api):
    from app.domain import nomenclatures

    code = nomenclatures.serafin()["3.1.1.2"]
    assert "prévisionnelle" in code.label and "socIal" not in code.label
    assert "socIal" in code.published_label  # the published text stays in the data
    listed = api("educ.sources").get("/api/v1/nomenclatures/serafin-ph").data.decode()
    assert "socIal" not in listed
