"""Two app servers over one PostgreSQL database behave as one (issue 20, target 6).

Two real gunicorn processes, A and B, on their own ports, with the same configuration (SECRET_KEY)
and one fresh database: what is made or changed through A holds on B at B's next request. Each
server runs one worker, so B's process certainly holds in memory what it served before the change
(the security stamp's caches, the published forms): a stale copy would show.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import threading
import time

import pyotp
import pytest
import requests
from sqlalchemy import create_engine, select, text

from .multi_server import PASSWORD, TOTP_SECRET, csrf_token, prepare, start_servers

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                reason="two app servers share one PostgreSQL database: set TEST_DATABASE_URL")
# Four failures lock a name for 15 minutes, with no delay before (the delays would make the test
# wait): enough to see that failures sent to A and to B add up.
THROTTLE = {"SILLAGE_LOGIN_FREE_ATTEMPTS": 4, "SILLAGE_LOGIN_LOCK_AFTER": 4, "SILLAGE_LOGIN_LOCK_MINUTES": 15}


@pytest.fixture(scope="module")
def cluster():
    from .conftest import fresh_postgresql_database

    url = fresh_postgresql_database(os.environ["TEST_DATABASE_URL"], "multi")
    workdir = tempfile.mkdtemp(prefix="sillage-multi-")
    prepare(url, workdir)
    a, b = start_servers(url, workdir, ("a", "b"), **THROTTLE)
    engine = create_engine(url)
    yield a, b, engine
    a.stop()
    b.stop()
    engine.dispose()
    drop = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with drop.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    drop.dispose()
    shutil.rmtree(workdir, ignore_errors=True)


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def totp(engine, username: str) -> str:
    """The next code the servers accept for `username` (a time step is accepted once)."""
    last = _scalar(engine, "SELECT s.totp_last_step FROM user_security s JOIN ab_user u ON u.id = s.user_id "
                           "WHERE u.username = :u", u=username)
    while True:
        now = int(time.time()) // 30
        for step in (now, now + 1):
            if last is None or step > last:
                return pyotp.TOTP(TOTP_SECRET).at(step * 30)
        time.sleep(1)


def login(engine, base: str, username: str) -> requests.Session:
    """The real sign-in on server `base`: password, then the second factor."""
    session = requests.Session()
    response = session.post(base + "/login/", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": csrf_token(session, base)})
    assert response.url.endswith("/login/code"), response.text[:300]
    response = session.post(base + "/login/code", data={"code": totp(engine, username),
                                                        "csrf_token": csrf_token(session, base, "/login/code")})
    assert response.status_code == 200 and "/login/" not in response.url, response.text[:300]
    return session


def signed_in(session: requests.Session, url: str) -> bool:
    """The page opens (not sent back to the sign-in form)."""
    response = session.get(url)
    return response.status_code == 200 and "/login/" not in response.url


def post(session, base, path, data=None, csrf_from="/"):
    return session.post(base + path, data={**(data or {}), "csrf_token": csrf_token(session, base, csrf_from)},
                        allow_redirects=False)


def user_id(engine, username):
    return _scalar(engine, "SELECT id FROM ab_user WHERE username = :u", u=username)


def test_browser_session_made_on_a_works_on_b(cluster):
    a, b, engine = cluster
    session = login(engine, a.url, "direction")
    assert signed_in(session, b.url + "/usagers/")


def test_api_tokens_from_a_work_on_b(cluster):
    a, b, engine = cluster
    response = requests.post(a.url + "/api/v1/security/login", json={
        "username": "dpo", "password": PASSWORD, "provider": "db", "totp": totp(engine, "dpo")})
    assert response.status_code == 200, response.text
    jwt = response.json()["access_token"]
    listed = requests.get(b.url + "/api/v1/usager/", headers={"Authorization": f"Bearer {jwt}"})
    assert listed.status_code == 200 and listed.json()["count"] > 0


def test_sign_out_on_a_ends_the_session_on_b(cluster):
    a, b, engine = cluster
    session = login(engine, a.url, "secretaire.tilleuls")
    assert signed_in(session, b.url + "/usagers/")
    cookie = session.cookies.get("sillage_session")
    assert post(session, a.url, "/logout/", csrf_from="/logout/").status_code == 302
    replay = requests.Session()
    replay.cookies.set("sillage_session", cookie)  # the old cookie, kept by whoever copied it
    assert not signed_in(replay, b.url + "/usagers/")


def test_permission_revoked_through_a_is_refused_by_b(cluster):
    a, b, engine = cluster
    reader = login(engine, b.url, "educ.sources")
    assert signed_in(reader, b.url + "/usagers/")  # B has the role's permissions in memory now
    role_id = _scalar(engine, "SELECT id FROM ab_role WHERE name = 'Éducatif'")
    with engine.connect() as conn:
        kept = conn.execute(text(
            "SELECT pv.id FROM ab_permission_view_role l JOIN ab_permission_view pv ON pv.id = l.permission_view_id "
            "JOIN ab_permission p ON p.id = pv.permission_id JOIN ab_view_menu v ON v.id = pv.view_menu_id "
            "WHERE l.role_id = :r AND NOT (v.name = 'Usager' AND p.name = 'can_read')"), {"r": role_id}).scalars().all()
    admin = login(engine, a.url, "admin")
    edited = post(admin, a.url, f"/roles/edit/{role_id}", {"name": "Éducatif", "permissions": kept},
                  csrf_from=f"/roles/edit/{role_id}")
    assert edited.status_code == 302
    assert not signed_in(reader, b.url + "/usagers/")
    assert reader.get(b.url + "/api/v1/usager/").status_code in (401, 403)


def test_assignment_removed_through_a_hides_the_usager_on_b(cluster):
    a, b, engine = cluster
    secretary = login(engine, b.url, "secretaire.sources")
    usager = secretary.get(b.url + "/api/v1/usager/").json()["ids"][0]
    assert secretary.get(f"{b.url}/dossier/{usager}").status_code == 200
    admin = login(engine, a.url, "admin")
    with engine.connect() as conn:
        assignments = conn.execute(text("SELECT id FROM staff_assignment WHERE user_id = :u"),
                                   {"u": user_id(engine, "secretaire.sources")}).scalars().all()
    assert assignments
    for pk in assignments:
        assert post(admin, a.url, f"/affectationview/delete/{pk}", csrf_from="/affectationview/list/").status_code == 302
    assert secretary.get(f"{b.url}/dossier/{usager}").status_code == 404


def test_form_published_through_a_is_served_by_b(cluster):
    a, b, engine = cluster
    carer = login(engine, b.url, "soin.tilleuls")
    pages = [f"{b.url}/dossier/{u}/evaluations/nouvelle/aggir" for u in carer.get(b.url + "/api/v1/usager/").json()["ids"]]
    page = next(p for p in pages if carer.get(p).status_code == 200)  # an usager of the EHPAD
    before = carer.get(page)
    assert before.status_code == 200 and "Grille AGGIR multi" not in before.text  # in B's memory now
    version = int(re.search(r'name="form_version"[^>]*value="(\d+)"', before.text).group(1))
    quality = login(engine, a.url, "qualite")
    assert post(quality, a.url, "/formulaires/aggir/nouvelle-version", csrf_from="/formulaires/aggir").status_code == 302
    editor = quality.get(a.url + "/formulaires/aggir/brouillon").text
    source = re.search(r'<textarea[^>]*name="source"[^>]*>(.*?)</textarea>', editor, re.S).group(1)
    source = html.unescape(source).replace("title: Grille AGGIR", "title: Grille AGGIR multi", 1)
    assert post(quality, a.url, "/formulaires/aggir/brouillon", {"source": source},
                csrf_from="/formulaires/aggir/brouillon").status_code == 302
    assert post(quality, a.url, "/formulaires/aggir/publier", {"confirm": "1"},
                csrf_from="/formulaires/aggir/publier").status_code == 302
    after = carer.get(page).text
    assert "Grille AGGIR multi" in after
    assert re.search(r'name="form_version"[^>]*value="(\d+)"', after).group(1) == str(version + 1)


def test_second_factor_reset_through_a_ends_the_session_on_b(cluster):
    a, b, engine = cluster
    secretary = login(engine, b.url, "secretaire.tilleuls")
    assert signed_in(secretary, b.url + "/usagers/")
    uid = user_id(engine, "secretaire.tilleuls")
    admin = login(engine, a.url, "admin")
    assert post(admin, a.url, f"/users/reset-mfa/{uid}", csrf_from=f"/users/show/{uid}").status_code == 302
    assert not signed_in(secretary, b.url + "/usagers/")
    again = requests.Session()
    response = again.post(b.url + "/login/", data={"username": "secretaire.tilleuls", "password": PASSWORD,
                                                   "csrf_token": csrf_token(again, b.url)})
    assert response.url.endswith("/login/enrolement")  # B asks for a new second factor


def test_login_throttle_counts_failures_sent_to_a_and_to_b(cluster):
    a, b, engine = cluster

    answers = []

    def fail(base):
        session = requests.Session()
        answers.append(session.post(base + "/login/", data={"username": "qualite", "password": "pas le bon",
                                                            "csrf_token": csrf_token(session, base)}).status_code)

    # Four failures at once, two on each server: they add up (one row per name and address, locked
    # while it is counted).
    threads = [threading.Thread(target=fail, args=(server.url,)) for server in (a, b, a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [401] * 4
    for server in (a, b):  # the right password is now refused on both, for 15 minutes
        session = requests.Session()
        response = session.post(server.url + "/login/", data={"username": "qualite", "password": PASSWORD,
                                                              "csrf_token": csrf_token(session, server.url)})
        assert response.status_code == 401 and "Trop de tentatives" in response.text
