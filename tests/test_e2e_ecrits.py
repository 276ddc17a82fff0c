"""Chromium: an educator writes a compte rendu and submits it; the direction finds it among the
écrits to validate and validates it; it shows as validated with its PDF filed in the documents."""
from playwright.sync_api import expect

from app.extensions import db

from . import factories as f
from .test_e2e_browser import live_server, login, page  # noqa: F401  (fixtures)


def test_educator_writes_direction_validates_with_pdf(page, live_server, app):  # noqa: F811
    with app.app_context():
        usager_id = f.gen_usager(f.SOURCES).id
        db.session.remove()
    base = live_server.url
    title = "Entretien avec le père, le 3 mars"
    login(page, base, "educ.sources", app)
    page.goto(f"{base}/ecrits/usager/{usager_id}")
    page.click("#nouvel-ecrit summary")
    page.select_option("#type_code", "cr_entretien")
    page.fill("#titre", title)
    page.fill("#texte", "## Objet\nLe père demande un **rendez-vous** avec l'enseignante.\n\n- scolarité\n- loisirs")
    page.click("#ecrit-form button[type=submit]")
    expect(page.locator("#ecrit-texte strong")).to_have_text("rendez-vous")
    page.click("#soumettre")
    expect(page.locator("#ecrit-statut")).to_have_text("Soumis à validation")

    login(page, base, "direction", app)
    page.goto(f"{base}/ecrits/")
    page.locator("#a-valider a", has_text=title).click()
    page.click("#valider")
    expect(page.locator("#ecrit-statut")).to_have_text("Validé")
    expect(page.locator("#ecrit-document")).to_be_visible()
    with page.expect_download() as download:
        page.click("#ecrit-document")
    assert download.value.suggested_filename.endswith(".pdf")
