"""The documented role matrix is what the database holds, and what every path enforces."""
import pytest

from app.extensions import db
from app.security.roles import MATRIX, RESOURCES, SELF_SERVICE, permissions_for

from . import factories as f
from .conftest import sql_statements

RESOURCE_PAGES = {  # a page per resource, read with GET
    "Usager": "/usagers/",
    "Parcours": "/admissionlistview/list/",
    "Etablissement": "/etablissementview/list/",
    "Affectation": "/affectationview/list/",
    "Referentiels": "/referentiels/",
    "Securite": "/users/list/",
    "Formulaire": "/formulaires/",
    "Audit": "/audit/",
    "HistoriqueAcces": "/audit/urgences/",
    "Rgpd": "/rgpd/",
    "Urgence": "/urgence/",
    "VigilanceIdentite": "/identite/signalements/",
    "Indicateur": "/indicateurs/gmp",
    "Document": "/api/v1/documents/types",
    "Transmission": "/transmissions/",
    "Ecrit": "/ecrits/",
    "Reunion": "/reunions/",
    "Papiers": "/api/v1/papiers/types",
    "Agenda": "/agenda/",
    "Message": "/messages/",
    "Portail": "/acces-portail/",
}
ROLE_USERS = {"Administrateur": "admin", "Direction": "direction", "Secrétariat": "secretaire.tilleuls",
              "Éducatif": "educ.sources", "Soin": "soin.tilleuls", "Qualité": "qualite", "DPO": "dpo",
              "Comptabilité": "compta"}


def test_database_roles_equal_the_documented_matrix(app):
    with app.app_context():
        sm = app.appbuilder.sm
        for role_name in MATRIX:
            role = sm.find_role(role_name)
            held = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
            expected = permissions_for(role_name)
            if role_name == "Administrateur":
                assert expected <= held
            else:
                assert held == {p for p in expected if p in held} and expected - set(SELF_SERVICE) <= held


def test_every_resource_has_a_page_checked_here():
    # Evaluation has no page of its own: its reads and writes are checked through the API
    # (test_evaluations, test_secret); Projet through test_projets.
    assert set(RESOURCES) - {"Evaluation", "Projet"} <= set(RESOURCE_PAGES)


@pytest.mark.parametrize("role, username", sorted(ROLE_USERS.items()))
def test_each_role_reads_exactly_the_resources_of_the_matrix(as_user, role, username):
    client = as_user(username)
    for resource, url in RESOURCE_PAGES.items():
        allowed = "read" in MATRIX[role].get(resource, ())
        if resource == "Securite":
            allowed = role == "Administrateur"
        status = client.get(url).status_code
        assert (status == 200) == allowed, (role, resource, status)


@pytest.mark.parametrize("role, username", sorted(ROLE_USERS.items()))
def test_each_role_writes_usagers_through_the_api_only_if_the_matrix_says(app, api, role, username):
    with app.app_context():
        etab = f.etablissement(f.SOURCES if username.endswith("sources") else f.TILLEULS).id
    response = api(username).post("/api/v1/usager/", json={
        "nom_naissance": f.unique_name("PERM"), "prenoms_naissance": "Léa", "date_naissance": "1950-01-01",
        "sexe": "F", "etablissement_id": etab})
    allowed = "write" in MATRIX[role].get("Usager", ())
    assert (response.status_code == 201) == allowed, (role, response.status_code, response.json)
    if not allowed:
        assert response.status_code == 403


def test_only_archive_roles_may_archive(app, api):
    with app.app_context():
        uid = f.gen_usager().id
    assert api("secretaire.tilleuls").delete(f"/api/v1/usager/{uid}").status_code == 403
    assert api("direction").delete(f"/api/v1/usager/{uid}").status_code == 200


def test_quality_officer_edits_referentiels_but_sees_no_dossier(app, as_user):
    client = as_user("qualite")
    assert client.get("/usagers/").status_code == 403
    assert client.get("/referentiels/ref_motifs/").status_code == 200
    assert as_user("secretaire.tilleuls").get("/referentiels/ref_motifs/").status_code == 403


def test_menus_follow_permissions(as_user):
    page = as_user("qualite").get("/").data.decode()
    assert "Référentiels" in page and "Rechercher un usager" not in page
    page = as_user("secretaire.tilleuls").get("/").data.decode()
    assert "Rechercher un usager" in page and "Affectations" not in page


@pytest.mark.usefixtures("steady_caches")
def test_permissions_are_read_once_until_the_security_stamp_moves(app, as_user):
    """FAB checks each menu entry with its own query; ours are read once per process and kept
    until a change of roles or permissions moves the stamp (in any process: it is in the DB)."""
    client = as_user("secretaire.tilleuls")

    def permission_queries(path):
        status, statements = sql_statements(app, lambda: client.get(path).status_code)
        return status, sum("ab_permission_view_role" in s for s in statements)

    assert permission_queries("/usagers/")[1] <= 1
    assert permission_queries("/usagers/") == (200, 0)
    with app.app_context():
        sm = app.appbuilder.sm
        role, pv = sm.find_role("Secrétariat"), sm.find_permission_view_menu("can_read", "Usager")
        sm.del_permission_role(role, pv)
    try:
        assert permission_queries("/usagers/") == (403, 1)  # revoked: seen at the next request
    finally:
        with app.app_context():
            sm.add_permission_role(sm.find_role("Secrétariat"), sm.find_permission_view_menu("can_read", "Usager"))
    assert permission_queries("/usagers/") == (200, 1)
