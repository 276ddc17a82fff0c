"""Numbers a database column cannot hold (ids, versions, pages: huge, negative, not numbers) are
answered as absent or invalid, never as a 500, in every CRUD view, page and API list."""
import pytest

from . import factories as f

HUGE = "99999999999999999999"
ENORMOUS = "9" * 5000  # beyond what Python's int() reads from text
ODD_IDS = (HUGE, "2147483648", "-1", "abc", "１２")  # (the last: full-width digits)


@pytest.fixture
def crud(app, as_user):
    """(an admin's client, {FAB CRUD view name: (view, its list URL)}) for every CRUD view."""
    views = {rule.endpoint.split(".")[0]: (app.view_functions[rule.endpoint].__self__, rule.rule)
             for rule in app.url_map.iter_rules() if rule.endpoint.endswith(".list") and rule.rule.endswith("/list/")}
    assert len(views) >= 8
    return as_user("admin"), views


def test_crud_views_answer_404_for_an_id_no_column_holds(crud):
    client, views = crud
    failures = [(url, action, pk, status) for _view, url in views.values() for pk in ODD_IDS for action in ("show", "edit")
                if (status := client.get(url.replace("/list/", f"/{action}/{pk}")).status_code) not in (403, 404)]
    assert failures == []


def test_the_api_answers_404_for_an_id_no_column_holds(api):
    client = api("admin")
    for resource in ("usager", "etablissement", "admission"):
        for pk in (HUGE, "2147483648", ENORMOUS):
            for method in (client.get, client.put, client.delete):
                response = method(f"/api/v1/{resource}/{pk}", json={})
                assert response.status_code == 404 and "message" in response.json, (resource, pk, method)


@pytest.mark.parametrize("query", ["(page:-1)", f"(page:{HUGE})", "(page:-1,page_size:-5)"])
def test_api_lists_refuse_a_page_outside_the_range(api, query):
    response = api("admin").get(f"/api/v1/usager/?q={query}")
    assert response.status_code == 400 and "page" in response.json["message"]


def test_search_filters_ignore_numbers_no_column_holds(as_user):
    client = as_user("secretaire.tilleuls")
    for name in ("etablissement_id", "service_id", "page"):
        for value in (HUGE, "-3", "1e3", "２"):
            assert client.get(f"/usagers/?{name}={value}&statut=admis").status_code == 200, (name, value)


def test_joining_a_foyer_that_cannot_exist_is_404(app, as_user):
    with app.app_context():
        uid = f.gen_usager().id
    client = as_user("secretaire.tilleuls")
    for foyer_id in (HUGE, "-1", "abc"):
        assert client.post(f"/dossier/{uid}/foyer/rattacher", data={"foyer_id": foyer_id}).status_code == 404


def test_referentiels_answer_an_id_no_column_holds_without_error(as_user):
    client = as_user("admin")
    for pk in (HUGE, "-1", "abc"):
        response = client.get(f"/referentiels/ref_motifs/edit/?id={pk}")
        assert response.status_code in (302, 404), (pk, response.status_code)


def test_referentiels_lists_survive_pages_and_filters_out_of_range(as_user):
    client = as_user("admin")
    for query in (f"page={HUGE}", "page=-1", f"sort={HUGE}", "page_size=-5", f"flt0_active_equals={HUGE}"):
        assert client.get(f"/referentiels/ref_motifs/?{query}").status_code < 500, query


def test_crud_lists_refuse_pages_orders_and_filters_out_of_range(crud):
    client, views = crud
    failures = []
    for name, (view, url) in views.items():
        bad = [f"page_{name}={HUGE}", f"page_{name}=-1", f"psize_{name}=0", f"psize_{name}={HUGE}",
               f"_oc_{name}=nope&_od_{name}=asc"]
        bad += [f"_flt_{len(filters)}_{column}=1"  # one past the column's filters
                for column, filters in view._filters.get_search_filters().items() if len(filters) < 10]
        good = [f"page_{name}=1&psize_{name}=50"] + [f"_oc_{name}={c}&_od_{name}=desc" for c in view.order_columns]
        for query, expected in [(q, 400) for q in bad] + [(q, 200) for q in good]:
            status = client.get(f"{url}?{query}").status_code
            if status != expected:
                failures.append((name, query, status))
    assert failures == []
    assert client.get(f"/capaciteview/list/?_flt_0_places={HUGE}").status_code == 400
    assert client.get(f"/capaciteview/list/?_flt_0_places={ENORMOUS}").status_code == 400
    assert client.get("/capaciteview/list/?_flt_0_places=12").status_code == 200


def test_crud_actions_refuse_an_unknown_name_or_row(app, as_user):
    client = as_user("admin")
    assert client.post("/roles/action_post", data={"action": "nope", "rowid": "1"}).status_code == 400
    assert client.post("/roles/action_post", data={"action": "copyrole", "rowid": HUGE}).status_code == 400
    assert client.post("/roles/action/nope/1").status_code == 400


def test_a_nul_character_in_a_query_or_form_is_a_400(as_user, api):
    client = as_user("admin")
    assert client.get("/usagers/?q=a%00b").status_code == 400
    assert client.post("/roles/add", data={"name": "a\x00b"}).status_code == 400
    response = api("admin").get("/api/v1/usager/?q=(filters:!((col:nom_naissance,opr:sw,value:'a%00')))")
    assert response.status_code == 400 and "message" in response.json


def test_a_form_version_out_of_range_is_a_400(api):
    for version in (HUGE, "-1", "abc", ""):
        response = api("admin").get(f"/api/v1/forms/aggir?version={version}")
        assert response.status_code == 400 and "message" in response.json, version
    assert api("admin").get("/api/v1/forms/aggir?version=3").status_code == 200


def test_an_account_name_with_a_nul_character_fails_like_an_unknown_one(app):
    client = app.test_client()
    for username in ("admin\x00", "\x00"):
        response = client.post("/api/v1/security/login", json={"username": username, "password": "x", "provider": "db"})
        assert response.status_code == 401 and "message" in response.json


def test_fab_download_route_is_absent(crud):
    client, views = crud
    assert {client.get(url.replace("/list/", "/download/x.txt")).status_code for _view, url in views.values()} == {404}


def test_resetting_the_password_of_an_account_that_cannot_exist_is_404(as_user):
    client = as_user("admin")
    for pk in (HUGE, "abc", "-1", "", "999999"):
        response = client.post(f"/resetpassword/form?pk={pk}", data={
            "password": "Un-Mot-De-Passe-Solide-2026", "conf_password": "Un-Mot-De-Passe-Solide-2026"})
        assert response.status_code == 404, pk
