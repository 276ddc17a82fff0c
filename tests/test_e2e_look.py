"""In Chromium (issue 16 §1, §2, §7): the direction's home with its charts at desktop and tablet width,
the same navbar on FAB's pages, Sillage's and the référentiels console, the usager banner, and a
dossier section edited in place whose conditional fields follow the answers."""
import pytest
from playwright.sync_api import expect

from .test_e2e_browser import live_server, login, page  # noqa: F401 (fixtures)


def _no_horizontal_scroll(page):
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1366, 800])
def test_the_directions_home_reads_at_desktop_and_tablet_width(page, live_server, app, width):  # noqa: F811
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base, "direction", app)
    expect(page.locator("#chiffres .tile").first).to_be_visible()
    assert page.locator("#occupation-12-mois svg").count() >= 2 and page.locator("#gir svg").count() >= 1
    assert _no_horizontal_scroll(page)
    page.locator("#chiffres a.tile:has-text(\"Liste d'attente à traiter\")").click()
    page.wait_for_url(f"{base}/accueil/liste/attente")
    expect(page.locator("h1")).to_contain_text("Liste d'attente à traiter")
    assert _no_horizontal_scroll(page)


def test_one_navbar_on_fab_sillage_and_console_pages(page, live_server, app):  # noqa: F811
    base = live_server.url
    login(page, base, "admin", app)
    for path in ("/", "/users/list/", "/admissionlistview/list/", "/referentiels/ref_motifs/"):
        page.goto(base + path)
        expect(page.locator("header.sl-top a.sl-brand")).to_be_visible()
        expect(page.locator("header.sl-top")).to_contain_text("Alice Admin")
        assert page.locator("header.sl-top").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(20, 63, 85)"
    page.goto(base + "/referentiels/ref_motifs/")
    page.locator("header.sl-top li.dropdown > a:has-text('Alice Admin')").click()  # Bootstrap 4's dropdown here
    expect(page.locator("header.sl-top a:has-text('Mon compte')")).to_be_visible()
    page.goto(base + "/users/list/")
    body = page.inner_text("main")
    assert "True" not in body and "None" not in body and "Nombre de record" not in body


def test_a_section_edited_in_place_follows_its_conditions_and_shows_the_banner(page, live_server, app):  # noqa: F811
    from . import factories as f

    with app.app_context():
        child = f.gen_usager(f.SOURCES, date_naissance=__import__("datetime").date(2014, 3, 2)).id
    base = live_server.url
    login(page, base, "educ.sources", app)
    page.goto(f"{base}/dossier/{child}")
    expect(page.locator("#usager-banner")).to_contain_text("IME Les Sources")
    panel = page.locator("details[data-form-url*='/sections/scolarite/']")
    panel.locator("summary").click()
    date_field = panel.locator('[data-field="pps_date"]')
    panel.locator('input[name="a-pps"][value="oui"]').check()
    date_field.wait_for(state="visible")
    panel.locator('input[name="a-pps"][value="non"]').check()
    date_field.wait_for(state="hidden")
