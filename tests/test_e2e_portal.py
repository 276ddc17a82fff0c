"""Chromium, issue 19 "Done when": a secretary invites a mother from her son's dossier; the
mother opens the link at phone width (390×844), sets a password and an authenticator code, sees
her son's easy-read PP, his agenda and who opened the dossier, and writes; the educator answers
from the internal messaging; the mother sees the answer."""
import datetime as dt

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ContactPerson, User
from app.security.scope import Scope
from app.services import agenda as agenda_service
from app.domain import clock
from app.services import foyers

from . import factories as f
from .test_e2e_browser import live_server, login, page  # noqa: F401  (fixtures)
from .test_projets import _signed

PHONE = {"width": 390, "height": 844}
PASSWORD = "le chat de Léo dort sur le canapé bleu"


def _family(app, api):
    with app.app_context():
        child = f.gen_usager(f.SOURCES, date_naissance=dt.date(2015, 9, 4), prenoms_naissance="Léo", sexe="M",
                             nom_naissance=f.unique_name("MARTIN"))
        foyer = foyers.save_foyer(db.session, {"libelle": "Famille de Léo"}, member=child)
        mother = ContactPerson(foyer_id=foyer.id, nom=child.nom_naissance, prenom="Nadia", lien="mère",
                               roles=["autorite_parentale"], email=f"{child.nom_naissance.lower()}@exemple.fr")
        db.session.add(mother)
        db.session.commit()
        direction = db.session.execute(select(User.id).where(User.username == "direction")).scalar_one()
        day = clock.today() + dt.timedelta(days=2)
        agenda_service.create(db.session, scope=Scope.everything(), user_id=direction, values={
            "titre": "Sortie au musée", "type": "activite", "categorie": "social_educatif", "usager_ids": [child.id],
            "debut": f"{day.isoformat()}T10:00:00+01:00", "fin": f"{day.isoformat()}T12:00:00+01:00"})
        ids = child.id, mother.id, f.etablissement(f.SOURCES).id
        db.session.remove()
    _signed(api("direction"), ids[0], ids[2])
    return ids


def _fits_the_phone(phone):
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"


def test_a_mother_invited_from_the_dossier_follows_her_son_on_her_phone(page, live_server, app, api):  # noqa: F811
    base = live_server.url
    uid, mother_id, _etab = _family(app, api)

    # The secretary invites the mother from the dossier.
    login(page, base, "secretaire.sources", app)
    page.goto(f"{base}/dossier/{uid}")
    page.click("#portal-access")
    page.select_option("#contact_id", str(mother_id))
    for right in ("agenda", "projet", "consultations", "messages"):
        page.check(f"input[name=droits][value={right}]")
    page.click("button:has-text('Créer le lien d\\'invitation')")
    link = page.input_value("#invitation-url")
    assert "/portail/invitation/" in link
    expect(page.locator("#portal-accesses")).to_contain_text("Invitation envoyée")

    # The mother signs up on her phone.
    phone_context = page.context.browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True,
                                                     has_touch=True, device_scale_factor=2)
    phone = phone_context.new_page()
    phone.set_default_timeout(30000)
    refused = []
    phone.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    phone.goto(link)
    expect(phone.locator("h1")).to_contain_text("Créer votre accès")
    _fits_the_phone(phone)
    secret = phone.get_attribute("#totp-secret", "data-secret")
    phone.fill("#password", PASSWORD)
    phone.fill("#confirm", PASSWORD)
    phone.fill("#code", pyotp.TOTP(secret).now())
    phone.click("button:has-text('Créer mon accès')")
    phone.wait_for_url(f"{base}/portail/{uid}/")
    _fits_the_phone(phone)

    # Her son's easy-read PP, his agenda, who opened the dossier.
    phone.click("a:has-text('Projet personnalisé')")
    expect(phone.locator("ul.falc")).to_contain_text("Je nage seul")
    # (its easy-read PDF is downloaded in test_portal: the live server has a data folder of its own)
    _fits_the_phone(phone)
    phone.go_back()
    phone.click("a:has-text('Agenda')")
    expect(phone.locator("ul.agenda")).to_contain_text("Sortie au musée")
    phone.go_back()
    phone.click("a:has-text('Qui a ouvert le dossier')")
    expect(phone.locator("table")).to_contain_text("Secrétariat")
    expect(phone.locator("table")).not_to_contain_text("Sophie")
    _fits_the_phone(phone)

    # She writes to the structure.
    phone.goto(f"{base}/portail/{uid}/")
    phone.click("a:has-text('Écrire à la structure')")
    phone.fill("#sujet", "Rendez-vous chez l'orthophoniste")
    phone.fill("#texte", "Léo aura un rendez-vous jeudi à 16 h, je viendrai le chercher à 15 h 30.")
    phone.click("section:has(#sujet) button:has-text('Envoyer')")
    expect(phone.locator("p.ok")).to_contain_text("Message envoyé")

    # The educator answers from the internal messaging.
    login(page, base, "educ.sources", app)
    page.goto(f"{base}/messages/")
    page.click("a:has-text(\"Rendez-vous chez l'orthophoniste\")")
    expect(page.locator(".message-texte").first).to_contain_text("jeudi à 16 h")
    expect(page.locator(".messages-page")).to_contain_text("portail des familles")
    page.fill("#reponse", "C'est noté, Léo sera prêt à 15 h 30.")
    page.click("button:has-text('Envoyer la réponse')")
    expect(page.locator(".message-texte").last).to_contain_text("sera prêt à 15 h 30")

    # She sees the answer.
    phone.reload()
    expect(phone.locator("section.thread")).to_contain_text("C'est noté, Léo sera prêt à 15 h 30.")
    expect(phone.locator("section.thread")).to_contain_text("Emma (Éducatif)")
    _fits_the_phone(phone)
    phone_context.close()
    assert refused == [], refused
