"""Roles follow the README's matrix (issue 14 §6): the Administrateur has no emergency access, no
access history and no RGPD acts; aggregates stay aggregates; a person known in an établissement
the user cannot see becomes a request to the identity referent; menus offer only what opens."""
from __future__ import annotations

import re

from sqlalchemy import select

from html import unescape

from app.extensions import db
from app.models import CategoryAccess, IdentityReferral, Role, Usager
from app.services.demo import ACCOUNTS

from . import factories as f
from .test_secret import dossier  # noqa: F401  (fixture: evaluations of each category)


def test_the_administrator_has_no_emergency_access_no_history_no_rgpd(app, as_user, api):
    with app.app_context():
        uid = f.gen_usager(f.SOURCES).id
    admin = as_user("admin")
    assert admin.get("/urgence/").status_code == 403
    assert admin.post("/urgence/", data={"nom": "X", "prenom": "Y", "date_naissance": "1950-01-01",
                                         "motif": "test"}).status_code == 403
    assert admin.get(f"/dossier/{uid}/acces").status_code == 403
    assert admin.get("/rgpd/").status_code == 403
    assert admin.get("/audit/urgences/").status_code == 403
    for username in ("direction", "dpo"):
        assert as_user(username).get(f"/dossier/{uid}/acces").status_code == 200


def test_gmp_lists_usager_ids_only_to_roles_that_read_usagers(app, api):
    with app.app_context():
        f.gen_usager()  # admitted, without an AGGIR
        etab = f.etablissement().id
    quality = api("qualite").get(f"/api/v1/etablissement/{etab}/gmp").json
    assert "missing" not in quality and "outdated" not in quality and quality["missing_count"] >= 1
    direction = api("direction").get(f"/api/v1/etablissement/{etab}/gmp").json
    assert len(direction["missing"]) == direction["missing_count"] >= 1


def _person_elsewhere(app):
    with app.app_context():
        other = f.gen_usager(f.SOURCES)
        return other.id, other.nom_naissance, other.date_naissance.isoformat()


def test_a_person_known_elsewhere_becomes_a_request_to_the_identity_referent(app, as_user, api):
    other_id, name, birth = _person_elsewhere(app)
    secretary = as_user("secretaire.tilleuls")
    with app.app_context():
        etab = f.etablissement().id
    page = secretary.post("/dossier/nouveau", data={
        "nouveau-nom_naissance": name, "nouveau-prenoms_naissance": "Jeanne", "nouveau-date_naissance": birth,
        "nouveau-sexe": "F", "nouveau-etablissement_id": str(etab)}, follow_redirects=True)
    text = page.data.decode()
    assert page.status_code == 200 and "le référent identité (direction) a été prévenu" in text
    assert f"n° {other_id}" not in text and "semblable existe" not in text
    with app.app_context():
        created = db.session.execute(select(Usager).where(Usager.nom_naissance == name, Usager.id != other_id)).scalar_one()
        referral = db.session.execute(select(IdentityReferral).where(IdentityReferral.usager_id == created.id)).scalar_one()
        assert referral.candidate_ids == [other_id] and referral.status == "ouvert"
    # through the API: the same, and no count nor id of the other dossier
    response = api("secretaire.tilleuls").post("/api/v1/usager/", json={
        "nom_naissance": name, "prenoms_naissance": ["Jeanne"], "date_naissance": birth, "sexe": "F",
        "etablissement_id": etab, "accept_duplicates": True})
    assert response.status_code == 201 and "référent identité" in response.json["message"]
    assert "hidden_duplicates" not in response.json and str(other_id) not in str(response.json["result"])
    # the referent sees both dossiers and concludes
    listing = as_user("direction").get("/identite/signalements/").data.decode()
    assert f"n° {other_id}" in listing and f"n° {created.id}" in listing
    assert as_user("secretaire.tilleuls").get("/identite/signalements/").status_code == 403
    assert as_user("direction").post(f"/identite/signalements/{referral.id}/clore",
                                      data={"note": "Personnes différentes"}).status_code == 302
    with app.app_context():
        assert db.session.get(IdentityReferral, referral.id).status == "clos"


def test_cross_etablissement_detection_is_a_setting(app, as_user):
    other_id, name, birth = _person_elsewhere(app)
    app.config["SILLAGE_CROSS_ETABLISSEMENT_DUPLICATES"] = False
    try:
        with app.app_context():
            etab = f.etablissement().id
        page = as_user("secretaire.tilleuls").post("/dossier/nouveau", data={
            "nouveau-nom_naissance": name, "nouveau-prenoms_naissance": "Jeanne", "nouveau-date_naissance": birth,
            "nouveau-sexe": "F", "nouveau-etablissement_id": str(etab)}, follow_redirects=True)
        assert page.status_code == 200 and "référent identité" not in page.data.decode()
        with app.app_context():
            created = db.session.execute(select(Usager.id).where(Usager.nom_naissance == name,
                                                                 Usager.id != other_id)).scalar_one()
            assert db.session.execute(select(IdentityReferral).where(
                IdentityReferral.usager_id == created)).scalar() is None
    finally:
        app.config["SILLAGE_CROSS_ETABLISSEMENT_DUPLICATES"] = True


def _menu_links(html: str) -> set[str]:
    navbar = html[html.index('class="navbar'):html.index("</nav>")] if "</nav>" in html else html
    links = set(re.findall(r'href="(/[^"#]*)"', navbar))
    return {link for link in links if not link.startswith(("/static", "/lang/", "/logout", "/compte/deconnexion"))}


def test_every_menu_entry_of_every_role_opens(app, as_user):
    for username, *_rest in ACCOUNTS:
        client = as_user(username)
        links = _menu_links(client.get("/").data.decode())
        assert links, username
        for link in sorted(links):
            response = client.get(link, follow_redirects=True)
            assert response.status_code == 200, (username, link, response.status_code)
    for username in ("educ.sources", "soin.tilleuls", "dpo"):
        assert "/dossier/nouveau" not in _menu_links(as_user(username).get("/").data.decode()), username
    assert "/audit/" not in _menu_links(as_user("admin").get("/").data.decode())


def test_administrator_role_edited_in_fab_pages_still_opens_no_emergency_access(app, as_user):
    """FAB's role pages could hand the Administrateur role the break-the-glass permission: the
    security manager never grants it NOT_ADMIN resources."""
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_permission_role(sm.find_role("Administrateur"), sm.find_permission_view_menu("can_read", "Urgence"))
    try:
        assert as_user("admin").get("/urgence/").status_code == 403
        assert as_user("admin").get("/audit/urgences/").status_code == 403
    finally:
        with app.app_context():
            sm = app.appbuilder.sm
            sm.del_permission_role(sm.find_role("Administrateur"), sm.find_permission_view_menu("can_read", "Urgence"))


def test_administrator_role_given_the_medical_category_still_reads_none(app, api, dossier):
    uid = dossier["usager"]
    with app.app_context():
        role_id = db.session.execute(select(Role.id).where(Role.name == "Administrateur")).scalar_one()
        for category in ("medical", "soins", "psychologique"):
            row = db.session.execute(select(CategoryAccess).where(CategoryAccess.role_id == role_id,
                                                                  CategoryAccess.category == category)).scalar_one()
            row.can_read = row.can_write = True
        db.session.commit()
    try:
        answer = api("admin").get(f"/api/v1/usager/{uid}/evaluations").data.decode()
        assert "SECRET-MED" not in answer and "SECRET-PSY" not in answer and "aide pour marcher" not in answer
    finally:
        with app.app_context():
            for row in db.session.execute(select(CategoryAccess).where(
                    CategoryAccess.role_id == role_id, CategoryAccess.category != "administratif")).scalars():
                row.can_read = row.can_write = False
            db.session.commit()


def test_nobody_changes_their_own_roles(app, as_user, make_user):
    with app.app_context():
        sm = app.appbuilder.sm
        admin = sm.find_user(username="admin")
        admin_id, admin_roles = admin.id, [r.id for r in admin.roles]
        soin = sm.find_role("Soin").id
    data = {"first_name": "Alice", "last_name": "Admin", "username": "admin", "email": "admin@demo.sillage.invalid",
            "active": "y"}
    client = as_user("admin")
    try:
        refused = client.post(f"/users/edit/{admin_id}", data={**data, "roles": admin_roles + [soin]},
                              follow_redirects=True)
        assert "autre administrateur" in unescape(refused.data.decode())
        with app.app_context():
            assert sorted(r.id for r in app.appbuilder.sm.find_user(username="admin").roles) == sorted(admin_roles)
    finally:
        with app.app_context():
            sm = app.appbuilder.sm
            user = sm.find_user(username="admin")
            user.roles = [r for r in user.roles if r.name == "Administrateur"]
            user.active = True
            db.session.commit()
    # Another account's roles are still the administrator's to change.
    other = make_user("roles.autre", "Secrétariat", [f.TILLEULS])
    with app.app_context():
        other_id = app.appbuilder.sm.find_user(username=other).id
    client.post(f"/users/edit/{other_id}", data={**data, "username": other, "first_name": "Prénom",
                                                  "last_name": "Nom", "email": f"{other}@test.invalid",
                                                  "roles": [soin]})
    with app.app_context():
        assert [r.name for r in app.appbuilder.sm.find_user(username=other).roles] == ["Soin"]


def test_anonymisation_erases_the_referents_conclusion(app, as_user):
    from app.services import rgpd

    other_id, name, birth = _person_elsewhere(app)
    with app.app_context():
        etab = f.etablissement().id
    as_user("secretaire.tilleuls").post("/dossier/nouveau", data={
        "nouveau-nom_naissance": name, "nouveau-prenoms_naissance": "Jeanne", "nouveau-date_naissance": birth,
        "nouveau-sexe": "F", "nouveau-etablissement_id": str(etab)})
    with app.app_context():
        referral = db.session.execute(select(IdentityReferral).where(
            IdentityReferral.candidate_ids.isnot(None)).order_by(IdentityReferral.id.desc())).scalars().first()
        referral.note, referral.status = "Même personne que Mme X, née à Y", "clos"
        db.session.commit()
        rid = referral.id
        rgpd._erase_identity_referrals(db.session, other_id)
        db.session.commit()
        assert "Mme X" not in (db.session.get(IdentityReferral, rid).note or "")
