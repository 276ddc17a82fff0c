"""Projet personnalisé pages: build a PP in the browser's forms, errors keep what was typed,
sign, record a bilan, see the chart; scope and roles."""
import datetime as dt
import re

import pytest

from app.extensions import db
from app.models.projet import ProjetPersonnalise

from . import factories as f


@pytest.fixture
def child(app):
    with app.app_context():
        return f.gen_usager(f.SOURCES, date_naissance=dt.date(2013, 4, 9)).id


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_build_sign_and_rate_a_pp_through_the_pages(app, as_user, child):
    client = as_user("educ.sources")
    dossier = client.get(f"/dossier/{child}").get_data(as_text=True)
    assert 'id="projet-personnalise"' in dossier and "pas encore de projet" in dossier
    page = client.get(f"/projets/{child}/").get_data(as_text=True)
    with app.app_context():
        etab = f.etablissement(f.SOURCES).id
    created = client.post(f"/projets/{child}/nouveau", data={"csrf_token": _csrf(page), "etablissement_id": etab,
                                                             "date_debut": "2024-06-01"})
    assert created.status_code == 302, created.get_data(as_text=True)[:400]
    url = created.headers["Location"].split("#")[0]
    html = client.get(url).get_data(as_text=True)
    # a refused objective keeps what was typed and says why, in French
    refused = client.post(f"{url}/objectif", data={"csrf_token": _csrf(html), "version": _version(html),
                                                   "libelle": "Prendre le bus seul", "besoins": ["9.9.9 — inventé"]})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Prendre le bus seul" in text and "Code SERAFIN-PH de besoin inconnu" in text
    saved = client.post(f"{url}/objectif", data={
        "csrf_token": _csrf(html), "version": _version(html), "objectif_personnel": "Aller au collège seul",
        "libelle": "Prendre le bus seul", "libelle_falc": "Je prends le bus", "echelle": "0-4", "cible": "3",
        "besoins": ["1.3.4.2 — Besoins pour se déplacer avec un moyen de transport", ""]})
    assert saved.status_code == 302
    html = client.get(url).get_data(as_text=True)
    objectif_id = re.search(r'id="objectif-(\d+)"', html).group(1)
    action = client.post(f"{url}/action", data={"csrf_token": _csrf(html), "version": _version(html),
                                                "objectif_id": objectif_id, "libelle": "Trajets accompagnés",
                                                "prestation": "2.3.4.3 — Accompagnements pour le développement",
                                                "frequence": "deux fois par semaine"})
    assert action.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Trajets accompagnés" in html and "Je prends le bus" in html
    assert client.post(f"{url}/statut", data={"csrf_token": _csrf(html), "version": _version(html),
                                              "statut": "propose"}).status_code == 302
    html = client.get(url).get_data(as_text=True)
    signed = client.post(f"{url}/signature", data={
        "csrf_token": _csrf(html), "version": _version(html), "qualite-0": "personne", "nom-0": "Léa",
        "date-0": "2024-06-15", "mode-0": "application", "qualite-2": "referent", "nom-2": "Emma Éducatrice",
        "date-2": "2024-06-15", "mode-2": "application"})
    assert signed.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Signé (en cours)" in html and "Empreinte du contenu signé" in html
    assert f'action="{url}/objectif"' not in html  # locked
    for day, level in (("2024-10-01", "partiel"), ("2025-02-01", "atteint")):
        rated = client.post(f"{url}/bilan", data={"csrf_token": _csrf(html), "date": day, "type": "intermediaire",
                                                  f"atteinte-{objectif_id}": level, f"mesure-{objectif_id}": "2"
                                                  if level == "partiel" else "3"})
        assert rated.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert f'id="chart-{objectif_id}"' in html and "<polyline" in html and "01/02/2025" in html
    pdf = client.get(f"{url}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    dossier = client.get(f"/dossier/{child}").get_data(as_text=True)
    assert "Signé (en cours)" in dossier


def test_pages_obey_scope_and_roles(app, as_user, child):
    with app.app_context():
        from app.security.scope import Scope
        from app.services import projets

        usager = db.session.get(f.Usager, child)
        pid = projets.create(db.session, scope=Scope.everything(), usager=usager, payload={
            "etablissement_id": f.etablissement(f.SOURCES).id, "date_debut": "2024-06-01"}).id
    assert as_user("soin.tilleuls").get(f"/projets/{child}/{pid}").status_code == 404
    assert as_user("soin.tilleuls").get(f"/projets/{child}/").status_code == 404
    assert as_user("secretaire.sources").get(f"/projets/{child}/{pid}").status_code in (302, 403, 404)
    assert 'id="projet-personnalise"' not in as_user("secretaire.sources").get(f"/dossier/{child}").get_data(as_text=True)
    with app.app_context():
        other = f.gen_usager(f.SOURCES).id
    assert as_user("educ.sources").get(f"/projets/{other}/{pid}").status_code == 404
    html = as_user("educ.sources").get(f"/projets/{child}/{pid}").get_data(as_text=True)
    # a write with a stale version is refused and says so
    stale = as_user("educ.sources").post(f"/projets/{child}/{pid}/attente", data={
        "csrf_token": _csrf(html), "version": "999", "texte": "Aller à la mer", "auteur": "personne"})
    assert stale.status_code == 409 and "Aller à la mer" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ProjetPersonnalise, pid).attentes == []


def test_deadlines_are_listed_per_etablissement_and_on_the_home_page(app, as_user):
    """The demo holds late PPs: the list shows them in the user's établissements only."""
    page = as_user("educ.sources").get("/projets/echeances")
    text = page.data.decode()
    assert page.status_code == 200 and "IME Les Sources" in text and "EHPAD Les Tilleuls" not in text
    assert "en retard" in text
    home = as_user("educ.sources").get("/").data.decode()
    assert 'id="projets-due"' in home and "/projets/echeances" in home
    assert as_user("secretaire.tilleuls").get("/projets/echeances").status_code == 403  # no Projet right
