"""Agenda: recurrences in Europe/Paris with exceptions, the ICS feed read by two parsers (stable UID,
SEQUENCE, cancelled occurrences, minimal content), feed tokens (revocation, never in the audit in
full), the shared secret masking a medical appointment, conflicts, scope, the API contract, the
pages and the occupancy figure."""
import datetime as dt
from urllib.parse import urlparse

import icalendar
import pytest
import recurring_ical_events
import vobject
from sqlalchemy import func, select

from app.domain import clock
from app.extensions import db
from app.models import AuditEvent, User

from . import factories as f

PARIS = "Europe/Paris"


@pytest.fixture
def people(app):
    """Two residents of Les Tilleuls and one child of Les Sources."""
    with app.app_context():
        a = f.gen_usager(f.TILLEULS, nom_naissance=f.unique_name("DURAND"), prenoms_naissance="Jeanne")
        b = f.gen_usager(f.TILLEULS)
        c = f.gen_usager(f.SOURCES, date_naissance=dt.date(2014, 1, 2))
        return {"a": a.id, "b": b.id, "c": c.id, "a_name": a.display_name, "a_nom": a.nom_naissance,
                "tilleuls": f.service(f.TILLEULS).id}


def user_id(app, username):
    with app.app_context():
        return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


def create(client, **body):
    response = client.post("/api/v1/agenda", json=body)
    assert response.status_code == 201, response.json
    return response.json


def window(client, debut, fin, **filters):
    response = client.get("/api/v1/agenda", query_string={"debut": debut, "fin": fin, **filters})
    assert response.status_code == 200, response.json
    return response.json["result"]


def weekly_activity(client, people, **extra):
    """Mondays 10:00–11:00 Paris time from 17 March 2025, four times (the hour changes on 30 March)."""
    return create(client, titre="Atelier mémoire", type="activite", categorie="social_educatif",
                  debut="2025-03-17T10:00:00+01:00", fin="2025-03-17T11:00:00+01:00",
                  usager_ids=[people["a"], people["b"]], lieu="Salle des Tilleuls", rrule="FREQ=WEEKLY;COUNT=4",
                  **extra)


def soon(days, hour):
    """A local time `days` from today (inside the feed's window), ISO with its offset."""
    from zoneinfo import ZoneInfo

    day = clock.today() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour)).replace(tzinfo=ZoneInfo(PARIS)).isoformat()


def read_feed(app, url):
    """The feed as a phone reads it: no session, no token but the URL's."""
    response = app.test_client().get(urlparse(url).path)
    return response


def test_weekly_activity_keeps_its_local_hour_across_the_change_of_hour_with_one_cancelled(api, people):
    client = api("direction")
    event = weekly_activity(client, people)
    cancelled = client.delete(f"/api/v1/agenda/{event['id']}", query_string={"occurrence": "2025-03-24T10:00:00+01:00"})
    assert cancelled.status_code == 200, cancelled.json
    found = [o for o in window(client, "2025-03-15T00:00:00+01:00", "2025-04-15T00:00:00+02:00",
                               usager_id=people["a"]) if o["id"] == event["id"]]
    assert [(o["debut"], o["annule"]) for o in found] == [
        ("2025-03-17T10:00:00+01:00", False), ("2025-03-24T10:00:00+01:00", True),
        ("2025-03-31T10:00:00+02:00", False), ("2025-04-07T10:00:00+02:00", False)]
    assert found[2]["occurrence"] == "2025-03-31T08:00:00"  # the original start, UTC
    assert {"id", "occurrence", "debut", "fin", "titre", "categorie"} <= set(found[0])


def test_ics_feed_read_by_two_parsers_shows_the_weekly_activity_with_one_cancelled_date(app, api, people):
    client = api("direction")
    event = weekly_activity(client, people)
    client.delete(f"/api/v1/agenda/{event['id']}", query_string={"occurrence": "2025-03-24T09:00:00Z"})
    made = client.post("/api/v1/agenda/flux")
    assert made.status_code == 201 and made.json["url"].endswith(".ics")
    response = read_feed(app, made.json["url"])
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    text = response.data.decode()

    # 1. icalendar + recurring-ical-events
    cal = icalendar.Calendar.from_ical(text)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == [PARIS]
    mine = [c for c in cal.walk("VEVENT") if str(c["UID"]) == event["result"]["uid"]]
    master = next(c for c in mine if "RRULE" in c)
    assert master["DTSTART"].params["TZID"] == PARIS and master["STATUS"] == "CONFIRMED"
    override = next(c for c in mine if "RECURRENCE-ID" in c)
    assert override["STATUS"] == "CANCELLED"
    occurrences = recurring_ical_events.of(cal).between(dt.datetime(2025, 3, 15), dt.datetime(2025, 4, 15))
    ours = sorted((o.decoded("DTSTART").isoformat(), str(o["STATUS"])) for o in occurrences
                  if str(o["UID"]) == event["result"]["uid"])
    assert ours == [("2025-03-17T10:00:00+01:00", "CONFIRMED"), ("2025-03-24T10:00:00+01:00", "CANCELLED"),
                    ("2025-03-31T10:00:00+02:00", "CONFIRMED"), ("2025-04-07T10:00:00+02:00", "CONFIRMED")]

    # 2. vobject, independently
    parsed = vobject.readOne(text)
    assert any(tz.tzid.value == PARIS for tz in parsed.vtimezone_list)
    vevents = [v for v in parsed.vevent_list if v.uid.value == event["result"]["uid"]]
    vmaster = next(v for v in vevents if hasattr(v, "rrule"))
    starts = [d.isoformat() for d in vmaster.getrruleset(addRDate=True)]
    assert starts == ["2025-03-17T10:00:00+01:00", "2025-03-24T10:00:00+01:00", "2025-03-31T10:00:00+02:00",
                      "2025-04-07T10:00:00+02:00"]
    voverride = next(v for v in vevents if hasattr(v, "recurrence_id"))
    assert voverride.status.value == "CANCELLED"
    assert voverride.recurrence_id.value.isoformat() == "2025-03-24T10:00:00+01:00"


def test_uid_is_stable_and_sequence_grows_on_each_change(app, api, people):
    client = api("direction")
    event = weekly_activity(client, people)
    uid = event["result"]["uid"]
    changed = client.put(f"/api/v1/agenda/{event['id']}", json={"titre": "Atelier mémoire (salle 2)"})
    assert changed.status_code == 200, changed.json
    assert changed.json["result"]["uid"] == uid and changed.json["result"]["sequence"] == 1
    client.put(f"/api/v1/agenda/{event['id']}", json={"lieu": "Salle 2"})
    feed = read_feed(app, client.post("/api/v1/agenda/flux").json["url"]).data.decode()
    component = next(c for c in icalendar.Calendar.from_ical(feed).walk("VEVENT") if str(c["UID"]) == uid)
    assert component["SEQUENCE"] == 2


def test_feed_is_minimal_by_default_initials_and_no_medical_detail(app, api, people):
    nurse = api("soin.tilleuls")
    create(nurse, titre="Consultation cardiologue Dr Coeur", type="rdv_medical", categorie="medical",
           debut=soon(20, 14), fin=soon(20, 15), usager_ids=[people["a"]],
           lieu="CHU, service de cardiologie", notes="À jeun")
    text = read_feed(app, nurse.post("/api/v1/agenda/flux").json["url"]).data.decode()
    unfolded = text.replace("\r\n ", "")
    assert "cardio" not in unfolded.lower() and "jeun" not in unfolded.lower()
    assert people["a_nom"] not in unfolded and "Jeanne" not in unfolded
    assert f"SUMMARY:Rendez-vous — J. {people['a_nom'][0]}." in unfolded


def test_feed_detail_setting_widens_the_content(app, api, people):
    nurse = api("soin.tilleuls")
    create(nurse, titre="Kinésithérapie", type="rdv_medical", categorie="medical",
           debut=soon(21, 14), fin=soon(21, 15), usager_ids=[people["a"]])
    url = nurse.post("/api/v1/agenda/flux").json["url"]
    app.config["SILLAGE_ICS_DETAIL"] = True
    try:
        text = read_feed(app, url).data.decode().replace("\r\n ", "")
    finally:
        app.config["SILLAGE_ICS_DETAIL"] = False
    assert "Kinésithérapie" in text and people["a_name"] in text


def test_regenerating_the_feed_revokes_the_old_address(app, api):
    client = api("secretaire.tilleuls")
    old = client.post("/api/v1/agenda/flux").json["url"]
    assert read_feed(app, old).status_code == 200
    new = client.post("/api/v1/agenda/flux").json["url"]
    assert new != old
    assert read_feed(app, old).status_code == 404
    assert read_feed(app, new).status_code == 200
    assert read_feed(app, new[:-8] + "xxxx.ics").status_code == 404


def test_feed_read_is_audited_as_the_owner_without_the_token(app, api):
    client = api("secretaire.tilleuls")
    url = client.post("/api/v1/agenda/flux").json["url"]
    token = urlparse(url).path.rsplit("/", 1)[1][:-4]
    assert read_feed(app, url).status_code == 200
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(20)).scalars().all()
        entry = next(r for r in rows if r.action == "read" and r.entity == "Evenement")
        assert entry.username == "secretaire.tilleuls"
        assert "/agenda/flux/" in entry.details["path"] and token not in entry.details["path"]
        assert not any(token in str(r.details) or token in str(r.changes) for r in rows)


def test_a_revoked_feed_opened_in_a_signed_in_browser_leaves_no_token_in_the_trail(app, api, as_user):
    """The 404 of a signed-in user is audited as a denial, with the path: the token masked."""
    url = api("secretaire.tilleuls").post("/api/v1/agenda/flux").json["url"]
    api("secretaire.tilleuls").post("/api/v1/agenda/flux")  # the first one is revoked
    path = urlparse(url).path
    token = path.rsplit("/", 1)[1][:-4]
    assert as_user("secretaire.tilleuls").get(path).status_code == 404
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(10)).scalars().all()
        assert any(r.action == "denied" for r in rows)
        assert not [r.details for r in rows if token in str(r.details)]


def test_medical_appointment_is_masked_for_a_role_that_does_not_read_medical(api, people):
    create(api("soin.tilleuls"), titre="Consultation psychiatre", type="rdv_medical", categorie="medical",
           debut="2030-06-03T09:00:00+02:00", fin="2030-06-03T10:00:00+02:00", usager_ids=[people["a"]],
           lieu="CMP", notes="Traitement")
    seen = window(api("secretaire.tilleuls"), "2030-06-03T00:00:00+02:00", "2030-06-04T00:00:00+02:00",
                  usager_id=people["a"])
    assert len(seen) == 1
    assert seen[0]["titre"] == "Rendez-vous" and seen[0]["masque"] is True
    assert seen[0]["lieu"] is None and seen[0]["notes"] is None
    assert seen[0]["debut"] == "2030-06-03T09:00:00+02:00"
    full = window(api("soin.tilleuls"), "2030-06-03T00:00:00+02:00", "2030-06-04T00:00:00+02:00",
                  usager_id=people["a"])
    assert full[0]["titre"] == "Consultation psychiatre" and full[0]["lieu"] == "CMP"


def test_conflicts_room_booked_twice_and_person_in_two_places(api, people):
    client = api("secretaire.tilleuls")
    create(client, titre="Gym douce", type="activite", categorie="administratif", lieu="Salle polyvalente",
           debut="2030-07-01T10:00:00+02:00", fin="2030-07-01T11:00:00+02:00", usager_ids=[people["a"]])
    second = create(client, titre="Loto", type="activite", categorie="administratif", lieu="salle  Polyvalente",
                    debut="2030-07-01T10:30:00+02:00", fin="2030-07-01T11:30:00+02:00", usager_ids=[people["a"]])
    reasons = {c["motif"] for c in second["conflits"]}
    assert {"lieu", "personne"} <= reasons
    third = create(client, titre="Coiffeur", type="rdv_externe", categorie="administratif",
                   debut="2030-07-01T11:30:00+02:00", fin="2030-07-01T12:00:00+02:00", usager_ids=[people["a"]])
    assert all(c["motif"] != "personne" for c in third["conflits"])  # back to back is no conflict


def test_event_of_another_etablissement_is_404(api, people):
    event = create(api("secretaire.tilleuls"), titre="Visite de la fille", type="visite", categorie="administratif",
                   debut="2030-08-01T15:00:00+02:00", fin="2030-08-01T16:00:00+02:00", usager_ids=[people["a"]])
    other = api("secretaire.sources")
    assert other.put(f"/api/v1/agenda/{event['id']}", json={"titre": "x"}).status_code == 404
    assert other.delete(f"/api/v1/agenda/{event['id']}").status_code == 404
    assert all(o["id"] != event["id"] for o in window(other, "2030-08-01T00:00:00Z", "2030-08-02T00:00:00Z"))
    refused = other.post("/api/v1/agenda", json={"titre": "x", "debut": "2030-08-01T15:00:00Z",
                                                  "fin": "2030-08-01T16:00:00Z", "usager_ids": [people["a"]]})
    assert refused.status_code == 422 and "usager_ids" in refused.json["message"]


def test_api_contract_field_errors_are_422(api, people):
    client = api("secretaire.tilleuls")
    cases = [
        ({"debut": "2030-01-01T10:00:00Z", "fin": "2030-01-01T11:00:00Z"}, "titre"),
        ({"titre": "x", "debut": "demain", "fin": "2030-01-01T11:00:00Z"}, "debut"),
        ({"titre": "x", "debut": "2030-01-01T12:00:00Z", "fin": "2030-01-01T11:00:00Z"}, "fin"),
        ({"titre": "x", "debut": "2030-01-01T10:00:00Z", "fin": "2030-01-01T11:00:00Z", "rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"titre": "x", "debut": "2030-01-01T10:00:00Z", "fin": "2030-01-01T11:00:00Z", "categorie": "medical"}, "categorie"),
        ({"titre": "x", "debut": "2030-01-01T10:00:00Z", "fin": "2030-01-01T11:00:00Z", "couleur": "bleu"}, "couleur"),
        ({"titre": "x", "debut": "2030-01-01T10:00:00Z", "fin": "2030-01-01T11:00:00Z", "usager_ids": "1"}, "usager_ids"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/agenda", json={"usager_ids": [people["a"]], **body})
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["message"], (body, response.json)
    assert client.get("/api/v1/agenda", query_string={"debut": "x", "fin": "y"}).status_code == 400
    assert client.post("/api/v1/agenda/flux").status_code == 201
    assert api("qualite").get("/api/v1/agenda", query_string={
        "debut": "2030-01-01T00:00:00Z", "fin": "2030-01-02T00:00:00Z"}).status_code == 403


def test_pages_show_the_week_and_the_dossier_links_to_it(app, as_user, api, people):
    event = weekly_activity(api("direction"), people)
    html = as_user("direction").get(f"/agenda/?vue=semaine&date=2025-03-31&usager_id={people['a']}").data.decode()
    assert "Atelier mémoire" in html and "10:00" in html and "Salle des Tilleuls" in html
    client = as_user("secretaire.tilleuls")  # does not read social_educatif: the slot, masked
    page = client.get(f"/agenda/?vue=semaine&date=2025-03-31&usager_id={people['a']}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Atelier mémoire" not in html and "Activité" in html and "10:00" in html
    for view in ("jour", "mois"):
        assert client.get(f"/agenda/?vue={view}&date=2025-03-31&usager_id={people['a']}").status_code == 200
    assert client.get(f"/agenda/{event['id']}").status_code == 200
    assert client.get(f"/agenda/{event['id']}/modifier").status_code == 403  # she would overwrite unseen detail
    assert as_user("direction").get(f"/agenda/{event['id']}/modifier").status_code == 200
    assert client.get("/agenda/nouveau").status_code == 200
    assert client.get("/agenda/abonnement").status_code == 200
    assert f"/agenda/?usager_id={people['a']}" in client.get(f"/dossier/{people['a']}").data.decode()
    assert as_user("secretaire.sources").get(f"/agenda/{event['id']}").status_code == 404


def test_absent_usagers_are_counted_in_occupancy(app, api, people):
    from app.services import indicators

    create(api("soin.tilleuls"), titre="Hospitalisation", type="hospitalisation", categorie="medical",
           debut="2030-09-01T08:00:00+02:00", fin="2030-09-10T18:00:00+02:00", usager_ids=[people["b"]])
    with app.app_context():
        lines = indicators.occupation(db.session, f.etablissement(f.TILLEULS).id, dt.date(2030, 9, 5))
        total = [l for l in lines if l["service_id"] is None]
        assert sum(l["absents"] for l in total) >= 1
        assert all(l["absents"] <= l["occupes"] for l in lines)


def test_the_dossier_panel_reads_the_next_events_in_one_statement_masked_for_each_reader(app, as_user, api, people):
    """Issue 20: the panel shows when, what and where; it no longer loads each event's people and
    participants (two statements, and other people's names the page never showed, yet counted in
    the read audit as read). Its statement is kept between requests (`scope.constant`): each
    request still gets its own reader's masking and scope."""
    from app.models import AuditUsager
    from app.domain import clock

    from .conftest import sql_statements

    day = (clock.today() + dt.timedelta(days=3)).isoformat()
    create(api("soin.tilleuls"), titre="Consultation psychiatre", type="rdv_medical", categorie="medical",
           debut=f"{day}T09:00:00+01:00", fin=f"{day}T10:00:00+01:00", usager_ids=[people["a"], people["b"]],
           lieu="CMP des Tilleuls")
    nurse, secretary = as_user("soin.tilleuls"), as_user("secretaire.tilleuls")
    url = f"/dossier/{people['a']}"

    def panel(client):
        page = client.get(url)
        assert page.status_code == 200
        return page.text.split('id="agenda"', 1)[1].split("</section>", 1)[0]

    for _round in range(2):  # in turn: what one request kept never serves the other its view
        shown = panel(nurse)
        assert "Consultation psychiatre" in shown and "CMP des Tilleuls" in shown
        masked = panel(secretary)
        assert "Consultation psychiatre" not in masked and "CMP" not in masked and "Rendez-vous" in masked
    with app.app_context():
        last = db.session.execute(select(func.max(AuditEvent.id))).scalar()
    response, statements = sql_statements(app, lambda: nurse.get(url))
    assert response.status_code == 200
    assert len([s for s in statements if "FROM evenement" in s]) == 1, statements
    assert not [s for s in statements if s.lstrip().startswith(("SELECT evenement_participant", "SELECT evenement_usager"))]
    with app.app_context():  # the page read person a's dossier, not person b's
        entries = db.session.execute(select(AuditEvent).where(AuditEvent.id > last)).scalars().all()
        assert [e.usager_id for e in entries if e.action == "read"] == [people["a"]]
        assert not db.session.execute(select(AuditUsager).where(AuditUsager.audit_id > last)).all()
    assert as_user("secretaire.sources").get(url).status_code == 404
