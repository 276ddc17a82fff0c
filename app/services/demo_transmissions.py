"""Demo transmissions: a month of the cahier de liaison in both établissements — the EHPAD's care
and daily-life notes (DAR), the IME's educational notes, outings and activities written once for
several children, a few important ones, some already read. Written once (idempotent), in bulk."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from ..models import Admission, Service, Transmission, TransmissionRead, TransmissionUsager, User
from ..models.base import utcnow
from ..domain import clock

# (cible, category, données, actions, résultats)
EHPAD_DAR = [
    ("douleur", "soins", "Se plaint de douleurs au genou droit lors du lever (EVA 6).",
     "Antalgique donné selon la prescription, installation au fauteuil avec coussin.", "EVA 3 une heure après."),
    ("alimentation", "soins", "A mangé la moitié du repas de midi, boit peu.",
     "Eau gélifiée proposée toutes les heures, collation enrichie à 16 h.", "A bu 4 verres dans l'après-midi."),
    ("sommeil", "soins", "Réveillée à 3 h, déambule dans le couloir, angoissée.",
     "Réassurance, tisane, raccompagnée en chambre, veilleuse allumée.", "Rendormie vers 4 h."),
    ("chute", "soins", "Retrouvé assis au sol de la salle de bain à 7 h 15, sans plaie apparente.",
     "Relevé à deux, constantes prises, médecin traitant prévenu, famille informée.",
     "Constantes normales, pas de douleur ; surveillance 24 h."),
    ("hygiene", "social_educatif", "Refuse la douche ce matin.",
     "Toilette au lavabo proposée, douche reportée à demain matin.", "Toilette au lavabo acceptée."),
    ("comportement", "social_educatif", "Agitation en fin d'après-midi, cherche à sortir.",
     "Promenade accompagnée dans le jardin, activité de pliage de linge.", "Apaisée au dîner."),
    ("mobilite", "soins", "Marche avec le déambulateur sur 20 mètres.",
     "Séance avec la kinésithérapeute, exercices d'équilibre.", "Progrès par rapport à la semaine dernière."),
    ("relation_familiale", "social_educatif", "Visite de sa fille, échange tendu au sujet de l'argent de poche.",
     "Entretien proposé avec la cadre de santé et la famille.", "Rendez-vous fixé vendredi."),
]
EHPAD_GROUP = [
    ("activite", "Atelier mémoire du mardi : participation active, bonne humeur générale."),
    ("sortie", "Sortie au marché de Noël en minibus ; retour à 17 h, tout le monde fatigué mais content."),
    ("activite", "Loto de l'après-midi ; a aidé sa voisine à cocher les numéros."),
]
IME_NOTES = [
    ("scolarite", "social_educatif", "Bonne matinée en classe : a terminé seul sa fiche de lecture."),
    ("comportement", "social_educatif", "Crise de colère au moment du repas, s'est calmé au coin calme après 10 minutes."),
    ("relation_familiale", "social_educatif", "Sa mère nous signale un week-end difficile, peu de sommeil."),
    ("sante", "soins", "Plainte de maux de ventre à 10 h ; pas de fièvre ; parents prévenus, reste à l'IME."),
    ("alimentation", "social_educatif", "A goûté les légumes pour la première fois sans difficulté."),
    ("autonomie", "social_educatif", "A pris le bus seul avec l'éducatrice à distance : trajet réussi."),
    ("administratif", "administratif", "Attestation d'assurance scolaire reçue, à classer au dossier."),
]
IME_GROUP = [
    ("sortie", "Sortie à la piscine : tous à l'aise dans l'eau, deux ont fait une longueur seuls."),
    ("activite", "Atelier cuisine : crêpes réussies, bon partage des tâches."),
    ("sortie", "Sortie à la médiathèque : choix de livres, très calmes dans le bus."),
    ("activite", "Match de foot au gymnase : respect des règles, une dispute vite réglée."),
]


def _people_by_service(session) -> dict[int, list[int]]:
    rows = session.execute(select(Admission.service_id, Admission.usager_id)
                           .where(Admission.date_sortie.is_(None), Admission.archived_at.is_(None))
                           .order_by(Admission.id)).all()
    out: dict[int, list[int]] = {}
    for service_id, usager_id in rows:
        out.setdefault(service_id, []).append(usager_id)
    return out


def load(session, today: dt.date, days: int = 30) -> int:
    """A month of transmissions ending today; nothing if the demo already has some."""
    if session.execute(select(func.count(Transmission.id))).scalar():
        return 0
    rng = random.Random(1818)
    users = {u.username: u.id for u in session.execute(select(User)).scalars()}
    people = _people_by_service(session)
    services = {s.id: s for s in session.execute(select(Service)).scalars()}
    made, next_id, now = 0, 1, utcnow()
    rows, lines, reads = [], [], []
    for service_id, usager_ids in sorted(people.items()):
        service = services[service_id]
        ehpad = service.etablissement.categorie.code == "EHPAD"
        if not ehpad:  # the IME's teams write narrative notes; the EHPAD's, DAR
            service.transmission_mode = "narratif"
        writers = [users.get("soin.tilleuls"), users.get("direction")] if ehpad else \
            [users.get("educ.sources"), users.get("educ.sources"), users.get("direction")]
        writers = [w for w in writers if w]
        readers = [users.get("soin.tilleuls"), users.get("secretaire.tilleuls")] if ehpad else \
            [users.get("educ.sources"), users.get("secretaire.sources")]
        if not writers:
            continue
        for day in range(days, -1, -1):
            date = today - dt.timedelta(days=day)
            for _n in range(rng.choice((1, 2, 2, 3))):
                local = dt.datetime.combine(date, dt.time(rng.choice((7, 9, 11, 14, 16, 20)), rng.randint(0, 59)))
                written = local.replace(tzinfo=clock.zone()).astimezone(dt.timezone.utc).replace(tzinfo=None)
                if written > now:
                    continue
                group = rng.random() < 0.2 and len(usager_ids) > 2
                who = rng.sample(usager_ids, rng.randint(2, min(4, len(usager_ids)))) if group else [rng.choice(usager_ids)]
                base = {"id": next_id, "author_id": rng.choice(writers), "written_at": written,
                        "etablissement_id": service.etablissement_id, "service_id": service_id,
                        "importante": False, "version": 1, "created_at": written, "updated_at": written,
                        "cible": None, "donnees": None, "actions": None, "resultats": None, "texte": None}
                if group:
                    cible, texte = rng.choice(EHPAD_GROUP if ehpad else IME_GROUP)
                    row = {**base, "sensitivity": "social_educatif", "mode": "narratif", "cible": cible, "texte": texte}
                elif ehpad:
                    cible, category, donnees, actions, resultats = rng.choice(EHPAD_DAR)
                    row = {**base, "sensitivity": category, "mode": "dar", "cible": cible, "donnees": donnees,
                           "actions": actions, "resultats": resultats, "importante": cible == "chute"}
                else:
                    cible, category, texte = rng.choice(IME_NOTES)
                    row = {**base, "sensitivity": category, "mode": "narratif", "cible": cible, "texte": texte,
                           "importante": cible == "sante"}
                row["created_by_id"] = row["updated_by_id"] = row["author_id"]
                rows.append(row)
                lines.extend({"transmission_id": next_id, "usager_id": u, "sensitivity": row["sensitivity"],
                              "written_at": written} for u in who)
                if day > 2:  # older ones were read by the team
                    reads.extend({"transmission_id": next_id, "user_id": r, "read_at": written + dt.timedelta(hours=3)}
                                 for r in readers if r and r != row["author_id"])
                next_id += 1
                made += 1
    if rows:
        session.execute(Transmission.__table__.insert(), rows)
        session.execute(TransmissionUsager.__table__.insert(), lines)
        if reads:
            session.execute(TransmissionRead.__table__.insert(), reads)
        if session.get_bind().dialect.name == "postgresql":  # ids given explicitly: move the sequence on
            from sqlalchemy import text

            session.execute(text("SELECT setval(pg_get_serial_sequence('transmission', 'id'), "
                                 "(SELECT MAX(id) FROM transmission))"))
    session.commit()
    return made
