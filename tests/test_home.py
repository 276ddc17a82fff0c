"""Home pages per kind of work (issue 16 §2): the figures that matter, each a link to its list, the
lists scoped like everything else and exported to xlsx without formulas."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from app.domain import clock
from app.extensions import db

from . import factories as f
from .conftest import DATABASES, open_session, provision, release

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _body(client, url="/"):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.data.decode()


@pytest.mark.parametrize("username, expected, absent", [
    ("secretaire.tilleuls", ["Liste d'attente à traiter", "Admissions avec des pièces manquantes",
                             "Identités à valider"], ["Taux d'occupation", "Formulaires proposés"]),
    ("soin.tilleuls", ["Mes usagers", "Évaluations à terminer"], ["Taux d'occupation", "Liste d'attente à traiter"]),
    ("educ.sources", ["Mes usagers", "Évaluations à terminer"], ["Taux d'occupation"]),
    ("direction", ["Occupation au", "Taux d'occupation sur 12 mois", "Entrées du mois", "Sorties du mois",
                   "Liste d'attente par statut et ancienneté", "GMP et répartition des GIR", "Statuts des identités",
                   "Grilles AGGIR à faire ou à refaire"], ["Formulaires proposés"]),
    ("qualite", ["Formulaires publiés", "Variantes à revoir", "Formulaires proposés par établissement"],
     ["Mes usagers", "Liste d'attente"]),
    ("dpo", ["Demandes RGPD à traiter", "Accès d'urgence à revoir", "Durées de conservation échues",
             "Vérifier l'intégrité de la chaîne"], ["Taux d'occupation"]),
])
def test_each_role_gets_its_home(as_user, username, expected, absent):
    body = _body(as_user(username))
    for text in expected:
        assert text in body, (username, text)
    for text in absent:
        assert text not in body, (username, text)
    for raw in (">True<", ">False<", ">None<"):
        assert raw not in body


def test_charts_are_svg_with_their_figures_in_a_table(as_user):
    body = _body(as_user("direction"))
    assert body.count('<svg viewBox') >= 3  # occupancy of each établissement, the GIR distribution
    assert 'role="img"' in body and "<th scope=\"col\">Taux</th>" in body
    assert "GIR 1" in body
    # every asset from the application itself (not `"cdn" not in body`: a random token may hold it)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', body), re.findall(r'(?:src|href)="[^"]*//[^"]*"', body)


def test_the_directors_home_computes_each_gmp_once(app, as_user, monkeypatch):
    """The AGGIR work list and the GIR chart need the same GMPs: computed once per page, all the
    établissements together (one computation per établissement grew with their number), then
    kept until the data moves."""
    from app.services import indicators

    asked = []
    real = indicators.gmps
    monkeypatch.setattr(indicators, "gmps", lambda session, etabs, *a, **k: asked.append(etabs) or real(session, etabs,
                                                                                                      *a, **k))
    with app.app_context():
        f.gen_usager()  # the data moves: what was kept is computed again
        db.session.commit()
    home = as_user("direction")
    assert home.get("/").status_code == 200
    assert len(asked) == 1 and asked[0] and len(asked[0]) == len(set(asked[0])), asked
    assert home.get("/").status_code == 200 and len(asked) == 1


def test_the_lists_behind_the_figures_are_scoped(app, as_user):
    with app.app_context():
        tilleuls = f.gen_usager(f.TILLEULS, admitted=True)
        sources = f.gen_usager(f.SOURCES, admitted=True)
        names = tilleuls.display_name, sources.display_name
        ids = tilleuls.id, sources.id
    body = _body(as_user("secretaire.tilleuls"), "/accueil/liste/pieces")
    assert names[0] in body and f"/dossier/{ids[0]}" in body
    assert names[1] not in body and f"/dossier/{ids[1]}\"" not in body
    body = _body(as_user("secretaire.sources"), "/accueil/liste/pieces")
    assert names[1] in body and names[0] not in body


def test_a_list_needs_the_permission_of_what_it_lists(as_user, client):
    assert as_user("qualite").get("/accueil/liste/attente").status_code == 403
    assert as_user("qualite").get("/accueil/liste/attente.xlsx").status_code == 403
    assert as_user("soin.tilleuls").get("/accueil/liste/conservation").status_code == 403
    assert as_user("direction").get("/accueil/liste/nimporte").status_code == 404
    assert client.get("/accueil/liste/attente").status_code == 302  # to the sign-in page
    assert client.get("/accueil/liste/attente.xlsx").status_code == 401


def test_every_list_exports_to_xlsx_without_formulas(app, as_user):
    with app.app_context():
        usager = f.gen_usager(f.TILLEULS, admitted=True, nom_utilise="=HYPERLINK(\"http://x\")")
        name = usager.display_name
    response = as_user("secretaire.tilleuls").get("/accueil/liste/pieces.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Usager", "Établissement", "Entrée", "Manque")
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == name)
    assert cell.data_type == "s" and cell.quotePrefix  # text shown as typed, never run
    for key in ("attente", "identites", "pieces"):
        assert as_user("secretaire.tilleuls").get(f"/accueil/liste/{key}.xlsx").status_code == 200


def test_the_export_is_audited(app, as_user):
    from sqlalchemy import select

    from app.models import AuditEvent as AuditLog

    as_user("direction").get("/accueil/liste/entrees.xlsx")
    with app.app_context():
        last = db.session.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar_one()
        assert last.action == "export" and last.details["liste"] == "entrees"


def _fill(app, n):
    """`n` more people on each work list of the direction's and the DPO's homes: waiting, admitted
    with a provisional identity and no GIR (identities, AGGIR), entered and gone this month, a
    draft evaluation, a dossier whose retention has run out."""
    from app.services import forms

    from .test_evaluations import profile

    today = clock.today()
    with app.app_context():
        for _ in range(n):
            f.gen_usager(admitted=False)
            f.gen_usager().admissions[0].date_entree = today
            f.gen_usager().admissions[0].date_sortie = today
            forms.save_evaluation(db.session, usager=f.gen_usager(), code="aggir", version=None, status="draft",
                                  answers=profile({"toilette": "C"}), evaluated_on=today)
            gone = f.gen_usager()
            gone.admissions[0].date_entree, gone.admissions[0].date_sortie = dt.date(1998, 6, 30), dt.date(1999, 6, 30)
            for demande in gone.demandes:
                demande.statut = "admise"
        db.session.commit()


def _dossiers(html):
    return [int(i) for i in re.findall(r'href="/dossier/(\d+)"', html)]


def _section(body, key):
    """A work list's section of the home page: (its HTML, the count in its heading)."""
    section = body.split(f'id="liste-{key}"', 1)[1].split("</section>", 1)[0]
    return section, int(re.search(r'<span class="badge">(\d+)</span>', section).group(1))


@pytest.mark.parametrize("username, keys", [
    ("direction", ("entrees", "sorties", "attente", "identites", "evaluations", "aggir")),
    ("dpo", ("conservation",)),
])
@pytest.mark.usefixtures("steady_caches")
def test_the_home_reads_a_count_and_the_lines_shown_whatever_the_data(app, as_user, username, keys):
    """Issue 20: each work list is a SQL count and its first five lines, so the number of statements
    of the home page stays the same as the data grows; the lines shown are those of the whole list,
    in its order, and the read audit records them."""
    from sqlalchemy import select

    from app.models import AuditEvent

    from .conftest import sql_statements

    client = as_user(username)
    _fill(app, 6)
    client.get("/")  # (caches filled: they follow the data's version)
    _, before = sql_statements(app, lambda: client.get("/"))
    _fill(app, 20)
    client.get("/")
    body, after = sql_statements(app, lambda: _body(client))
    assert len(after) == len(before), (len(before), len(after))
    with app.app_context():
        read = db.session.execute(select(AuditEvent).where(AuditEvent.action == "read")
                                  .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        db.session.remove()
    for key in keys:
        section, count = _section(body, key)
        whole = _dossiers(_body(client, f"/accueil/liste/{key}"))
        assert count == len(whole) > 20 and _dossiers(section) == whole[:5], key
        assert f"et {count - 5} autres…" in section, key
        assert set(whole[:5]) <= set(read.details["usagers"]), key


def test_the_counts_of_the_home_are_those_of_the_lists_the_user_sees(app, as_user):
    """The count is a SQL COUNT through the same scope as the lines: a secretary counts the people
    of her établissement only."""
    with app.app_context():
        for etab in (f.TILLEULS, f.SOURCES, f.SOURCES):
            f.gen_usager(etab, admitted=False)
            f.gen_usager(etab)
        db.session.commit()
    client = as_user("secretaire.tilleuls")
    body = _body(client)
    for key in ("attente", "pieces", "identites"):
        whole = _dossiers(_body(client, f"/accueil/liste/{key}"))
        section, count = _section(body, key)
        assert count == len(whole) and _dossiers(section) == whole[:5], key
    assert _section(body, "attente")[1] < _section(_body(as_user("direction")), "attente")[1]


@pytest.fixture(params=DATABASES)
def own_app(request):
    app = provision(request.param, "homes")
    yield app
    release(app)


def _more_etablissements(app, n):
    """`n` more EHPADs like Les Tilleuls (a service, a capacity, a resident each)."""
    from app.models import Capacite, Etablissement, Service

    with app.app_context():
        model = f.etablissement(f.TILLEULS)
        for _ in range(n):
            name = "EHPAD " + f.unique_name()
            etab = Etablissement(organisme_id=model.organisme_id, name=name, categorie_id=model.categorie_id)
            db.session.add_all([etab, Service(etablissement=etab, name="Unité A"),
                                Capacite(etablissement=etab, modalite_id=model.capacites[0].modalite_id, places=40)])
            db.session.flush()
            f.gen_usager(name)
        db.session.commit()


@pytest.mark.usefixtures("steady_caches")
def test_the_directors_home_runs_as_many_statements_with_more_etablissements(own_app):
    """Issue 20: the GMPs and the occupancy of every établissement are grouped queries, not a set
    of statements per établissement (110 statements became 668 with a hundred of them)."""
    from .conftest import sql_statements

    client = open_session(own_app, own_app.test_client(), "direction")
    _more_etablissements(own_app, 1)
    client.get("/")
    _, before = sql_statements(own_app, lambda: client.get("/"))
    _more_etablissements(own_app, 3)
    client.get("/")
    body, after = sql_statements(own_app, lambda: _body(client))
    assert len(after) == len(before), (len(before), len(after))
    assert body.count('<svg viewBox') >= 5 + 4  # each établissement's occupancy, the GIR chart of each EHPAD


def test_the_waiting_table_counts_whole_months_as_the_list_does(app):
    """The table by status and age is a grouped count; its buckets follow the list's whole months
    (a request of 30 November has waited 3 months on 28 February, one of 1 December 2)."""
    from app.domain import vocab
    from app.services import dashboard

    today = dt.date(2027, 2, 28)
    with app.app_context():
        before = dashboard.waiting_by_status_and_age(db.session, today)["en_attente"]
        for asked in (dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 2, 28), dt.date(2026, 3, 1)):
            demande = f.gen_usager(admitted=False).demandes[0]
            demande.date_demande, demande.statut = asked, "en_attente"
        db.session.commit()
        after = dashboard.waiting_by_status_and_age(db.session, today)["en_attente"]
        label = vocab.label(vocab.STATUT_DEMANDE, "en_attente")
        ages = [r["cells"][4] for r in dashboard.waiting(db.session, today).rows if r["cells"][3] == label]
        db.session.remove()
    assert [a - b for a, b in zip(after, before)] == [1, 2, 1]
    assert after == [sum(1 for m in ages if m < 3), sum(1 for m in ages if 3 <= m < 12), sum(1 for m in ages if m >= 12)]


def test_the_twelve_months_count_each_date_as_that_day_s_admissions(app):
    """The twelve months are one grouped pass over the admissions: each point is still the count of
    the admissions active that day (entered by then, not yet gone)."""
    from sqlalchemy import func, or_, select

    from app.models import Admission
    from app.services import dashboard

    today = dt.date(2024, 9, 10)
    with app.app_context():
        for entered, gone in ((dt.date(2024, 3, 1), dt.date(2024, 6, 1)), (dt.date(2024, 5, 20), None)):
            admission = f.gen_usager().admissions[0]
            admission.date_entree, admission.date_sortie = entered, gone
        db.session.commit()
        for serie in dashboard.occupancy_months(db.session, today):
            assert [p["date"] for p in serie["points"]][-2:] == [dt.date(2024, 9, 1), today]
            for point in serie["points"]:
                on = point["date"]
                expected = db.session.execute(select(func.count()).where(
                    Admission.etablissement_id == serie["etablissement"].id, Admission.archived_at.is_(None),
                    Admission.date_entree <= on, or_(Admission.date_sortie.is_(None), Admission.date_sortie >= on))
                ).scalar_one()
                assert point["occupes"] == expected, (serie["etablissement"].name, point)
        db.session.remove()


@pytest.mark.parametrize("username", ["direction", "soin.tilleuls"])
def test_the_pp_deadlines_figures_are_the_deadlines_list_counted_and_follow_changes(app, as_user, api, username):
    """The home's « N en retard, M dans les 30 jours » counts the items of the deadlines list (same
    scope); it is kept until the data moves, so a new admission without a PP shows at once."""
    today = clock.today()

    def figures():
        found = re.search(r"Projets personnalisés : (\d+) échéance\(s\) en retard, (\d+) dans les 30 jours",
                          _body(home))
        return (int(found.group(1)), int(found.group(2))) if found else (0, 0)

    def listed():
        items = api(username).get(f"/api/v1/projets/echeances?date={today + dt.timedelta(days=30)}").json["result"]
        late = sum(item["echeance"] < today.isoformat() for item in items)
        return late, len(items) - late

    home = as_user(username)
    assert figures() == listed()
    with app.app_context():
        f.gen_usager()  # admitted in 2024 at Les Tilleuls, no PP: one more to build, late
        db.session.commit()
    after = figures()
    assert after == listed() and after[0] >= 1
