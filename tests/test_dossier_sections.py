"""Dossier sections: definitions of kind dossier_section are panels of the dossier where they
apply, edited in place, every save kept as history; the shared secret applies to them."""
import html

import pytest

from app.extensions import db
from app.services import forms

from . import factories as f


@pytest.fixture
def ehpad_id(app):
    with app.app_context():
        return f.gen_usager(f.TILLEULS).id


@pytest.fixture
def ime_id(app):
    with app.app_context():
        return f.gen_usager(f.SOURCES).id


def text(response):
    return html.unescape(response.data.decode())


def test_shipped_sections_are_published_and_apply_by_category(app, as_user, ehpad_id, ime_id):
    with app.app_context():
        codes = {d.code: d.kind for d in forms.published(db.session)}
    assert codes["habitudes_de_vie"] == codes["scolarite"] == "dossier_section"
    ehpad = text(as_user("direction").get(f"/dossier/{ehpad_id}"))
    assert 'id="section-habitudes_de_vie"' in ehpad and 'id="section-scolarite"' not in ehpad
    ime = text(as_user("educ.sources").get(f"/dossier/{ime_id}"))
    assert 'id="section-scolarite"' in ime and "Pas encore renseigné." in ime


def test_a_section_is_saved_in_place_and_keeps_its_history(app, as_user, ime_id):
    educ = as_user("educ.sources")
    url = f"/dossier/{ime_id}/sections/scolarite"
    first = educ.post(url, data={"a-annee_scolaire": "2025-2026", "a-modalite": "unite_enseignement", "a-pps": "oui",
                                 "a-pps_date": "2025-09-01", "a-heures_semaine": "12"})
    assert first.status_code == 302 and first.headers["Location"].endswith("#section-scolarite")
    educ.post(url, data={"a-annee_scolaire": "2026-2027", "a-modalite": "ulis", "a-niveau": "CE2"})
    page = text(educ.get(f"/dossier/{ime_id}"))
    assert "Classe ordinaire avec ULIS" in page and "2026-2027" in page  # the current values, in words
    assert "Historique (2 enregistrements)" in page
    with app.app_context():
        saved = [e for e in forms.evaluations_of(db.session, ime_id) if e.form_code == "scolarite"]
        assert [e.answers["annee_scolaire"] for e in saved] == ["2026-2027", "2025-2026"]
        old = saved[1].id
    assert "Unité d'enseignement dans l'établissement" in text(educ.get(f"/dossier/{ime_id}/evaluations/{old}"))
    assert "2026-2027" in text(educ.get(url))  # the section alone, prefilled with the current values


def test_the_section_form_loads_when_its_panel_opens_prefilled(as_user, ime_id):
    educ = as_user("educ.sources")
    url = f"/dossier/{ime_id}/sections/scolarite"
    educ.post(url, data={"a-annee_scolaire": "2026-2027", "a-modalite": "ulis", "a-niveau": "CE2"})
    page = text(educ.get(f"/dossier/{ime_id}"))
    # the page carries the panel and where to fetch its form, not the form itself
    assert f'data-form-url="{url}/formulaire"' in page and 'data-draft="section-scolarite"' not in page
    fragment = educ.get(f"{url}/formulaire")
    assert fragment.status_code == 200 and "<html" not in fragment.data.decode()
    form = text(fragment)
    assert f'action="{url}"' in form and 'data-draft="section-scolarite"' in form
    assert 'value="2026-2027"' in form and 'name="csrf_token"' in form


def test_a_refused_section_shows_french_errors_and_keeps_the_typing(as_user, ime_id):
    response = as_user("educ.sources").post(f"/dossier/{ime_id}/sections/scolarite",
                                            data={"a-annee_scolaire": "2026", "a-niveau": "CM1 (saisi)",
                                                  "a-modalite": "ordinaire"})
    assert response.status_code == 422
    page = text(response)
    assert "Écrivez l'année sous la forme 2026-2027." in page and "CM1 (saisi)" in page


def test_sections_follow_the_shared_secret_and_the_scope(as_user, ehpad_id, ime_id):
    # DPO reads only the administratif category: the social-educational section is absent
    assert 'id="section-habitudes_de_vie"' not in text(as_user("dpo").get(f"/dossier/{ehpad_id}"))
    nurse = as_user("soin.tilleuls")  # reads social_educatif, does not write it
    page = text(nurse.get(f"/dossier/{ehpad_id}"))
    assert 'id="section-habitudes_de_vie"' in page and "sections/habitudes_de_vie" not in page
    assert nurse.post(f"/dossier/{ehpad_id}/sections/habitudes_de_vie", data={"a-lever": "8 h"}).status_code == 404
    assert nurse.get(f"/dossier/{ehpad_id}/sections/habitudes_de_vie/formulaire").status_code == 404
    assert as_user("educ.sources").get(f"/dossier/{ehpad_id}/sections/habitudes_de_vie/formulaire").status_code == 404
    assert as_user("educ.sources").post(f"/dossier/{ehpad_id}/sections/habitudes_de_vie").status_code == 404
    assert as_user("educ.sources").get(f"/dossier/{ime_id}/sections/inconnue").status_code == 404
