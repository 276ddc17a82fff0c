"""How a raw value reads in a page: one rule for FAB's lists and show pages and Sillage's own.

French users must never see `True`, `None`, `[Administrateur]` or an ISO date.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext
from markupsafe import Markup

from ..services import clock

EMPTY = "—"


def cell(value):
    """Oui/Non, "—" for nothing, jj/mm/aaaa (local time for a moment), lists as text."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, Markup):
        return value
    if isinstance(value, bool):
        return gettext("Oui") if value else gettext("Non")
    if isinstance(value, dt.datetime):
        return clock.datetime_text(value)
    if isinstance(value, dt.date):
        return clock.date_text(value)
    if isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ == "InstrumentedList":
        return ", ".join(str(cell(v)) for v in value) or EMPTY
    return value


def decimal(value, digits: int = 1):
    """A number as French writes it: 640,6 (never 640.6); "—" for nothing."""
    if value is None:
        return EMPTY
    text = f"{value:.{digits}f}".replace(".", ",")
    return text[:-2] if digits == 1 and text.endswith(",0") else text


def percent(rate):
    """A rate (0.188) as 18,8 %; "—" without one (no capacity)."""
    return EMPTY if rate is None else f"{decimal(rate * 100)} %"
