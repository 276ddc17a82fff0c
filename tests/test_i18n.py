"""French first (with FAB's missing strings fixed), English second."""


def test_french_by_default_including_fab_strings(as_user):
    page = as_user("admin").get("/admissionlistview/list/").data.decode()
    assert "Rechercher un usager" in page and "Confirmation demandée" in page
    assert "User confirmation needed" not in page and "Supprimée" not in page


def test_english_on_request(as_user):
    """Closed vocabularies too (their labels are translated once per language and process)."""
    french = ("Identité provisoire", "Identité récupérée", "Identité validée", "Identité qualifiée")
    english = ("Provisional identity", "Retrieved identity", "Validated identity", "Qualified identity")
    client = as_user("secretaire.tilleuls")
    assert any(label in client.get("/usagers/").data.decode() for label in french)
    client.get("/lang/en")
    page = client.get("/usagers/").data.decode()
    assert "Find a person" in page and "New person" in page
    assert any(label in page for label in english) and not any(label in page for label in french)
    client.get("/lang/fr")
    page = client.get("/usagers/").data.decode()
    assert "Nouvel usager" in page and any(label in page for label in french)
    assert not any(label in page for label in english)


def test_api_errors_follow_the_language(api, app):
    client = api("secretaire.tilleuls")
    response = client.post("/api/v1/usager/?_l_=en", json={"etablissement_id": 1})
    assert response.status_code == 422
    assert "This field is required." in str(response.json["message"])


def test_pages_do_not_rewrite_the_session_just_to_store_the_language(client):
    """A first visit loads the login page and, in parallel, other resources: if each rewrote the
    session cookie, the login form's CSRF token could be lost and the first login refused."""
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and "Set-Cookie" not in icon.headers
    missing = client.get("/absent.png")
    assert missing.status_code == 404 and "Set-Cookie" not in missing.headers
    assert client.get("/login/").status_code == 200


def test_the_language_switch_stays_on_the_page_and_reads_french(app, as_user):
    client = as_user("direction")
    page = client.get("/usagers/").data.decode()
    assert "/langue/en?next=" in page and "Anglais" in page and "- English" not in page
    switched = client.get("/langue/en?next=/usagers/%3Fq%3Dma")
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/usagers/?q=ma")
    assert '<html lang="en">' in client.get("/usagers/").data.decode()
    assert client.get("/langue/fr?next=https://evil.example/").headers["Location"].endswith("/")
    assert client.get("/langue/xx?next=/usagers/").status_code == 302
    client.get("/langue/fr?next=/")
