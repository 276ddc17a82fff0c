"""Times as people read them. The database and the API keep UTC (naive datetimes are UTC); pages,
exports and PDFs show the structure's time zone (SILLAGE_TIMEZONE, Europe/Paris by default)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Europe/Paris"


def zone() -> ZoneInfo:
    name = current_app.config.get("SILLAGE_TIMEZONE", DEFAULT_ZONE) if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def local(value: dt.datetime) -> dt.datetime:
    """A stored datetime (naive = UTC) in the local zone, without tzinfo (as xlsx cells hold them)."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(zone()).replace(tzinfo=None)


def today() -> dt.date:
    """The structure's date now (after 23:00 UTC it is already tomorrow in Paris)."""
    return local(dt.datetime.now(dt.timezone.utc)).date()


def datetime_text(value: dt.datetime | None) -> str:
    return local(value).strftime("%d/%m/%Y %H:%M") if value else ""


def time_text(value: dt.datetime | None) -> str:
    return local(value).strftime("%H:%M") if value else ""


def date_text(value) -> str:
    """jj/mm/aaaa of a date, a datetime (its local day) or an ISO string of either."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if len(value) > 10 else dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = local(value)
    return value.strftime("%d/%m/%Y")
