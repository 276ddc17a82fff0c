"""Transmissions (cahier de liaison): write for one or several people, correct within the delay,
add an addendum, acknowledge reading, and the feeds (per usager, per service, per target).

The use cases take plain values, a scope and a session; the rows they load pass through the scope
hook (app/security/scope.py): a person or a category the user may not read is simply not there.
Rules (reference: écrits professionnels): an écrit is dated and signed by its author and never
silently changed; a correction keeps the previous text; transmissions ciblées follow the DAR
structure (données, actions, résultats) or stay narrative, as each service chooses.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import lazyload, selectinload

from ..models import (
    Service, StaffAssignment, Transmission, TransmissionRead, TransmissionUsager, TransmissionVersion, Usager,
)
from ..models.base import utcnow
from ..security.roles import CATEGORIES
from ..security.scope import UNSCOPED, constant
from .concurrency import check_version
from .errors import StaleVersion, ValidationFailed  # noqa: F401  (StaleVersion: raised by check_version)
from .usagers import commit_or_stale

CIBLES_LIST = "cibles_transmission"
DAR_FIELDS = ("donnees", "actions", "resultats")
TEXT_FIELDS = ("texte", *DAR_FIELDS)
MAX_TEXT = 10_000
PAGE_SIZE = 50


def cibles(session) -> dict[str, str]:
    """code → label of the active targets (référentiel list « cibles_transmission »)."""
    from .forms import list_values

    return {v.code: v.label for v in list_values(session, CIBLES_LIST)}


def correction_minutes() -> int:
    return current_app.config["SILLAGE_TRANSMISSION_CORRECTION_MINUTES"]


def user_service_ids(session, scope, user_id) -> list[int]:
    """The services whose cahier the user reads: those they are assigned to; without a service
    assignment, every service of the établissements they see (the whole organisation for
    organisation-wide roles)."""
    assigned = session.execute(select(StaffAssignment.service_id).where(
        StaffAssignment.user_id == user_id, StaffAssignment.service_id.is_not(None)),
        execution_options={UNSCOPED: True}).scalars().all()
    query = select(Service.id).where(Service.archived_at.is_(None))
    if assigned:
        query = query.where(Service.id.in_(assigned))
    elif scope is not None and not scope.sees_all:
        query = query.where(Service.etablissement_id.in_(scope.etablissement_ids))
    return sorted(session.execute(query, execution_options={UNSCOPED: True}).scalars())


# --- writing ---------------------------------------------------------------------------------------

def _clean_values(session, scope, values: dict, errors: dict) -> dict:
    """Validated content of a transmission (category, target, texts, flag)."""
    out = {}
    categorie = values.get("categorie")
    if not categorie:
        errors["categorie"] = _("Choisissez la catégorie du secret partagé.")
    elif categorie not in CATEGORIES:
        errors["categorie"] = _("Catégorie inconnue.")
    elif scope is not None and not scope.writes(categorie):
        errors["categorie"] = _("Vous ne pouvez pas écrire dans cette catégorie du secret partagé.")
    out["sensitivity"] = categorie
    for key in TEXT_FIELDS:
        text = values.get(key)
        if text is not None and not isinstance(text, str):
            errors[key] = _("Texte attendu.")
            continue
        text = (text or "").strip()
        if len(text) > MAX_TEXT:
            errors[key] = _("Texte trop long (%(n)s caractères au plus).", n=MAX_TEXT)
        out[key] = text or None
    dar = any(out.get(k) for k in DAR_FIELDS)
    if not out.get("texte") and not dar and not any(k in errors for k in TEXT_FIELDS):
        errors["texte"] = _("Écrivez la transmission : un texte, ou les données, actions et résultats (DAR).")
    elif out.get("texte") and dar:
        errors["texte"] = _("Choisissez entre un texte libre et les données, actions et résultats (DAR).")
    out["mode"] = "dar" if dar else "narratif"
    cible = values.get("cible") or None
    if cible is not None and (not isinstance(cible, str) or cible not in cibles(session)):
        errors["cible"] = _("Cible inconnue : choisissez-en une de la liste.")
    out["cible"] = cible
    importante = values.get("importante", False)
    if not isinstance(importante, bool):
        errors["importante"] = _("Booléen attendu (true ou false).")
    out["importante"] = importante is True
    return out


def _service_for(session, scope, user_id, service_id, usager_ids, errors) -> Service | None:
    """The service written in: the one given (one of the author's), else the only service of the
    author, else the service the first person is admitted in among the author's."""
    mine = user_service_ids(session, scope, user_id)
    if service_id is not None:
        if isinstance(service_id, bool) or not isinstance(service_id, int):
            errors["service_id"] = _("Nombre entier attendu.")
            return None
        service = session.get(Service, service_id)
        if service is None or service.id not in mine:
            errors["service_id"] = _("Ce service n'est pas l'un des vôtres.")
            return None
        return service
    if len(mine) == 1:
        return session.get(Service, mine[0])
    from .parcours import current_services

    placed = current_services(session, usager_ids[:1]).get(usager_ids[0], []) if usager_ids else []
    for sid in placed:
        if sid in mine:
            return session.get(Service, sid)
    errors["service_id"] = _("Précisez le service où la transmission est écrite.")
    return None


def _usagers(session, usager_ids, errors) -> list[Usager]:
    ids = []
    for uid in usager_ids or ():
        if isinstance(uid, int) and not isinstance(uid, bool) and uid not in ids:
            ids.append(uid)
    if not ids:
        errors["usagers"] = _("Choisissez au moins une personne.")
        return []
    found = {u.id: u for u in session.execute(select(Usager).where(Usager.id.in_(ids))).scalars()}
    if len(found) != len(ids):  # someone outside the author's scope (or no such id)
        errors["usagers"] = _("Une des personnes choisies n'est pas dans votre périmètre.")
    return [found[i] for i in ids if i in found]


def write(session, *, scope, author_id: int, usager_ids, values: dict, addendum_of: Transmission | None = None,
          now: dt.datetime | None = None) -> Transmission:
    """A new transmission about `usager_ids`, signed by `author_id` now. Nothing is written on an
    error: ValidationFailed with a French message per field."""
    errors: dict = {}
    people = _usagers(session, usager_ids, errors)
    content = _clean_values(session, scope, values, errors)
    service = (addendum_of.service if addendum_of is not None
               else _service_for(session, scope, author_id, values.get("service_id"), [u.id for u in people], errors))
    if errors:
        raise ValidationFailed(errors)
    written = now or utcnow()
    transmission = Transmission(author_id=author_id, written_at=written, service_id=service.id,
                                etablissement_id=service.etablissement_id, addendum_of_id=getattr(addendum_of, "id", None),
                                **content)
    for person in people:
        transmission.lines.append(TransmissionUsager(usager_id=person.id, sensitivity=content["sensitivity"],
                                                     written_at=written))
    session.add(transmission)
    session.commit()
    return transmission


def correctable(transmission: Transmission, user_id, now: dt.datetime | None = None) -> bool:
    """Its author, within the delay after writing it."""
    now = now or utcnow()
    return (transmission.author_id == user_id
            and now - transmission.written_at <= dt.timedelta(minutes=correction_minutes()))


def correct(session, *, scope, transmission: Transmission, user_id: int, values: dict, expected_version,
            now: dt.datetime | None = None) -> Transmission:
    """Its author corrects it within the delay: the previous text is kept as a version. The
    category stays (its readers already read it); afterwards only an addendum."""
    if transmission.author_id != user_id:
        raise ValidationFailed({"correction": _("Seul l'auteur peut corriger sa transmission ; "
                                                "ajoutez un complément.")})
    if not correctable(transmission, user_id, now):
        raise ValidationFailed({"correction": _(
            "Le délai de correction (%(n)s minutes) est passé : la transmission ne peut plus être modifiée, "
            "ajoutez un complément (addendum).", n=correction_minutes())})
    check_version(session, transmission, expected_version)
    errors: dict = {}
    content = _clean_values(session, scope, {**values, "categorie": transmission.sensitivity}, errors)
    if errors:
        raise ValidationFailed(errors)
    session.add(TransmissionVersion(
        transmission_id=transmission.id, numero=transmission.version, sensitivity=transmission.sensitivity,
        cible=transmission.cible, importante=transmission.importante,
        **{k: getattr(transmission, k) for k in TEXT_FIELDS}))
    for key in ("mode", "cible", "importante", *TEXT_FIELDS):
        setattr(transmission, key, content[key])
    transmission.corrected_at = now or utcnow()
    commit_or_stale(session, transmission, expected_version)
    return transmission


def addendum(session, *, scope, original: Transmission, author_id: int, values: dict) -> Transmission:
    """A complement to a transmission (any writer of its category): a new transmission about the
    same people (those the author sees), in the same service, linked to it."""
    values = {**values, "categorie": values.get("categorie") or original.sensitivity}
    return write(session, scope=scope, author_id=author_id, usager_ids=[line.usager_id for line in original.lines],
                 values=values, addendum_of=original)


# --- reading -------------------------------------------------------------------------------------

def mark_read(session, transmission: Transmission, user_id: int) -> None:
    """Acknowledge reading (once; marking again changes nothing)."""
    known = session.execute(select(TransmissionRead.id).where(
        TransmissionRead.transmission_id == transmission.id, TransmissionRead.user_id == user_id)).scalar()
    if known is None:
        session.add(TransmissionRead(transmission_id=transmission.id, user_id=user_id))
        session.commit()


def readers(session, transmission: Transmission) -> list[TransmissionRead]:
    """Who acknowledged reading it, first reader first (shown to its author)."""
    return list(session.execute(select(TransmissionRead).where(TransmissionRead.transmission_id == transmission.id)
                                .order_by(TransmissionRead.read_at)).scalars())


def read_ids(session, user_id: int, transmission_ids) -> set[int]:
    if not transmission_ids:
        return set()
    return set(session.execute(select(TransmissionRead.transmission_id).where(
        TransmissionRead.user_id == user_id, TransmissionRead.transmission_id.in_(list(transmission_ids)))).scalars())


def _unread_query(session, scope, user_id, now=None):
    since = (now or utcnow()) - dt.timedelta(days=current_app.config["SILLAGE_TRANSMISSION_UNREAD_DAYS"])
    acknowledged = exists().where(TransmissionRead.transmission_id == Transmission.id,
                                  TransmissionRead.user_id == user_id)
    return (Transmission.service_id.in_(user_service_ids(session, scope, user_id)),
            Transmission.written_at >= since, Transmission.author_id != user_id, ~acknowledged)


def unread(session, scope, user_id: int, limit: int = 200) -> list[Transmission]:
    """What is new in the user's services (over SILLAGE_TRANSMISSION_UNREAD_DAYS) that they did not
    write nor mark read, important ones first, then the newest."""
    return list(session.execute(
        select(Transmission).where(*_unread_query(session, scope, user_id))
        .options(selectinload(Transmission.lines))
        .order_by(Transmission.importante.desc(), Transmission.written_at.desc(), Transmission.id.desc())
        .limit(limit)).scalars())


def unread_count(session, scope, user_id: int) -> int:
    return session.execute(select(func.count(Transmission.id)).where(*_unread_query(session, scope, user_id))).scalar()


@dataclass
class Filters:
    start: dt.datetime | None = None  # UTC, included
    end: dt.datetime | None = None  # UTC, excluded
    author_id: int | None = None
    categorie: str | None = None
    cible: str | None = None
    importantes: bool = False


_RECENT = constant(
    select(Transmission).join(TransmissionUsager, TransmissionUsager.transmission_id == Transmission.id)
    .where(TransmissionUsager.usager_id == bindparam("usager_id")).options(lazyload(Transmission.service))
    .order_by(TransmissionUsager.written_at.desc(), Transmission.id.desc()).limit(bindparam("limit")))


def recent(session, usager_id: int, limit: int = 5) -> list[Transmission]:
    """The person's last transmissions the user may read, as the dossier's panel shows them
    (date, author, target, text): without their service and lines, whose joins made the
    statement's planning on PostgreSQL cost ten times its execution."""
    return list(session.execute(_RECENT, {"usager_id": usager_id, "limit": limit}).scalars())


def feed(session, *, service_ids=None, usager_id=None, filters: Filters | None = None, page: int = 1,
         page_size: int = PAGE_SIZE) -> tuple[list[Transmission], bool]:
    """(a page of transmissions, newest first; whether there are more). Per usager (read from the
    person's lines), else in `service_ids`. No total count: the page is read from the index in
    (service, time) order and stops at page_size + 1, however long the cahier is."""
    filters = filters or Filters()
    page = max(page, 1)
    ids = list(service_ids or [])
    if usager_id is None and len(ids) > 1:
        # One index range per service, merged: an IN over the services would make the database
        # sort every row of them (850 ms at 100,000 in SQLite) instead of stopping at the page.
        wanted = page * page_size + 1
        rows = [t for sid in ids for t in _page(session, None, [sid], filters, 0, wanted)]
        rows.sort(key=lambda t: (t.written_at, t.id), reverse=True)
        rows = rows[(page - 1) * page_size:wanted]
    else:
        rows = _page(session, usager_id, ids, filters, (page - 1) * page_size, page_size + 1)
    return rows[:page_size], len(rows) > page_size


def _page(session, usager_id, service_ids, filters: Filters, offset: int, limit: int) -> list[Transmission]:
    if usager_id is not None:
        line = TransmissionUsager
        query = (select(Transmission).join(line, line.transmission_id == Transmission.id)
                 .where(line.usager_id == usager_id))
        when = line.written_at
    else:
        query = select(Transmission).where(Transmission.service_id.in_(service_ids))
        when = Transmission.written_at
    if filters.start:
        query = query.where(when >= filters.start)
    if filters.end:
        query = query.where(when < filters.end)
    if filters.author_id:
        query = query.where(Transmission.author_id == filters.author_id)
    if filters.categorie:
        query = query.where(Transmission.sensitivity == filters.categorie)
    if filters.cible:
        query = query.where(Transmission.cible == filters.cible)
    if filters.importantes:
        query = query.where(Transmission.importante.is_(True))
    return list(session.execute(query.options(selectinload(Transmission.lines))
                                .order_by(when.desc(), Transmission.id.desc()).offset(offset).limit(limit)).scalars())


def visible(session, transmission_id) -> Transmission | None:
    """A transmission the user may read (scope and category), else None."""
    if isinstance(transmission_id, bool) or not isinstance(transmission_id, int):
        return None
    return session.get(Transmission, transmission_id)


# --- what the API answers -------------------------------------------------------------------------

def iso(value: dt.datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 with its offset."""
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


def as_dict(transmission: Transmission, *, lu: bool | None = None) -> dict:
    author = transmission.author
    out = {
        "id": transmission.id, "version": transmission.version, "ecrit_le": iso(transmission.written_at),
        "auteur_id": transmission.author_id,
        "auteur": f"{author.first_name} {author.last_name}" if author is not None else None,
        "service_id": transmission.service_id, "etablissement_id": transmission.etablissement_id,
        "categorie": transmission.sensitivity, "importante": transmission.importante, "mode": transmission.mode,
        "cible": transmission.cible, **{k: getattr(transmission, k) for k in TEXT_FIELDS},
        "usager_ids": [line.usager_id for line in transmission.lines],
        "corrige_le": iso(transmission.corrected_at), "addendum_de_id": transmission.addendum_of_id,
    }
    if lu is not None:
        out["lu"] = lu
    return out


def about(session, usager_id: int) -> list[Transmission]:
    """Every transmission about one person the user may read, oldest first (the RGPD export)."""
    return list(session.execute(select(Transmission).join(TransmissionUsager, TransmissionUsager.transmission_id
                                                          == Transmission.id)
                                .where(TransmissionUsager.usager_id == usager_id)
                                .order_by(Transmission.written_at, Transmission.id)).unique().scalars())


def erase_for_usager(session, usager_id: int) -> list:
    """Anonymisation: the person's lines go; a transmission about them alone loses its texts and
    their earlier versions (they describe that person), one about several keeps its text for the
    others. Bulk statements: the scope must not hide a category from the erasure (the DPO does not
    read every category). Returns the entities erased, for the audit trail's values."""
    from sqlalchemy import delete, update

    from ..security.audit_chain import ERASED
    from ..security.scope import UNSCOPED

    options = {"synchronize_session": False}
    unscoped = {UNSCOPED: True}  # ids only, read to erase: every category and every other person counts
    ids = list(session.execute(select(TransmissionUsager.transmission_id)
                               .where(TransmissionUsager.usager_id == usager_id), execution_options=unscoped).scalars())
    if not ids:
        return []
    others = set(session.execute(select(TransmissionUsager.transmission_id).where(
        TransmissionUsager.transmission_id.in_(ids), TransmissionUsager.usager_id != usager_id),
        execution_options=unscoped).scalars())
    alone = [i for i in ids if i not in others]
    session.execute(delete(TransmissionUsager).where(TransmissionUsager.usager_id == usager_id),
                    execution_options=options)
    if alone:
        session.execute(delete(TransmissionVersion).where(TransmissionVersion.transmission_id.in_(alone)),
                        execution_options=options)
        session.execute(update(Transmission).where(Transmission.id.in_(alone)).values(
            donnees=None, actions=None, resultats=None, texte=ERASED["effacé"], cible=None), execution_options=options)
    return [["Transmission", i] for i in alone]
