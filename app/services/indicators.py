"""Indicators for directors: GMP (GIR moyen pondéré), the GIR distribution, occupancy.

An indicator is a figure of the établissement, computed by the system: it reads the indexed GIRs
whatever the shared-secret categories of the user who asks (the caller checks that the user sees
the établissement, and only roles that open dossiers get usager ids). It counts a form family:
the GIR of a structure's variant or clone of AGGIR is a GIR."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, or_, select

from ..domain.aggir import GIR_POINTS
from ..models import Admission, Capacite, Evaluation, EvaluationResult, ModaliteAccueil, Service
from ..security.scope import UNSCOPED
from .forms import family_codes


@dataclass
class Gmp:
    date: dt.date
    gmp: float | None
    evaluated: int
    admitted: int
    distribution: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)  # admitted usagers without a validated AGGIR
    outdated: list = field(default_factory=list)  # counted, but evaluated too long ago


# A validated correction replaces the evaluation it corrects (its results carry that one's date).
# Read once as a list, not as a correlated NOT EXISTS: `corrects_id` is almost always NULL, so
# SQLite's statistics call its index useless and it scanned every evaluation for each result
# (83 s for one établissement of 2,300 people at 30,000 usagers).
_corrected = (select(Evaluation.corrects_id)
              .where(Evaluation.corrects_id.is_not(None), Evaluation.status == "validated",
                     Evaluation.archived_at.is_(None)))


def gmp(session, etablissement_id: int, on: dt.date, max_age_months: int = 12, family: str = "aggir") -> Gmp:
    """Mean of GIR points (GIR 1 = 1000 … GIR 6 = 70) over the usagers admitted in the
    établissement on `on`, each with their latest validated AGGIR evaluated on or before `on`."""
    admitted = (select(Admission.usager_id).where(
        Admission.etablissement_id == etablissement_id, Admission.archived_at.is_(None),
        Admission.date_entree <= on, or_(Admission.date_sortie.is_(None), Admission.date_sortie >= on))
        .distinct())
    admitted_ids = set(session.execute(admitted, execution_options={UNSCOPED: True}).scalars())
    ranked = (select(EvaluationResult.usager_id, EvaluationResult.value_num, EvaluationResult.evaluated_on,
                     func.row_number().over(partition_by=EvaluationResult.usager_id,
                                            order_by=(EvaluationResult.evaluated_on.desc(),
                                                      EvaluationResult.evaluation_id.desc())).label("rank"))
              .where(EvaluationResult.form_code.in_(family_codes(family)), EvaluationResult.key == "gir",
                     EvaluationResult.evaluated_on <= on, EvaluationResult.usager_id.in_(admitted),
                     EvaluationResult.evaluation_id.not_in(_corrected))
              .subquery())
    latest = session.execute(select(ranked.c.usager_id, ranked.c.value_num, ranked.c.evaluated_on)
                             .where(ranked.c.rank == 1), execution_options={UNSCOPED: True}).all()
    too_old = on - relativedelta(months=max_age_months)
    distribution = {g: 0 for g in range(1, 7)}
    points = 0
    for _usager, gir, evaluated_on in latest:
        distribution[int(gir)] += 1
        points += GIR_POINTS[int(gir)]
    evaluated = {u for u, _g, _d in latest}
    return Gmp(date=on, gmp=round(points / len(latest), 1) if latest else None, evaluated=len(latest),
               admitted=len(admitted_ids), distribution=distribution,
               missing=sorted(admitted_ids - evaluated),
               outdated=sorted(u for u, _g, d in latest if d < too_old))


def occupation(session, etablissement_id: int, on: dt.date) -> list[dict]:
    """Occupied places on `on` (active admissions that day) per service and modality, then per
    modality for the établissement against its authorised capacity (the authorisation is the
    établissement's: a service's own line has no capacity). `taux` = occupied / capacity, or None.
    `absents`: of the occupied places, those whose person is away that day (hospital stay,
    holiday: an absence in the agenda). Their place stays theirs, so it stays counted occupied
    (the rate is the authorisation's); `absents` says how many beds are empty tonight."""
    from .agenda import absent_usagers

    away = absent_usagers(session, etablissement_id, on)
    occupied = session.execute(
        select(Admission.service_id, Admission.modalite_id, func.count())
        .where(Admission.etablissement_id == etablissement_id, Admission.archived_at.is_(None),
               Admission.date_entree <= on, or_(Admission.date_sortie.is_(None), Admission.date_sortie >= on))
        .group_by(Admission.service_id, Admission.modalite_id), execution_options={UNSCOPED: True}).all()
    absents = dict(((s_id, m_id), n) for s_id, m_id, n in session.execute(
        select(Admission.service_id, Admission.modalite_id, func.count())
        .where(Admission.etablissement_id == etablissement_id, Admission.archived_at.is_(None),
               Admission.date_entree <= on, or_(Admission.date_sortie.is_(None), Admission.date_sortie >= on),
               Admission.usager_id.in_(sorted(away)))
        .group_by(Admission.service_id, Admission.modalite_id), execution_options={UNSCOPED: True}).all()) \
        if away else {}
    capacities = dict(session.execute(select(Capacite.modalite_id, Capacite.places).where(
        Capacite.etablissement_id == etablissement_id), execution_options={UNSCOPED: True}).all())
    codes = dict(session.execute(select(ModaliteAccueil.id, ModaliteAccueil.code),
                                 execution_options={UNSCOPED: True}).all())
    services = dict(session.execute(select(Service.id, Service.name).where(Service.etablissement_id == etablissement_id),
                                    execution_options={UNSCOPED: True}).all())
    lines, totals, away_totals = [], {}, {}
    for service_id, modalite_id, count in sorted(occupied, key=lambda r: (services.get(r[0], ""), codes.get(r[1], ""))):
        gone = absents.get((service_id, modalite_id), 0)
        lines.append({"service_id": service_id, "service": services.get(service_id), "modalite": codes.get(modalite_id),
                      "capacite": None, "occupes": count, "absents": gone, "taux": None})
        totals[modalite_id] = totals.get(modalite_id, 0) + count
        away_totals[modalite_id] = away_totals.get(modalite_id, 0) + gone
    for modalite_id in sorted(set(totals) | set(capacities), key=lambda m: codes.get(m, "")):
        capacity, count = capacities.get(modalite_id), totals.get(modalite_id, 0)
        lines.append({"service_id": None, "service": None, "modalite": codes.get(modalite_id), "capacite": capacity,
                      "occupes": count, "absents": away_totals.get(modalite_id, 0),
                      "taux": round(count / capacity, 4) if capacity else None})
    return lines

