"""Row-level scope: one mechanism for lists, details, edits, archives, search and the API."""
import datetime as dt

import pytest
from sqlalchemy import select

from app.domain import clock
from app.extensions import db
from app.models import MotifSortie
from app.services import parcours

from . import factories as f


@pytest.fixture
def sources_usager(app):
    with app.app_context():
        u = f.gen_usager(f.SOURCES)
        return {"id": u.id, "nom": u.nom_naissance, "admission": u.admissions[0].id}


@pytest.fixture
def tilleuls_usager(app):
    with app.app_context():
        u = f.gen_usager(f.TILLEULS)
        return {"id": u.id, "nom": u.nom_naissance, "admission": u.admissions[0].id}


def test_secretary_cannot_see_other_etablissement_in_any_page(as_user, sources_usager):
    client = as_user("secretaire.tilleuls")
    uid, nom = sources_usager["id"], sources_usager["nom"]
    assert client.get(f"/dossier/{uid}").status_code == 404
    assert client.post(f"/dossier/{uid}/identite", data={"identite-nom_utilise": "X"}).status_code == 404
    assert client.post(f"/dossier/{uid}/archiver").status_code == 403  # no archive right at all
    search = client.get(f"/usagers/?q={nom}")
    assert search.status_code == 200 and f'/dossier/{uid}"'.encode() not in search.data
    assert b"0 usager" in search.data
    assert client.get(f"/admissionlistview/show/{sources_usager['admission']}").status_code == 404
    assert nom.encode() not in client.get("/admissionlistview/list/?psize_AdmissionListView=100").data


def test_secretary_sees_her_own_etablissement(as_user, tilleuls_usager):
    client = as_user("secretaire.tilleuls")
    page = client.get(f"/dossier/{tilleuls_usager['id']}")
    assert page.status_code == 200 and tilleuls_usager["nom"].encode() in page.data
    assert tilleuls_usager["nom"].encode() in client.get(f"/usagers/?q={tilleuls_usager['nom'].lower()}").data


def test_api_outside_scope_answers_404_for_every_verb(api, make_user, sources_usager):
    client = api(make_user("chef.tilleuls", "Chef de service", [f.TILLEULS]))
    uid = sources_usager["id"]
    assert client.get(f"/api/v1/usager/{uid}").status_code == 404
    assert client.put(f"/api/v1/usager/{uid}", json={"version": 1, "nom_utilise": "X"}).status_code == 404
    assert client.delete(f"/api/v1/usager/{uid}").status_code == 404
    assert client.post(f"/api/v1/usager/{uid}/archive").status_code == 404
    assert client.get(f"/api/v1/admission/{sources_usager['admission']}").status_code == 404
    listing = client.get("/api/v1/usager/?q=(filters:!((col:nom_naissance,opr:eq,value:%s)))" % sources_usager["nom"])
    assert listing.status_code == 200 and listing.json["count"] == 0


def test_api_cannot_create_in_an_etablissement_outside_scope(app, api, tilleuls_usager):
    client = api("secretaire.tilleuls")
    with app.app_context():
        sources = f.etablissement(f.SOURCES)
        sources_id, sources_service = sources.id, sources.services[0].id
    created = client.post("/api/v1/usager/", json={"nom_naissance": "HORS", "prenoms_naissance": ["Zoé"],
                                                  "date_naissance": "2012-01-01", "sexe": "F",
                                                  "etablissement_id": sources_id})
    # an établissement outside scope does not exist for this user: a field error, nothing written
    assert created.status_code == 422 and "etablissement_id" in created.json["message"]
    admitted = client.post("/api/v1/admission/", json={"usager_id": tilleuls_usager["id"],
                                                       "service_id": sources_service, "modalite_id": 1,
                                                       "date_entree": "2025-01-01"})
    assert admitted.status_code == 422 and "service_id" in admitted.json["message"]


def test_an_aliased_entity_is_read_under_the_same_rule(app, sources_usager, tilleuls_usager):
    """`aliased(Usager)` (a subquery comparing rows of one table) is filtered like the entity
    itself: the rule is the mechanism's, not each query's to remember."""
    from flask import g
    from sqlalchemy.orm import aliased

    from app.models import User, Usager
    from app.security.scope import scope_for_user

    other = aliased(Usager)
    with app.test_request_context():
        g.sillage_scope = scope_for_user(db.session, db.session.query(User).filter_by(
            username="secretaire.tilleuls").one())
        seen = set(db.session.execute(select(other.id).where(
            other.id.in_((sources_usager["id"], tilleuls_usager["id"])))).scalars())
        assert seen == {tilleuls_usager["id"]}
        # and inside a subquery of a statement on another entity
        assert db.session.execute(select(MotifSortie.id).where(
            select(other.id).where(other.id == sources_usager["id"]).exists()).limit(1)).first() is None
        db.session.remove()


def test_etablissement_lists_are_scoped_too(api):
    names = [e["name"] for e in api("secretaire.tilleuls").get("/api/v1/etablissement/").json["result"]]
    assert names == [f.TILLEULS]
    all_names = {e["name"] for e in api("direction").get("/api/v1/etablissement/").json["result"]}
    assert {f.TILLEULS, f.SOURCES} <= all_names


def test_organisation_wide_roles_see_every_etablissement(as_user, sources_usager, tilleuls_usager):
    for username in ("direction", "dpo", "admin"):
        client = as_user(username)
        assert client.get(f"/dossier/{sources_usager['id']}").status_code == 200
        assert client.get(f"/dossier/{tilleuls_usager['id']}").status_code == 200


def test_usager_stays_visible_some_months_after_exit_then_disappears(app, as_user):
    with app.app_context():
        motif = db.session.execute(select(MotifSortie).where(MotifSortie.code == "domicile")).scalar_one()
        recent, old = f.gen_usager(), f.gen_usager()
        for usager, days in ((recent, 30), (old, 400)):
            adm = usager.admissions[0]
            parcours.discharge(db.session, adm, date_sortie=clock.today() - dt.timedelta(days=days),
                               motif_sortie_id=motif.id, expected_version=adm.version)
            demande = usager.demandes[0]
            demande.statut = "admise"
        db.session.commit()
        recent_id, old_id = recent.id, old.id
    client = as_user("secretaire.tilleuls")
    assert client.get(f"/dossier/{recent_id}").status_code == 200
    assert client.get(f"/dossier/{old_id}").status_code == 404
    assert as_user("direction").get(f"/dossier/{old_id}").status_code == 200


def test_assignment_to_one_service_limits_to_that_service(app, client, make_user):
    from .conftest import open_session

    with app.app_context():
        glycines = f.service(index=0).id
        here, there = f.gen_usager(service_index=0), f.gen_usager(service_index=1)
        here_id, there_id = here.id, there.id
    open_session(app, client, make_user("educ.glycines", "Éducatif", [f.TILLEULS], service_id=glycines))
    assert client.get(f"/dossier/{here_id}").status_code == 200
    assert client.get(f"/dossier/{there_id}").status_code == 404


def test_an_assignment_change_applies_at_the_next_request(app, as_user, make_user, tilleuls_usager):
    """Scopes are kept per process until the security stamp moves: a removed assignment (made
    here through the ORM, as any process or server would) closes the dossiers at once."""
    from app.models import StaffAssignment, User

    username = make_user(f"stamp.{dt.datetime.now().timestamp()}", "Secrétariat", [f.TILLEULS])
    client = as_user(username)
    assert client.get(f"/dossier/{tilleuls_usager['id']}").status_code == 200
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        for row in db.session.execute(select(StaffAssignment).where(StaffAssignment.user_id == user_id)).scalars():
            db.session.delete(row)
        db.session.commit()
    assert client.get(f"/dossier/{tilleuls_usager['id']}").status_code == 404


def test_interleaved_users_never_share_a_scope_through_cached_statements(app, as_user, make_user):
    """Scope rules are the same cached SQL for every user, their values (places, cutoff,
    categories) read from the request's scope at each execution: users of different places,
    alternating on the same statements in one process, must each get their own rows, never the
    values of the statement compiled first."""
    from .conftest import open_session

    with app.app_context():
        glycines = f.service(index=0).id
        here, there, sources = f.gen_usager(service_index=0), f.gen_usager(service_index=1), f.gen_usager(f.SOURCES)
        ids = {"here": here.id, "there": there.id, "sources": sources.id}
    clients = {
        "tilleuls": as_user("secretaire.tilleuls"),
        "sources": as_user("secretaire.sources"),
        "glycines": open_session(app, app.test_client(),
                                 make_user("educ.glycines2", "Éducatif", [f.TILLEULS], service_id=glycines)),
        "direction": as_user("direction"),
    }
    expected = {"tilleuls": {"here", "there"}, "sources": {"sources"}, "glycines": {"here"},
                "direction": {"here", "there", "sources"}}
    for _round in range(2):
        for who, client in clients.items():
            for key, uid in ids.items():
                status = client.get(f"/dossier/{uid}").status_code
                assert status == (200 if key in expected[who] else 404), (who, key, status)


def test_the_signed_in_user_and_choice_lists_follow_changes_at_the_next_request(app, as_user, make_user):
    """The signed-in user and the établissement and service lists are kept per process until the
    security stamp moves: a deactivated account, a renamed établissement or a new service shows
    at the next request, and each user still gets the lists of their own places."""
    from app.models import Etablissement, Service, User

    username = make_user(f"cache.{dt.datetime.now().timestamp()}", "Secrétariat", [f.TILLEULS])
    client, sources = as_user(username), as_user("secretaire.sources")
    assert client.get("/usagers/").status_code == 200
    with app.app_context():
        etab = db.session.execute(select(Etablissement).where(Etablissement.name == f.TILLEULS)).scalar_one()
        etab.name, etab_id = "EHPAD Les Tilleuls (renommé)", etab.id
        db.session.commit()
    try:
        assert ">EHPAD Les Tilleuls (renommé)</option>" in client.get("/usagers/").data.decode()
        with app.app_context():
            db.session.add(Service(etablissement_id=etab_id, name="Unité Cerisiers"))
            db.session.commit()
        assert "— Unité Cerisiers</option>" in client.get("/usagers/").data.decode()
        other = sources.get("/usagers/").data.decode()  # another user's places: not these
        assert "Tilleuls" not in other and "Cerisiers" not in other and "IME Les Sources" in other
    finally:
        with app.app_context():
            db.session.get(Etablissement, etab_id).name = f.TILLEULS
            db.session.delete(db.session.execute(select(Service).where(Service.name == "Unité Cerisiers")).scalar_one())
            db.session.commit()
    with app.app_context():
        db.session.execute(select(User).where(User.username == username)).scalar_one().active = False
        db.session.commit()
    response = client.get("/usagers/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_kept_statements_are_prepared_once_per_connection_on_postgresql(app):
    """`scope.constant` statements (the dossier's panels) are prepared on each PostgreSQL
    connection at their first use and then executed by name: PostgreSQL stops planning them (their
    scope rules took ten times longer to plan than to run). Same rows; a statement PostgreSQL
    refuses to prepare runs as before, in a transaction left usable. SQLite runs them as they are."""
    from sqlalchemy import bindparam, literal_column, text

    from app.models import Usager
    from app.security.scope import constant

    by_id = constant(select(Usager.id, Usager.nom_naissance.label("kept_name")).where(Usager.id == bindparam("id")))
    # (an optional filter: PostgreSQL "could not determine data type of parameter $1")
    untyped = constant(select(literal_column("1").label("refused")).where(bindparam("a").is_(None)))
    with app.app_context():
        usager = f.gen_usager(f.TILLEULS)
        connection = db.session.connection()
        expected = [(usager.id, usager.nom_naissance)]
        for _ in range(7):  # past the five runs after which PostgreSQL keeps a generic plan
            assert db.session.execute(by_id, {"id": usager.id}).all() == expected
        assert db.session.execute(untyped, {"a": None}).scalar() == 1
        assert db.session.execute(untyped, {"a": "x"}).scalar() is None
        if app.db_kind == "postgresql":
            prepared = connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
            assert len([s for s in prepared if "AS kept_name" in s and "usager.id = $1" in s]) == 1, prepared
            assert not [s for s in prepared if "AS refused" in s]
        assert db.session.execute(select(Usager.id).where(Usager.id == usager.id)).scalar() == usager.id
        db.session.rollback()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as outside_transaction:
            for _ in range(2):
                assert outside_transaction.execute(by_id, {"id": usager.id}).all() == expected
                assert outside_transaction.execute(untyped, {"a": None}).scalar() == 1
