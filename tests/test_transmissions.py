"""Transmissions (cahier de liaison): one entry for several people with each line seen only with
that person's scope, the shared secret, corrections and addenda, read acknowledgements, the API
contract, and the pages."""
import datetime as dt

import pytest

from app.extensions import db
from app.models import Transmission, TransmissionVersion
from app.security.scope import Scope
from app.services import transmissions

from . import factories as f


@pytest.fixture
def children(app, make_user):
    """Two children at IME Les Sources, one in the enfants unit (0), one in the adolescents unit (1),
    and two educators each assigned to one of those units only."""
    with app.app_context():
        a = f.gen_usager(f.SOURCES, service_index=0, date_naissance=dt.date(2015, 3, 2)).id
        b = f.gen_usager(f.SOURCES, service_index=1, date_naissance=dt.date(2011, 7, 9)).id
        enfants, ados = f.service(f.SOURCES, 0).id, f.service(f.SOURCES, 1).id
    make_user("educ.enfants", "Éducatif", [f.SOURCES], service_id=enfants)
    make_user("educ.ados", "Éducatif", [f.SOURCES], service_id=ados)
    return {"a": a, "b": b, "enfants": enfants, "ados": ados}


def post(api_client, usager_id, **body):
    body.setdefault("categorie", "social_educatif")
    return api_client.post(f"/api/v1/usager/{usager_id}/transmissions", json=body)


def write_for_both(app, children, username="educ.sources", **values):
    """A transmission about both children, written by `username` in the enfants unit."""
    from app.models import User

    with app.app_context():
        author = db.session.query(User).filter_by(username=username).one()
        item = transmissions.write(
            db.session, scope=Scope.everything(), author_id=author.id, usager_ids=[children["a"], children["b"]],
            values={"categorie": "social_educatif", "texte": "Sortie au parc : bonne participation de tous.",
                    "service_id": children["enfants"], **values})
        return item.id


def test_api_write_returns_201_with_id_and_reads_back(api, children):
    educ = api("educ.sources")
    response = post(educ, children["a"], cible="alimentation", donnees="A peu mangé à midi.",
                    actions="Collation proposée à 16 h.", resultats="A mangé la collation.", importante=True,
                    service_id=children["enfants"])
    assert response.status_code == 201, response.json
    tid = response.json["id"]
    assert response.json["mode"] == "dar" and response.json["importante"] is True
    listed = educ.get(f"/api/v1/usager/{children['a']}/transmissions").json["result"]
    mine = next(t for t in listed if t["id"] == tid)
    assert mine["cible"] == "alimentation" and mine["donnees"] == "A peu mangé à midi."
    assert mine["categorie"] == "social_educatif" and mine["usager_ids"] == [children["a"]]
    assert dt.datetime.fromisoformat(mine["ecrit_le"]).utcoffset() == dt.timedelta(0)  # ISO 8601, UTC offset


def test_service_defaults_to_the_childs_unit(api, children):
    response = post(api("educ.sources"), children["b"], texte="Match de foot, s'est bien défendu.")
    assert response.status_code == 201, response.json
    assert response.json["service_id"] == children["ados"]


def test_each_childs_line_is_seen_only_with_that_childs_scope(app, api, children):
    tid = write_for_both(app, children)
    # The educator of the enfants unit sees child a, and the entry with a's line only.
    enfants = api("educ.enfants")
    seen = next(t for t in enfants.get(f"/api/v1/usager/{children['a']}/transmissions").json["result"] if t["id"] == tid)
    assert seen["usager_ids"] == [children["a"]]
    assert enfants.get(f"/api/v1/usager/{children['b']}/transmissions").status_code == 404
    ados = api("educ.ados")
    seen = next(t for t in ados.get(f"/api/v1/usager/{children['b']}/transmissions").json["result"] if t["id"] == tid)
    assert seen["usager_ids"] == [children["b"]]
    # The author, who sees the whole IME, sees both lines.
    both = next(t for t in api("educ.sources").get(f"/api/v1/usager/{children['a']}/transmissions").json["result"]
                if t["id"] == tid)
    assert sorted(both["usager_ids"]) == sorted([children["a"], children["b"]])


def test_another_etablissements_people_and_transmissions_are_404(app, api, children):
    tid = write_for_both(app, children)
    other = api("soin.tilleuls")
    assert other.get(f"/api/v1/usager/{children['a']}/transmissions").status_code == 404
    assert post(other, children["a"], categorie="soins", texte="x").status_code == 404
    assert other.post(f"/api/v1/transmissions/{tid}/lu").status_code == 404
    assert tid not in [t["id"] for t in other.get("/api/v1/transmissions/a-lire").json["result"]]


def test_a_category_the_role_may_not_read_is_absent(app, api, children):
    hidden = write_for_both(app, children)  # social_educatif
    shown = write_for_both(app, children, categorie="administratif", texte="Dossier CAF complet.")
    secretary = api("secretaire.sources")  # reads administratif only
    ids = [t["id"] for t in secretary.get(f"/api/v1/usager/{children['a']}/transmissions").json["result"]]
    assert shown in ids and hidden not in ids
    assert secretary.post(f"/api/v1/transmissions/{hidden}/lu").status_code == 404
    assert secretary.post(f"/api/v1/transmissions/{shown}/lu").status_code == 204
    unread = [t["id"] for t in secretary.get("/api/v1/transmissions/a-lire").json["result"]]
    assert hidden not in unread and shown not in unread  # read just now
    with app.app_context():
        assert transmissions.visible(db.session, hidden) is not None  # the system reads everything


def test_a_role_writes_only_categories_it_may_write(api, children):
    educ = api("educ.sources")
    response = post(educ, children["a"], categorie="medical", texte="Traitement modifié.")
    assert response.status_code == 422
    assert "categorie" in response.json["message"]
    assert post(api("secretaire.sources"), children["a"], categorie="administratif", texte="x").status_code == 403


@pytest.mark.parametrize("body, field", [
    ({}, "texte"),
    ({"texte": "Texte", "donnees": "Données"}, "texte"),
    ({"texte": "Texte", "cible": "inconnue"}, "cible"),
    ({"texte": "Texte", "importante": "oui"}, "importante"),
    ({"texte": "Texte", "categorie": None}, "categorie"),
    ({"texte": "Texte", "categorie": "astrologie"}, "categorie"),
    ({"texte": "Texte", "humeur": "bonne"}, "humeur"),
    ({"texte": 12}, "texte"),
    ({"texte": "Texte", "service_id": 999999}, "service_id"),
])
def test_field_errors_are_422_per_field(api, children, body, field):
    response = post(api("educ.sources"), children["a"], **body)
    assert response.status_code == 422, response.json
    assert field in response.json["message"] and isinstance(response.json["message"][field], list)


def test_not_json_is_400(api, children):
    response = api("educ.sources").post(f"/api/v1/usager/{children['a']}/transmissions", data="texte")
    assert response.status_code == 400


def test_depuis_filters_by_time(app, api, children):
    tid = write_for_both(app, children)
    educ = api("educ.sources")
    url = f"/api/v1/usager/{children['a']}/transmissions"
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()
    assert tid not in [t["id"] for t in educ.get(url, query_string={"depuis": future}).json["result"]]
    assert tid in [t["id"] for t in educ.get(url, query_string={"depuis": past}).json["result"]]
    assert educ.get(url, query_string={"depuis": "hier"}).status_code == 400


def test_read_acknowledgements_and_unread_list(app, api, children, make_user):
    make_user("educ.sources.2", "Éducatif", [f.SOURCES])
    tid = write_for_both(app, children, importante=True)
    colleague = api("educ.sources.2")
    unread = colleague.get("/api/v1/transmissions/a-lire").json["result"]
    assert tid in [t["id"] for t in unread]
    assert unread[0]["importante"] is True  # important first
    assert tid not in [t["id"] for t in api("educ.sources").get("/api/v1/transmissions/a-lire").json["result"]]  # own
    assert colleague.post(f"/api/v1/transmissions/{tid}/lu").status_code == 204
    assert colleague.post(f"/api/v1/transmissions/{tid}/lu").status_code == 204  # again: nothing changes
    assert tid not in [t["id"] for t in colleague.get("/api/v1/transmissions/a-lire").json["result"]]
    # The ados educator works in another unit: not in their list, though they see child b.
    assert tid not in [t["id"] for t in api("educ.ados").get("/api/v1/transmissions/a-lire").json["result"]]
    with app.app_context():
        readers = transmissions.readers(db.session, db.session.get(Transmission, tid))
        assert [r.user.username for r in readers] == ["educ.sources.2"]


def test_correction_within_the_delay_keeps_the_previous_text(app, children):
    from app.models import User

    tid = write_for_both(app, children)
    with app.app_context():
        author = db.session.query(User).filter_by(username="educ.sources").one()
        item = db.session.get(Transmission, tid)
        transmissions.correct(db.session, scope=Scope.everything(), transmission=item, user_id=author.id,
                              values={"texte": "Sortie au parc : bonne participation, sauf une dispute."},
                              expected_version=1)
        assert item.version == 2 and item.corrected_at is not None
        [old] = db.session.query(TransmissionVersion).filter_by(transmission_id=tid).all()
        assert old.texte == "Sortie au parc : bonne participation de tous." and old.numero == 1
        # Someone else may not correct it; a stale version is refused.
        other = db.session.query(User).filter_by(username="direction").one()
        with pytest.raises(transmissions.ValidationFailed):
            transmissions.correct(db.session, scope=Scope.everything(), transmission=item, user_id=other.id,
                                  values={"texte": "x"}, expected_version=2)
        with pytest.raises(transmissions.StaleVersion):
            transmissions.correct(db.session, scope=Scope.everything(), transmission=item, user_id=author.id,
                                  values={"texte": "y"}, expected_version=1)


def test_after_the_delay_only_an_addendum(app, children):
    from app.models import User

    tid = write_for_both(app, children)
    with app.app_context():
        author = db.session.query(User).filter_by(username="educ.sources").one()
        item = db.session.get(Transmission, tid)
        late = item.written_at + dt.timedelta(minutes=app.config["SILLAGE_TRANSMISSION_CORRECTION_MINUTES"] + 1)
        with pytest.raises(transmissions.ValidationFailed) as refused:
            transmissions.correct(db.session, scope=Scope.everything(), transmission=item, user_id=author.id,
                                  values={"texte": "Autre texte"}, expected_version=1, now=late)
        assert "délai de correction" in refused.value.errors["correction"]
        assert "complément" in refused.value.errors["correction"]
        db.session.rollback()
        added = transmissions.addendum(db.session, scope=Scope.everything(), original=item, author_id=author.id,
                                       values={"texte": "Précision : retour à 17 h."})
        assert added.addendum_of_id == tid and added.service_id == item.service_id
        assert sorted(line.usager_id for line in added.lines) == sorted([children["a"], children["b"]])
        assert db.session.get(Transmission, tid).texte == "Sortie au parc : bonne participation de tous."


def test_feeds_per_service_target_author_and_category(app, children):
    tid = write_for_both(app, children, cible="sortie")
    with app.app_context():
        rows, _more = transmissions.feed(db.session, service_ids=[children["enfants"]],
                                         filters=transmissions.Filters(cible="sortie"))
        assert tid in [t.id for t in rows] and all(t.cible == "sortie" for t in rows)
        rows, _more = transmissions.feed(db.session, service_ids=[children["enfants"]],
                                         filters=transmissions.Filters(categorie="soins"))
        assert tid not in [t.id for t in rows]
        rows, _more = transmissions.feed(db.session, usager_id=children["b"],
                                         filters=transmissions.Filters(author_id=-1))
        assert rows == []


def test_the_cibles_list_is_a_referentiel(app):
    with app.app_context():
        cibles = transmissions.cibles(db.session)
        assert {"douleur", "alimentation", "sommeil", "chute", "sortie", "scolarite"} <= set(cibles)


# --- pages ---------------------------------------------------------------------------------------

def test_quick_entry_for_several_people_then_a_colleague_marks_it_read(app, as_user, children, make_user):
    make_user("educ.sources.3", "Éducatif", [f.SOURCES])
    educ = as_user("educ.sources")
    page = educ.get(f"/transmissions/?saisie={children['enfants']}")
    assert page.status_code == 200
    assert f'value="{children["a"]}"' in page.text  # the unit's child is offered
    response = educ.post("/transmissions/nouvelle", data={
        "csrf_token": "", "service_id": children["enfants"], "usagers": [children["a"], children["b"]],
        "categorie": "social_educatif", "cible": "sortie", "donnees": "Sortie à la médiathèque, très calmes."})
    assert response.status_code == 302, response.text[:500]
    with app.app_context():
        tid = db.session.query(Transmission.id).filter(Transmission.donnees == "Sortie à la médiathèque, très calmes.").scalar()
    colleague = as_user("educ.sources.3")
    page = colleague.get("/transmissions/")
    assert "Sortie à la médiathèque, très calmes." in page.text and "Marquer comme lu" in page.text
    assert colleague.post(f"/transmissions/{tid}/lu", data={"retour": "/transmissions/"}).status_code == 302
    shown = educ.get(f"/transmissions/{tid}").text
    assert "Lu par" in shown and "Prénom Nom" in shown


def test_entry_errors_are_shown_in_french(as_user, children):
    response = as_user("educ.sources").post("/transmissions/nouvelle", data={
        "service_id": children["enfants"], "categorie": "social_educatif"})
    assert response.status_code == 422
    assert "Choisissez au moins une personne." in response.text


def test_usager_feed_dossier_panel_and_printable(app, as_user, children):
    write_for_both(app, children, cible="sortie", texte="Atelier cuisine : crêpes réussies.")
    educ = as_user("educ.sources")
    assert "Atelier cuisine" in educ.get(f"/transmissions/usager/{children['a']}").text
    dossier = educ.get(f"/dossier/{children['a']}").text
    assert 'id="transmissions"' in dossier and "Atelier cuisine" in dossier
    printed = educ.get("/transmissions/imprimer")
    assert printed.status_code == 200 and "Atelier cuisine" in printed.text
    assert as_user("soin.tilleuls").get(f"/transmissions/usager/{children['a']}").status_code == 404
    assert "Atelier cuisine" not in as_user("secretaire.sources").get(f"/dossier/{children['a']}").text


@pytest.mark.usefixtures("steady_caches")
def test_the_dossier_panel_reads_the_last_five_in_one_statement_without_service_or_lines(app, as_user, children):
    """Issue 20: the panel shows date, author, target and text; joining each transmission's
    service (and its établissement and category) made PostgreSQL plan the statement ten times
    longer than it ran. Newest first, five at most, only what the user reads."""
    from .conftest import sql_statements

    for n in range(7):
        write_for_both(app, children, cible="sortie", texte=f"Note {n} du jour.")
    educ = as_user("educ.sources")
    url = f"/dossier/{children['a']}"
    educ.get(url)
    response, statements = sql_statements(app, lambda: educ.get(url))
    panel = response.text.split('id="transmissions"', 1)[1].split("</section>", 1)[0]
    shown = [panel.index(f"Note {n} du jour.") for n in (6, 5, 4, 3, 2)]
    assert shown == sorted(shown) and "Note 1 du jour." not in panel and "Note 0 du jour." not in panel
    reads = [s for s in statements if "FROM transmission JOIN" in s]
    assert len(reads) == 1 and "JOIN service" not in reads[0], reads
    assert not [s for s in statements if "FROM transmission_usager" in s and "transmission_usager.transmission_id IN" in s]


def test_the_panels_kept_statement_gives_each_reader_their_own_rows(app, as_user, make_user, children):
    """The panel's statement is built once and filtered once per shape of scope
    (`scope.constant`); the scope's values (places, categories) are read at each execution, so
    two readers of the same shape in turn each get their own rows, never the other's."""
    from app.security import scope

    make_user("psy.sources", "Psychologue", [f.SOURCES])
    write_for_both(app, children, categorie="psychologique", texte="Entretien : angoisses du soir.")
    write_for_both(app, children, texte="Sortie au parc, très joyeux.")
    psy, educ, ados = as_user("psy.sources"), as_user("educ.sources"), as_user("educ.ados")

    def panel(client, child):
        page = client.get(f"/dossier/{children[child]}")
        assert page.status_code == 200
        return page.text.split('id="transmissions"', 1)[1].split("</section>", 1)[0]

    for _round in range(2):
        assert "angoisses du soir" in panel(psy, "a") and "Sortie au parc" in panel(psy, "a")
        shown = panel(educ, "a")  # does not read the psychologique category
        assert "Sortie au parc" in shown and "angoisses du soir" not in shown
        assert "Sortie au parc" in panel(ados, "b")
        assert ados.get(f"/dossier/{children['a']}").status_code == 404  # another unit's child
    assert any(entry[0] is transmissions._RECENT for entry in scope._constants.values())


def test_correction_page_after_the_delay_offers_the_addendum(app, as_user, children):
    tid = write_for_both(app, children)
    with app.app_context():
        item = db.session.get(Transmission, tid)
        item.written_at -= dt.timedelta(hours=3)
        db.session.commit()
    educ = as_user("educ.sources")
    page = educ.get(f"/transmissions/{tid}").text
    assert "Ajouter un complément" in page and "Enregistrer la correction" not in page
    refused = educ.post(f"/transmissions/{tid}/corriger", data={"version": "1", "texte": "Autre"})
    assert refused.status_code == 422 and "ajoutez un complément" in refused.text
    added = educ.post(f"/transmissions/{tid}/addendum", data={"categorie": "social_educatif", "texte": "Retour 17 h."})
    assert added.status_code == 302


def test_a_service_chooses_structured_or_narrative_transmissions_in_its_page(app, as_user):
    from app.models import Service

    with app.app_context():
        service_id = f.service(f.TILLEULS).id
    client = as_user("admin")
    form = client.get(f"/serviceview/edit/{service_id}").data.decode()
    assert "Structurées (DAR)" in form and "Narratives" in form
    with app.app_context():
        name = db.session.get(Service, service_id).name
        etab = db.session.get(Service, service_id).etablissement_id
    client.post(f"/serviceview/edit/{service_id}", data={"etablissement": etab, "name": name,
                                                          "transmission_mode": "narratif"})
    with app.app_context():
        assert db.session.get(Service, service_id).transmission_mode == "narratif"
        db.session.get(Service, service_id).transmission_mode = "dar"
        db.session.commit()
    assert "Structurées (DAR)" in client.get("/serviceview/list/").data.decode()
