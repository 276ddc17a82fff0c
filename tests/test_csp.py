"""Content Security Policy without 'unsafe-inline' for scripts (issue 14 §7): every inline script
carries the response's nonce, no page holds an inline event handler or a javascript: link —
Sillage's pages, FAB's lists and forms, and the référentiels console."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from . import factories as f


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline_nonces, self.handlers, self.js_links = [], [], []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers.extend(f"{tag} {name}" for name in attrs if name.startswith("on"))
        # (Flask-Admin's inert "javascript:void(0)" on the current tab or page runs nothing: the CSP
        # blocks it, and nothing needs it)
        if any((value or "").strip().lower().startswith("javascript:") and value.strip() != "javascript:void(0)"
               for value in attrs.values()):
            self.js_links.append(tag)
        if tag == "script" and not attrs.get("src"):
            self._in_script = attrs.get("nonce")

    def handle_data(self, data):
        if self._in_script is not None or (self.lasttag == "script" and data.strip()):
            if data.strip():
                self.inline_nonces.append(self._in_script)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def _check(response, where):
    assert response.status_code == 200, (where, response.status_code)
    policy = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, where
    page = _Scripts()
    page.feed(response.data.decode())
    nonce = re.search(r"'nonce-([^']+)'", script_src)
    for found in page.inline_nonces:
        assert nonce and found == nonce.group(1), (where, found)
    assert page.handlers == [] and page.js_links == [], (where, page.handlers, page.js_links)


def test_no_page_needs_unsafe_inline_scripts(app, as_user):
    with app.app_context():
        uid = f.gen_usager().id
    pages = {
        "admin": ["/", "/users/list/", "/users/add", "/roles/list/", "/etablissementview/list/",
                  "/affectationview/list/", "/affectationview/add", "/securite/categories/",
                  "/referentiels/", "/referentiels/ref_valeurs/", "/referentiels/ref_motifs/new/"],
        "secretaire.tilleuls": ["/", "/usagers/", f"/dossier/{uid}", "/admissionlistview/list/",
                                "/demandelistview/list/", "/dossier/nouveau", "/rgpd/", "/compte/"],
        "soin.tilleuls": [f"/dossier/{uid}", f"/dossier/{uid}/evaluations/nouvelle/aggir"],
        "qualite": ["/formulaires/", "/formulaires/aggir", "/referentiels/ref_valeurs/"],
        "dpo": ["/audit/", f"/dossier/{uid}/acces"],
    }
    for username, urls in pages.items():
        client = as_user(username)
        for url in urls:
            _check(client.get(url), (username, url))


def test_a_page_with_inline_script_gets_a_fresh_nonce_each_time(app, as_user):
    client = as_user("admin")
    first, second = (re.search(r"'nonce-([^']+)'", client.get("/users/list/").headers["Content-Security-Policy"])
                     for _ in range(2))
    if first and second:
        assert first.group(1) != second.group(1)


def test_the_favicon_answers_at_its_usual_address(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_no_page_depends_on_a_cdn(as_user):
    """FAB's user statistics chart loaded its script from a CDN: the page is not offered."""
    admin = as_user("admin")
    assert admin.get("/userstatschartview/chart/").status_code == 404
    assert "userstatschartview" not in admin.get("/").data.decode()
