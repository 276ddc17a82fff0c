"""Times are stored in UTC and read in the structure's zone (SILLAGE_TIMEZONE, Europe/Paris):
pages, exports and PDFs (issue 16 §3)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import render_template_string

from app.domain import clock

WINTER = dt.datetime(2026, 12, 4, 2, 44)  # UTC: 03:44 in Paris (CET)
SUMMER = dt.datetime(2026, 7, 1, 22, 30)  # UTC: 00:30 the next day in Paris (CEST)


def test_pages_show_the_local_time_and_day(app):
    with app.test_request_context("/"):
        assert render_template_string("{{ v|date_fr }} {{ v|time_fr }}", v=WINTER) == "04/12/2026 03:44 03:44"
        assert render_template_string("{{ v|date_fr }}", v=SUMMER) == "02/07/2026 00:30"
        assert render_template_string("{{ v|date_fr }}", v=dt.date(2026, 7, 1)) == "01/07/2026"
        assert render_template_string("{{ v|date_fr }}", v="2026-07-01") == "01/07/2026"


def test_exports_and_pdfs_read_the_same_zone_and_the_setting_changes_it(app):
    with app.app_context():
        assert clock.local(WINTER) == dt.datetime(2026, 12, 4, 3, 44)
        assert clock.date_text(SUMMER.isoformat()) == "02/07/2026"
        from app.services.pdf import french_date

        assert french_date(WINTER) == "04/12/2026 03:44"
        app.config["SILLAGE_TIMEZONE"] = "America/Cayenne"  # a structure in Guyane
        try:
            assert clock.time_text(WINTER) == "23:44"
        finally:
            app.config["SILLAGE_TIMEZONE"] = "Europe/Paris"


def test_every_today_of_the_application_is_the_structures_day(app):
    """From 23:00 UTC (22:00 in summer) the server's date is still yesterday in Paris: the directors'
    home (the structure's day) and the PP deadlines API (the server's) once disagreed on what was
    late. `clock.today()` is the one source of the day: no module asks the server for its date."""
    import re
    from pathlib import Path

    import app as package

    root = Path(package.__file__).parent
    asked = [f"{path.relative_to(root)}:{number}" for path in sorted(root.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\bdate\.today\(\)|datetime\.now\(\)|datetime\.today\(\)", line)]
    assert asked == []
    with app.app_context():
        def paris_day():
            return dt.datetime.now(dt.timezone.utc).astimezone(ZoneInfo("Europe/Paris")).date()

        before, today, after = paris_day(), clock.today(), paris_day()
        assert today in (before, after)
