"""Demo messages: a few threads of the internal messaging between the demo accounts — one about a
resident of the EHPAD (answered, read), one to a service inbox of the IME, one still unread.
Written once (idempotent)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ..models import Admission, Message, MessageRecipient, MessageThread, Service, StaffAssignment, User
from ..models.base import utcnow


def _thread(session, sujet, author, messages, others, usager_id=None, via=None, read=()):
    """`messages`: (author id, text, hours ago); `read`: who opened it since the last message."""
    last = utcnow() - dt.timedelta(hours=min(h for _a, _t, h in messages))
    thread = MessageThread(sujet=sujet, usager_id=usager_id, created_by_id=author,
                           created_at=utcnow() - dt.timedelta(hours=max(h for _a, _t, h in messages)),
                           last_message_at=last)
    for uid in [author, *others]:
        thread.recipients.append(MessageRecipient(user_id=uid, service_id=(via or {}).get(uid),
                                                  read_at=last if uid in read else None))
    for uid, text, hours in messages:
        thread.messages.append(Message(author_id=uid, texte=text, created_at=utcnow() - dt.timedelta(hours=hours)))
    session.add(thread)


def load(session, today: dt.date) -> int:
    if session.execute(select(func.count(MessageThread.id))).scalar():
        return 0
    users = {u.username: u.id for u in session.execute(select(User)).scalars()}
    needed = ("direction", "soin.tilleuls", "secretaire.tilleuls", "educ.sources", "secretaire.sources")
    if any(n not in users for n in needed):
        return 0
    direction, soin, secretaire, educ, secretaire_ime = (users[n] for n in needed)
    etabs = set(session.execute(select(StaffAssignment.etablissement_id)
                                .where(StaffAssignment.user_id == soin)).scalars())
    resident = session.execute(
        select(Admission.usager_id).where(Admission.etablissement_id.in_(etabs), Admission.date_sortie.is_(None),
                                          Admission.archived_at.is_(None)).order_by(Admission.id).limit(1)).scalar()
    made = 0
    if resident is not None:
        _thread(session, "Retour d'hospitalisation", direction, [
            (direction, "Bonjour, la famille demande un point sur le retour d'hospitalisation de jeudi. "
                        "Pouvez-vous me dire ce qui est prévu pour les soins ?", 30),
            (soin, "Le médecin coordonnateur passe vendredi matin ; pansement quotidien et kinésithérapie deux "
                   "fois par semaine. Je préviens la famille après sa visite.", 26)],
            [soin, secretaire], usager_id=resident, read=(direction, soin))
        made += 1
    ime_etabs = set(session.execute(select(StaffAssignment.etablissement_id)
                                    .where(StaffAssignment.user_id == educ)).scalars())
    service = session.execute(select(Service).where(Service.etablissement_id.in_(ime_etabs))
                              .order_by(Service.id).limit(1)).scalar()
    if service is not None:
        members = set(session.execute(select(StaffAssignment.user_id)
                                      .where(StaffAssignment.service_id == service.id)).scalars())
        others = sorted((members | {educ}) - {secretaire_ime})
        _thread(session, "Transports de la semaine prochaine", secretaire_ime, [
            (secretaire_ime, "Le transporteur change ses horaires à partir de lundi : départ du matin à 8 h 10. "
                             "Merci de prévenir les familles concernées.", 5)],
            others, via={uid: service.id for uid in members}, read=(secretaire_ime,))
        made += 1
    _thread(session, "Réunion d'équipe de mardi", educ, [
        (educ, "Pouvons-nous ajouter à l'ordre du jour l'organisation du séjour de printemps ?", 2)],
        [direction], read=(educ,))
    session.commit()
    return made + 1
