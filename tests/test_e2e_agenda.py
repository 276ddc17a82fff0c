"""Chromium: an educator creates a weekly activity for two children and sees it, every week, in
the week view (hers and each child's)."""
import datetime as dt

from playwright.sync_api import expect

from .test_e2e_browser import live_server, login, page  # noqa: F401  (fixtures)
from app.domain import clock


def test_create_a_weekly_activity_for_two_children_and_see_it_in_the_week(page, live_server, app):  # noqa: F811
    base = live_server.url
    today = clock.today()
    monday = today + dt.timedelta(days=7 - today.weekday())
    title = "Atelier poterie du lundi"
    login(page, base, "educ.sources", app)
    page.goto(f"{base}/agenda/nouveau")
    page.fill("#e-titre", title)
    page.select_option("#e-type", "activite")
    page.select_option("#e-categorie", "social_educatif")
    page.fill("#e-debut", f"{monday.isoformat()}T14:00")
    page.fill("#e-fin", f"{monday.isoformat()}T15:30")
    page.fill("#e-lieu", "Atelier")
    boxes = page.locator("#agenda-form input[name=usagers]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    names = [boxes.nth(i).locator("xpath=..").inner_text().strip() for i in (0, 1)]
    page.check("#e-hebdo")
    page.check("#agenda-form input[name=jours][value=MO]")
    page.fill("#e-nombre", "6")
    page.click("#agenda-form button[type=submit]")
    expect(page.locator(".alert-success, .alert-info").first).to_contain_text("Événement enregistré")

    for week in (monday, monday + dt.timedelta(days=14)):
        page.goto(f"{base}/agenda/?vue=semaine&date={week.isoformat()}")
        cell = page.locator("table.agenda-semaine li.agenda-occurrence", has_text=title)
        expect(cell).to_have_count(1)
        expect(cell).to_contain_text("14:00")
        for name in names:
            expect(cell).to_contain_text(name)
    page.locator("table.agenda-semaine li.agenda-occurrence a", has_text=title).click()
    expect(page.locator("h1")).to_contain_text(title)
    expect(page.locator(".agenda-occurrences li")).to_have_count(6)
