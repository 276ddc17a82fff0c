"""Usager search: accent-insensitive names, birth date, INS, filters, pagination; no CDN."""
import datetime as dt
import html
import re

import pytest

from app.services.fake import make_nir

from . import factories as f
from .conftest import sql_statements


@pytest.fixture(scope="module")
def people(app):
    with app.app_context():
        family = f.unique_name("ÉLOÏSE")
        birth = dt.date(1941, 7, 9)
        nir = make_nir("F", birth, "63113", 42)
        found = f.gen_usager(nom_naissance=family, prenoms_naissance="Renée", date_naissance=birth,
                             matricule_ins=nir, oid_ins="1.2.250.1.213.1.4.8")
        waiting = f.gen_usager(nom_naissance=family, prenoms_naissance="Anaïs", admitted=False)
        many = [f.gen_usager(nom_naissance=family + "Z", prenoms_naissance=f"Nom{i}") for i in range(30)]
        return {"family": family, "found": found.id, "waiting": waiting.id, "nir": nir,
                "service": found.admissions[0].service_id, "many": [u.id for u in many]}


def ids_in(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/dossier/(\d+)"', page)}


def ids(response):
    return ids_in(response.data.decode())


def test_name_search_ignores_accents_and_case(as_user, people):
    client = as_user("secretaire.tilleuls")
    plain = people["family"].replace("É", "e").replace("Ï", "i").lower()
    found = ids(client.get(f"/usagers/?q={plain} renee"))
    assert people["found"] in found and people["waiting"] not in found


def test_search_by_birth_date_and_ins(as_user, people):
    client = as_user("secretaire.tilleuls")
    assert people["found"] in ids(client.get("/usagers/?date_naissance=1941-07-09"))
    spaced = " ".join([people["nir"][:1], people["nir"][1:3], people["nir"][3:]])
    assert ids(client.get(f"/usagers/?ins={spaced}")) == {people["found"]}
    bad = client.get("/usagers/?date_naissance=31-31-31")
    assert bad.status_code == 200 and "Date invalide" in html.unescape(bad.data.decode())


def test_status_and_service_filters(as_user, people):
    client = as_user("secretaire.tilleuls")
    family = people["family"]
    assert people["waiting"] in ids(client.get(f"/usagers/?q={family}&statut=attente"))
    assert people["waiting"] not in ids(client.get(f"/usagers/?q={family}&statut=admis"))
    in_service = ids(client.get(f"/usagers/?q={family}&service_id={people['service']}"))
    assert people["found"] in in_service


def test_filter_choices_show_what_is_chosen(app, as_user, people):
    """The établissement and service lists (built in Python, display.options): the user's own,
    the chosen ones marked, names escaped."""
    with app.app_context():
        etab, service = f.etablissement(), f.service()
        other = f.etablissement(f.SOURCES)
        etab_id, service_id, service_name, other_id = etab.id, service.id, str(service), other.id
    page = as_user("secretaire.tilleuls").get(
        f"/usagers/?q={people['family']}&etablissement_id={etab_id}&service_id={service_id}").get_data(as_text=True)
    etabs = re.search(r'<select[^>]*id="etablissement_id".*?</select>', page, re.S).group(0)
    services = re.search(r'<select[^>]*id="service_id".*?</select>', page, re.S).group(0)
    assert f'<option value="{etab_id}" selected>' in etabs and f'value="{other_id}"' not in etabs
    assert f'<option value="{service_id}" selected>{html.escape(service_name, quote=False)}</option>' in services
    assert etabs.count(" selected") == 1 and services.count(" selected") == 1


def test_options_mark_and_escape():
    from app.services.organisation import Choice
    from app.web.display import options

    choices = [Choice(1, "A <b>&</b>"), Choice(12, "B")]
    assert options(choices, "12") == '<option value="1">A &lt;b&gt;&amp;&lt;/b&gt;</option><option value="12" selected>B</option>'
    assert options(choices, 1).count("selected") == 1 and "selected" not in options(choices)
    assert options(choices, {1, 12}).count("selected") == 2 and "selected" not in options(choices, "")


def test_pagination(as_user, people):
    client = as_user("secretaire.tilleuls")
    first = client.get(f"/usagers/?q={people['family']}Z")
    second = client.get(f"/usagers/?q={people['family']}Z&page=2")
    assert "30 usagers" in first.data.decode() and 'rel="next"' in first.data.decode()
    assert ids(first) | ids(second) == set(people["many"]) and not ids(first) & ids(second)
    assert client.get("/usagers/?page=-4&statut=nimporte").status_code == 200


def test_pages_load_no_third_party_asset(as_user, people):
    client = as_user("admin")
    for url in ("/", "/usagers/", f"/dossier/{people['found']}", "/dossier/nouveau", "/admissionlistview/list/",
                "/referentiels/ref_motifs/", "/swagger/v1", "/login/"):
        page = client.get(url).data.decode()
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', page)
        assert external == [], (url, external)


def test_panel_forms_load_on_demand_and_without_javascript(as_user, people):
    client = as_user("secretaire.tilleuls")
    uid = people["found"]
    page = client.get(f"/dossier/{uid}").data.decode()
    assert f'data-form-url="/dossier/{uid}/formulaire/identite"' in page
    fragment = client.get(f"/dossier/{uid}/formulaire/identite")
    assert fragment.status_code == 200 and 'name="identite-nom_naissance"' in fragment.data.decode()
    no_js = client.get(f"/dossier/{uid}?edit=coordonnees").data.decode()
    assert 'name="coordonnees-commune"' in no_js
    for key in ("inconnu", "protection-999999", "sortie-abc", "identite-3"):
        assert client.get(f"/dossier/{uid}/formulaire/{key}").status_code == 404
    assert as_user("soin.tilleuls").get(f"/dossier/{uid}/formulaire/identite").status_code == 403


def test_current_placements_show_only_active_admissions_the_user_may_see(app, as_user):
    """The "Accompagnement en cours" column: active admissions only, and of those only the ones
    in the user's établissements (an usager also followed elsewhere does not reveal where)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import MotifSortie
    from app.security.scope import Scope
    from app.services import parcours

    with app.app_context():
        name = f.unique_name("PLACE")
        usager = f.gen_usager(nom_naissance=name, service_index=0)
        ended = parcours.admit(db.session, scope=Scope.everything(), usager=usager, service_id=f.service(index=1).id,
                               modalite_id=f.modalite().id, date_entree=dt.date(2023, 1, 2))
        motif = db.session.execute(select(MotifSortie).where(MotifSortie.code == "domicile")).scalar_one()
        parcours.discharge(db.session, ended, date_sortie=dt.date(2023, 6, 1), motif_sortie_id=motif.id,
                           expected_version=ended.version)
        elsewhere = f.service(f.SOURCES)
        parcours.admit(db.session, scope=Scope.everything(), usager=usager, service_id=elsewhere.id,
                       modalite_id=f.modalite("INT").id, date_entree=dt.date(2024, 3, 1))
        active, past, other = str(f.service(index=0)), str(f.service(index=1)), str(elsewhere)
        uid = usager.id

    def placement_cell(username):
        page = html.unescape(as_user(username).get(f"/usagers/?q={name.lower()}").data.decode())
        row = re.search(r'<tr>\s*<td><a href="/dossier/%d">.*?</tr>' % uid, page, re.S)
        return re.findall(r"<td>(.*?)</td>", row.group(0), re.S)[-1]

    local = placement_cell("secretaire.tilleuls")
    assert active in local and past not in local and other not in local
    everywhere = placement_cell("direction")
    assert active in everywhere and other in everywhere and past not in everywhere
    assert everywhere.index(active) < everywhere.index(other)  # in order of entry


@pytest.mark.usefixtures("steady_caches")
def test_a_result_page_costs_the_same_statements_for_one_row_or_a_full_page(app, as_user, people):
    """The list reads the columns it shows and the current placements in one statement each:
    nothing is loaded per row (a column left out of the list's load would be, once per row)."""
    client = as_user("secretaire.tilleuls")
    one = f"/usagers/?q={people['family']} renee"
    full = f"/usagers/?q={people['family']}Z"
    client.get(one)  # per-process caches (places, permissions) filled

    def run(url):
        page, statements = sql_statements(app, lambda: client.get(url).data.decode())
        # (a read of several usagers also indexes its audit entry under each: one statement)
        return len(ids_in(page)), len([s for s in statements if "audit_usager" not in str(s)])

    assert run(one)[0] == 1 and run(full)[0] == 25
    assert run(one)[1] == run(full)[1]
