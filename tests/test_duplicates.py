"""Identity vigilance: near duplicates are found when a dossier is created, each with why it
looks like the same person; one the user may not see is referred, never shown."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.domain import duplicates
from app.domain.phonetic import phonetic_key, soundex2
from app.extensions import db
from app.models import IdentityReferral, Usager
from app.security.scope import Scope
from app.services import usagers
from app.services.errors import DuplicateSuspected

from . import factories as f

ALL = Scope.everything()
_years = itertools.count(1901)


# --- the phonetic key ---------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [("Dupond", "DUPONT"), ("Éric", "eric"), ("Philippe", "Filipe"),
                                  ("Gauthier", "Gautier"), ("Thomas", "Tomas"), ("Lefèvre", "LEFEVRE"),
                                  ("Martin", "Martine"), ("Bernard", "BERNART")])
def test_names_that_sound_alike_share_a_soundex2_key(a, b):
    assert soundex2(a) == soundex2(b)


@pytest.mark.parametrize("name, key", [("Dupont", "DPN "), ("Martin", "MRTN"), ("Guillaume", "KLM "),
                                       ("Schmitt", "SMT "), ("Mac Donald", "MCDN"), ("Knight", "NG  "),
                                       ("Philippe", "FLP "), ("", "")])
def test_soundex2_follows_the_published_steps(name, key):
    assert soundex2(name) == key


def test_names_that_sound_different_do_not_meet():
    assert soundex2("Martin") != soundex2("Bertin")
    assert phonetic_key("Dupont", "Éric") != phonetic_key("Dupont", "Léon")


@given(st.text(max_size=30))
def test_soundex2_never_fails_on_any_text(name):
    key = soundex2(name)
    assert key == "" or (len(key) == 4 and key.rstrip(" ").isalpha())


# --- date slips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, known, code", [
    ((1941, 9, 3), (1941, 9, 30), "chiffres_inverses"),  # 03/09 typed for 30/09
    ((1941, 9, 30), (1941, 9, 30), ""),
    ((1941, 3, 9), (1941, 9, 3), "jour_mois"),
    ((1941, 9, 30), (1941, 9, 20), "un_chiffre"),
    ((1941, 9, 30), (1914, 9, 30), "chiffres_inverses"),
    ((1941, 9, 30), (1951, 9, 20), "deux_chiffres"),
    ((1941, 9, 30), (1962, 5, 30), None),
])
def test_a_birth_date_one_slip_away_is_recognised(typed, known, code):
    assert duplicates.date_slip(dt.date(*typed), dt.date(*known)) == code


@given(st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_every_slip_the_search_accepts_is_among_the_dates_it_looks_up(date):
    variants = duplicates.date_variants(date)
    assert date in variants and len(variants) < 100
    for other in variants:
        assert duplicates.date_slip(date, other) in ("", "jour_mois", "un_chiffre", "chiffres_inverses")


# --- near duplicates at creation -----------------------------------------------------------------

def _person(nom, prenoms, birth, **values):
    return f.gen_usager(nom_naissance=nom, prenoms_naissance=prenoms, date_naissance=birth, admitted=False, **values)


def _create(nom, prenoms, birth, scope=ALL, etab=f.TILLEULS):
    data = {"nom_naissance": nom, "prenoms_naissance": prenoms, "date_naissance": birth, "sexe": "M"}
    return usagers.create_usager(db.session, data, scope=scope, etablissement_id=f.etablissement(etab).id)


def _reasons_for(known, nom, prenoms, birth):
    with pytest.raises(DuplicateSuspected) as exc:
        _create(nom, prenoms, birth)
    found = {c.usager.id: c for c in exc.value.candidates}
    assert known.id in found, [c.usager.nom_naissance for c in exc.value.candidates]
    return found[known.id].reasons


def _birth(month=9, day=30):
    return dt.date(next(_years), month, day)


def test_dupond_eric_is_found_for_dupont_eric_leon_born_03_instead_of_30(ctx):
    family = f.unique_name("")
    birth = _birth()
    known = _person(family + "DUPONT", "Eric Leon", birth)
    reasons = _reasons_for(known, family + "Dupond", "Éric", birth.replace(day=3))
    assert reasons == ["nom phonétiquement proche", "deux chiffres inversés dans la date de naissance"]


def test_first_names_in_another_order(ctx):
    nom, birth = f.unique_name("ORDRE"), _birth()
    known = _person(nom, "Eric Leon", birth)
    assert _reasons_for(known, nom, "Léon Éric", birth) == ["prénoms dans un autre ordre"]


def test_one_digit_off_in_the_birth_date(ctx):
    nom, birth = f.unique_name("CHIFFRE"), _birth(day=14)
    known = _person(nom, "Paul", birth)
    assert _reasons_for(known, nom, "Paul", birth.replace(day=17)) == [
        "un chiffre de différence dans la date de naissance"]


def test_day_and_month_swapped(ctx):
    nom, birth = f.unique_name("INVERSE"), _birth(month=4, day=11)
    known = _person(nom, "Paul", birth)
    assert _reasons_for(known, nom, "Paul", birth.replace(month=11, day=4)) == ["jour et mois inversés"]


def test_first_name_that_sounds_the_same(ctx):
    nom, birth = f.unique_name("PRENOM"), _birth()
    known = _person(nom, "Philippe", birth)
    assert _reasons_for(known, nom, "Filipe", birth) == ["premier prénom phonétiquement proche"]


def test_birth_name_typed_as_the_used_name(ctx):
    nom, birth = f.unique_name("USAGE"), _birth()
    known = _person(f.unique_name("NAISSANCE"), "Paule", birth, nom_utilise=nom)
    assert _reasons_for(known, nom, "Paule", birth) == ["nom saisi égal au nom utilisé du dossier"]


def test_a_phonetic_namesake_two_digits_off_is_found_by_its_key(ctx):
    family, birth = f.unique_name(""), _birth()
    known = _person(family + "Gauthier", "Thomas", birth)
    far = dt.date(birth.year + 10, birth.month, birth.day - 10)  # not one slip away: the key finds it
    assert far not in duplicates.date_variants(birth)
    assert _reasons_for(known, family + "GAUTIER", "Tomas", far) == [
        "nom phonétiquement proche", "premier prénom phonétiquement proche",
        "deux chiffres de différence dans la date de naissance"]


def test_exact_match_comes_first_with_its_reason(ctx):
    nom, birth = f.unique_name("EXACT"), _birth()
    near = _person(nom, "Paul", birth.replace(day=20))
    exact = _person(nom, "Paul", birth)
    with pytest.raises(DuplicateSuspected) as exc:
        _create(nom.lower(), "PAUL", birth)
    assert [c.usager.id for c in exc.value.candidates] == [exact.id, near.id]
    assert exc.value.candidates[0].reasons == ["mêmes nom de naissance, premier prénom et date de naissance"]


def test_namesakes_born_another_day_and_twins_are_other_people(ctx):
    nom, birth = f.unique_name("HOMONYME"), _birth(month=6, day=15)
    _person(nom, "Paul", birth)
    _create(nom, "Paul", birth.replace(year=birth.year + 30, month=2, day=8))  # no error: created
    _create(nom, "Jacques", birth)  # a twin


def test_the_lookup_reads_indexed_rows_only(app):
    """The query asks for the phonetic key or a list of dates: no scan of the table in Python."""
    from .conftest import sql_statements

    nom, birth = f.unique_name("INDEX"), _birth()
    with app.app_context():
        _result, statements = sql_statements(app, lambda: usagers.find_duplicates(db.session, nom, ["Paul"], birth))
    lookups = [s for s in statements if "FROM usager" in s and "phon_key" in s]
    assert lookups and all("date_naissance IN" in s for s in lookups)


# --- scope --------------------------------------------------------------------------------------

def test_a_near_duplicate_the_user_cannot_see_is_counted_not_shown(app):
    from flask import g

    from app.models import User
    from app.security.scope import scope_for_user

    with app.app_context():
        family, birth = f.unique_name(""), _birth()
        elsewhere = _person(family + "DUPONT", "Eric", birth, etab_name=f.SOURCES).id
        with app.test_request_context("/"):
            user = db.session.execute(select(User).where(User.username == "secretaire.tilleuls")).scalar_one()
            g.sillage_scope = scope = scope_for_user(db.session, user)
            visible, hidden = usagers.find_duplicates(db.session, family + "Dupond", ["Éric"], birth.replace(day=3))
            assert visible == [] and hidden == [elsewhere]
            created = _create(family + "Dupond", "Éric", birth.replace(day=3), scope=scope)  # no error shown
            assert created.referred_to_identity
            created_id = created.id
        referral = db.session.execute(select(IdentityReferral).where(IdentityReferral.usager_id == created_id)).scalar_one()
        assert referral.candidate_ids == [elsewhere]


def test_the_new_usager_page_says_why_a_dossier_looks_the_same(app, as_user):
    client = as_user("secretaire.tilleuls")
    with app.app_context():
        family, birth = f.unique_name(""), _birth()
        known = _person(family + "DUPONT", "Eric Leon", birth)
        etab, known_id = f.etablissement().id, known.id
    page = client.post("/dossier/nouveau", data={
        "nouveau-nom_naissance": family + "Dupond", "nouveau-prenoms_naissance": "Éric",
        "nouveau-date_naissance": birth.replace(day=3).isoformat(), "nouveau-sexe": "M",
        "nouveau-etablissement_id": str(etab)})
    html = page.data.decode()
    assert page.status_code == 422 and "doublon possible" in html and f"/dossier/{known_id}" in html
    assert "nom phonétiquement proche" in html and "deux chiffres inversés dans la date de naissance" in html


def test_the_api_returns_the_reasons_with_each_duplicate(app, api):
    with app.app_context():
        nom, birth = f.unique_name("APIDOUBLON"), _birth(month=3, day=9)
        known = _person(nom, "Eric Leon", birth)
        etab, known_id = f.etablissement().id, known.id
    response = api("secretaire.tilleuls").post("/api/v1/usager/", json={
        "nom_naissance": nom, "prenoms_naissance": ["Leon", "Eric"], "date_naissance": "%d-09-03" % birth.year,
        "sexe": "M", "etablissement_id": etab})
    assert response.status_code == 409
    (dup,) = [d for d in response.json["duplicates"] if d["id"] == known_id]
    assert dup["reason_codes"] == ["prenoms_ordre", "jour_mois"]
    assert dup["reasons"] == ["prénoms dans un autre ordre", "jour et mois inversés"]


def test_anonymised_dossiers_are_never_candidates(ctx):
    nom, birth = f.unique_name("ANONYME"), _birth()
    gone = _person(nom, "Paul", birth)
    gone.anonymised_at = gone.archived_at = dt.datetime(2024, 1, 1)
    db.session.commit()
    visible, hidden = usagers.find_duplicates(db.session, nom, ["Paul"], birth)
    assert gone.id not in [c.usager.id for c in visible] + hidden
    assert db.session.get(Usager, gone.id).phon_key
