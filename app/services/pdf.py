"""One way to write Sillage's PDFs (fpdf2): a title, headings, paragraphs, lists and a page footer,
in a type size the caller chooses (the easy-read versions use large type).

fpdf2's built-in Helvetica is Latin-1: French fits; the few typographic signs outside it are spelt
out, so no text is ever lost to a missing glyph and no font file is needed.
"""
from __future__ import annotations

import datetime as dt

from fpdf import FPDF

from ..domain import clock

LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "–": "-",
                        "—": "-", "€": "EUR", "\u202f": " ", "•": "-"})


def latin1(text) -> str:
    return str(text).translate(LATIN1).encode("latin-1", "replace").decode("latin-1")


def french_date(value: dt.date | dt.datetime | None) -> str:
    return clock.datetime_text(value) if isinstance(value, dt.datetime) else clock.date_text(value)


class Document:
    """A readable document: `size` is the body's type size in points."""

    def __init__(self, title: str, footer: str = "", size: float = 10.5, letterhead=(), logo: bytes | None = None):
        """`letterhead`: lines printed small above the title (the établissement's name first);
        `logo`: a PNG or JPEG printed at the top right of the first page."""
        self.size = size
        self.pdf = _Pdf(footer=latin1(footer))
        self.pdf.set_title(latin1(title))
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_margins(18, 16, 18)
        self.pdf.add_page()
        if logo:
            import io

            self.pdf.image(io.BytesIO(logo), x=self.pdf.w - self.pdf.r_margin - 35, y=self.pdf.t_margin, h=16,
                           keep_aspect_ratio=True, w=35)
        for index, line in enumerate(line for line in letterhead if line):
            self.pdf.set_font("Helvetica", "B" if index == 0 else "", size * (1.1 if index == 0 else 0.85))
            self._cell(line, size * 0.5)
        if letterhead:
            y = self.pdf.get_y() + 2
            self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
            self.pdf.ln(size * 0.8)
        self.pdf.set_font("Helvetica", "B", size * 1.7)
        self._cell(title, size * 0.85)

    def _cell(self, text, height):
        self.pdf.multi_cell(0, height, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def subtitle(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", self.size)
        self.pdf.set_text_color(80, 80, 80)
        self._cell(text, self.size * 0.55)
        self.pdf.set_text_color(0, 0, 0)

    def heading(self, text: str, level: int = 1) -> None:
        self.pdf.ln(self.size * (0.6 if level == 1 else 0.3))
        self.pdf.set_font("Helvetica", "B", self.size * (1.35 if level == 1 else 1.1))
        self._cell(text, self.size * 0.7)
        self.pdf.ln(self.size * 0.1)

    def paragraph(self, text: str, bold: bool = False, italic: bool = False) -> None:
        self.pdf.set_font("Helvetica", ("B" if bold else "") + ("I" if italic else ""), self.size)
        self._cell(text, self.size * 0.55)

    def bullets(self, lines, marker: str = "-") -> None:
        self.pdf.set_font("Helvetica", "", self.size)
        for line in lines:
            x = self.pdf.get_x()
            self.pdf.set_x(x + self.size * 0.4)
            self.pdf.multi_cell(0, self.size * 0.55, latin1(f"{marker} {line}"), new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows) -> None:
        """Label : value lines, the label in bold; empty values are left out."""
        for label, value in rows:
            if value in (None, "", []):
                continue
            self.pdf.set_font("Helvetica", "B", self.size)
            self.pdf.write(self.size * 0.55, latin1(f"{label} : "))
            self.pdf.set_font("Helvetica", "", self.size)
            self.pdf.write(self.size * 0.55, latin1(value))
            self.pdf.ln(self.size * 0.55)

    def star(self) -> None:
        """A small pictogram (a star) before an easy-read line: the project's own set, drawn."""
        import math

        x, y, r = self.pdf.get_x() + 2, self.pdf.get_y() + self.size * 0.28, self.size * 0.22
        points = [(x + (r if i % 2 == 0 else r / 2.5) * math.sin(i * math.pi / 5),
                   y - (r if i % 2 == 0 else r / 2.5) * math.cos(i * math.pi / 5)) for i in range(10)]
        self.pdf.set_fill_color(242, 170, 0)
        self.pdf.polygon(points, style="F")
        self.pdf.set_x(x + r + 3)

    def signature_box(self, label: str) -> None:
        self.pdf.set_font("Helvetica", "", self.size)
        self._cell(label, self.size * 0.55)
        y = self.pdf.get_y() + self.size * 1.4
        self.pdf.line(self.pdf.l_margin, y, self.pdf.l_margin + 80, y)
        self.pdf.ln(self.size * 1.8)

    def html(self, markup: str) -> None:
        """Sanitised HTML of simple formatting (domain/ecrits.py: headings, paragraphs, lists,
        bold, italic) written with fpdf2's own HTML writer."""
        self.pdf.set_font("Helvetica", "", self.size)
        self.pdf.write_html(latin1(markup), font_family="helvetica")
        self.pdf.ln(self.size * 0.3)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


class _Pdf(FPDF):
    def __init__(self, footer: str):
        super().__init__()
        self._footer = footer

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self._footer}  {self.page_no()}/{{nb}}", align="C")
