"""The calendar feed (RFC 5545) a phone subscribes to: one VEVENT per event (its recurrence
left to the phone, RRULE in Europe/Paris with its VTIMEZONE), a VEVENT with RECURRENCE-ID and
STATUS:CANCELLED per cancelled occurrence, UID stable and SEQUENCE growing at each change.

Minimal by default: a phone's calendar is synchronised to servers Sillage does not control and
shown on a locked screen. So the summary is a generic label ("Rendez-vous", "Activité"…) with the
people's initials, never their names nor an appointment's detail; the place only for the
administratif and social-éducatif categories; never notes. SILLAGE_ICS_DETAIL=1 puts in what the
user reads in Sillage (title, place, notes, names), per the shared secret.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from ..models import Evenement
from ..models.base import utcnow
from ..domain import clock
from .agenda import aware, can_read_detail, masked_title

NON_HEALTH = {"administratif", "social_educatif"}
# Zones following the EU rule (last Sunday of March 01:00 UTC / of October 01:00 UTC), written
# as two RRULEs, the form Apple's and Google's calendars publish. icalendar's generated
# VTIMEZONE lists each change as an RDATE until 2037; vobject (measured, 0.9.9) then reads
# every date at the winter offset: a phone's parser may do the same.
EU_ZONES = {"Europe/Paris": ("CET", "CEST", 1)}


def _eu_timezone(name: str) -> Timezone:
    standard_name, summer_name, hours = EU_ZONES[name]
    winter, summer = dt.timedelta(hours=hours), dt.timedelta(hours=hours + 1)
    tz = Timezone()
    tz.add("tzid", name)
    daylight = TimezoneDaylight()
    daylight.add("tzname", summer_name)
    daylight.add("dtstart", dt.datetime(1970, 3, 29, 2))
    daylight.add("tzoffsetfrom", winter)
    daylight.add("tzoffsetto", summer)
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    standard = TimezoneStandard()
    standard.add("tzname", standard_name)
    standard.add("dtstart", dt.datetime(1970, 10, 25, 3))
    standard.add("tzoffsetfrom", summer)
    standard.add("tzoffsetto", winter)
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz


def initials(usager) -> str:
    nom = usager.nom_utilise or usager.nom_naissance or ""
    prenom = usager.prenom_utilise or usager.premier_prenom_naissance or ""
    return f"{prenom[:1].upper()}. {nom[:1].upper()}."


def _summary(event: Evenement, scope, detail: bool) -> str:
    readable = can_read_detail(event, scope)
    title = event.titre if detail and readable else masked_title(event)
    people = [(line.usager.display_name if detail else initials(line.usager)) for line in event.usagers]
    return f"{title} — {', '.join(people)}" if people else title


def _times(component: Event, event: Evenement, start: dt.datetime, end: dt.datetime, prefix="") -> None:
    if event.all_day:
        component.add("dtstart", aware(start).date())
        component.add("dtend", aware(end).date() if aware(end).time() == dt.time() else
                      aware(end).date() + dt.timedelta(days=1))
    else:
        component.add("dtstart", aware(start))
        component.add("dtend", aware(end))


def _vevent(event: Evenement, scope, detail: bool, stamp: dt.datetime) -> Event:
    component = Event()
    component.add("uid", event.uid)
    component.add("sequence", event.sequence)
    component.add("dtstamp", stamp)
    component.add("last-modified", event.updated_at.replace(tzinfo=dt.timezone.utc))
    _times(component, event, event.debut, event.fin)
    if event.rrule:
        component.add("rrule", vRecur.from_ical(event.rrule))
    component.add("summary", _summary(event, scope, detail))
    readable = can_read_detail(event, scope)
    if event.lieu and readable and (detail or event.sensitivity in NON_HEALTH):
        component.add("location", event.lieu)
    if detail and readable and event.notes:
        component.add("description", event.notes)
    component.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    component.add("transp", "OPAQUE")
    component.add("class", "PRIVATE" if not readable or event.sensitivity not in NON_HEALTH else "PUBLIC")
    return component


def _cancelled_occurrence(event: Evenement, key: str, scope, detail: bool, stamp) -> Event:
    original = dt.datetime.fromisoformat(key)
    component = Event()
    component.add("uid", event.uid)
    component.add("sequence", event.sequence)
    component.add("dtstamp", stamp)
    component.add("recurrence-id", aware(original).date() if event.all_day else aware(original))
    _times(component, event, original, original + (event.fin - event.debut))
    component.add("summary", _summary(event, scope, detail))
    component.add("status", "CANCELLED")
    return component


def calendar(events, scope, *, name: str) -> bytes:
    """The feed of `events` (loaded through the user's scope) as the user may read them."""
    detail = current_app.config.get("SILLAGE_ICS_DETAIL", False)
    stamp = utcnow().replace(tzinfo=dt.timezone.utc)
    cal = Calendar()
    cal.add("prodid", "-//Sillage//Agenda//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", clock.zone().key)
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    zone = clock.zone().key
    if zone in EU_ZONES:
        cal.add_component(_eu_timezone(zone))
    for event in events:
        cal.add_component(_vevent(event, scope, detail, stamp))
        if event.rrule and not event.cancelled:
            for key in event.exdates or []:
                cal.add_component(_cancelled_occurrence(event, key, scope, detail, stamp))
    cal.add_missing_timezones()  # (another zone: icalendar's)
    return cal.to_ical()
