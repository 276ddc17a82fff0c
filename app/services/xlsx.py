"""The one xlsx writer of Sillage: form exports, the RGPD export, PP statistics and every future
list export write their cells here, so that no value ever becomes a formula.

A text starting with `=`, `+`, `-`, `@`, a tab or a carriage return is what a spreadsheet would
run as a formula ("CSV/formula injection": a name typed as `=HYPERLINK(…)` sends the reader's
click elsewhere). Such a cell is stored as text with a quote prefix: shown as typed, never
evaluated. Characters XML cannot hold are dropped (openpyxl would refuse the whole workbook).
"""
from __future__ import annotations

import datetime as dt
import io

from flask_babel import gettext as _

from ..domain import clock

# openpyxl is imported by what writes a workbook, not with this module: a tenth of a second at
# every start of the app otherwise (issue 20).

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_TEXT = 32767  # what a cell holds


class Sheet:
    def __init__(self, worksheet):
        self._ws = worksheet

    def header(self, *rows) -> None:
        """Bold header rows (codes, then labels…), frozen above the data."""
        from openpyxl.styles import Font

        for values in rows:
            self.row(values)
            for cell in self._ws[self._ws.max_row]:
                cell.font = Font(bold=True)
        self._ws.freeze_panes = f"A{self._ws.max_row + 1}"  # (a string: asking for the cell would create it)

    def row(self, values) -> None:
        self._ws.append([_safe(v) for v in values])
        for cell in self._ws[self._ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever openpyxl guessed
                if cell.value.startswith(FORMULA_START):
                    cell.quotePrefix = True

    def widths(self, *widths) -> None:
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(widths, start=1):
            self._ws.column_dimensions[get_column_letter(index)].width = width

    def freeze(self, coordinate: str) -> None:
        self._ws.freeze_panes = coordinate


class Workbook:
    """Sheets written row by row; `bytes()` gives the file."""

    def __init__(self):
        from openpyxl import Workbook as _Workbook

        self._wb = _Workbook()
        self._wb.remove(self._wb.active)

    def sheet(self, title: str) -> Sheet:
        return Sheet(self._wb.create_sheet(_title(title)))

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self._wb.save(out)
        return out.getvalue()


def _safe(value):
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, dt.datetime):  # stored in UTC, read in the structure's time
        return clock.local(value)
    if value is None or isinstance(value, (int, float, dt.date)):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_TEXT]


def _title(title: str) -> str:
    """A sheet title Excel accepts: 31 characters, none of []:*?/\\."""
    cleaned = "".join(c for c in str(title) if c not in "[]:*?/\\").strip("'") or "Feuille"
    return cleaned[:31]
