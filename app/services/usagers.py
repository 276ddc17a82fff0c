"""Usager dossier use cases: create (with duplicate check), edit, archive, search."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, column, func, inspect, or_, select, table
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..domain import clock, duplicates, identity, phonetic, places, text, vocab
from ..models import (
    Admission, ContactPerson, CouvertureSociale, DemandeAdmission, EvaluationResult, MesureProtection, Usager,
)
from ..models.usager import SEARCH_INDEX_TABLE
from ..models.base import utcnow
from ..security import stamp
from ..security.scope import PER_ROW, UNSCOPED, OutOfScope, candidate_usagers, constant, current_scope
from .concurrency import changes_since, check_version
from .errors import DuplicateSuspected, StaleVersion, ValidationFailed

IDENTITY_FIELDS = (
    "nom_naissance", "prenoms_naissance", "date_naissance", "sexe", "lieu_naissance_code",
    "lieu_naissance_libelle", "nom_utilise", "prenom_utilise", "matricule_ins", "oid_ins",
    "ins_recupere_le", "statut_identite", "piece_identite_type", "piece_identite_verifiee_le",
)
CONTACT_FIELDS = ("telephone_fixe", "telephone_mobile", "email", "adresse", "code_postal", "commune", "pays")
SITUATION_FIELDS = ("situation_familiale", "situation_professionnelle", "scolarite")
USAGER_FIELDS = IDENTITY_FIELDS + CONTACT_FIELDS + SITUATION_FIELDS

MAX_LENGTHS = {c.name: c.type.length for c in Usager.__table__.columns
               if getattr(c.type, "length", None)}
CHOICES = {
    "sexe": vocab.SEXE, "statut_identite": vocab.STATUT_IDENTITE, "piece_identite_type": vocab.PIECE_IDENTITE,
    "oid_ins": vocab.OID_INS, "situation_familiale": vocab.SITUATION_FAMILIALE,
    "situation_professionnelle": vocab.SITUATION_PRO,
}
EARLIEST_BIRTH = dt.date(1890, 1, 1)


def _clean(data: dict) -> dict:
    """Strip strings; empty strings become None so 'not given' has one representation."""
    cleaned = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip() or None
        cleaned[key] = value
    return cleaned


def validate_usager(values: dict) -> tuple[dict, dict]:
    """Check and normalise a complete set of usager values → (normalised values, errors)."""
    values = _clean(values)
    errors: dict[str, str] = {}
    if isinstance(values.get("matricule_ins"), str):  # typed with spaces, stored compact
        values["matricule_ins"] = identity.compact_nir(values["matricule_ins"])
    prenoms = text.split_prenoms(values.get("prenoms_naissance"))
    values["prenoms_naissance"] = prenoms
    for field in ("nom_naissance", "date_naissance", "sexe"):
        if not values.get(field):
            errors[field] = _("Ce champ est obligatoire.")
    if not prenoms:
        errors["prenoms_naissance"] = _("Indiquez au moins un prénom de naissance.")
    elif any(len(p) > 100 for p in prenoms) or len(prenoms) > 10:
        errors["prenoms_naissance"] = _("Liste de prénoms trop longue.")
    for field, length in MAX_LENGTHS.items():
        value = values.get(field)
        if isinstance(value, str) and len(value) > length:
            errors[field] = _("%(n)s caractères au plus.", n=length)
    for field, vocabulary in CHOICES.items():
        if values.get(field) and values[field] not in vocabulary:
            errors[field] = _("Valeur non reconnue.")
    if isinstance(values.get("ins_recupere_le"), dt.date) and not isinstance(values["ins_recupere_le"], dt.datetime):
        values["ins_recupere_le"] = dt.datetime.combine(values["ins_recupere_le"], dt.time())
    birth = values.get("date_naissance")
    if isinstance(birth, dt.datetime):
        birth = values["date_naissance"] = birth.date()
    if birth and not isinstance(birth, dt.date):
        errors["date_naissance"] = _("Date invalide.")
        birth = None
    elif birth and not (EARLIEST_BIRTH <= birth <= clock.today()):
        errors["date_naissance"] = _("La date de naissance ne peut être ni future ni antérieure à 1890.")
    if values.get("matricule_ins"):
        values["matricule_ins"] = identity.compact_nir(values["matricule_ins"])
        message = identity.check_nir(values["matricule_ins"], values.get("sexe"), birth)
        if message:
            errors["matricule_ins"] = message
    if values.get("lieu_naissance_code") is not None:
        values["lieu_naissance_code"] = str(values["lieu_naissance_code"]).upper()
    if message := identity.check_lieu_naissance(values.get("lieu_naissance_code")):
        errors["lieu_naissance_code"] = message
    elif values.get("lieu_naissance_code") and not values.get("lieu_naissance_libelle"):
        values["lieu_naissance_libelle"] = places.label(values["lieu_naissance_code"])  # a code alone: its name
    values["statut_identite"] = values.get("statut_identite") or "provisoire"
    for field, message in identity.identity_status_errors(values).items():
        errors.setdefault(field, message)
    for field in ("telephone_fixe", "telephone_mobile"):
        values[field], message = identity.normalize_phone(values.get(field))
        if message:
            errors[field] = message
    values["email"], message = identity.normalize_email(values.get("email"))
    if message:
        errors["email"] = message
    return values, errors


def _derive_keys(usager: Usager) -> None:
    usager.premier_prenom_naissance = usager.prenoms_naissance[0]
    usager.dup_key = text.duplicate_key(usager.nom_naissance, usager.premier_prenom_naissance,
                                        usager.date_naissance)
    usager.phon_key = phonetic.phonetic_key(usager.nom_naissance, usager.premier_prenom_naissance)
    usager.search_text = text.search_text(
        usager.nom_naissance, usager.nom_utilise, " ".join(usager.prenoms_naissance),
        usager.prenom_utilise, usager.matricule_ins,
    )


REFERRED_MESSAGE = _l("Une personne semblable est connue dans un autre établissement : le référent identité "
                      "(direction) a été prévenu.")


def find_duplicates(session, nom_naissance, prenoms, date_naissance, exclude_id=None):
    """(visible candidates, ids of the candidates the user may not see).

    Near duplicates too (domain.duplicates says which and why): the rows read are those with the
    same phonetic key or a birth date one typing slip away, both indexed, then scored here. The
    hidden ones are looked for only when SILLAGE_CROSS_ETABLISSEMENT_DUPLICATES is on; their
    ids go to the identity referent, never to the user, with nothing else about them.
    `prenoms`: the birth first names in order (a string is the first one alone).
    """
    typed = duplicates.Identity(nom_naissance, text.split_prenoms(prenoms), date_naissance)
    near = or_(Usager.phon_key == typed.phon_key, Usager.date_naissance.in_(duplicates.date_variants(date_naissance)))
    query = select(Usager).where(near, Usager.anonymised_at.is_(None))
    if exclude_id:
        query = query.where(Usager.id != exclude_id)
    visible = duplicates.rank(typed, ((u, _identity_of(u)) for u in session.execute(query).scalars()))
    if not current_app.config.get("SILLAGE_CROSS_ETABLISSEMENT_DUPLICATES", True):
        return visible, []
    t = Usager.__table__
    every = select(t.c.id, t.c.nom_naissance, t.c.nom_utilise, t.c.prenoms_naissance, t.c.date_naissance,
                   t.c.phon_key).where(or_(t.c.phon_key == typed.phon_key,
                                           t.c.date_naissance.in_(duplicates.date_variants(date_naissance))),
                                       t.c.archived_at.is_(None))
    if exclude_id:
        every = every.where(t.c.id != exclude_id)
    seen = {c.usager.id for c in visible}
    rows = session.execute(every, execution_options={UNSCOPED: True}).all()
    found = duplicates.rank(typed, ((r.id, _identity_of(r)) for r in rows if r.id not in seen))
    return visible, sorted(c.usager for c in found)


def _identity_of(row) -> duplicates.Identity:
    return duplicates.Identity(row.nom_naissance, list(row.prenoms_naissance or []), row.date_naissance,
                               nom_utilise=row.nom_utilise, phon_key=row.phon_key)


def create_usager(session, data: dict, *, scope, etablissement_id, service_id=None,
                  accept_duplicates=False, today=None) -> Usager:
    """Create a dossier with its first demande d'admission in one of the user's établissements.

    The usager must be attached to an établissement the user works in, or the user could not
    see the dossier they just created. Raises ValidationFailed or DuplicateSuspected; on any
    error nothing is written.
    """
    values, errors = validate_usager({f: data.get(f) for f in USAGER_FIELDS})
    from ..models import Etablissement, Service

    etab = session.get(Etablissement, etablissement_id) if etablissement_id else None
    if etab is None:
        errors["etablissement_id"] = (_("Établissement inconnu.") if etablissement_id
                                      else _("Choisissez un établissement."))
    elif not scope.allows(etab.id, service_id):
        raise OutOfScope()
    service = None
    if service_id:
        service = session.get(Service, service_id)
        if service is None or service.etablissement_id != etablissement_id:
            errors["service_id"] = _("Ce service n'appartient pas à l'établissement choisi.")
    if errors:
        raise ValidationFailed(errors)
    candidates, hidden = find_duplicates(
        session, values["nom_naissance"], values["prenoms_naissance"], values["date_naissance"]
    )
    if candidates and not accept_duplicates:
        raise DuplicateSuspected(candidates)
    usager = Usager(**values)
    _derive_keys(usager)
    session.add(usager)
    session.add(DemandeAdmission(
        usager=usager, etablissement_id=etab.id, service_id=service.id if service else None,
        date_demande=today or clock.today(), statut="en_attente",
    ))
    if hidden:  # known elsewhere: the identity referent decides, the author learns nothing more
        from ..models import IdentityReferral
        from ..security.audit import current_actor

        session.add(IdentityReferral(usager=usager, candidate_ids=hidden, etablissement_id=etab.id,
                                     requested_by_id=current_actor()[0]))
    session.commit()
    usager.referred_to_identity = bool(hidden)  # for the caller's message (not a column)
    return usager


def update_usager(session, usager: Usager, data: dict, expected_version) -> Usager:
    """Edit some usager fields (one dossier panel, or an API PUT) with a version check."""
    check_version(session, usager, expected_version)
    unknown = set(data) - set(USAGER_FIELDS)
    if unknown:
        raise ValidationFailed({f: _("Champ inconnu.") for f in sorted(unknown)})
    current = {f: getattr(usager, f) for f in USAGER_FIELDS}
    kept = current.get("ins_recupere_le")
    if (isinstance(data.get("ins_recupere_le"), dt.date) and not isinstance(data["ins_recupere_le"], dt.datetime)
            and isinstance(kept, dt.datetime) and kept.date() == data["ins_recupere_le"]):
        data = {**data, "ins_recupere_le": kept}  # a form shows the day: the time the user did not touch stays
    values, errors = validate_usager({**current, **data})
    before, errors_before = validate_usager(current)
    # A change is validated, not the whole record: a value stored before a newer rule (a phone
    # number, a birthplace code typed before the list was checked) stays until someone changes
    # it, and blocks no edit of another field. An error is kept when its field changes, or when
    # it is new (a change elsewhere made it: a NIR that no longer matches the new birth date).
    typed = _clean(data)

    def unchanged(field):
        return (field not in data or typed[field] == current[field]
                or (values.get(field) is not None and values.get(field) == before.get(field)))

    stored_as_is = {field for field, message in errors.items()
                    if unchanged(field) and errors_before.get(field) == message}
    errors = {field: message for field, message in errors.items() if field not in stored_as_is}
    if errors:
        raise ValidationFailed(errors)
    for field in stored_as_is:
        values[field] = current[field]  # not normalised (the rule refuses it): kept as it is
    changed = identity.strict_traits_changed(before, values)
    if changed and current.get("statut_identite") in identity.VERIFIED:
        data = {**data, "statut_identite": "provisoire"}
        values["statut_identite"] = "provisoire"
    for field in data:
        setattr(usager, field, values[field])
    _derive_keys(usager)
    commit_or_stale(session, usager, expected_version)
    return usager


def commit_or_stale(session, obj, expected_version) -> None:
    """Commit; a concurrent save that won the race becomes a StaleVersion, not a 500."""
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        session.refresh(obj)
        raise StaleVersion(obj.version, changes_since(session, obj, int(expected_version)))
    except (IntegrityError, DataError) as exc:
        session.rollback()
        raise ValidationFailed({"_": _("Enregistrement refusé par la base de données : %(e)s",
                                       e=str(exc.orig).splitlines()[0])})


def set_archived(session, obj, archived: bool, user_id=None) -> None:
    obj.archived_at = utcnow() if archived else None
    obj.archived_by_id = user_id if archived else None
    session.commit()


COUVERTURE_FIELDS = ("regime", "caisse", "complementaire", "droits_debut", "droits_fin", "css", "ame")


def save_couverture(session, usager: Usager, data: dict, expected_version=None) -> CouvertureSociale:
    values = _clean({f: data.get(f) for f in COUVERTURE_FIELDS})
    errors = {}
    if values.get("regime") and values["regime"] not in vocab.REGIME:
        errors["regime"] = _("Valeur non reconnue.")
    for field in ("caisse", "complementaire"):
        if values.get(field) and len(values[field]) > 120:
            errors[field] = _("%(n)s caractères au plus.", n=120)
    if values.get("droits_debut") and values.get("droits_fin") and values["droits_fin"] < values["droits_debut"]:
        errors["droits_fin"] = _("La fin des droits précède leur début.")
    if errors:
        raise ValidationFailed(errors)
    values["css"] = bool(values.get("css"))
    values["ame"] = bool(values.get("ame"))
    couverture = usager.couverture
    if couverture is None:
        couverture = CouvertureSociale(usager=usager, **values)
        session.add(couverture)
    else:
        check_version(session, couverture, expected_version)
        for key, value in values.items():
            setattr(couverture, key, value)
    commit_or_stale(session, couverture, couverture.version or 1)
    return couverture


PROTECTION_FIELDS = ("type_mesure", "mandataire", "mandataire_contact", "date_debut", "date_fin",
                     "reference_jugement", "commentaire")


def save_protection(session, usager: Usager, data: dict, mesure: MesureProtection | None = None,
                    expected_version=None) -> MesureProtection:
    values = _clean({f: data.get(f) for f in PROTECTION_FIELDS})
    errors = {}
    if values.get("type_mesure") not in vocab.MESURE_PROTECTION:
        errors["type_mesure"] = _("Choisissez le type de mesure.")
    if not values.get("date_debut"):
        errors["date_debut"] = _("Ce champ est obligatoire.")
    elif values.get("date_fin") and values["date_fin"] < values["date_debut"]:
        errors["date_fin"] = _("La fin de la mesure précède son début.")
    for field, length in (("mandataire", 200), ("mandataire_contact", 250), ("reference_jugement", 100)):
        if values.get(field) and len(values[field]) > length:
            errors[field] = _("%(n)s caractères au plus.", n=length)
    if errors:
        raise ValidationFailed(errors)
    if mesure is None:
        mesure = MesureProtection(usager=usager, **values)
        session.add(mesure)
        session.commit()
        return mesure
    check_version(session, mesure, expected_version)
    for key, value in values.items():
        setattr(mesure, key, value)
    commit_or_stale(session, mesure, expected_version)
    return mesure


LIST_COLUMNS = (Usager.nom_naissance, Usager.prenoms_naissance, Usager.premier_prenom_naissance, Usager.nom_utilise,
                Usager.prenom_utilise, Usager.date_naissance, Usager.sexe, Usager.statut_identite, Usager.archived_at)


_FTS = table(SEARCH_INDEX_TABLE, column("rowid"), column(SEARCH_INDEX_TABLE))
TRIGRAM = 3  # the shortest token a trigram index can answer


def _text_match(session, q) -> tuple:
    """(FTS5 MATCH phrase or None, LIKE conditions): every folded token of `q` is a substring of
    search_text (accents, case, order ignored).

    PostgreSQL answers `LIKE '%tok%'` from the trigram index by itself (migration 0029). SQLite's
    LIKE reads every row: tokens of 3 characters or more go to the FTS5 trigram table instead
    (the same substring match, quoted as a phrase), shorter ones keep LIKE on the rows it leaves.
    SILLAGE_SEARCH_INDEX=False uses LIKE alone (the benchmark's "before", and a fallback).
    """
    tokens = text.fold(q).split()
    indexed = []
    if session.get_bind().dialect.name == "sqlite" and current_app.config.get("SILLAGE_SEARCH_INDEX", True):
        indexed = [t for t in tokens if len(t) >= TRIGRAM]
    likes = [Usager.search_text.contains(t, autoescape=True) for t in tokens if t not in indexed]
    if not indexed:
        return None, likes
    return _FTS.c[SEARCH_INDEX_TABLE].op("MATCH")(" AND ".join('"' + t.replace('"', '""') + '"' for t in indexed)), likes


def _matching(session, q, columns, *, walk=False):
    """SELECT `columns` of the usagers whose text matches `q`. From the FTS5 matches, joined (they
    stream: a LIMIT stops early), or with `walk` only checked against them (`id + 0` keeps
    SQLite from starting there), so that a scan in name order can stop at the page, or one of a
    user's candidates read only theirs."""
    match, likes = _text_match(session, q)
    query = select(*columns).where(*likes)
    if match is None:
        return query
    if walk:
        return query.where((Usager.id + 0).in_(select(_FTS.c.rowid).where(match)))
    return query.join_from(_FTS, Usager, Usager.id == _FTS.c.rowid).where(match)


def _indexed_matches(session, q):
    """The ids whose text matches `q`, read from the text index over the whole organisation (to
    weigh where a search starts, never shown: unscoped), or None when no index answers it: SQLite's
    FTS5 table, PostgreSQL's trigram index for a token of 3 characters or more."""
    match, likes = _text_match(session, q)
    if match is not None:
        return select(_FTS.c.rowid).where(match)
    if session.get_bind().dialect.name == "postgresql" and any(len(t) >= TRIGRAM for t in text.fold(q).split()):
        return select(Usager.id).where(*likes)
    return None


def _from_candidates(session, q, candidates) -> bool:
    """Whether the search starts from the user's places: when the text matches more people in the
    whole organisation than they have there. The text index counts its matches in a fraction of
    a millisecond (up to MATCHES_CAP; beyond, the search starts from the places); theirs are
    counted only up to that number of matches: a user of a large établissement does not count all
    its people at each search (4 ms at 13,000). PostgreSQL cannot weigh this itself: it guesses
    200 people behind the places' subquery, and started from 13,000 to find 365 (28 ms, against
    a few from the trigram index)."""
    matching = _indexed_matches(session, q)
    if matching is None:
        return True
    found = session.execute(select(func.count()).select_from(matching.limit(MATCHES_CAP + 1).subquery()),
                            execution_options={UNSCOPED: True}).scalar_one()
    if found > MATCHES_CAP:
        return True
    theirs = session.execute(select(func.count()).select_from(candidates.limit(found).subquery())).scalar_one()
    return theirs < found


# A search counts its results up to COUNT_CAP and says "more than" beyond: the count, and the sort
# of the matches by name, then cost the same at 3,000 or 30,000 usagers (issue 20) and nobody
# reads 500 results — the page asks to narrow the search.
COUNT_CAP = 500
MATCHES_CAP = 10 * COUNT_CAP
NAME_ORDER = (Usager.nom_naissance, Usager.premier_prenom_naissance, Usager.id)


def search_usagers(session, *, q=None, date_naissance=None, ins=None, etablissement_id=None,
                   service_id=None, statut=None, page=1, page_size=25):
    """Scoped search (the scope hook filters rows) → (usagers of the page, total count), the
    count capped at COUNT_CAP + 1 (read: "more than COUNT_CAP").

    `statut`: "admis" (an active admission), "attente" (an open demande), "sorti" (admissions
    all ended), "archive" (archived dossiers; otherwise archived ones are left out).

    The matches' ids are read first, up to COUNT_CAP + 1, and counted. Few (≤ COUNT_CAP): the
    page is those ids' rows sorted by name (searching again cost as much as the count). Many: the page
    is read walking the name index (ix_usager_name_order) and stops once it is full. A user who
    does not see the whole organisation, when the text matches more people in it than they have
    in their places, starts from these instead, each checked against the text index
    (`scope.candidate_usagers`): the rows read are then the fewer of the two.

    The count and the page's ids are kept per scope, search and page until the data moves
    (`stamp.cached_by_data`, like the lists' counts): coming back to the results from a dossier,
    or asking the same page again, reads the page's rows by id whatever the number of matches.
    """
    conditions = []
    if date_naissance:
        conditions.append(Usager.date_naissance == date_naissance)
    if ins:
        conditions.append(Usager.matricule_ins == identity.compact_nir(ins))
    active = select(Admission.usager_id).where(Admission.date_sortie.is_(None), Admission.archived_at.is_(None))
    place = []
    if etablissement_id:
        place.append(Admission.etablissement_id == etablissement_id)
    if service_id:
        place.append(Admission.service_id == service_id)
    if place:
        in_place = select(Admission.usager_id).where(*place)
        demand_place = select(DemandeAdmission.usager_id).where(
            *[c for c in (DemandeAdmission.etablissement_id == etablissement_id if etablissement_id else None,
                          DemandeAdmission.service_id == service_id if service_id else None) if c is not None])
        conditions.append(or_(Usager.id.in_(in_place), Usager.id.in_(demand_place)))
    if statut == "archive":
        conditions.append(Usager.archived_at.is_not(None))
    else:
        conditions.append(Usager.archived_at.is_(None))
    if statut == "admis":
        conditions.append(Usager.id.in_(active.where(*place)))
    elif statut == "attente":
        conditions.append(Usager.id.in_(select(DemandeAdmission.usager_id).where(
            DemandeAdmission.statut.in_(vocab.STATUTS_DEMANDE_OUVERTE))))
    elif statut == "sorti":
        conditions.append(Usager.id.in_(select(Admission.usager_id)))
        conditions.append(Usager.id.not_in(active))
    key = ("search", current_scope(), tuple(text.fold(q or "").split()), date_naissance, ins, etablissement_id,
           service_id, statut, page, page_size, clock.today())
    loaded = []
    total, ids = stamp.cached_by_data(
        session, key, lambda: _search_page(session, q, conditions, page, page_size, loaded))
    if loaded or not ids:
        return loaded, total
    rows = session.execute(select(Usager).where(Usager.id.in_(ids)).options(load_only(*LIST_COLUMNS))
                           .order_by(*NAME_ORDER).execution_options(**{PER_ROW: True})).scalars().all()
    return list(rows), total


def _search_page(session, q, conditions, page, page_size, loaded: list) -> tuple:
    """(count up to COUNT_CAP + 1, ids of the page's rows), the rows themselves put in `loaded`."""
    candidates = candidate_usagers()  # a user of a few places: start from theirs, not from every match
    if candidates is not None and _from_candidates(session, q, candidates):
        conditions = [*conditions, Usager.id.in_(candidates)]
    else:
        candidates = None
    # Started from the matches (no more than the user's places hold), each match is checked
    # against the scope by index lookups, not by hashing every admission of their places first
    # (PostgreSQL: 3.4 ms at 13,000); so is each row of a page.
    found = session.execute(_matching(session, q, [Usager.id], walk=candidates is not None).where(*conditions)
                            .limit(COUNT_CAP + 1).execution_options(**{PER_ROW: candidates is None})).scalars().all()
    total = len(found)
    if total == 0 or (page - 1) * page_size >= min(total, COUNT_CAP):
        return total, ()
    if total <= COUNT_CAP:  # every match is known: the page is sorted from them, not searched again
        listed = select(Usager).where(Usager.id.in_(found))
    else:
        listed = _matching(session, q, [Usager], walk=True).where(*conditions)
    loaded.extend(session.execute(listed.options(load_only(*LIST_COLUMNS)).order_by(*NAME_ORDER)
                                  .limit(page_size).offset((max(page, 1) - 1) * page_size)
                                  .execution_options(**{PER_ROW: True})).scalars())
    return total, tuple(u.id for u in loaded)


PHOTO_TYPE = "photo"  # the document type whose latest image the banner shows
IMAGE_TYPES = ("image/png", "image/jpeg")
# The banner's badge: the latest indexed result of one key among a family's published forms.
_BADGE = constant(
    select(EvaluationResult).where(EvaluationResult.usager_id == bindparam("usager_id"),
                                   EvaluationResult.key == bindparam("key"),
                                   EvaluationResult.form_code.in_(bindparam("codes", expanding=True)))
    .order_by(EvaluationResult.evaluated_on.desc(), EvaluationResult.evaluation_id.desc()).limit(1))


# The collections a dossier page reads, in their relationships' order (then by id).
_COLLECTIONS = {
    name: constant(select(model).where(model.usager_id == bindparam("id")).order_by(*order, model.id))
    for name, model, order in (
        ("admissions", Admission, (Admission.date_entree,)),
        ("demandes", DemandeAdmission, (DemandeAdmission.date_demande,)),
        ("protections", MesureProtection, (MesureProtection.date_debut.desc(),)))
}
_FOYER_COLLECTIONS = {
    "usagers": constant(select(Usager).where(Usager.foyer_id == bindparam("id"))
                        .order_by(Usager.date_naissance, Usager.id)),
    "contacts": constant(select(ContactPerson).where(ContactPerson.foyer_id == bindparam("id"),
                                                     ContactPerson.archived_at.is_(None))
                         .order_by(ContactPerson.nom, ContactPerson.id)),
}


def load_collections(session, usager: Usager) -> None:
    """The person's admissions, demandes and protection measures, and their foyer's members and
    contacts, those not loaded yet, each by a statement built once (`scope.constant`): a lazy load
    is built, and its cache key computed, anew at every execution (a fifth of a dossier page's
    time went to five of them)."""
    for obj, collections in ((usager, _COLLECTIONS), (usager.foyer, _FOYER_COLLECTIONS)):
        if obj is None:
            continue
        unloaded = inspect(obj).unloaded
        for name, statement in collections.items():
            if name in unloaded:
                set_committed_value(obj, name, list(session.execute(statement, {"id": obj.id}).scalars()))


def banner(session, usager: Usager, badges: list[dict], today: dt.date, documents: list | None = None) -> dict:
    """What every page about one person shows of them: current placements, protection measures
    in force, the structure's chosen badges (latest indexed result of a form family, e.g. the last
    GIR) and the photo (the latest document of type "photo"). Read through the scope like the rest: a badge
    or a photo of a category the user may not read is simply absent. `documents`: the person's
    unarchived documents as the user reads them, when the page has read them (the dossier's
    panel): the photo is taken from them instead of a query of its own."""
    from ..models import Document, TypeDocument
    from .forms import codes_by_family

    placements = [a for a in usager.admissions if a.is_active]  # (the dossier page has read them already)
    protections = [p for p in usager.protections
                   if p.archived_at is None and p.date_debut <= today and (p.date_fin is None or p.date_fin >= today)]
    shown = []
    families = codes_by_family(session)  # kept per process: the banner adds no definition read to a page
    for badge in badges:
        codes = families.get(badge["family"])
        if not codes:
            continue
        result = session.execute(_BADGE, {"usager_id": usager.id, "key": badge["key"], "codes": codes}).scalar()
        if result is not None:
            value = result.value_text if result.value_text is not None else result.value_num
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            shown.append({"label": badge["label"], "value": value, "on": result.evaluated_on})
    if documents is None:
        photo = session.execute(select(Document).join(Document.type).where(
            Document.usager_id == usager.id, TypeDocument.code == PHOTO_TYPE, Document.archived_at.is_(None))
            .order_by(Document.id.desc()).limit(1)).scalar()
    else:
        photo = max((d for d in documents if d.type.code == PHOTO_TYPE), key=lambda d: d.id, default=None)
    if photo is not None and (not photo.versions or photo.versions[0].type_mime not in IMAGE_TYPES):
        photo = None
    return {"placements": placements, "protections": protections, "badges": shown, "photo": photo}
