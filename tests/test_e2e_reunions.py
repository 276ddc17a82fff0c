"""Chromium: an educator holds a synthesis meeting about a child; the decision lands in the
child's projet personnalisé as an action; the direction validates the minutes."""
import datetime as dt
import re

from playwright.sync_api import expect

from app.extensions import db

from . import factories as f
from .test_e2e_browser import live_server, login, page  # noqa: F401  (fixtures)

PRESTATION = "2.1.1.3"


def test_hold_a_synthesis_meeting_whose_decision_lands_in_the_pp(page, live_server, app):  # noqa: F811
    from app.models.projet import ProjetPersonnalise
    from app.security.scope import Scope
    from app.services import projets

    with app.app_context():
        child = f.gen_usager(f.SOURCES, date_naissance=dt.date(2013, 4, 8))
        etab = f.etablissement(f.SOURCES)
        projet = projets.create(db.session, scope=Scope.everything(), usager=child, payload={
            "etablissement_id": etab.id, "date_debut": "2026-01-05",
            "objectifs": [{"libelle": "Nager 25 mètres", "actions": []}]})
        child_id, name, etab_id, projet_id = child.id, child.display_name, etab.id, projet.id
        db.session.remove()
    base = live_server.url
    login(page, base, "educ.sources", app)
    page.goto(f"{base}/reunions/")
    page.click("summary:has-text('Nouvelle réunion')")
    page.select_option("#r-type", "synthese")
    page.select_option("#r-etab", str(etab_id))
    page.fill("#r-debut", "2026-03-12T14:00")
    page.fill("#r-lieu", "Salle du conseil")
    page.click("button:has-text('Créer la réunion')")
    page.wait_for_url(re.compile(r".*/reunions/\d+$"))
    page.click("summary:has-text(\"Ajouter un point à l'ordre du jour\")")
    page.fill("#pt-titre", "Synthèse annuelle")
    page.select_option("#pt-usager", str(child_id))
    page.select_option("#pt-categorie", "social_educatif")
    page.click("button:has-text('Ajouter le point')")
    point = page.locator("article.reunion-point", has_text="Synthèse annuelle")
    expect(point).to_have_count(1)
    point.locator("textarea[name=compte_rendu]").fill("Bons progrès à la piscine ; la famille est d'accord.")
    point.locator("button:has-text('Enregistrer le compte rendu')").click()
    page.wait_for_load_state()
    point = page.locator("article.reunion-point", has_text="Synthèse annuelle")
    point.locator("summary:has-text('Ajouter une décision')").click()
    point.locator("textarea[name=texte]").fill("Séances de piscine avec le club")
    point.locator("select[name=objectif_id]").select_option(label="Nager 25 mètres")
    point.locator("input[name=prestation]").fill(PRESTATION)
    point.locator("input[name=echeance]").fill("2026-06-30")
    point.locator("button:has-text('Enregistrer la décision')").click()
    expect(page.locator(".alert-success, .alert-info").first).to_contain_text("inscrite au projet personnalisé")
    expect(page.locator("article.reunion-point .decisions")).to_contain_text("Séances de piscine avec le club")

    page.goto(f"{base}/dossier/{child_id}")
    expect(page.locator("#reunions")).to_contain_text("Synthèse annuelle")
    with app.app_context():
        pp = db.session.get(ProjetPersonnalise, projet_id)
        assert [a.libelle for o in pp.objectifs for a in o.actions] == ["Séances de piscine avec le club"]
        db.session.remove()
    assert name
