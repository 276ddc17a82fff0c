"""API list and get (issue 20): the same answers as FAB's, without its per-request work. The
statements a request runs are counted (a regression that re-reads the user's session or counts
every visible row again shows here, whatever the machine's speed), and the kept count follows
every change of the data and stays within each user's scope."""
import datetime as dt

import jsonschema
import pytest
from flask_appbuilder.api.schemas import get_list_schema
from sqlalchemy import select, update

from app.extensions import db
from app.models import Admission, DemandeAdmission, Usager

from . import factories as f
from .conftest import sql_statements

LIST = "/api/v1/usager/?q=(page_size:100)"


def _all_ids(client, url="/api/v1/usager/") -> tuple[int, list[int]]:
    """(the list's count, every id of every page)."""
    ids, page = [], 0
    while True:
        body = client.get(f"{url}?q=(page:{page},page_size:100)").json
        ids += body["ids"]
        if len(body["ids"]) < 100:
            return body["count"], ids
        page += 1


def _apis(app):
    from app.web.api.base import SillageModelApi

    return [v for v in app.appbuilder.baseviews if isinstance(v, SillageModelApi)]


def test_rows_are_dumped_as_marshmallow_dumps_them(app):
    """Each list and show of a Sillage model API gives, field for field, what FAB's schema gives."""
    from flask import g

    from app.security.scope import Scope

    with app.app_context():
        f.gen_usager(telephone_mobile="06 11 22 33 44")
        db.session.commit()
    with app.test_request_context():
        g.sillage_scope = Scope.everything()
        checked = 0
        for api in _apis(app):
            for kind in ("list", "show"):
                plan = api._plan(kind)
                if plan is None:  # dotted columns: FAB's own path
                    continue
                model = api.datamodel.obj
                rows = db.session.execute(select(model).order_by(model.id).limit(300)).scalars().all()
                assert rows
                schema = getattr(api, f"{kind}_model_schema")
                expected = schema.dump(rows, many=True)
                assert plan.dump_many(rows) == expected
                if kind == "list" and plan.reads_columns:  # the list reads plain columns
                    columns = db.session.execute(select(*plan.selected).order_by(model.id).limit(300)).all()
                    assert plan.dump_rows(columns) == expected
                    checked += 1
                checked += 1
        assert checked >= 6  # usagers and admissions, list (objects and columns) and show
        db.session.rollback()


def test_list_and_get_answer_what_fab_answers(api):
    client = api("admin")
    body = client.get("/api/v1/usager/?q=(page_size:5,order_column:id,order_direction:desc)").json
    assert set(body) == {"count", "ids", "result", "label_columns", "list_columns", "description_columns",
                         "order_columns", "list_title"}
    assert body["ids"] == sorted(body["ids"], reverse=True) and len(body["result"]) == 5
    assert body["ids"] == [row["id"] for row in body["result"]]
    one = client.get(f"/api/v1/usager/{body['ids'][0]}").json
    assert set(one) == {"id", "result", "label_columns", "show_columns", "description_columns", "show_title"}
    assert one["result"] == body["result"][0]
    chosen = client.get("/api/v1/usager/?q=(page_size:3,columns:!(id,nom_naissance))").json
    assert set(chosen["result"][0]) == {"id", "nom_naissance"}
    only = client.get("/api/v1/usager/?q=(page_size:3,keys:!(list_columns))").json
    assert set(only) == {"count", "ids", "result", "list_columns"}


@pytest.mark.parametrize("q", ["(page:x)", "(page_size:!t)", "(order_direction:up)", "(filters:3)"])
def test_bad_arguments_are_answered_as_fab_answers(api, q):
    import prison

    response = api("admin").get(f"/api/v1/usager/?q={q}")
    assert response.status_code == 400
    try:
        jsonschema.validate(instance=prison.loads(q), schema=get_list_schema)
    except jsonschema.ValidationError as e:
        expected = f"Not a valid rison schema {str(e).splitlines()[0]}"
    assert response.json["message"] == expected
    broken = api("admin").get("/api/v1/usager/?q=(page:x")
    assert broken.status_code == 400 and broken.json["message"] == "Not a valid rison/json argument"


def _statements_of(app, client, url):
    response, statements = sql_statements(app, lambda: client.get(url))
    assert response.status_code == 200, response.json
    return response, statements


@pytest.mark.parametrize("username", ["admin", "secretaire.tilleuls"])
@pytest.mark.usefixtures("steady_caches")
def test_api_list_reads_the_session_once_and_counts_once_per_data_version(app, api, username):
    client = api(username)
    client.get(LIST)  # the count is kept from here on
    response, statements = _statements_of(app, client, LIST)
    assert response.json["result"]
    sessions = [s for s in statements if "FROM web_session" in s]
    assert len(sessions) == 1, sessions  # the token's session, checked once (not by scope and audit again)
    assert not [s for s in statements if "count(" in s.lower()], "the count was computed again"
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # the token's session; both versions (stamp, data); the rows
    assert len(reads) == 3, reads
    assert len(statements) <= 7, statements  # + the read audit's entry (head, entry, head, usagers)


@pytest.mark.usefixtures("steady_caches")
def test_browser_list_reads_versions_with_the_session(app, as_user):
    client = as_user("secretaire.tilleuls")
    client.get(LIST)
    _response, statements = _statements_of(app, client, LIST)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2, reads  # the session row (stamp and data version with it); the rows


@pytest.mark.usefixtures("steady_caches")
def test_api_get_reads_the_session_once(app, api):
    client = api("secretaire.tilleuls")
    uid = client.get(LIST).json["ids"][0]
    client.get(f"/api/v1/usager/{uid}")
    _response, statements = _statements_of(app, client, f"/api/v1/usager/{uid}")
    assert len([s for s in statements if "FROM web_session" in s]) == 1
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3, statements


def test_count_follows_changes_and_stays_in_scope(app, api):
    tilleuls, sources, admin = api("secretaire.tilleuls"), api("secretaire.sources"), api("admin")
    before = {name: client.get(LIST).json["count"] for name, client in
              (("tilleuls", tilleuls), ("sources", sources), ("admin", admin))}
    with app.app_context():
        here = f.gen_usager().id
        db.session.commit()
    assert tilleuls.get(LIST).json["count"] == before["tilleuls"] + 1
    assert sources.get(LIST).json["count"] == before["sources"]  # another établissement's row: not counted
    assert admin.get(LIST).json["count"] == before["admin"] + 1
    with app.app_context():  # a bulk change (no flush): the admission ended long ago, out of scope
        db.session.execute(update(Admission).where(Admission.usager_id == here)
                           .values(date_sortie=dt.date(2000, 1, 1)))
        db.session.commit()
    with app.app_context():  # and a Core one, through the session: the demande is closed
        demandes = DemandeAdmission.__table__
        db.session.execute(update(demandes).where(demandes.c.usager_id == here)
                           .values(archived_at=dt.datetime(2000, 1, 1)))
        db.session.commit()
    assert tilleuls.get(LIST).json["count"] == before["tilleuls"]
    with app.app_context():  # a deletion through the ORM (a flush)
        usager = db.session.get(Usager, here)
        for row in (*usager.admissions, *usager.demandes):
            db.session.delete(row)
        db.session.flush()
        db.session.delete(usager)
        db.session.commit()
    assert admin.get(LIST).json["count"] == before["admin"]


def test_a_change_whose_version_never_moved_shows_within_a_minute(app, api, monkeypatch):
    """A writer killed between its commit and the version's move: the kept count lags at most
    `DATA_CACHE_SECONDS`, not until the next write."""
    from app.security import stamp

    now = stamp.time.time()
    monkeypatch.setattr(stamp.time, "time", lambda: now)  # no minute boundary between two reads
    admin = api("admin")
    with app.app_context():
        usager = f.gen_usager()
        db.session.commit()
        row = {c.name: getattr(usager, c.name) for c in Usager.__table__.columns if c.name != "id"}
        db.session.remove()
    before = admin.get(LIST).json["count"]  # kept from here on
    with app.app_context():  # outside any session: the data version does not move (the writer "died")
        with db.engine.begin() as conn:
            conn.execute(Usager.__table__.insert().values(**{**row, "nom_naissance": "ORPHELIN"}))
    assert admin.get(LIST).json["count"] == before  # one change behind
    monkeypatch.setattr(stamp.time, "time", lambda: now + stamp.DATA_CACHE_SECONDS)
    assert admin.get(LIST).json["count"] == before + 1


def test_list_of_columns_is_scoped_and_audited_as_objects_are(app, api):
    """The list reads plain columns: the scope still filters them, the read audit still records
    each usager read."""
    from app.models import AuditEvent

    with app.app_context():
        there = f.gen_usager(f.SOURCES).id
        usager = f.gen_usager()
        here, name = usager.id, usager.nom_naissance
        db.session.commit()
    client = api("secretaire.tilleuls")
    count, ids = _all_ids(client)
    assert here in ids and there not in ids
    url = f"/api/v1/usager/?q=(filters:!((col:nom_naissance,opr:eq,value:{name})))"
    assert client.get(url).json["ids"] == [here]
    with app.app_context():
        entry = db.session.execute(select(AuditEvent).where(AuditEvent.action == "read")
                                   .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert entry.usager_id == here and entry.details["ids"] == {"Usager": [here]}
        assert entry.details["usagers"] == [here] and entry.details["path"] == "/api/v1/usager/"


def test_count_is_every_visible_row_of_a_one_etablissement_user(app, api):
    with app.app_context():
        f.gen_usager(f.SOURCES)
        f.gen_usager()
        db.session.commit()
    client = api("secretaire.tilleuls")
    client.get(LIST)
    count, ids = _all_ids(client)
    assert count == len(ids) == len(set(ids))
    with app.app_context():
        everyone = db.session.execute(select(Usager.id)).scalars().all()
    assert len(everyone) > count  # others exist, and neither their rows nor their number show


def test_count_of_a_filtered_list_is_kept_per_filter(app, api):
    client = api("admin")
    with app.app_context():
        tilleuls_id = f.etablissement().id
    name = f.unique_name("CNT")
    url = f"/api/v1/usager/?q=(filters:!((col:nom_naissance,opr:eq,value:{name})))"
    assert client.get(url).json["count"] == 0
    created = client.post("/api/v1/usager/", json={"nom_naissance": name, "prenoms_naissance": ["Anne"],
                                                   "date_naissance": "1941-02-03", "sexe": "F",
                                                   "etablissement_id": tilleuls_id, "accept_duplicates": True})
    assert created.status_code == 201, created.json
    again = client.get(url).json
    assert again["count"] == 1 and again["ids"] == [created.json["id"]]
    assert client.get(LIST).json["count"] > 1


@pytest.mark.parametrize("username", ["secretaire.tilleuls", "secretaire.sources", "admin"])
def test_page_rule_tested_row_by_row_finds_the_same_rows(app, username):
    """The page's variant of the scope rule (each row looked up, scope.PER_ROW) lets through
    exactly the rows of the rule itself."""
    from flask import g

    from app.models import User
    from app.security.scope import PER_ROW, scope_for_user

    with app.app_context():
        f.gen_usager(f.SOURCES)
        f.gen_usager(admitted=False)  # an open demande only
        db.session.commit()
    with app.test_request_context():
        user = db.session.query(User).filter_by(username=username).one()
        g.sillage_scope = scope_for_user(db.session, user)
        query = select(Usager.id).order_by(Usager.id)
        plain = db.session.execute(query).scalars().all()
        per_row = db.session.execute(query, execution_options={PER_ROW: True}).scalars().all()
        page = db.session.execute(query.limit(7).offset(3), execution_options={PER_ROW: True}).scalars().all()
        everyone = db.session.execute(query, execution_options={"sillage_unscoped": True}).scalars().all()
        db.session.rollback()
    assert plain == per_row and page == plain[3:10]
    assert (len(plain) < len(everyone)) == (username != "admin")
