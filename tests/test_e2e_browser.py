"""End to end, in Debian's Chromium against gunicorn: log in, create an usager through the
dossier form, find it in the search."""
import os
import re
import tempfile

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db

from .browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, browser_or_skip
from .conftest import PASSWORD, totp_code

SHOTS = os.path.join(os.path.dirname(__file__), "..", "test-results")


@pytest.fixture(scope="session")
def live_server(app):
    server = LiveServer(app.config["SQLALCHEMY_DATABASE_URI"], tempfile.mkdtemp(prefix="sillage-e2e-"),
                        app.config["SECRET_KEY"], app.config["SILLAGE_AUDIT_ANCHOR"])  # and one anchor file
    yield server
    server.stop()


@pytest.fixture
def page(live_server):
    sync_playwright = browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30000)  # a loaded CI machine is slow, not wrong
        refused = []  # what the Content Security Policy blocked (an inline script without its nonce…)
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        yield page
        browser.close()
        assert refused == [], refused


def blocked_queries(app) -> list:
    """On PostgreSQL, the statements waiting for a lock (to explain a stuck request)."""
    if app.db_kind != "postgresql":
        return []
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(text(
            "SELECT pid, state, wait_event_type, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND (wait_event_type = 'Lock' OR state = 'idle in transaction')")).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def login(page, base, username, app):
    page.goto(f"{base}/logout/")  # a GET only asks: the session ends with the button (a POST)
    if page.locator("#logout-confirm").count():
        page.click("#logout-confirm")
        page.wait_for_url(f"{base}/login/")
    page.goto(f"{base}/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(f"{base}/login/code")
    page.fill("#code", totp_code(app, username))
    page.click("button[type=submit]:has-text('Valider')")
    try:
        page.wait_for_url(f"{base}/", timeout=30000)
    except Exception:
        raise AssertionError(f"login of {username} stayed on {page.url}: {page.inner_text('body')[:800]}") from None


def test_secretary_creates_an_usager_and_finds_it(page, live_server, app):
    base = live_server.url
    login(page, base, "secretaire.tilleuls", app)
    page.click("a.btn:has-text('Nouvel usager')")
    page.wait_for_url(f"{base}/dossier/nouveau")
    page.fill("#nouveau-nom_naissance", "Écrivain-Béranger")
    page.fill("#nouveau-prenoms_naissance", "Hélène Odile")
    page.fill("#nouveau-date_naissance", "1938-02-11")
    page.select_option("#nouveau-sexe", "F")
    page.fill("#nouveau-telephone_mobile", "06 45 67 89 01")
    page.select_option("#nouveau-etablissement_id", label="EHPAD Les Tilleuls")
    page.click("text=Créer le dossier")
    page.wait_for_url(re.compile(r".*/dossier/\d+$"))  # not /dossier/nouveau: the new dossier
    assert "ÉCRIVAIN-BÉRANGER Hélène" in page.inner_text("h1")
    assert "Dossier créé" in page.inner_text("body")
    dossier_url = page.url

    page.goto(f"{base}/usagers/")
    page.fill("#q", "ecrivain beranger helene")  # no accents, other case: still found
    page.click("button:has-text('Rechercher')")
    page.wait_for_url(f"{base}/usagers/?*")
    link = page.locator("table.usagers a", has_text="ÉCRIVAIN-BÉRANGER")
    assert link.count() == 1
    link.click()
    page.wait_for_url(dossier_url)
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"dossier-{app.db_kind}.png"), full_page=True)


def test_birth_place_completion_fills_code_and_name(page, live_server, app):
    base = live_server.url
    login(page, base, "secretaire.tilleuls", app)
    page.goto(f"{base}/dossier/nouveau")
    page.type("#nouveau-lieu_naissance_libelle", "riom")
    option = page.locator("#nouveau-lieu_naissance_libelle-lieux option").first
    expect(option).to_have_attribute("value", re.compile(r"^63300 — Riom "))
    page.fill("#nouveau-lieu_naissance_libelle", option.get_attribute("value"))  # as choosing it in the list
    expect(page.locator("#nouveau-lieu_naissance_code")).to_have_value("63300")
    expect(page.locator("#nouveau-lieu_naissance_libelle")).to_have_value("Riom")


def test_bad_input_in_the_browser_shows_french_errors_and_keeps_the_typing(page, live_server, app):
    base = live_server.url
    login(page, base, "secretaire.tilleuls", app)
    page.goto(f"{base}/dossier/nouveau")
    page.fill("#nouveau-prenoms_naissance", "Albertine")
    page.fill("#nouveau-matricule_ins", "123")
    page.click("text=Créer le dossier")
    page.locator(".field-error").first.wait_for()  # the page answered with the form again
    errors = page.locator(".field-error").all_inner_texts()
    assert "Ce champ est obligatoire." in errors
    assert any("NIR/NIA" in e for e in errors)
    assert page.input_value("#nouveau-prenoms_naissance") == "Albertine"


def test_nurse_fills_aggir_and_sees_letters_and_gir_computed_live(page, live_server, app):
    from . import factories as f

    with app.app_context():
        resident = f.gen_usager().id
    base = live_server.url
    login(page, base, "soin.tilleuls", app)
    page.goto(f"{base}/dossier/{resident}/evaluations/nouvelle/aggir")
    page.click("button[value=validate]")  # refused: incomplete; the GIR's message is shown
    expect(page.locator('[data-field="gir"] .field-error')).to_be_visible()
    page.check('input[name="a-toilette_haut"][value="C"]')
    page.check('input[name="a-toilette_bas"][value="C"]')
    expect(page.locator("output[data-computed=toilette]")).to_have_text("C")
    for name in ["coherence_communication", "coherence_comportement", "orientation_temps", "orientation_espace",
                 "habillage_haut", "habillage_moyen", "habillage_bas", "alimentation_se_servir",
                 "alimentation_manger", "elimination_urinaire", "elimination_fecale", "transferts",
                 "deplacements_interieurs", "deplacements_exterieurs", "communication_a_distance"]:
        page.check(f'input[name="a-{name}"][value="A"]')
    expect(page.locator("output[data-computed=gir]")).to_have_text("5")  # H: toilette C = 3000 → rang 12
    expect(page.locator('[data-field="gir"] .field-error')).to_have_count(0)  # no stale message under it
    os.makedirs(SHOTS, exist_ok=True)
    page.locator("#evaluation fieldset").last.scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(SHOTS, f"aggir-{app.db_kind}.png"), full_page=False)
    page.click("button[value=validate]")
    page.wait_for_url(re.compile(r".*/dossier/\d+(#evaluations)?$"))
    assert "GIR 5" in page.inner_text("#evaluations")


def test_quality_officer_adds_a_conditional_field_and_an_educator_sees_it_appear(page, live_server, app):
    from . import factories as f

    with app.app_context():
        resident = f.gen_usager().id
    base = live_server.url
    code = "aggir_" + f.unique_name("").lower()
    login(page, base, "qualite", app)
    page.goto(f"{base}/formulaires/aggir")
    page.fill("#new_code", code)
    page.click("button:has-text('Cloner')")
    page.wait_for_url(f"{base}/formulaires/{code}/brouillon")
    page.click("#open-builder")  # the builder: no YAML needed
    page.wait_for_url(f"{base}/formulaires/{code}/constructeur")
    adding = page.locator("#section-0 form.add-field")
    adding.locator("select[name=type]").select_option("yes_no")
    adding.locator("input[name=code]").fill("chutes_recentes")
    adding.locator("input[name=label]").fill("Chutes récentes ?")
    adding.locator("button:has-text('Ajouter')").click()
    page.wait_for_selector("tr[data-field=chutes_recentes]")
    editing = page.locator("details:has(summary:has-text('Modifier chutes_recentes'))")
    editing.locator("summary").click()
    editing.locator("select[name=cond_field]").select_option("transferts")
    editing.locator("select[name=cond_op]").select_option("==")
    editing.locator("input[name=cond_value]").fill("C")
    editing.locator("button:has-text('Enregistrer')").click()
    expect(page.locator("tr[data-field=chutes_recentes]")).to_contain_text('transferts == "C"')
    assert page.locator("#builder-errors").count() == 0
    page.click("a:has-text('Aperçu')")  # try the draft before publishing (CSRF-protected compute)
    # (its script binds the form at the end of the page: a click before that sends nothing, which a
    # loaded machine showed once)
    page.locator("form[data-compute-url][data-bound]").wait_for(state="attached")
    with page.expect_response(lambda r: "/apercu/calcul" in r.url, timeout=60000) as computed:
        page.check('input[name="a-transferts"][value="C"]')
    assert computed.value.status == 200, (computed.value.status, computed.value.text()[:300], blocked_queries(app))
    page.locator('[data-field="chutes_recentes"]').wait_for(state="visible")
    page.goto(f"{base}/formulaires/{code}/brouillon")
    page.click("a:has-text('Publier…')")
    page.click("button:has-text('Confirmer la publication')")
    page.wait_for_url(f"{base}/formulaires/{code}")

    login(page, base, "soin.tilleuls", app)
    page.goto(f"{base}/dossier/{resident}/evaluations/nouvelle/{code}")
    field = page.locator('[data-field="chutes_recentes"]')
    assert field.is_hidden()
    page.check('input[name="a-transferts"][value="C"]')
    field.wait_for(state="visible")
    page.check('input[name="a-transferts"][value="A"]')
    field.wait_for(state="hidden")
    page.check('input[name="a-toilette_haut"][value="B"]')
    page.check('input[name="a-toilette_bas"][value="A"]')
    expect(page.locator("output[data-computed=toilette]")).to_have_text("B")


def test_a_new_account_enrols_its_second_factor_then_locks_and_unlocks(page, live_server, app, make_user):
    import pyotp

    username = make_user("e2e.enrolement." + str(os.getpid()), "Éducatif", ["IME Les Sources"])
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(f"{base}/login/enrolement")
    assert page.locator("svg").count() >= 1  # the QR code, made by the server, inline
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button:has-text('Activer')")
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    page.screenshot(path=os.path.join(SHOTS, "enrolment-recovery-codes.png"))
    page.click("a:has-text('continuer')")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/usagers/")
    page.fill("#q", "en cours de saisie")
    page.click("#lock-button")  # the page is hidden at once, the typing stays below
    expect(page.locator("#lock-veil")).to_be_visible()
    expect(page.locator("#q")).to_be_hidden()
    page.screenshot(path=os.path.join(SHOTS, "lock.png"))
    page.fill("#lock-password", "pas le bon")
    page.click("#lock-veil button:has-text('Déverrouiller')")
    expect(page.locator("#lock-veil .lock-error")).not_to_be_empty()
    other = page.context.new_page()  # meanwhile, the session answers nothing but the lock
    other.goto(f"{base}/usagers/")
    assert "/verrou/deverrouiller" in other.url
    other.close()
    page.fill("#lock-password", PASSWORD)
    page.click("#lock-veil button:has-text('Déverrouiller')")
    expect(page.locator("#lock-veil")).to_have_count(0)
    assert page.input_value("#q") == "en cours de saisie"
    page.goto(f"{base}/usagers/")
    assert "/verrou" not in page.url


def test_the_audit_chain_holds_after_the_live_server_wrote_to_it(live_server, app):
    """The server processes and the tests append to one chain with one key."""
    result = app.test_cli_runner().invoke(args=["sillage", "audit", "verify"])
    assert result.exit_code == 0, result.output


def test_typing_survives_a_lock_and_another_user_then_is_resumed_and_dropped_once_saved(page, live_server, app):
    """Shared workstation: the secretary locks the screen mid-form, a colleague signs in; back
    later, the secretary finds the typing offered on the page and resumes it."""
    base = live_server.url
    name = f"Brouillon-{os.getpid()}"
    login(page, base, "secretaire.tilleuls", app)
    page.goto(f"{base}/dossier/nouveau")
    page.fill("#nouveau-nom_naissance", name)
    page.fill("#nouveau-prenoms_naissance", "Reine Claude")
    page.fill("#nouveau-date_naissance", "1941-03-04")
    with page.expect_response(lambda r: r.url.endswith("/verrou/")):
        page.click("#lock-button")
    expect(page.locator("#lock-veil")).to_be_visible()
    page.click("#lock-switch-user")

    login(page, base, "direction", app)  # the colleague sees nothing of it
    page.goto(f"{base}/dossier/nouveau")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".draft-offer")).to_have_count(0)

    login(page, base, "secretaire.tilleuls", app)
    page.click("#drafts-notice a")
    page.wait_for_url(f"{base}/compte/#brouillons")
    page.click("#brouillons a[href='/dossier/nouveau']")
    expect(page).to_have_url(f"{base}/dossier/nouveau")
    page.click(".draft-offer button:has-text('Reprendre la saisie')")
    assert page.input_value("#nouveau-nom_naissance") == name
    assert page.input_value("#nouveau-date_naissance") == "1941-03-04"
    page.select_option("#nouveau-sexe", "F")
    page.select_option("#nouveau-etablissement_id", label="EHPAD Les Tilleuls")
    page.click("text=Créer le dossier")
    page.wait_for_url(re.compile(r".*/dossier/\d+$"))
    page.goto(f"{base}/dossier/nouveau")  # saved: nothing left to offer
    page.wait_for_load_state("networkidle")
    expect(page.locator(".draft-offer")).to_have_count(0)


def test_educator_builds_signs_and_rates_a_projet_personnalise(page, live_server, app):
    """A child of IME Les Sources: two objectives, signed in the application, a bilan, the chart."""
    import datetime as dt

    from app.extensions import db

    from . import factories as f

    with app.app_context():
        child = f.gen_usager(f.SOURCES, date_naissance=dt.date(2012, 9, 3)).id
        db.session.remove()
    base = live_server.url
    login(page, base, "educ.sources", app)
    page.goto(f"{base}/dossier/{child}")
    page.click("text=Ouvrir le projet personnalisé")
    page.fill("#pp-debut", "2024-09-01")
    page.click("button:has-text('Créer le projet')")
    page.wait_for_url(re.compile(r".*/projets/\d+/\d+$"))
    for personal, label, besoin in (("Aller au collège seul", "Prendre le bus seul", "transport"),
                                    ("Avoir des copains", "Participer au club de foot", "relations")):
        page.click("summary:has-text('Ajouter un objectif')")
        page.fill("#ob-perso", personal)
        page.fill("#ob-lib", label)
        page.locator("form[action$='/objectif'] fieldset.code-picker input").first.fill(besoin)  # typed: the datalist offers codes
        page.locator("form[action$='/objectif'] fieldset.code-picker input").first.fill(
            "1.3.4.2 — Besoins pour se déplacer avec un moyen de transport" if besoin == "transport"
            else "1.2.1.2 — Besoins en lien avec les relations et les interactions avec autrui")
        page.select_option("#ob-ech", "0-4")
        page.fill("#ob-cible", "3")
        page.click("button:has-text(\"Ajouter l'objectif\")")
        page.wait_for_load_state()
    assert page.locator("article.objectif").count() == 2
    page.locator("article.objectif").first.locator("summary:has-text('Ajouter une action')").click()
    page.locator("article.objectif").first.locator("input[name=libelle]").fill("Trajets accompagnés")
    page.locator("article.objectif").first.locator("input[name=prestation]").fill(
        "2.3.4.3 — Accompagnements pour le développement de l'autonomie pour les déplacements")
    page.locator("article.objectif").first.locator("button:has-text(\"Ajouter l'action\")").click()
    page.wait_for_load_state()
    assert "Trajets accompagnés" in page.inner_text("#objectif")
    page.click("#statut-propose")
    page.wait_for_load_state()
    page.fill("#si-nom-0", "Lucas")
    page.click("#signer")
    page.wait_for_load_state()
    assert "Signé (en cours)" in page.inner_text("#projet-statut")
    page.click("summary:has-text('Enregistrer un bilan')")
    page.fill("#bi-date", "2025-01-15")
    first = page.locator("fieldset.bilan-objectif").first
    first.locator("select").first.select_option("partiel")
    first.locator("input").first.fill("2")
    page.click("button:has-text('Enregistrer le bilan')")
    page.wait_for_load_state()
    chart = page.locator("figure.progress-chart svg").first
    expect(chart).to_be_visible()
    assert "15/01/2025" in page.inner_text("#bilan")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"projet-{app.db_kind}.png"), full_page=True)


def test_quality_officer_edits_the_referentiels_console_in_the_browser(page, live_server, app):
    """Inline edit, create, edit and CSV export, as a person does them (the global CSRF check
    refused every save of the console's own tokens, which tests posting by hand did not see)."""
    base = live_server.url
    login(page, base, "qualite", app)
    page.goto(f"{base}/referentiels/ref_motifs/")
    answers = []
    page.on("response", lambda r: answers.append(r.status) if "ajax/update" in r.url else None)
    label = f"Autre motif {app.db_kind}"
    page.locator("a[data-role=x-editable][name=label]").last.click()
    page.locator(".editable-input input").fill(label)
    page.locator(".editable-submit").click()
    page.locator("a[data-role=x-editable][name=label]", has_text=label).wait_for()
    assert answers == [200]
    code = f"essai_{app.db_kind}"
    page.goto(f"{base}/referentiels/ref_motifs/new/")
    page.fill("#code", code)
    page.fill("#label", "Essai depuis le navigateur")
    with page.expect_navigation():
        page.locator("input[type=submit]").first.click()
    assert "Failed" not in page.inner_text("body") and "Essai depuis le navigateur" in page.inner_text("body")
    with app.app_context():
        from app.models import MotifSortie

        created = db.session.execute(select(MotifSortie).where(MotifSortie.code == code)).scalar_one()
        created_id = created.id
        db.session.remove()
    page.goto(f"{base}/referentiels/ref_motifs/edit/?id={created_id}")
    page.fill("#label", "Essai modifié")
    with page.expect_navigation():
        page.locator("input[type=submit]").first.click()
    assert "Essai modifié" in page.inner_text("body") and "Failed" not in page.inner_text("body")
    with page.expect_download() as download:
        page.click("a[href*='export/csv']")
    assert "Essai modifié" in open(download.value.path(), encoding="utf-8").read()
