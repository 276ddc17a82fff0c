"""Agenda: create, change and cancel events (or one occurrence of a recurring one), expand
recurrences over a window, find conflicts, and serialise what a user may read of each.

Recurrences are RFC 5545 RRULEs read in the structure's time zone (SILLAGE_TIMEZONE) and expanded
by `recurring-ical-events` (kept library, handles EXDATE and the change of hour): a weekly
activity at 10:00 stays at 10:00 local time in winter and summer, its UTC hour moves.

The events loaded pass through the scope hook (app/security/scope.py): an event nobody lets the
user see is simply absent. The shared secret does not hide a slot, it masks it: whoever does not
read the event's category gets "Rendez-vous" (or "Absence"…) and the time, never the title,
place or notes (`as_dict`).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import recurring_ical_events
from dateutil.rrule import rrulestr
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Calendar, Event, vRecur
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import selectinload

from ..models import (
    AgendaFeed, Evenement, EvenementParticipant, EvenementUsager, Service, StaffAssignment, User, Usager,
)
from ..models.agenda import ABSENCE_KINDS, KINDS
from ..models.base import utcnow
from ..security.roles import CATEGORIES
from ..security.scope import UNSCOPED, constant
from ..domain import clock
from .errors import ValidationFailed

KIND_LABELS = {
    "rdv_medical": _l("Rendez-vous médical"), "rdv_externe": _l("Rendez-vous extérieur"),
    "activite": _l("Activité"), "reunion": _l("Réunion"), "visite": _l("Visite familiale"),
    "hospitalisation": _l("Hospitalisation"), "vacances": _l("Vacances, séjour en famille"),
    "personnel": _l("Personnel"), "service": _l("Service"),
}
MAX_TITLE, MAX_PLACE, MAX_NOTES = 200, 200, 5000
MAX_SPAN = dt.timedelta(days=92)  # an absence of a few weeks; a longer stay is a sortie
MAX_OCCURRENCES = 2000  # per request, whatever the window
FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
FEED_PREFIX = "sa_"


# --- times ---------------------------------------------------------------------------------------

def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime → naive UTC (stored); a naive one is already UTC."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def aware(value: dt.datetime) -> dt.datetime:
    """A stored (naive UTC) datetime → aware, in the structure's time zone."""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(clock.zone())


def iso(value: dt.datetime) -> str:
    """ISO 8601 with the local offset (the API's form): 2025-03-31T10:00:00+02:00."""
    return aware(value).isoformat()


def parse_iso(value) -> dt.datetime:
    """ISO 8601 (with an offset: converted to UTC; without: UTC) → naive UTC. ValueError else."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError
    text = value.strip().replace("Z", "+00:00")
    if "T" in text and " " in text:  # a "+" read as a space in a query string
        text = text.replace(" ", "+", 1)
    parsed = dt.datetime.fromisoformat(text)
    return to_utc(parsed)


def local_day_start(day: dt.date) -> dt.datetime:
    """The start of a local day, naive UTC."""
    return to_utc(dt.datetime.combine(day, dt.time()).replace(tzinfo=clock.zone()))


# --- validation ----------------------------------------------------------------------------------

def check_rrule(value: str | None, start: dt.datetime) -> str | None:
    """An RFC 5545 RRULE value (without "RRULE:") that the feed and the expansion both read, or
    ValueError with a French reason."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 300:
        raise ValueError(_("Règle de récurrence trop longue."))
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    try:
        recur = vRecur.from_ical(text)
        rrulestr(text, dtstart=aware(start))
    except (ValueError, TypeError, KeyError):
        raise ValueError(_("Règle de récurrence invalide (RFC 5545, par exemple FREQ=WEEKLY;BYDAY=MO,TH;COUNT=10)."))
    freq = recur.get("FREQ", [None])[0]
    if freq not in FREQUENCIES:
        raise ValueError(_("Fréquence attendue : DAILY, WEEKLY, MONTHLY ou YEARLY."))
    return text


def _int_list(values, key, errors) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        errors[key] = _("Liste d'identifiants attendue.")
        return []
    return list(dict.fromkeys(values))


def _text(values, key, limit, errors, required=False):
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        errors[key] = _("Texte attendu.")
        return None
    value = (value or "").strip()
    if "\x00" in value or len(value) > limit:
        errors[key] = _("Texte trop long (%(n)s caractères au plus).", n=limit)
    if required and not value:
        errors[key] = _("Ce champ est obligatoire.")
    return value or None


def _clean(session, scope, values: dict, current: Evenement | None, errors: dict) -> dict:
    """The validated fields of an event (for a change: the given ones over the current)."""
    def given(key):
        return key in values or current is None

    out = {}
    kind = values.get("type", current.kind if current else "rdv_externe")
    if kind not in KINDS:
        errors["type"] = _("Type inconnu.")
        kind = "rdv_externe"
    out["kind"] = kind
    if given("titre"):
        out["titre"] = _text(values, "titre", MAX_TITLE, errors, required=True)
    if given("lieu"):
        out["lieu"] = _text(values, "lieu", MAX_PLACE, errors)
    if given("notes"):
        out["notes"] = _text(values, "notes", MAX_NOTES, errors)
    if given("categorie") or "type" in values:
        categorie = values.get("categorie") or (current.sensitivity if current and "type" not in values
                                                else KINDS[kind])
        if categorie not in CATEGORIES:
            errors["categorie"] = _("Catégorie inconnue.")
        elif scope is not None and not scope.writes(categorie):
            errors["categorie"] = _("Vous ne pouvez pas écrire dans cette catégorie du secret partagé.")
        out["sensitivity"] = categorie
    for key in ("debut", "fin"):
        if given(key):
            try:
                out[key] = parse_iso(values.get(key))
            except (ValueError, TypeError):
                errors[key] = _("Date et heure attendues (ISO 8601), par exemple 2025-03-31T10:00:00+02:00.")
    journee = values.get("journee", current.all_day if current else False)
    if not isinstance(journee, bool):
        errors["journee"] = _("Booléen attendu (true ou false).")
    out["all_day"] = journee is True
    start = out.get("debut", current.debut if current else None)
    end = out.get("fin", current.fin if current else None)
    if start and end and "debut" not in errors and "fin" not in errors:
        if end <= start:
            errors["fin"] = _("La fin doit suivre le début.")
        elif end - start > MAX_SPAN:
            errors["fin"] = _("Un événement dure au plus %(n)s jours.", n=MAX_SPAN.days)
    if given("rrule") and start:
        try:
            out["rrule"] = check_rrule(values.get("rrule"), start)
        except ValueError as exc:
            errors["rrule"] = str(exc)
        if out.get("rrule") and kind in ABSENCE_KINDS:
            errors["rrule"] = _("Une absence ne se répète pas : saisissez chaque absence.")
    return out


def _people(session, ids, errors) -> list[Usager]:
    found = {u.id: u for u in session.execute(select(Usager).where(Usager.id.in_(ids))).scalars()} if ids else {}
    if len(found) != len(ids):  # someone outside the user's scope (or no such id)
        errors["usager_ids"] = _("Une des personnes choisies n'est pas dans votre périmètre.")
    return [found[i] for i in ids if i in found]


def _staff(session, ids, errors) -> list[int]:
    found = set(session.execute(select(User.id).where(User.id.in_(ids), User.active.is_(True)),
                                execution_options={UNSCOPED: True}).scalars()) if ids else set()
    if len(found) != len(ids):
        errors["participant_ids"] = _("Participant inconnu ou inactif.")
    return [i for i in ids if i in found]


def _place(session, scope, user_id, service_id, people, errors) -> tuple[int | None, int | None]:
    """(établissement, service) of an event: the service given (visible to the user), else the
    first person's current placement, else the user's only établissement."""
    if service_id is not None:
        if isinstance(service_id, bool) or not isinstance(service_id, int):
            errors["service_id"] = _("Nombre entier attendu.")
            return None, None
        service = session.get(Service, service_id)  # through the scope: a service the user sees
        if service is None:
            errors["service_id"] = _("Ce service n'est pas dans votre périmètre.")
            return None, None
        return service.etablissement_id, service.id
    if people:
        from .parcours import current_services

        placed = current_services(session, [people[0].id]).get(people[0].id, [])
        if placed:
            service = session.get(Service, placed[0])
            if service is not None:
                return service.etablissement_id, service.id
    etabs = sorted(scope.visible_etablissement_ids) if scope is not None and not scope.sees_all else []
    if not etabs:
        etabs = sorted(session.execute(select(StaffAssignment.etablissement_id).where(
            StaffAssignment.user_id == user_id), execution_options={UNSCOPED: True}).scalars())
    if len(set(etabs)) == 1:
        return etabs[0], None
    errors["service_id"] = _("Précisez le service de l'événement.")
    return None, None


# --- writing ---------------------------------------------------------------------------------------

def create(session, *, scope, user_id: int, values: dict) -> Evenement:
    """A new event; ValidationFailed (a French message per field) and nothing written on error.
    The creator takes part unless other participants are named."""
    errors: dict = {}
    fields = _clean(session, scope, values, None, errors)
    people = _people(session, _int_list(values.get("usager_ids"), "usager_ids", errors), errors)
    staff = _staff(session, _int_list(values.get("participant_ids"), "participant_ids", errors), errors)
    etab_id, service_id = _place(session, scope, user_id, values.get("service_id"), people, errors)
    if errors:
        raise ValidationFailed(errors)
    event = Evenement(uid=f"{uuid.uuid4()}@sillage", sequence=0, etablissement_id=etab_id, service_id=service_id,
                      **fields)
    for person in people:
        event.usagers.append(EvenementUsager(usager_id=person.id))
    for uid in staff or [user_id]:
        event.participants.append(EvenementParticipant(user_id=uid))
    session.add(event)
    session.commit()
    return event


def update(session, *, scope, event: Evenement, user_id: int, values: dict) -> Evenement:
    """Change an event (the given fields): its UID stays, its SEQUENCE grows. Only who reads its
    category may change it (the others do not see what they would overwrite)."""
    if not can_read_detail(event, scope):
        raise ValidationFailed({"categorie": _("Vous ne lisez pas la catégorie de cet événement.")})
    errors: dict = {}
    fields = _clean(session, scope, values, event, errors)
    people = staff = None
    if "usager_ids" in values:
        people = _people(session, _int_list(values["usager_ids"], "usager_ids", errors), errors)
    if "participant_ids" in values:
        staff = _staff(session, _int_list(values["participant_ids"], "participant_ids", errors), errors)
    if "service_id" in values:
        etab_id, service_id = _place(session, scope, user_id, values["service_id"], people or [], errors)
        fields.update(etablissement_id=etab_id, service_id=service_id)
    if errors:
        raise ValidationFailed(errors)
    for key, value in fields.items():
        setattr(event, key, value)
    if people is not None:
        # Only the lines the user sees are replaced: a person of another établissement stays.
        seen = {line.usager_id: line for line in event.usagers}
        wanted = {p.id for p in people}
        for uid, line in seen.items():
            if uid not in wanted:
                event.usagers.remove(line)
        for pid in wanted - set(seen):
            event.usagers.append(EvenementUsager(usager_id=pid))
    if staff is not None:
        event.participants = [p for p in event.participants if p.user_id in staff] + [
            EvenementParticipant(user_id=u) for u in staff if u not in {p.user_id for p in event.participants}]
    event.sequence += 1
    session.commit()
    return event


def cancel(session, *, scope, event: Evenement, occurrence: dt.datetime | None = None) -> Evenement:
    """Cancel the whole event, or one occurrence of a recurring one (given by its original start,
    UTC): the event stays, STATUS:CANCELLED in the feeds, so phones remove or strike it."""
    if occurrence is None:
        event.cancelled = True
    else:
        if not event.rrule or occurrence not in set(_expand(event, occurrence, occurrence + dt.timedelta(seconds=1),
                                                            with_cancelled=True)):
            raise ValidationFailed({"occurrence": _("Cette date n'est pas une occurrence de l'événement.")})
        key = occurrence.isoformat()
        if key not in (event.exdates or []):
            event.exdates = sorted([*(event.exdates or []), key])
    event.sequence += 1
    session.commit()
    return event


# --- reading ---------------------------------------------------------------------------------------

@dataclass
class Occurrence:
    event: Evenement
    start: dt.datetime  # naive UTC
    end: dt.datetime
    recurrence: dt.datetime | None  # the original start of an occurrence of a recurring event
    cancelled: bool

    @property
    def key(self) -> str:
        return (self.recurrence or self.start).isoformat()


def _expand(event: Evenement, start: dt.datetime, end: dt.datetime, with_cancelled=False) -> list[dt.datetime]:
    """Original starts (naive UTC) of the occurrences of a recurring event overlapping [start,
    end), cancelled ones excluded (EXDATE) unless asked."""
    exdates = () if with_cancelled else tuple(event.exdates or ())
    return list(_starts(event.debut, event.fin, event.rrule, exdates, start, end, clock.zone().key))


@functools.lru_cache(maxsize=4096)
def _starts(debut, fin, rrule, exdates, start, end, zone) -> tuple[dt.datetime, ...]:
    """`_expand`, from the values it depends on: a pure function, so kept per process (the
    expansion costs milliseconds per event, and the dossier pages and the agenda ask for the same
    windows all day); an edited event asks with its new values. `zone`: the structure's time
    zone, in which `aware` places the rule."""
    component = Event()
    component.add("dtstart", aware(debut))
    component.add("dtend", aware(fin))
    component.add("rrule", vRecur.from_ical(rrule))
    for key in exdates:
        component.add("exdate", aware(dt.datetime.fromisoformat(key)))
    calendar = Calendar()
    calendar.add_component(component)
    duration = fin - debut
    found = recurring_ical_events.of(calendar).between(aware(start - duration), aware(end))
    starts = sorted({to_utc(o.decoded("dtstart")) for o in found})
    return tuple(s for s in starts if s < end and s + duration > start)[:MAX_OCCURRENCES]


def events_query(start: dt.datetime, end: dt.datetime, *, usager_id=None, user_id=None, service_id=None,
                 with_people=True):
    """Events that may have an occurrence in [start, end), seen by the user (scope hook).
    `with_people`: their people and participants loaded too (two statements), as `as_dict` lists them."""
    query = (select(Evenement).where(Evenement.debut < end,
                                     or_(Evenement.rrule.is_not(None), Evenement.fin > start))
             .order_by(Evenement.debut, Evenement.id))
    if with_people:
        query = query.options(selectinload(Evenement.usagers), selectinload(Evenement.participants))
    # Joins, not EXISTS (`.any()`): one line per event and person or participant (unique), and a
    # third of the statement's cost on the dossier page, which asks at every view.
    if usager_id is not None:
        query = query.join(EvenementUsager, EvenementUsager.evenement_id == Evenement.id).where(
            EvenementUsager.usager_id == usager_id)
    if user_id is not None:
        query = query.join(EvenementParticipant, EvenementParticipant.evenement_id == Evenement.id).where(
            EvenementParticipant.user_id == user_id)
    if service_id is not None:
        query = query.where(Evenement.service_id == service_id)
    return query


# One person's events (every dossier page asks), with or without their people.
_EVENTS_OF_USAGER = {people: constant(events_query(bindparam("start"), bindparam("end"), usager_id=bindparam("usager_id"),
                                                   with_people=people)) for people in (True, False)}


def occurrences(session, start: dt.datetime, end: dt.datetime, *, usager_id=None, user_id=None,
                service_id=None, with_cancelled=True, with_people=True) -> list[Occurrence]:
    """Occurrences in [start, end) (naive UTC), recurrences expanded in local time; cancelled
    events and occurrences included (flagged) unless `with_cancelled` is false."""
    out = []
    if usager_id is not None and user_id is None and service_id is None:
        events = session.execute(_EVENTS_OF_USAGER[with_people], {"start": start, "end": end, "usager_id": usager_id})
    else:
        events = session.execute(events_query(start, end, usager_id=usager_id, user_id=user_id,
                                              service_id=service_id, with_people=with_people))
    for event in events.scalars():
        if not event.rrule:
            if event.cancelled and not with_cancelled:
                continue
            out.append(Occurrence(event, event.debut, event.fin, None, event.cancelled))
            continue
        duration = event.fin - event.debut
        cancelled = set(event.exdates or [])
        for original in _expand(event, start, end, with_cancelled=True):
            off = event.cancelled or original.isoformat() in cancelled
            if off and not with_cancelled:
                continue
            out.append(Occurrence(event, original, original + duration, original, off))
        if len(out) >= MAX_OCCURRENCES:
            break
    out.sort(key=lambda o: (o.start, o.event.id))
    return out[:MAX_OCCURRENCES]


def can_read_detail(event: Evenement, scope) -> bool:
    """The shared secret: the event's category, or an emergency access to one of its people."""
    if scope is None or scope.readable is None:
        return True
    return scope.reads(event.sensitivity) or bool(scope.emergency_usager_ids) and any(
        line.usager_id in scope.emergency_usager_ids for line in event.usagers)


def masked_title(event: Evenement) -> str:
    if event.kind.startswith("rdv_"):
        return _("Rendez-vous")
    if event.kind in ABSENCE_KINDS:
        return _("Absence")
    return str(KIND_LABELS[event.kind])


def as_dict(occ: Occurrence, scope, names: dict | None = None) -> dict:
    """An occurrence as the API and the pages give it: masked for who does not read its category."""
    event = occ.event
    detail = can_read_detail(event, scope)
    return {
        "id": event.id, "occurrence": occ.key, "debut": iso(occ.start), "fin": iso(occ.end),
        "titre": event.titre if detail else masked_title(event), "masque": not detail,
        "categorie": event.sensitivity, "type": event.kind, "journee": event.all_day,
        "lieu": event.lieu if detail else None, "notes": event.notes if detail else None,
        "annule": occ.cancelled, "recurrent": bool(event.rrule), "rrule": event.rrule if detail else None,
        "service_id": event.service_id, "etablissement_id": event.etablissement_id,
        "usagers": [{"id": line.usager_id, "nom": line.usager.display_name} for line in event.usagers],
        "participants": [{"id": p.user_id, "nom": (names or {}).get(p.user_id)} for p in event.participants],
        "uid": event.uid, "sequence": event.sequence,
    }


def as_line(occ: Occurrence, scope) -> dict:
    """An occurrence as one line of a list (the dossier's agenda panel): when, what, where, masked
    as `as_dict` masks them, without the people and participants that `as_dict` lists."""
    event = occ.event
    detail = can_read_detail(event, scope)
    return {"id": event.id, "debut": iso(occ.start), "titre": event.titre if detail else masked_title(event),
            "masque": not detail, "lieu": event.lieu if detail else None, "annule": occ.cancelled}


def staff_names(session, ids) -> dict[int, str]:
    if not ids:
        return {}
    return {i: f"{f} {l}" for i, f, l in session.execute(
        select(User.id, User.first_name, User.last_name).where(User.id.in_(set(ids))),
        execution_options={UNSCOPED: True})}


def visible(session, event_id: int) -> Evenement | None:
    return session.get(Evenement, event_id)  # through the scope hook: None outside it


# --- conflicts -------------------------------------------------------------------------------------

@dataclass
class Conflict:
    reason: str  # "personne" | "participant" | "lieu"
    label: str  # the person's name, the professional's name or the place
    first: Occurrence
    second: Occurrence


def conflicts(occs: list[Occurrence], names: dict | None = None) -> list[Conflict]:
    """Overlapping occurrences (not cancelled) that share a person, a professional or a place
    (the same `lieu`, case and spaces aside: a room booked twice)."""
    live = sorted((o for o in occs if not o.cancelled and not o.event.all_day), key=lambda o: o.start)
    found = []
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            if b.start >= a.end:
                break
            if a.event.id == b.event.id:
                continue
            people = {l.usager_id: l.usager.display_name for l in a.event.usagers} 
            for line in b.event.usagers:
                if line.usager_id in people:
                    found.append(Conflict("personne", people[line.usager_id], a, b))
            staff = {p.user_id for p in a.event.participants} & {p.user_id for p in b.event.participants}
            for uid in sorted(staff):
                found.append(Conflict("participant", (names or {}).get(uid, str(uid)), a, b))
            if a.event.lieu and b.event.lieu and _norm(a.event.lieu) == _norm(b.event.lieu):
                found.append(Conflict("lieu", a.event.lieu, a, b))
    return found


def _norm(place: str) -> str:
    return " ".join(place.casefold().split())


def conflicts_of(session, event: Evenement, names=None) -> list[Conflict]:
    """Conflicts of an event's occurrences in the coming year with what the user sees."""
    start = max(event.debut, utcnow() - dt.timedelta(days=1)) if event.rrule else event.debut
    end = start + dt.timedelta(days=366) if event.rrule else event.fin
    occs = occurrences(session, start, end, with_cancelled=False)
    return [c for c in conflicts(occs, names) if event.id in (c.first.event.id, c.second.event.id)]


def conflict_dict(c: Conflict, scope) -> dict:
    return {"motif": c.reason, "objet": c.label if c.reason != "lieu" or all(
        can_read_detail(o.event, scope) for o in (c.first, c.second)) else None,
            "evenements": [{"id": o.event.id, "occurrence": o.key, "debut": iso(o.start), "fin": iso(o.end)}
                           for o in (c.first, c.second)]}


# --- occupancy -------------------------------------------------------------------------------------

def absent_usagers(session, etablissement_ids, on: dt.date) -> set[tuple[int, int]]:
    """(établissement, usager) of the usagers away from these établissements on the local day
    `on` (hospital stay, holiday): their place stays theirs (it is counted occupied), and the
    figure `absents` says how many are away (services.indicators.occupation)."""
    start, end = local_day_start(on), local_day_start(on + dt.timedelta(days=1))
    return set(session.execute(
        select(Evenement.etablissement_id, EvenementUsager.usager_id)
        .join(Evenement, Evenement.id == EvenementUsager.evenement_id)
        .where(Evenement.etablissement_id.in_(etablissement_ids), Evenement.kind.in_(ABSENCE_KINDS),
               Evenement.cancelled.is_(False), Evenement.debut < end, Evenement.fin > start),
        execution_options={UNSCOPED: True}).tuples())


# --- feeds -----------------------------------------------------------------------------------------

def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_feed(session, *, user_id: int, service_id: int | None = None) -> str:
    """(Re)generate a user's feed address (or a service's, for that user): the previous one
    stops working. Returns the raw token, shown once; only its hash is kept."""
    now = utcnow()
    for old in session.execute(select(AgendaFeed).where(
            AgendaFeed.user_id == user_id, AgendaFeed.revoked_at.is_(None),
            AgendaFeed.service_id.is_(None) if service_id is None else AgendaFeed.service_id == service_id)).scalars():
        old.revoked_at = now
    raw = FEED_PREFIX + secrets.token_urlsafe(32)
    session.add(AgendaFeed(user_id=user_id, service_id=service_id, prefix=raw[:10], token_hash=_digest(raw)))
    session.commit()
    return raw


def revoke_feeds(session, *, user_id: int) -> int:
    now, count = utcnow(), 0
    for feed in session.execute(select(AgendaFeed).where(AgendaFeed.user_id == user_id,
                                                         AgendaFeed.revoked_at.is_(None))).scalars():
        feed.revoked_at, count = now, count + 1
    session.commit()
    return count


def active_feeds(session, user_id: int) -> list[AgendaFeed]:
    return list(session.execute(select(AgendaFeed).where(AgendaFeed.user_id == user_id, AgendaFeed.revoked_at.is_(None))
                                .order_by(AgendaFeed.created_at)).scalars())


def feed_for_token(session, raw: str) -> AgendaFeed | None:
    if not isinstance(raw, str) or not raw.startswith(FEED_PREFIX) or len(raw) > 100:
        return None
    feed = session.execute(select(AgendaFeed).where(AgendaFeed.token_hash == _digest(raw))).scalar_one_or_none()
    if feed is None or feed.revoked_at is not None:
        return None
    return feed
