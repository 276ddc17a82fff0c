"""Chromium: an educator writes one transmission for two children, a colleague reads it in their
"À lire" list and marks it read; the author sees who read it."""
import re

from playwright.sync_api import expect

from app.extensions import db

from .test_e2e_browser import live_server, login, page  # noqa: F401  (fixtures)


def test_write_for_two_children_and_read_it_as_a_colleague(page, live_server, app):  # noqa: F811
    from app.models import Service

    with app.app_context():
        enfants = db.session.query(Service).filter_by(name="Unité enfants").one().id
        db.session.remove()
    base = live_server.url
    text = "Sortie au jardin botanique : curieux et attentifs, retour à 16 h."
    login(page, base, "educ.sources", app)
    page.goto(f"{base}/transmissions/")
    page.select_option("#saisie-service", str(enfants))  # the script reloads the unit's people
    page.wait_for_url(re.compile(rf"saisie={enfants}"))
    boxes = page.locator("#transmission-form input[name=usagers]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    names = [boxes.nth(i).locator("xpath=..").inner_text().strip() for i in (0, 1)]
    field = "#t-texte" if page.locator("#t-texte").count() else "#t-donnees"
    page.fill(field, text)
    page.select_option("#t-cible", "sortie")
    page.click("#transmission-form button[type=submit]")
    expect(page.locator(".alert-success, .alert-info").first).to_contain_text("Transmission enregistrée")

    login(page, base, "direction", app)
    page.goto(f"{base}/transmissions/")
    mine = page.locator("#a-lire article.transmission", has_text=text)
    expect(mine).to_have_count(1)
    for name in names:
        expect(mine.locator(".transmission-people")).to_contain_text(name)
    tid = mine.get_attribute("data-id")
    mine.locator("button:has-text('Marquer comme lu')").click()
    expect(page.locator("#a-lire article.transmission", has_text=text)).to_have_count(0)

    login(page, base, "educ.sources", app)
    page.goto(f"{base}/transmissions/{tid}")
    expect(page.locator("#lu-par")).to_contain_text("Denis Directeur")
