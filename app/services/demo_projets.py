"""Demo projets personnalisés in every state (late ones included), built through the services
so that they hold exactly what a team would have recorded."""
from __future__ import annotations

import datetime as dt
import random

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from ..models import Admission, User
from ..security.scope import Scope
from . import projets

OBJECTIFS = [  # (personal objective, operational objective, easy-read, besoin, prestation, indicator)
    ("Aller à la piscine", "Nager 25 mètres sans aide", "Je nage seul", "1.1.1.8", "2.3.4.2", {"unite": "mètres", "cible": 25}),
    ("Me faire des copains", "Participer à une activité de groupe chaque semaine", "Je vais au groupe",
     "1.2.1.2", "2.2.1.2", {"echelle": "0-4", "cible": 3}),
    ("Lire tout seul", "Lire une phrase simple", "Je lis une phrase", "1.3.3.3", "2.3.3.1", {"echelle": "0-4", "cible": 3}),
    ("Rentrer plus souvent chez moi", "Préparer les week-ends en famille", "Je prépare mon week-end",
     "1.3.3.4", "2.3.4.1", None),
    ("Marcher dans le jardin", "Marcher 10 minutes chaque jour", "Je marche un peu chaque jour", "1.2.1.3",
     "2.1.2.1", {"unite": "minutes", "cible": 10}),
    ("Garder mes habitudes", "Choisir ses horaires de lever et de coucher", "Je choisis quand je me lève",
     "1.2.1.1", "2.2.1.1", {"echelle": "0-4", "cible": 4}),
]


def _codes_ok(besoin, prestation):
    from ..domain import nomenclatures

    codes = nomenclatures.serafin()
    b, p = codes.get(besoin), codes.get(prestation)
    return b and b.leaf and b.kind == "besoin" and p and p.leaf and p.kind.startswith("prestation")


def _payload(etab_id, start, rng, referent_id):
    chosen = rng.sample([o for o in OBJECTIFS if _codes_ok(o[3], o[4])], 2)
    return {"etablissement_id": etab_id, "date_debut": start.isoformat(), "referent_id": referent_id,
            "synthese": "Synthèse de l'équipe après les évaluations et l'entretien avec la personne.",
            "attentes": [{"texte": chosen[0][0], "auteur": "personne"},
                         {"texte": "Qu'il garde le lien avec sa famille", "auteur": "entourage", "auteur_nom": "famille"}],
            "bilans_prevus": [(start + relativedelta(months=6)).isoformat()],
            "objectifs": [{"objectif_personnel": o[0], "libelle": o[1], "libelle_falc": o[2], "besoins": [o[3]],
                           **({"indicateur": o[5]} if o[5] else {}),
                           "actions": [{"libelle": f"Accompagnement : {o[1].lower()}", "prestation": o[4],
                                        "referent_id": referent_id, "frequence": "chaque semaine",
                                        "debut": start.isoformat(),
                                        "fin": (start + relativedelta(months=10)).isoformat()}]}
                          for o in chosen]}


def load(session, today: dt.date) -> int:
    """PPs for most current admissions: none (to build, some late), in élaboration, proposed,
    signed with bilans, evaluated with their next version, and signed long ago (to revise)."""
    rng = random.Random(2002)
    everything = Scope.everything()
    referent = session.execute(select(User).where(User.username == "educ.sources")).scalar_one_or_none()
    referent_id = referent.id if referent else None
    admissions = session.execute(select(Admission).where(Admission.date_sortie.is_(None))
                                 .order_by(Admission.id)).scalars().all()
    made = 0
    for i, admission in enumerate(admissions):
        state = i % 6
        if state == 0:
            continue  # no PP yet: "à élaborer" (late when admitted more than 6 months ago)
        start = max(admission.date_entree + relativedelta(months=2), today - relativedelta(months=rng.randint(3, 20)))
        if start > today:
            continue
        projet = projets.create(session, scope=everything, usager=admission.usager,
                                payload=_payload(admission.etablissement_id, start, rng, referent_id))
        made += 1
        if state == 1:
            continue  # en élaboration
        projets.set_status(session, projet, "propose", projet.version)
        if state == 2:
            continue  # proposé
        signed_on = min(today, start + dt.timedelta(days=14))
        projets.sign(session, projet=projet, expected_version=projet.version, signataires=[
            {"qualite": "personne", "nom": str(admission.usager), "date": signed_on.isoformat(), "mode": "application"},
            {"qualite": "referent", "nom": "Emma Éducatrice", "date": signed_on.isoformat(), "mode": "application"}])
        ids = [o.id for o in projet.objectifs]
        bilan_on = start + relativedelta(months=5)
        if state in (3, 4) and bilan_on < today:
            projets.add_bilan(session, scope=everything, projet=projet, payload={
                "date": bilan_on.isoformat(), "type": "intermediaire",
                "objectifs": [{"objectif_id": ids[0], "atteinte": "partiel", "mesure": 2},
                              {"objectif_id": ids[1], "atteinte": "non_atteint", "mesure": 1}]})
        final_on = start + relativedelta(months=11)
        if state == 4 and final_on < today:
            projets.add_bilan(session, scope=everything, projet=projet, payload={
                "date": final_on.isoformat(), "type": "final",
                "objectifs": [{"objectif_id": ids[0], "atteinte": "atteint", "mesure": 3, "decision": "arreter",
                               "avis_personne": "Je suis content"},
                              {"objectif_id": ids[1], "atteinte": "partiel", "mesure": 2, "decision": "continuer"}]})
            following = projets.current(session, projet.usager_id, projet.etablissement_id)
            if i % 12 == 4 and following is not None:  # the next version signed: this one is closed
                projets.set_status(session, following, "propose", following.version)
                projets.sign(session, projet=following, expected_version=following.version, signataires=[
                    {"qualite": "personne", "nom": str(admission.usager), "date": final_on.isoformat(),
                     "mode": "application"}])
    return made
