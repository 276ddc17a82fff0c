"""The directors' GMP page (issue 15 §7): figures of each établissement seen, the GIR distribution
as a chart and a table, twelve months, and the residents without a valid GIR — never silent."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from app.domain import clock
from app.extensions import db
from app.models import User
from app.security.scope import scope_for_user
from app.services import forms, indicators

from . import factories as f
from .conftest import sql_statements
from .test_evaluations import profile


def _resident_with_gir(letters):
    usager = f.gen_usager()
    forms.save_evaluation(db.session, usager=usager, code="aggir", version=None, status="validated",
                          answers=profile(letters), evaluated_on=clock.today())
    return usager


def test_direction_reads_the_gmp_the_distribution_and_who_has_no_gir(app, as_user):
    with app.app_context():
        rated = _resident_with_gir({"toilette": "C", "habillage": "C"})  # GIR 3
        unrated = f.gen_usager()
        etab = f.etablissement().id
        names = rated.display_name, unrated.display_name
        expected = indicators.gmp(db.session, etab, clock.today())
    page = as_user("direction").get(f"/indicateurs/gmp?etablissement={etab}")
    assert page.status_code == 200
    body = page.data.decode()
    assert "Répartition des GIR" in body and 'class="gir-chart"' in body and "Sur douze mois" in body
    assert names[1] in body and f"/dossier/{unrated.id}" in body  # named, with a link to the dossier
    gmp_text = ("%.1f" % expected.gmp).replace(".", ",").replace(",0", "")
    assert gmp_text in body and "True" not in body and "None" not in body
    assert as_user("direction").get("/indicateurs/gmp?date=hier").status_code == 200  # a French error, no 500
    assert "Date invalide" in as_user("direction").get("/indicateurs/gmp?date=hier").data.decode()


def test_the_page_is_for_pilots_only_and_within_their_etablissements(app, as_user, make_user):
    with app.app_context():
        sources = f.etablissement(f.SOURCES).id
    chief = make_user("chef.tilleuls.gmp", "Chef de service", [f.TILLEULS])
    assert as_user(chief).get("/indicateurs/gmp").status_code == 200
    assert as_user(chief).get(f"/indicateurs/gmp?etablissement={sources}").status_code == 404
    assert as_user(chief).get("/indicateurs/gmp?etablissement=99999999999").status_code == 404
    for username in ("soin.tilleuls", "secretaire.tilleuls", "qualite"):
        assert as_user(username).get("/indicateurs/gmp").status_code in (302, 403), username


def test_the_gmp_counts_girs_whatever_the_categories_of_who_asks(app):
    """A secretary reads no care data; the GMP is still computed from every validated GIR."""
    with app.app_context():
        rated = _resident_with_gir({"toilette": "C", "habillage": "C"})
        etab = f.etablissement().id
        with app.test_request_context("/"):
            user = db.session.execute(select(User).where(User.username == "secretaire.tilleuls")).scalar_one()
            g.sillage_scope = scope_for_user(db.session, user)
            figures = indicators.gmp(db.session, etab, clock.today())
            db.session.rollback()
        assert rated.id not in figures.missing and figures.evaluated >= 1


def test_occupancy_through_the_api_per_service_and_against_the_authorised_capacity(app, api, make_user):
    from app.models import Capacite

    with app.app_context():
        etab = f.etablissement()
        etab_id, sources = etab.id, f.etablissement(f.SOURCES).id
        capacities = {c.modalite.code: c.places for c in db.session.execute(
            select(Capacite).where(Capacite.etablissement_id == etab_id)).scalars()}
        f.gen_usager()  # one more admitted today
    body = api("direction").get(f"/api/v1/indicateurs/occupation?etablissement_id={etab_id}&date="
                                f"{clock.today().isoformat()}").json
    assert body["etablissement_id"] == etab_id and body["date"] == clock.today().isoformat()
    per_service = [line for line in body["lignes"] if line["service_id"] is not None]
    totals = {line["modalite"]: line for line in body["lignes"] if line["service_id"] is None}
    assert per_service and all(line["capacite"] is None and line["taux"] is None for line in per_service)
    for code, line in totals.items():
        assert line["occupes"] == sum(s["occupes"] for s in per_service if s["modalite"] == code)
        if capacities.get(code):
            assert line["capacite"] == capacities[code] and line["taux"] == round(line["occupes"] / capacities[code], 4)
    past = api("direction").get(f"/api/v1/indicateurs/occupation?etablissement_id={etab_id}&date=1990-01-01").json
    assert all(line["occupes"] == 0 for line in past["lignes"])
    chief = make_user("chef.tilleuls.occ", "Chef de service", [f.TILLEULS])
    assert api(chief).get(f"/api/v1/indicateurs/occupation?etablissement_id={sources}").status_code == 404
    assert api(chief).get(f"/api/v1/indicateurs/occupation?etablissement_id={etab_id}").status_code == 200
    assert api("soin.tilleuls").get(f"/api/v1/indicateurs/occupation?etablissement_id={etab_id}").status_code == 403
    for query in ("", "etablissement_id=abc", f"etablissement_id={etab_id}&date=31/12/2026"):
        response = api("direction").get(f"/api/v1/indicateurs/occupation?{query}")
        assert response.status_code == 400 and response.json["message"]


def test_the_gmp_reads_the_corrected_evaluations_once_not_per_result(app):
    """A correlated NOT EXISTS on `corrects_id` (almost always NULL, so SQLite's statistics call its
    index useless) scanned every evaluation for each result: 83 s for one établissement at 30,000
    usagers. The corrected ones are one list, read once."""
    with app.app_context():
        _resident_with_gir({"toilette": "C"})
        db.session.commit()
        etab = f.etablissement().id
        _, statements = sql_statements(app, lambda: indicators.gmp(db.session, etab, clock.today()))
        ranked = next(s for s in statements if "row_number" in s)
        assert "corrects_id IS NOT NULL" in ranked and "EXISTS" not in ranked.upper(), ranked
        db.session.remove()
