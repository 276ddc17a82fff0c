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
    return gmps(session, [etablissement_id], on, max_age_months, family)[etablissement_id]


def _admitted(etablissement_ids, on: dt.date):
    return (Admission.etablissement_id.in_(etablissement_ids), Admission.archived_at.is_(None),
            Admission.date_entree <= on, or_(Admission.date_sortie.is_(None), Admission.date_sortie >= on))


def gmps(session, etablissement_ids, on: dt.date, max_age_months: int = 12, family: str = "aggir") -> dict:
    """{établissement id: Gmp} of several établissements in two statements whatever their number
    (a person's latest GIR is theirs, whichever établissement counts them): one `gmp` per
    établissement made the directors' home run two statements for each of a hundred."""
    admitted = select(Admission.etablissement_id, Admission.usager_id).where(*_admitted(etablissement_ids, on))
    admitted_ids = {e: set() for e in etablissement_ids}
    for etablissement_id, usager_id in session.execute(admitted.distinct(), execution_options={UNSCOPED: True}):
        admitted_ids[etablissement_id].add(usager_id)
    ranked = (select(EvaluationResult.usager_id, EvaluationResult.value_num, EvaluationResult.evaluated_on,
                     func.row_number().over(partition_by=EvaluationResult.usager_id,
                                            order_by=(EvaluationResult.evaluated_on.desc(),
                                                      EvaluationResult.evaluation_id.desc())).label("rank"))
              .where(EvaluationResult.form_code.in_(family_codes(family)), EvaluationResult.key == "gir",
                     EvaluationResult.evaluated_on <= on,
                     EvaluationResult.usager_id.in_(admitted.with_only_columns(Admission.usager_id)),
                     EvaluationResult.evaluation_id.not_in(_corrected))
              .subquery())
    latest = {u: (gir, evaluated_on) for u, gir, evaluated_on in session.execute(
        select(ranked.c.usager_id, ranked.c.value_num, ranked.c.evaluated_on).where(ranked.c.rank == 1),
        execution_options={UNSCOPED: True})}
    too_old = on - relativedelta(months=max_age_months)
    result = {}
    for etablissement_id, ids in admitted_ids.items():
        evaluated = {u: latest[u] for u in ids if u in latest}
        distribution = {g: 0 for g in range(1, 7)}
        for gir, _d in evaluated.values():
            distribution[int(gir)] += 1
        points = sum(GIR_POINTS[int(gir)] for gir, _d in evaluated.values())
        result[etablissement_id] = Gmp(
            date=on, gmp=round(points / len(evaluated), 1) if evaluated else None, evaluated=len(evaluated),
            admitted=len(ids), distribution=distribution, missing=sorted(ids - set(evaluated)),
            outdated=sorted(u for u, (_g, d) in evaluated.items() if d < too_old))
    return result


def occupation(session, etablissement_id: int, on: dt.date) -> list[dict]:
    """Occupied places on `on` (active admissions that day) per service and modality, then per
    modality for the établissement against its authorised capacity (the authorisation is the
    établissement's: a service's own line has no capacity). `taux` = occupied / capacity, or None.
    `absents`: of the occupied places, those whose person is away that day (hospital stay,
    holiday: an absence in the agenda). Their place stays theirs, so it stays counted occupied
    (the rate is the authorisation's); `absents` says how many beds are empty tonight."""
    return occupations(session, [etablissement_id], on)[etablissement_id]


def occupations(session, etablissement_ids, on: dt.date) -> dict:
    """{établissement id: `occupation` lines} of several établissements in a fixed number of
    statements (one set per établissement made the directors' home grow with their number)."""
    from .agenda import absent_usagers

    unscoped = {UNSCOPED: True}
    away = absent_usagers(session, etablissement_ids, on)
    occupied = {e: [] for e in etablissement_ids}
    for etablissement_id, service_id, modalite_id, count in session.execute(
            select(Admission.etablissement_id, Admission.service_id, Admission.modalite_id, func.count())
            .where(*_admitted(etablissement_ids, on))
            .group_by(Admission.etablissement_id, Admission.service_id, Admission.modalite_id),
            execution_options=unscoped):
        occupied[etablissement_id].append((service_id, modalite_id, count))
    absents = {}
    if away:
        for key in session.execute(
                select(Admission.etablissement_id, Admission.service_id, Admission.modalite_id, Admission.usager_id)
                .where(*_admitted(etablissement_ids, on), Admission.usager_id.in_(sorted({u for _e, u in away}))),
                execution_options=unscoped):
            if (key[0], key[3]) in away:  # (away from this établissement)
                absents[key[:3]] = absents.get(key[:3], 0) + 1
    capacities = {e: {} for e in etablissement_ids}
    for etablissement_id, modalite_id, places in session.execute(
            select(Capacite.etablissement_id, Capacite.modalite_id, Capacite.places)
            .where(Capacite.etablissement_id.in_(etablissement_ids)), execution_options=unscoped):
        capacities[etablissement_id][modalite_id] = places
    codes = dict(session.execute(select(ModaliteAccueil.id, ModaliteAccueil.code), execution_options=unscoped).all())
    services = dict(session.execute(select(Service.id, Service.name).where(
        Service.etablissement_id.in_(etablissement_ids)), execution_options=unscoped).all())
    return {e: _occupation_lines(occupied[e], {k[1:]: n for k, n in absents.items() if k[0] == e}, capacities[e],
                                 codes, services) for e in etablissement_ids}


def _occupation_lines(occupied, absents, capacities, codes, services) -> list[dict]:
    """One établissement's lines from its grouped counts: services first, then its modalities."""
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

