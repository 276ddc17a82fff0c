"""No English in the French interface (issue 16 §3): every page a role reaches from its menus, one
level down (the first record of each list: its page, its form), the référentiels console and the
command line read French, and show no raw Python values (True, None, ['…']) or ISO dates.

What is read is what a user sees: the text of the page without its scripts and styles, and the
`title`, `placeholder`, `aria-label` and `alt` attributes and the labels of buttons; never URLs or
class names. Every failure of a role is reported at once, with the page and the offending snippet.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from .test_permissions import ROLE_USERS

# Strings FAB, Flask-Admin and WTForms produce in English, matched as whole words (case matters:
# "Active" is FAB's column label, "active" a French adjective). "Actions" is left out: it is French too.
ENGLISH = (
    "Record", "record", "records", "Search", "Save", "Edit", "Delete", "Show", "List", "Add", "Filter",
    "Permission", "Permissions", "can read", "can write", "can edit", "can add", "can delete", "can list",
    "can show", "can access", "can archive", "menu access", "Login Count", "Failed login count",
    "User's Statistics", "Failed to", "It's not a good policy", "Please rewrite", "Active", "First Name",
    "Last Name", "User Name", "Email", "Role", "Roles", "Changed", "Created", "Editer", "Nombre de record",
    "Select Value", "No records found", "Page size", "Back", "Detail", "Details", "Submit", "Cancel", "Home",
    "View", "Views", "User", "Users", "Password", "Last login", "Yes", "No", "Not set",
    "Create", "Reset", "Apply", "equal to", "not equal to", "contains", "starts with", "ends with",
    "greater than", "smaller than", "Empty", "Remove Filters", "This field is required", "Invalid",
    "Previous", "Next", "Sort", "Close", "Refresh",
    # FAB's French that is not: English words left in, agreement and typography errors
    "Actif?", "Nombre de session", "ayant échouées", "Listez", "Vue/Menu", "Vues/Menus",
)
ENGLISH_RE = re.compile(r"(?<![\w'’-])(?:" + "|".join(re.escape(w) for w in sorted(ENGLISH, key=len, reverse=True))
                        + r")(?![\w'’-])")
RAW_VALUES = {
    "Python value": re.compile(r"(?<![\w-])(?:True|False|None)(?![\w-])"),
    "Python list": re.compile(r"\[\]|\[(?:'[^'\]]*'|[A-ZÀ-Ý][\w ’'-]*)(?:, (?:'[^'\]]*'|[A-ZÀ-Ý][\w ’'-]*))*\]"),
    "permission name": re.compile(r"(?<!\w)(?:can|menu)_[a-z_]+"),
    "ISO date": re.compile(r"(?<![\w/-])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?![\w-])"),
    "time with seconds": re.compile(r"(?<![\w:])\d{2}:\d{2}:\d{2}(?![\w:])"),
    "escape": re.compile(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}"),
}

SKIPPED = ("/logout", "/lang/", "/langue/", "/static/", "/appbuilder/", "/swagger", "/api/")


class Page(HTMLParser):
    """The visible text of a page (with the attributes a user reads) and its links. JSON held in a
    hidden element for the page's script (Flask-Admin's filters) is read as the strings it holds."""

    HIDDEN = {"script", "style"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    READ_ATTRS = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[tuple[str, bool]] = []  # (href, in the navbar)
        self._hidden = 0
        self._header = 0
        self._data: list[str] | None = None  # text of a hidden element (display: none)
        self._data_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "header":
            self._header += 1
        if tag in self.VOID:
            pass
        elif self._data is not None:
            self._data_depth += 1
        elif ("display:none" in (attrs.get("style") or "").replace(" ", "")
              or "d-none" in (attrs.get("class") or "").split()):
            self._data, self._data_depth = [], 1
        for name in self.READ_ATTRS:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.texts.append(attrs["value"])
        if tag == "a" and attrs.get("href"):
            self.links.append((attrs["href"], self._header > 0))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if tag == "header" and self._header:
            self._header -= 1
        if self._data is not None and tag not in self.VOID:
            self._data_depth -= 1
            if not self._data_depth:
                self.texts += json_strings("".join(self._data))
                self._data = None

    def handle_data(self, data):
        if self._data is not None:
            self._data.append(data)
        elif not self._hidden and data.strip():
            self.texts.append(data)


def json_strings(text: str) -> list[str]:
    """The strings of a JSON document (not its keys), or the text itself if it is not JSON."""
    try:
        value = json.loads(text)
    except ValueError:
        return [text] if text.strip() else []
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return found


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def problems_in(texts) -> list[str]:
    """Each English word or raw value found, with a snippet around it."""
    found = []
    for text in texts:
        text = " ".join(text.split())
        for kind, pattern in [("English", ENGLISH_RE), *RAW_VALUES.items()]:
            for match in pattern.finditer(text):
                start, end = max(match.start() - 40, 0), match.end() + 40
                found.append(f"{kind} {match.group(0)!r} in …{text[start:end]}…")
    return found


def local(href: str, base: str) -> str | None:
    """A path of this site worth reading (no logout, language switch, asset or API), or None."""
    if href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    parts = urlsplit(urljoin(base, href))
    if parts.netloc not in ("", "localhost") or any(parts.path.startswith(s) or s in parts.path for s in SKIPPED):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Crawl:
    """Pages read by one client, their failures collected rather than raised one by one."""

    def __init__(self, client):
        self.client = client
        self.seen: dict[str, Page | None] = {}
        self.failures: list[str] = []

    def read(self, url: str) -> Page | None:
        if url in self.seen:
            return self.seen[url]
        response = self.client.get(url, follow_redirects=True)
        page = None
        if response.status_code != 200:
            self.failures.append(f"{url}: status {response.status_code}")
        elif response.mimetype == "text/html":
            page = parse(response.get_data(as_text=True))
            self.failures += [f"{url}: {problem}" for problem in problems_in(page.texts)]
        self.seen[url] = page
        return page

    def links(self, url: str, navbar: bool | None = None) -> list[str]:
        page = self.seen.get(url)
        found = [local(href, url) for href, in_nav in (page.links if page else []) if navbar in (None, in_nav)]
        return list(dict.fromkeys(u for u in found if u))


# FAB's security pages an administrator reaches without a menu entry
UNLISTED = {"Administrateur": ["/permissionviews/list/", "/permissions/list/", "/viewmenus/list/"]}
RECORD_LINK = re.compile(r"/(?:show|edit)/\d+$|/add/?$")


@pytest.mark.parametrize("role, username", sorted(ROLE_USERS.items()))
def test_every_page_a_role_reaches_reads_french(as_user, role, username):
    crawl = Crawl(as_user(username))
    crawl.read("/")
    for url in crawl.links("/", navbar=True) + UNLISTED.get(role, []):
        page = crawl.read(url)
        if page is None or "/list/" not in url:
            continue
        # one level down: the first page and form of a record, and the add form, of each FAB list
        kinds = {}
        for link in crawl.links(url):
            match = RECORD_LINK.search(urlsplit(link).path)
            if match:
                kinds.setdefault(re.sub(r"\d+|/$", "", match.group(0)), link)
        for link in kinds.values():
            crawl.read(link)
    assert len(crawl.seen) > 3, crawl.seen  # the menu was found
    assert not crawl.failures, f"{role}: {len(crawl.failures)} problems\n" + "\n".join(crawl.failures)


def test_the_role_form_offers_permissions_in_french_and_saves_them(app, as_user):
    client = as_user("admin")
    options = dict(re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>',
                              client.get("/roles/add").get_data(as_text=True)))
    chosen = [pk for pk, label in options.items() if label in ("lecture — Usager", "archivage — Usager")]
    assert len(chosen) == 2 and not any(label.startswith(("can ", "menu access")) for label in options.values())
    assert client.post("/roles/add", data={"name": "Essai des droits", "permissions": chosen}).status_code == 302
    with app.app_context():
        role = app.appbuilder.sm.find_role("Essai des droits")
        assert {(pv.permission.name, pv.view_menu.name) for pv in role.permissions} == {
            ("can_read", "Usager"), ("can_archive", "Usager")}
    assert "archivage — Usager, lecture — Usager" in client.get("/roles/list/").get_data(as_text=True)


@pytest.mark.parametrize("role, username", sorted(ROLE_USERS.items()))
def test_the_referentiels_console_reads_french(as_user, role, username):
    client = as_user(username)
    if client.get("/referentiels/").status_code == 403:
        return  # (who may open it: test_permissions)
    crawl = Crawl(client)
    crawl.read("/referentiels/")
    lists = [u for u in crawl.links("/referentiels/") if re.fullmatch(r"/referentiels/\w+/", urlsplit(u).path)]
    assert lists
    for url in lists:
        crawl.read(url)
        forms = {}
        for link in crawl.links(url):
            path = urlsplit(link).path
            if path.endswith(("/new/", "/edit/")) and path.startswith(url):
                forms.setdefault(path, link)
        for link in forms.values():
            crawl.read(link)
        crawl.read(url + "?flt1_0=1")  # a filtered list
    assert not crawl.failures, f"{role}: {len(crawl.failures)} problems\n" + "\n".join(crawl.failures)


# click's frame (usage line, headings, the --help option, defaults, type names) and English prose
ENGLISH_CLI = re.compile(r"(?<!\w)(?:the|and|with|from|this|that|each|every|is|are|of|to|for|by|when|"
                         r"Show this message|Usage|Commands|Arguments|default|required|COMMAND|ARGS|"
                         r"INTEGER|RANGE|TEXT|FILE|PATH|FILENAME|DIRECTORY|BOOLEAN)(?!\w)")


def test_command_line_help_reads_french(app):
    """`flask sillage` and each of its commands, frame included. Of `flask --help` only Sillage's
    line: Flask's, Flask-Migrate's and FAB's commands are the developers' tools, not Sillage's."""
    runner = app.test_cli_runner()
    failures = []

    def check(where, text):
        text = " ".join(text.split())
        for pattern in (ENGLISH_RE, ENGLISH_CLI):
            failures.extend(f"{where}: {m.group(0)!r} in …{text[max(m.start() - 40, 0):m.end() + 40]}…"
                            for m in pattern.finditer(text))

    def read(args):
        result = runner.invoke(args=[*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        check(f"flask {' '.join(args)} --help", result.output)
        return result.output

    def commands(text):
        block = re.split(r"\n(?:Commands|Commandes)\s*:\n", text)
        return re.findall(r"^  (\S+)", block[1], re.M) if len(block) > 1 else []

    top = runner.invoke(args=["--help"]).output
    check("flask --help", re.search(r"^  sillage .*$", top, re.M).group(0))
    for name in commands(read(["sillage"])):
        for sub in commands(read(["sillage", name])):
            read(["sillage", name, sub])
    assert not failures, "\n".join(failures)
