"""Demo agenda: in each service a few weekly activities for several people (one occurrence
cancelled), medical and external appointments, a family visit, a hospital stay, a team meeting,
with the demo staff taking part. Written once (idempotent: nothing if the demo has events)."""
from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import func, select

from ..models import Evenement, EvenementParticipant, EvenementUsager, Service, User
from .agenda import local_day_start
from .demo_transmissions import _people_by_service

# (title, kind, category, place, weekday, hour, minutes, RRULE or None, EHPAD or IME or both)
SERIES = [
    ("Atelier mémoire", "activite", "social_educatif", "Salle d'animation", 1, 10, 60, "FREQ=WEEKLY;BYDAY=TU;COUNT=20", "EHPAD"),
    ("Gym douce", "activite", "social_educatif", "Salle d'animation", 3, 15, 45, "FREQ=WEEKLY;BYDAY=TH;COUNT=20", "EHPAD"),
    ("Piscine", "activite", "social_educatif", "Piscine municipale", 2, 14, 90, "FREQ=WEEKLY;BYDAY=WE;COUNT=15", "IME"),
    ("Atelier cuisine", "activite", "social_educatif", "Cuisine pédagogique", 4, 10, 120, "FREQ=WEEKLY;BYDAY=FR;COUNT=15", "IME"),
    ("Réunion d'équipe", "reunion", "administratif", "Salle de réunion", 0, 17, 60, "FREQ=WEEKLY;BYDAY=MO;COUNT=30", "both"),
]
SINGLE = [  # (title, kind, category, place, day offset, hour, minutes)
    ("Consultation cardiologue", "rdv_medical", "medical", "Centre hospitalier", 3, 9, 60),
    ("Dentiste", "rdv_medical", "medical", "Cabinet dentaire du centre", 9, 16, 30),
    ("Renouvellement de la carte d'identité", "rdv_externe", "administratif", "Mairie", 6, 11, 30),
    ("Visite de la famille", "visite", "social_educatif", "Salon des familles", 5, 15, 90),
]


DAYS = ("MO", "TU", "WE", "TH", "FR")


def _utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return local_day_start(day) + dt.timedelta(hours=hour, minutes=minute)


def load(session, today: dt.date) -> int:
    if session.execute(select(func.count(Evenement.id))).scalar():
        return 0
    users = {u.username: u.id for u in session.execute(select(User)).scalars()}
    people = _people_by_service(session)
    monday = today - dt.timedelta(days=today.weekday())
    made = 0
    rank: dict[int, int] = {}  # each service of an établissement on its own days: no demo conflict
    for service in session.execute(select(Service).order_by(Service.id)).scalars():
        shift = rank[service.etablissement_id] = rank.get(service.etablissement_id, -1) + 1
        usager_ids = people.get(service.id, [])
        ehpad = service.etablissement.categorie.code == "EHPAD"
        staff = [users.get(n) for n in (("soin.tilleuls", "secretaire.tilleuls") if ehpad
                                         else ("educ.sources", "secretaire.sources"))]
        staff = [s for s in staff if s]

        def add(title, kind, category, place, start, minutes, rrule=None, who=(), participants=staff[:1]):
            nonlocal made
            event = Evenement(uid=f"{uuid.uuid4()}@sillage", sequence=0, kind=kind, titre=title, lieu=place,
                              debut=start, fin=start + dt.timedelta(minutes=minutes), sensitivity=category,
                              rrule=rrule, etablissement_id=service.etablissement_id, service_id=service.id)
            event.usagers = [EvenementUsager(usager_id=u) for u in who]
            event.participants = [EvenementParticipant(user_id=p) for p in participants]
            session.add(event)
            made += 1
            return event

        for title, kind, category, place, weekday, hour, minutes, rrule, where in SERIES:
            if where not in ("both", "EHPAD" if ehpad else "IME"):
                continue
            weekday = (weekday + shift) % 5
            rrule = rrule and re.sub(r"BYDAY=\w\w", "BYDAY=" + DAYS[weekday], rrule)
            start = _utc(monday - dt.timedelta(days=14) + dt.timedelta(days=weekday), hour)
            who = usager_ids[:6] if kind == "activite" else []
            event = add(f"{title} — {service.name}" if kind == "reunion" else title, kind, category, place,
                        start, minutes, rrule, who, staff)
            if kind == "activite":  # one session cancelled next week
                event.exdates = [(start + dt.timedelta(days=21)).isoformat()]
        for index, (title, kind, category, place, offset, hour, minutes) in enumerate(SINGLE):
            if len(usager_ids) > index:
                add(title, kind, category, place, _utc(today + dt.timedelta(days=offset + shift), hour), minutes,
                    who=[usager_ids[index]])
        if ehpad and len(usager_ids) > 4:
            stay = local_day_start(today - dt.timedelta(days=1))
            add("Hospitalisation (chirurgie programmée)", "hospitalisation", "medical", "Centre hospitalier",
                stay, 5 * 24 * 60, who=[usager_ids[4]])
    session.commit()
    return made
