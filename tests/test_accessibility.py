"""RGAA basics on every page a role reaches from its menus (issue 16 §1): each form control has a
label tied to it (RGAA 11.1), images an alternative (1.1), the page a language and a title (8.3,
8.5), and a way to skip to the content (12.7)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from .test_french_crawl import RECORD_LINK, Crawl
from .test_permissions import ROLE_USERS

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.labels_for: set[str] = set()
        self.controls: list[tuple[str, dict, bool]] = []  # (tag, attributes, inside a <label>)
        self.images_without_alt: list[str] = []
        self.lang = self.title = self.skip = False
        self._label = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html" and attrs.get("lang"):
            self.lang = True
        if tag == "title":
            self.title = True
        if tag == "a" and attrs.get("href") == "#contenu":
            self.skip = True
        if tag == "label":
            self._label += 1
            if attrs.get("for"):
                self.labels_for.add(attrs["for"])
        if tag == "img" and "alt" not in attrs:
            self.images_without_alt.append(attrs.get("src", "?"))
        if tag in ("input", "select", "textarea") and attrs.get("type") not in UNLABELLED_TYPES:
            self.controls.append((tag, attrs, self._label > 0))

    def handle_endtag(self, tag):
        if tag == "label" and self._label:
            self._label -= 1

    def problems(self) -> list[str]:
        found = [f"<{tag} name={a.get('name')!r} id={a.get('id')!r}> sans étiquette"
                 for tag, a, inside in self.controls
                 if not (inside or a.get("id") in self.labels_for or a.get("aria-label") or a.get("aria-labelledby")
                         or a.get("title"))]
        found += [f"<img src={src!r}> sans alternative" for src in self.images_without_alt]
        if not self.lang:
            found.append("<html> sans lang")
        if not self.title:
            found.append("pas de <title>")
        if not self.skip:
            found.append("pas de lien d'accès au contenu")
        return found


class HtmlCrawl(Crawl):
    def __init__(self, client):
        super().__init__(client)
        self.html: dict[str, str] = {}

    def read(self, url):
        if url not in self.seen:
            response = self.client.get(url, follow_redirects=True)
            if response.status_code == 200 and response.mimetype == "text/html":
                self.html[url] = response.get_data(as_text=True)
        return super().read(url)


@pytest.mark.parametrize("role, username", sorted(ROLE_USERS.items()))
def test_every_page_a_role_reaches_has_labelled_controls(as_user, role, username):
    crawl = HtmlCrawl(as_user(username))
    crawl.read("/")
    for url in crawl.links("/", navbar=True):
        crawl.read(url)
        if "/list/" in url:
            for link in crawl.links(url):
                if RECORD_LINK.search(urlsplit(link).path):
                    crawl.read(link)
                    break
    failures = []
    for url, html in crawl.html.items():
        if re.search(r"<html", html, re.I) is None:
            continue  # a fragment
        controls = Controls()
        controls.feed(html)
        failures += [f"{url}: {p}" for p in controls.problems()]
    assert not failures, f"{role}: {len(failures)} problems\n" + "\n".join(sorted(set(failures)))


@pytest.mark.parametrize("username", ["secretaire.tilleuls", "soin.tilleuls"])
def test_the_dossier_its_panels_forms_and_an_evaluation_have_labelled_controls(app, as_user, username):
    from . import factories as f

    with app.app_context():
        usager_id = f.gen_usager(f.TILLEULS).id
    client = as_user(username)
    page = client.get(f"/dossier/{usager_id}").get_data(as_text=True)
    urls = sorted(set(re.findall(r'data-form-url="([^"]+)"', page)))
    assert urls or username == "soin.tilleuls"  # who writes administrative panels has their forms
    failures = []
    for url, html in [(f"/dossier/{usager_id}", page), (f"/dossier/{usager_id}/evaluations/nouvelle/aggir",
                                                        client.get(f"/dossier/{usager_id}/evaluations/nouvelle/aggir")
                                                        .get_data(as_text=True))] + [(u, None) for u in urls]:
        html = html if html is not None else client.get(url).get_data(as_text=True)
        controls = Controls()
        controls.feed(html if "<html" in html else f'<html lang="fr"><title>x</title><a href="#contenu"></a>{html}')
        failures += [f"{url}: {p}" for p in controls.problems()]
    assert not failures, "\n".join(sorted(set(failures)))
