"""Times are stored in UTC and read in the structure's zone (SILLAGE_TIMEZONE, Europe/Paris):
pages, exports and PDFs (issue 16 §3)."""
from __future__ import annotations

import datetime as dt

from flask import render_template_string

from app.services import clock

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
