"""The text of an écrit: simple formatting (headings, paragraphs, line breaks, lists, bold,
italic) stored as sanitised HTML.

People type a light markup in a plain textarea (no script in the page: CSP) — `## ` a heading,
`- ` a list item, `**bold**`, `*italic*`, a blank line between paragraphs — or send HTML through
the API; either way what is stored has gone through `sanitise` (nh3, a kept sanitiser): only the
tags below, no attribute at all (so no event handler, no link, no style).
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

TAGS = {"h2", "h3", "p", "br", "ul", "ol", "li", "strong", "em", "b", "i"}
MAX_CHARS = 100_000
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_TAG = re.compile(r"</?(h[1-6]|p|br|ul|ol|li|strong|em|b|i|div)\b[^>]*>", re.IGNORECASE)


def sanitise(markup: str) -> str:
    """Only the allowed tags, without attributes; a removed element's text is kept as text,
    except that of <script> and <style>, which nh3 drops whole."""
    return nh3.clean(markup or "", tags=TAGS, attributes={}, url_schemes=set(), link_rel=None,
                     strip_comments=True).strip()


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    return _ITALIC.sub(r"<em>\1</em>", text)


def from_text(text: str) -> str:
    """The light markup of the textarea → sanitised HTML. Text that already holds tags (pasted
    HTML, or an API client's) is sanitised as it is."""
    text = (text or "").replace("\r\n", "\n").strip()
    if _TAG.search(text):
        return sanitise(text)
    blocks, items, paragraph = [], [], []

    def flush():
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            level = "h2" if not stripped.startswith("###") else "h3"
            blocks.append(f"<{level}>{_inline(stripped.lstrip('#').strip())}</{level}>")
        elif stripped[:2] in ("- ", "* ", "• "):
            if paragraph:
                flush()
            items.append(stripped[2:].strip())
        else:
            if items:
                flush()
            paragraph.append(stripped)
    flush()
    return sanitise("".join(blocks))


class _ToText(HTMLParser):
    MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3"):
            self.out.append("\n\n" + ("## " if tag == "h2" else "### "))
        elif tag == "p":
            self.out.append("\n\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self.out.append("\n")
        elif tag in self.MARKS:
            self.out.append(self.MARKS[tag])

    def handle_endtag(self, tag):
        if tag in self.MARKS:
            self.out.append(self.MARKS[tag])
        elif tag in ("ul", "ol"):
            self.out.append("\n")

    def handle_data(self, data):
        self.out.append(data)


def to_text(stored: str) -> str:
    """Stored HTML → the light markup the textarea shows to edit it again."""
    parser = _ToText()
    parser.feed(stored or "")
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.out)).strip()


def plain(stored: str) -> str:
    """The text without tags (search, excerpts)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", stored or ""))).strip()
