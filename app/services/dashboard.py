"""The figures and work lists of the home pages, one set per kind of work.

Every query goes through the session's scope (établissements, categories of the shared secret)
and loads the usagers shown as objects, so the read audit records who saw which person. A work
list is named; the home page shows its count and first lines, its own page the whole of it, and
its xlsx export the same rows (one definition for the three). The home page asks for a SQL count
and the first lines only (ORDER BY … LIMIT): loading every matching row to show five made the
directors' home grow with the data (1.3 s at 30,000 usagers, issue 20).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from ..domain import vocab
from ..models import (
    Admission, Capacite, CouvertureSociale, DemandeAdmission, Etablissement, Evaluation, FormDefinition,
    ModaliteAccueil, StaffAssignment, Usager,
)
from ..security.scope import UNSCOPED

AGE_BUCKETS = ((3, _l("moins de 3 mois")), (12, _l("3 à 12 mois")), (None, _l("plus de 12 mois")))
IDENTITY_TO_VALIDATE = ("provisoire", "recuperee")


@dataclass
class Lines:
    """What a work list shows: its first rows (all of them when no limit is asked) and how many
    rows it has in all. A row is a dict with `usager` (an Usager, for the link) and the cells, in
    column order."""
    count: int
    rows: list


@dataclass
class Worklist:
    """A list behind a figure: title, column labels, the permission it needs, and its lines
    (`lines(session, ctx, limit)` → Lines; limit None: every row)."""
    title: str
    columns: tuple
    resource: str
    lines: Callable


def _whole(rows: list, limit: int | None) -> Lines:
    """The lines of a list computed whole: those bounded by the user's own work (their tasks,
    their services, the écrits submitted to them), not by the size of the organisation."""
    return Lines(len(rows), rows[:limit] if limit is not None else rows)


def _lines(session, query, limit: int | None, line: Callable, *options) -> Lines:
    """The first `limit` rows of an ordered ORM select, each made a line by `line(*row)`, and its
    count (or every row, limit None). Both statements pass through the session's scope: the count
    is what the user may see, and only the rows shown are loaded (and so audited as read)."""
    rows = [line(*row) for row in session.execute(query.options(*options).limit(limit)).all()]
    if limit is None:
        return Lines(len(rows), rows)
    count = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    return Lines(count, rows)


def _active(on: dt.date):
    return (Admission.archived_at.is_(None), Admission.date_entree <= on,
            or_(Admission.date_sortie.is_(None), Admission.date_sortie >= on))


def _active_between(start: dt.date, end: dt.date):
    """Admissions active on some day from `start` to `end`."""
    return (Admission.archived_at.is_(None), Admission.date_entree <= end,
            or_(Admission.date_sortie.is_(None), Admission.date_sortie >= start))


def _months_between(start: dt.date, end: dt.date) -> int:
    delta = relativedelta(end, start)
    return delta.years * 12 + delta.months


def _open_demandes():
    return (DemandeAdmission.statut.in_(vocab.STATUTS_DEMANDE_OUVERTE), DemandeAdmission.archived_at.is_(None))


def waiting(session, today: dt.date, limit: int | None = None) -> Lines:
    query = select(DemandeAdmission).where(*_open_demandes()).order_by(DemandeAdmission.date_demande,
                                                                       DemandeAdmission.id)
    return _lines(session, query, limit, lambda d: {
        "usager": d.usager, "cells": (d.usager.display_name, d.etablissement.name, d.date_demande, d.statut_label,
                                      _months_between(d.date_demande, today))},
        joinedload(DemandeAdmission.usager), joinedload(DemandeAdmission.etablissement))


def missing_pieces(session, today: dt.date, limit: int | None = None) -> Lines:
    """Admitted usagers whose dossier lacks what the secretariat collects at admission: an identity
    document checked (RNIV) and the social coverage. One line per usager, with their latest
    current admission (that the user sees)."""
    latest = select(Admission.id, func.row_number().over(
        partition_by=Admission.usager_id, order_by=(Admission.date_entree.desc(), Admission.id.desc())).label("rank")
    ).where(*_active(today)).subquery()
    covered = exists().where(CouvertureSociale.usager_id == Usager.id, or_(
        CouvertureSociale.regime.is_not(None), CouvertureSociale.caisse.is_not(None)))
    query = (select(Admission, covered).join(latest, (latest.c.id == Admission.id) & (latest.c.rank == 1))
             .join(Admission.usager).where(Usager.archived_at.is_(None),
                                           or_(Usager.piece_identite_verifiee_le.is_(None), ~covered))
             .order_by(Admission.date_entree.desc(), Admission.id.desc()))

    def line(a, has_coverage):
        u = a.usager
        missing = [str(_l("pièce d'identité vérifiée"))] if not u.piece_identite_verifiee_le else []
        missing += [] if has_coverage else [str(_l("couverture sociale"))]
        return {"usager": u, "cells": (u.display_name, a.etablissement.name, a.date_entree, ", ".join(missing))}
    return _lines(session, query, limit, line, contains_eager(Admission.usager),
                  joinedload(Admission.etablissement))


def identities_to_validate(session, today: dt.date, limit: int | None = None) -> Lines:
    """Provisional or retrieved identities of people admitted or waiting (RNIV: to check against a
    high-trust document)."""
    followed = select(Admission.usager_id).where(*_active(today)).union(
        select(DemandeAdmission.usager_id).where(DemandeAdmission.statut.in_(vocab.STATUTS_DEMANDE_OUVERTE)))
    query = select(Usager).where(Usager.statut_identite.in_(IDENTITY_TO_VALIDATE), Usager.archived_at.is_(None),
                                 Usager.id.in_(followed)).order_by(Usager.nom_naissance, Usager.id)
    return _lines(session, query, limit, lambda u: {
        "usager": u, "cells": (u.display_name, u.date_naissance, vocab.label(vocab.STATUT_IDENTITE, u.statut_identite))})


def my_usagers(session, user_id: int, today: dt.date, limit: int | None = None) -> Lines:
    """Usagers admitted in the user's services (or, without a service assignment, in the
    établissements the user sees): a team's people, computed whole (sorted by the name shown)."""
    services = [s for s in session.execute(select(StaffAssignment.service_id).where(
        StaffAssignment.user_id == user_id), execution_options={UNSCOPED: True}).scalars() if s]
    query = (select(Admission).options(joinedload(Admission.usager), joinedload(Admission.service),
                                       joinedload(Admission.modalite))
             .where(Admission.date_sortie.is_(None), Admission.archived_at.is_(None)))
    if services:
        query = query.where(Admission.service_id.in_(services))
    rows = []
    for a in session.execute(query).scalars():
        if a.usager is not None and a.usager.archived_at is None:
            rows.append({"usager": a.usager, "cells": (a.usager.display_name, a.service.name,
                                                       a.modalite.label if a.modalite else None, a.date_entree)})
    return _whole(sorted(rows, key=lambda r: r["cells"][0]), limit)


def evaluations_to_finish(session, today: dt.date, limit: int | None = None) -> Lines:
    """Evaluations saved as drafts (the scope leaves out those of categories the user may not read)."""
    titles = dict(session.execute(select(FormDefinition.code, FormDefinition.title)
                                  .where(FormDefinition.status == "published")).all())
    query = (select(Evaluation, Usager).join(Usager, Usager.id == Evaluation.usager_id)
             .where(Evaluation.status == "draft", Evaluation.archived_at.is_(None))
             .order_by(Evaluation.evaluated_on, Evaluation.id))
    return _lines(session, query, limit, lambda e, u: {
        "usager": u, "cells": (u.display_name, titles.get(e.form_code, e.form_code), e.evaluated_on)})


def _aggir_etablissements(session) -> list:
    """The établissements the user sees where an AGGIR grid is published, by name."""
    from . import forms

    grids = [d for d in forms.published(session, "evaluation") if d.family == "aggir"]
    return [e for e in session.execute(select(Etablissement).where(Etablissement.archived_at.is_(None))
                                       .order_by(Etablissement.name)).scalars()
            if any(forms.applies(d, {forms.place(e)}) for d in grids)]


def _gmps(session, etablissement_ids, today, max_age_months, gmps: dict | None) -> dict:
    """{établissement id: Gmp}, computed together and once per home page (the AGGIR work list and
    the GIR chart need the same), and kept until the data moves (it reads every admission and
    GIR of these établissements, whoever asks: its statements are not scoped)."""
    from ..security import stamp
    from . import indicators

    key = ("gmps", tuple(etablissement_ids), today, max_age_months)
    if gmps is not None and key in gmps:
        return gmps[key]
    found = stamp.cached_by_data(session, key, lambda: indicators.gmps(session, etablissement_ids, today,
                                                                          max_age_months))
    if gmps is not None:
        gmps[key] = found
    return found


def aggir_due(session, today: dt.date, max_age_months: int, gmps: dict | None = None,
              limit: int | None = None) -> Lines:
    """Admitted people of the établissements using AGGIR without a validated GIR, or whose last one
    is older than the allowed age (to evaluate again), by établissement then name. The GMPs give
    the ids; the scope keeps those the user sees (their ids read as one column, only the usagers
    shown loaded)."""
    etabs = _aggir_etablissements(session)
    figures_of = _gmps(session, [e.id for e in etabs], today, max_age_months, gmps)
    due = []
    for e in sorted(etabs, key=lambda e: e.name):
        figures = figures_of[e.id]
        reasons = {u: str(_l("aucune grille validée")) for u in figures.missing}
        reasons.update({u: str(_l("dernière grille de plus de %(n)s mois", n=max_age_months)) for u in figures.outdated})
        if reasons:
            due.append((e, reasons))
    every = sorted({u for _e, reasons in due for u in reasons})
    seen = set(session.execute(select(Usager.id).where(Usager.id.in_(every))).scalars()) if every else set()
    due = [(e, {u: r for u, r in reasons.items() if u in seen}) for e, reasons in due]
    rows = []
    for e, reasons in due:
        if limit is not None and len(rows) >= limit:
            break
        if reasons:
            query = select(Usager).where(Usager.id.in_(reasons)).order_by(Usager.nom_naissance, Usager.id)
            rows += [{"usager": u, "cells": (u.display_name, e.name, reasons[u.id])}
                     for u in session.execute(query.limit(None if limit is None else limit - len(rows))).scalars()]
    return Lines(sum(len(reasons) for _e, reasons in due), rows)


def movements(session, today: dt.date, kind: str, limit: int | None = None) -> Lines:
    """Admissions (kind "entrees") or exits ("sorties") of the current month."""
    start = today.replace(day=1)
    column = Admission.date_entree if kind == "entrees" else Admission.date_sortie
    query = (select(Admission).where(Admission.archived_at.is_(None), column >= start, column <= today)
             .order_by(column, Admission.id))
    return _lines(session, query, limit, lambda a: {
        "usager": a.usager, "cells": (a.usager.display_name, a.service.name,
                                      a.date_entree if kind == "entrees" else a.date_sortie)},
        joinedload(Admission.usager), joinedload(Admission.service))


def retention_due(session, today: dt.date, limit: int | None = None) -> Lines:
    """Dossiers whose retention has run out, in `rgpd.due`'s order: their ids read as one column
    (what the scope lets through), only the usagers shown loaded."""
    from . import rgpd

    items = rgpd.due(session, today)
    ids = [i.usager_id for i in items]
    seen = set(session.execute(select(Usager.id).where(Usager.id.in_(ids))).scalars()) if ids else set()
    items = [i for i in items if i.usager_id in seen]
    shown = items[:limit] if limit is not None else items
    usagers = {u.id: u for u in session.execute(select(Usager).where(Usager.id.in_([i.usager_id for i in shown])))
               .scalars()} if shown else {}
    labels = {"archive": _l("à archiver"), "anonymise": _l("à anonymiser")}
    return Lines(len(items), [{"usager": usagers[i.usager_id], "cells": (
        usagers[i.usager_id].display_name, str(labels[i.action]), i.due_on, i.reason)} for i in shown])


def _reunions():
    from . import reunions

    return reunions


def _papiers():
    from . import papiers

    return papiers


def _documents():
    from . import documents

    return documents


def _ecrits():
    from . import ecrits

    return ecrits


WORKLISTS = {
    "attente": Worklist(_l("Liste d'attente à traiter"), (_l("Usager"), _l("Établissement"), _l("Demande du"),
                                                          _l("Statut"), _l("Ancienneté (mois)")), "Parcours",
                        lambda s, ctx, n: waiting(s, ctx["today"], n)),
    "pieces": Worklist(_l("Admissions avec des pièces manquantes"), (_l("Usager"), _l("Établissement"), _l("Entrée"),
                                                                       _l("Manque")), "Usager",
                       lambda s, ctx, n: missing_pieces(s, ctx["today"], n)),
    "identites": Worklist(_l("Identités à valider"), (_l("Usager"), _l("Né(e) le"), _l("Statut")), "Usager",
                          lambda s, ctx, n: identities_to_validate(s, ctx["today"], n)),
    "mes-usagers": Worklist(_l("Mes usagers"), (_l("Usager"), _l("Service"), _l("Modalité"), _l("Entrée")), "Usager",
                            lambda s, ctx, n: my_usagers(s, ctx["user_id"], ctx["today"], n)),
    "evaluations": Worklist(_l("Évaluations à terminer"), (_l("Usager"), _l("Formulaire"), _l("Date")), "Evaluation",
                            lambda s, ctx, n: evaluations_to_finish(s, ctx["today"], n)),
    "aggir": Worklist(_l("Grilles AGGIR à faire ou à refaire"), (_l("Usager"), _l("Établissement"), _l("Motif")),
                      "Evaluation",
                      lambda s, ctx, n: aggir_due(s, ctx["today"], ctx["gmp_max_age"], ctx.get("gmps"), n)),
    "entrees": Worklist(_l("Entrées du mois"), (_l("Usager"), _l("Service"), _l("Entrée")), "Parcours",
                        lambda s, ctx, n: movements(s, ctx["today"], "entrees", n)),
    "sorties": Worklist(_l("Sorties du mois"), (_l("Usager"), _l("Service"), _l("Sortie")), "Parcours",
                        lambda s, ctx, n: movements(s, ctx["today"], "sorties", n)),
    "documents-manquants": Worklist(_l("Documents manquants"), (_l("Usager"), _l("Établissement"), _l("Manque")),
                                    "Usager",
                                    lambda s, ctx, n: _whole(_documents().missing_documents(s, ctx["today"]), n)),
    "documents-expirent": Worklist(_l("Documents qui expirent (60 jours)"), (_l("Usager"), _l("Type"), _l("Titre"),
                                                                               _l("Expire le")), "Usager",
                                   lambda s, ctx, n: _whole(_documents().expiring_documents(s, ctx["today"]), n)),
    "ecrits-a-valider": Worklist(_l("Écrits à valider"), (_l("Usager"), _l("Type"), _l("Titre"), _l("Soumis le")),
                                 "Ecrit", lambda s, ctx, n: _whole(_ecrits().worklist_rows(s, ctx["user_id"]), n)),
    "mes-taches": Worklist(_l("Mes tâches"), (_l("Usager"), _l("Tâche"), _l("Échéance")), "Reunion",
                           lambda s, ctx, n: _whole(_reunions().my_tasks_worklist(s, ctx["user_id"]), n)),
    "contrats-a-remettre": Worklist(_l("Contrats de séjour / DIPC à remettre (15 jours)"), (
        _l("Usager"), _l("Établissement"), _l("Entrée"), _l("À remettre avant le"), _l("État")), "Papiers",
        lambda s, ctx, n: _whole(_papiers().contracts_due(s, ctx["today"], "remise"), n)),
    "contrats-a-signer": Worklist(_l("Contrats de séjour / DIPC à signer (un mois)"), (
        _l("Usager"), _l("Établissement"), _l("Entrée"), _l("À signer avant le"), _l("État")), "Papiers",
        lambda s, ctx, n: _whole(_papiers().contracts_due(s, ctx["today"], "signature"), n)),
    "aides-a-renouveler": Worklist(_l("Aides à renouveler"), (_l("Usager"), _l("Aide"), _l("Organisme"),
                                                              _l("Fin des droits")), "Papiers",
                                   lambda s, ctx, n: _whole(_papiers().aides_to_renew(s, ctx["today"],
                                                                                      ctx["aide_days"]), n)),
    "conservation": Worklist(_l("Durées de conservation échues"), (_l("Usager"), _l("Action"), _l("Depuis le"),
                                                                   _l("Motif")), "Rgpd",
                             lambda s, ctx, n: retention_due(s, ctx["today"], n)),
}


# --- pilotage -------------------------------------------------------------------------------------

def occupancy_today(session, today: dt.date) -> list[dict]:
    """Per établissement the user sees: its modality lines (capacity, occupied, rate) and its
    services' occupied places."""
    from . import indicators

    labels = dict(session.execute(select(ModaliteAccueil.code, ModaliteAccueil.label)).all())
    etabs = session.execute(select(Etablissement).where(Etablissement.archived_at.is_(None))
                            .order_by(Etablissement.name)).scalars().all()
    occupations = indicators.occupations(session, [e.id for e in etabs], today)
    result = []
    for e in etabs:
        lines = [{**line, "modalite_label": labels.get(line["modalite"], line["modalite"])}
                 for line in occupations[e.id]]
        result.append({"etablissement": e, "services": [line for line in lines if line["service_id"]],
                       "modalites": [line for line in lines if not line["service_id"]]})
    return result


def occupancy_months(session, today: dt.date, months: int = 12) -> list[dict]:
    """Occupancy rate on the first day of each of the last `months` months and today, per
    établissement the user sees (occupied / authorised capacity)."""
    etabs = session.execute(select(Etablissement).where(Etablissement.archived_at.is_(None))
                            .order_by(Etablissement.name)).scalars().all()
    ids = [e.id for e in etabs]
    capacity = dict(session.execute(select(Capacite.etablissement_id, func.sum(Capacite.places))
                                    .where(Capacite.etablissement_id.in_(ids)).group_by(Capacite.etablissement_id),
                                    execution_options={UNSCOPED: True}).all()) if ids else {}
    first = today.replace(day=1)
    dates = [first - relativedelta(months=n) for n in range(months - 1, -1, -1)] + ([today] if today != first else [])
    # One pass over the admissions of the period, a count per date (thirteen scans of every
    # admission took 0.37 s at 30,000 usagers).
    counts = {row[0]: row[1:] for row in session.execute(
        select(Admission.etablissement_id, *[func.sum(case((and_(*_active(on)), 1), else_=0)) for on in dates])
        .where(Admission.etablissement_id.in_(ids), *_active_between(dates[0], dates[-1]))
        .group_by(Admission.etablissement_id), execution_options={UNSCOPED: True})} if ids else {}
    series = {e.id: [] for e in etabs}
    for e in etabs:
        cap = capacity.get(e.id)
        for on, occupied in zip(dates, counts.get(e.id, [0] * len(dates))):
            series[e.id].append({"date": on, "occupes": occupied, "capacite": cap,
                                 "taux": round(occupied / cap, 4) if cap else None})
    return [{"etablissement": e, "points": series[e.id]} for e in etabs]


def _waited_at_least(months: int, today: dt.date) -> dt.date:
    """The latest request date that has waited `months` whole months by `today` (as the waiting
    list counts them: a request of 30 November has waited 3 months on 28 February)."""
    day = today - relativedelta(months=months)
    while _months_between(day + dt.timedelta(days=1), today) >= months:
        day += dt.timedelta(days=1)
    return day


def waiting_by_status_and_age(session, today: dt.date) -> dict:
    """{statut: [count per age bucket]} of the waiting work list, counted in one grouped query."""
    limits = [limit for limit, _label in AGE_BUCKETS if limit is not None]
    bucket = case(*[(DemandeAdmission.date_demande <= _waited_at_least(limit, today), len(limits) - i)
                    for i, limit in enumerate(reversed(limits))], else_=0)
    counts = session.execute(select(DemandeAdmission.statut, bucket, func.count()).where(*_open_demandes())
                             .group_by(DemandeAdmission.statut, bucket)).all()
    table = {s: [0] * len(AGE_BUCKETS) for s in vocab.STATUTS_DEMANDE_OUVERTE}
    for statut, index, count in counts:
        table[statut][index] += count
    return table


def identity_statuses(session) -> dict:
    counts = dict(session.execute(select(Usager.statut_identite, func.count()).where(
        Usager.archived_at.is_(None), Usager.anonymised_at.is_(None)).group_by(Usager.statut_identite)).all())
    return {code: counts.get(code, 0) for code in vocab.STATUT_IDENTITE}


def gir_distributions(session, today: dt.date, max_age_months: int, gmps: dict | None = None) -> list[dict]:
    etabs = _aggir_etablissements(session)
    figures = _gmps(session, [e.id for e in etabs], today, max_age_months, gmps)
    return [{"etablissement": e, "gmp": figures[e.id]} for e in etabs]


# --- quality --------------------------------------------------------------------------------------

def forms_overview(session) -> dict:
    from . import forms

    definitions = session.execute(select(FormDefinition).where(FormDefinition.status.in_(("published", "draft")))
                                  .order_by(FormDefinition.code, FormDefinition.version)).scalars().all()
    published = {d.code: d for d in definitions if d.status == "published"}
    drafts = {d.code: d for d in definitions if d.status == "draft"}
    etabs = session.execute(select(Etablissement).where(Etablissement.archived_at.is_(None))
                            .order_by(Etablissement.name)).scalars().all()
    offered = [{"etablissement": e, "forms": [d.title for d in forms.offered_at(session, e)]} for e in etabs]
    return {"published": published, "drafts": drafts, "conflicts": forms.variant_conflicts(session), "offered": offered}

