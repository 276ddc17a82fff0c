"""Birth places come from the INSEE Code officiel géographique shipped with Sillage: a completion
list offers them, and a code INSEE does not know is refused on save (with a French message)."""
from __future__ import annotations

import datetime as dt

import pytest

from app.domain import places
from app.extensions import db
from app.security.scope import Scope
from app.services import usagers
from app.services.errors import ValidationFailed
from app.services.fake import COMMUNES

from . import factories as f


def test_the_dataset_knows_communes_arrondissements_former_communes_and_countries():
    assert places.label("63300") == "Riom"
    assert places.label("75056") == "Paris" and places.label("75115") == "Paris 15e Arrondissement"
    assert places.label("2A004") == "Ajaccio"
    assert places.label("99134") == "Espagne" and places.label("99352") == "Algérie"
    assert {p.kind for p in places.by_code("01340")} == {"D"}  # Saint-Bois, merged into Arboys en Bugey
    assert any(p.kind == "X" for p in places._places()[0])
    assert not places.exists("99999") and not places.exists("63999")


def test_search_by_name_ignores_accents_and_case_and_by_code_prefix():
    assert places.search("riom")[0].code == "63300"
    assert places.search("ALLEMAGNE")[0].code == "99109"  # the exact name first
    assert places.search("clermont-ferr")[0].code == "63113"
    assert all(p.code.startswith("631") for p in places.search("631"))
    assert places.search("") == [] and places.search("  ") == []


def test_demo_and_fake_data_use_known_codes():
    assert all(places.exists(code) for code, _name in COMMUNES)


def test_the_completion_endpoint_answers_those_who_write_identities(api):
    response = api("secretaire.tilleuls").get("/api/v1/lieux-naissance/?q=riom")
    assert response.status_code == 200
    first = response.json["result"][0]
    assert first == {"code": "63300", "libelle": "Riom", "type": "C", "type_libelle": "commune",
                     "departement": "63"}
    by_code = api("secretaire.tilleuls").get("/api/v1/lieux-naissance/?q=99134&limit=5").json
    assert by_code["count"] == 1 and by_code["result"][0]["libelle"] == "Espagne"


def test_the_completion_endpoint_is_refused_without_access_to_usagers(api, as_user, client):
    assert api("qualite").get("/api/v1/lieux-naissance/?q=riom").status_code == 403
    assert as_user("qualite").get("/api/v1/lieux-naissance/?q=riom").status_code == 403
    assert client.get("/api/v1/lieux-naissance/?q=riom").status_code == 401


def test_the_identity_forms_load_the_completion_script(as_user):
    page = as_user("secretaire.tilleuls").get("/dossier/nouveau").data.decode()
    assert "lieux-naissance.js" in page and 'data-url="/api/v1/lieux-naissance/"' in page


def _data(**values):
    return {"nom_naissance": f.unique_name("LIEU"), "prenoms_naissance": "Rose", "date_naissance": dt.date(1938, 2, 1),
            "sexe": "F", **values}


def test_an_unknown_insee_code_is_refused_in_french(ctx):
    with pytest.raises(ValidationFailed) as exc:
        usagers.create_usager(db.session, _data(lieu_naissance_code="63999"), scope=Scope.everything(),
                              etablissement_id=f.etablissement().id)
    assert exc.value.errors["lieu_naissance_code"].startswith("Code INSEE inconnu")


def test_a_known_code_alone_gets_its_name(ctx):
    usager = usagers.create_usager(db.session, _data(lieu_naissance_code="2a004"), scope=Scope.everything(),
                                   etablissement_id=f.etablissement().id)
    assert (usager.lieu_naissance_code, usager.lieu_naissance_libelle) == ("2A004", "Ajaccio")


def test_an_old_unknown_code_does_not_block_other_edits_until_changed(ctx):
    usager = f.gen_usager(lieu_naissance_code="63300")
    usager.lieu_naissance_code = "63999"  # typed before the list was checked
    db.session.commit()
    usagers.update_usager(db.session, usager, {"commune": "Riom"}, usager.version)
    with pytest.raises(ValidationFailed):
        usagers.update_usager(db.session, usager, {"lieu_naissance_code": "63998"}, usager.version)


def test_the_identity_panel_shows_the_error(app, as_user):
    with app.app_context():
        usager = f.gen_usager()
        uid, version = usager.id, usager.version
    page = as_user("secretaire.tilleuls").post(f"/dossier/{uid}/identite", data={
        "identite-version": version, "identite-nom_naissance": "Rose", "identite-prenoms_naissance": "Rose",
        "identite-date_naissance": "1940-05-17", "identite-sexe": "F", "identite-lieu_naissance_code": "00000"})
    assert page.status_code == 422 and "Code INSEE inconnu" in page.data.decode()
