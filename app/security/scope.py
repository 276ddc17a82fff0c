"""Row-level scope: which usagers (and related rows) the current user may see.

ONE mechanism: an ORM `do_orm_execute` hook adds `with_loader_criteria` to every SELECT that
touches a scoped entity while a request is served. Lists, details, edits, archives, exports,
searches, relationship dropdowns and the REST API all load rows through the ORM, so none can
forget the rule; an id outside scope simply does not exist (404). The criteria reach every
occurrence of an entity, aliases included, in every SELECT that names one of its columns; a
subquery selecting none (`exists()`'s `SELECT *`, a `with_only_columns(func.count())`) is left as
written: select an entity's column in it (`select(Model.id)...exists()`).

Rule: a user sees an usager through an admission in one of their établissements (or services)
that is current or ended less than SILLAGE_SCOPE_MONTHS_AFTER_EXIT months ago, or through an open
demande d'admission there. Organisation-wide roles see everything, except the internal
messaging: a thread is seen only by its participants, and one about an usager only while they see
that usager (`_message_rules`; `sees_usager` checks another user's view of an usager, e.g. each
recipient of a message). A portal session (services/portal.py `portal_scope`) sees the usagers of
its accesses only, by id, and reads them through the shared secret like anyone. Outside a request (CLI, migrations) nothing is filtered: those run as the
system.
"""
from __future__ import annotations

import functools
import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from dateutil.relativedelta import relativedelta
from flask import current_app, g, has_request_context
from sqlalchemy import (
    Date, Integer, String, and_, bindparam, event, exists, false, literal_column, or_, select, union_all,
)
from sqlalchemy.orm import Session, with_loader_criteria
from sqlalchemy.sql.util import find_tables

from ..domain import clock
from ..domain.vocab import STATUTS_DEMANDE_OUVERTE
from . import stamp
from .among import Among, ListParameter
from ..models import (
    AccessRequest, Admission, Aide, Assurance, Avenant, ContactPerson, ContratSejour, CouvertureSociale,
    DemandeAdmission, Devis, DevisLigne, Document, DocumentVersion, Ecrit, EcritVersion, ErasureRequest,
    Etablissement, Evaluation, EvaluationResult, Evenement, EvenementParticipant, EvenementUsager, Facture,
    Foyer, IdentityReferral, JustificatifRessources, Message, MessageAttachment, MessageRecipient, MessageThread,
    MesureProtection, PortalAccess, ProjetAction, ProjetAttente, ProjetBilan,
    ProjetBilanObjectif, ProjetObjectif, ProjetParticipation, ProjetPersonnalise, ProjetSignature,
    RectificationRequest, Service, StaffAssignment, Transmission, TransmissionUsager, TransmissionVersion,
    Usager,
)
from ..models.reunion import Decision, PointOrdreDuJour, Reunion, ReunionParticipant, Tache

UNSCOPED = "sillage_unscoped"  # execution option for the few system queries (e.g. duplicate counts)
# Execution option of a page of usagers (LIMIT/OFFSET): test each row's visibility by index lookups,
# as far as the page goes, rather than let PostgreSQL hash the admissions of every visible usager
# first (`_visible_per_row`).
PER_ROW = "sillage_scope_per_row"
# Execution option of a statement built once and executed with parameters (`constant()`).
CONSTANT = "sillage_constant"


class OutOfScope(Exception):
    """Raised when a write targets an établissement or record the user may not see."""


@dataclass(frozen=True)
class Scope:
    sees_all: bool = False
    etablissement_ids: frozenset = field(default_factory=frozenset)  # whole établissements
    service_ids: frozenset = field(default_factory=frozenset)  # assignments limited to a service
    service_etablissement_ids: frozenset = field(default_factory=frozenset)
    months_after_exit: int = 6
    # Shared secret: categories the user reads / writes (None: every category, the system).
    readable: frozenset | None = None
    writable: frozenset | None = None
    # Break-the-glass: usagers opened in an emergency (every category, until the access expires).
    emergency_usager_ids: frozenset = field(default_factory=frozenset)
    user_id: int | None = None  # the agenda's participants see their events wherever they are
    # Usagers seen by id, their rows read through the shared secret like any other (`readable`):
    # a portal session (services/portal.py `portal_scope`) sees its accesses' usagers only.
    listed_usager_ids: frozenset = field(default_factory=frozenset)

    def reads(self, category: str, usager_id=None) -> bool:
        return self.readable is None or category in self.readable or usager_id in self.emergency_usager_ids

    def writes(self, category: str) -> bool:
        return self.writable is None or category in self.writable

    @property
    def filters_rows(self) -> bool:
        return not self.sees_all or self.readable is not None

    @classmethod
    def everything(cls) -> "Scope":
        return cls(sees_all=True)

    @property
    def visible_etablissement_ids(self) -> frozenset:
        return self.etablissement_ids | self.service_etablissement_ids

    def allows(self, etablissement_id, service_id=None) -> bool:
        if self.sees_all:
            return True
        if etablissement_id in self.etablissement_ids:
            return True
        return service_id is not None and service_id in self.service_ids

    def criteria(self, tables: frozenset, relation=None, per_row=False) -> tuple:
        """Loader criteria of the scoped entities among `tables`. `relation`: the (class,
        attribute) of a relationship load, whose parent rows this scope let through; `per_row`:
        see PER_ROW."""
        return _options((self.sees_all, self.readable is None, relation if relation in IMPLIED else None,
                         per_row and not self.sees_all), tables)

    @functools.cached_property
    def bound(self) -> dict:
        """The values of the rules' parameters, read when a statement executes (see `_bound`)."""
        return {
            "etabs": sorted(self.etablissement_ids), "services": sorted(self.service_ids),
            "seen_etabs": sorted(self.visible_etablissement_ids),
            "cutoff": clock.today() - relativedelta(months=self.months_after_exit),
            "statuses": sorted(STATUTS_DEMANDE_OUVERTE), "emergency": sorted(self.emergency_usager_ids),
            "by_id": sorted(self.emergency_usager_ids | self.listed_usager_ids),
            "readable": readable_keys(self.readable or ()),
            "me": [self.user_id] if self.user_id is not None else [],
        }


def category_key(categories) -> str:
    """One column's value for what holds several categories (an indexed result computed from
    care and medical answers): read only by who reads each of them."""
    return "+".join(sorted(categories))


def readable_keys(readable) -> list[str]:
    """Every category key a user reading `readable` may read: each category and each combination."""
    found = sorted(readable)
    return [category_key(c) for n in range(1, len(found) + 1) for c in itertools.combinations(found, n)]


def _bound(name, type_):
    """A parameter whose value is the request's scope value `name`, fetched by SQLAlchemy at each
    execution. The rules are thus the same SQL for every user: their cache key is constant, and
    no scope value travels through the cached statement's extracted parameters (matching those
    to the criteria's annotated copies cost a quarter of each scoped statement). A list is one
    parameter (`Among`): its SQL stays the same whatever the list's length."""
    return bindparam(f"sillage_scope_{name}", type_=type_, callable_=lambda: _scope_value(name))


def _scope_value(name):
    """(The hook has put the request's scope in `g` before a statement carries these parameters.)"""
    return (g.get("sillage_scope") or current_scope()).bound[name]


def _list(name, item_type):
    return _bound(name, ListParameter(item_type))


_ETABS, _SERVICES, _SEEN_ETABS = _list("etabs", Integer), _list("services", Integer), _list("seen_etabs", Integer)
_CUTOFF = _bound("cutoff", Date)
_STATUSES, _EMERGENCY, _READABLE = _list("statuses", String), _list("emergency", Integer), _list("readable", String)
_ME = _list("me", Integer)
_BY_ID = _list("by_id", Integer)


def _criterion(model, rule):
    """A rule as a loader criterion, applied to every occurrence of the entity in a statement,
    its aliases included (`aliased(Model)` in a subquery is read under the same rule)."""
    return with_loader_criteria(model, rule, include_aliases=True)


def _rules(sees_all: bool, all_categories: bool, per_row: bool = False) -> list:
    """(table name, option) pairs. Each rule is a lambda of the entity (SQLAlchemy's cached
    form, computed once per entity) over the parameters above; only the shape of the rules
    depends on the user (organisation-wide or not, shared secret or not)."""
    if sees_all:  # org-wide: only the shared secret filters
        messages = [(model.__tablename__, _criterion(model, rule)) for model, rule in _message_rules(True).items()]
        if all_categories:
            return messages
        return [
            *messages,
            (Evaluation.__tablename__, _criterion(Evaluation, lambda cls: _readable_evaluation(cls))),
            (EvaluationResult.__tablename__, _criterion(EvaluationResult, lambda cls: _readable_result(cls))),
            *[(model.__tablename__, _criterion(model, rule)) for model, rule in _projet_rules(True, False).items()],
            *[(model.__tablename__, _criterion(model, rule)) for model, rule in _document_rules(True, False).items()],
            *[(model.__tablename__, _criterion(model, rule))
              for model, rule in _transmission_rules(True, False).items()],
            *[(model.__tablename__, _criterion(model, rule)) for model, rule in _ecrit_rules(True, False).items()],
            *[(model.__tablename__, _criterion(model, rule))
              for model, rule in _reunion_rules(True, False).items()],
            *[(model.__tablename__, _criterion(model, rule)) for model, rule in _paper_rules(True, False).items()],
        ]
    rules = {
        Usager: (lambda cls: _visible_per_row(cls.id)) if per_row else (lambda cls: _visible(cls.id)),
        CouvertureSociale: lambda cls: _visible(cls.usager_id),
        MesureProtection: lambda cls: _visible(cls.usager_id),
        Admission: lambda cls: and_(_placed(cls), _visible(cls.usager_id)),
        DemandeAdmission: lambda cls: and_(_placed(cls), _visible(cls.usager_id)),
        Foyer: lambda cls: _foyer_visible(cls.id),
        ContactPerson: lambda cls: _foyer_visible(cls.foyer_id),
        Etablissement: lambda cls: Among(cls.id, _SEEN_ETABS),
        Service: lambda cls: or_(Among(cls.etablissement_id, _ETABS), Among(cls.id, _SERVICES)),
        StaffAssignment: lambda cls: Among(cls.etablissement_id, _SEEN_ETABS),
        # RGPD requests: seen with their usager (the queue, the decisions, the dossier's panel).
        RectificationRequest: lambda cls: _visible(cls.usager_id),
        ErasureRequest: lambda cls: _visible(cls.usager_id),
        AccessRequest: lambda cls: _visible(cls.usager_id),
        IdentityReferral: lambda cls: _visible(cls.usager_id),
        # Portal accesses (services/portal.py): seen with their usager (the dossier's portal page).
        PortalAccess: lambda cls: _visible(cls.usager_id),
    }
    if all_categories:
        rules[Evaluation] = lambda cls: _visible(cls.usager_id)
        rules[EvaluationResult] = lambda cls: _visible(cls.usager_id)
    else:
        rules[Evaluation] = lambda cls: and_(_visible(cls.usager_id), _readable_evaluation(cls))
        rules[EvaluationResult] = lambda cls: and_(_visible(cls.usager_id), _readable_result(cls))
    rules.update(_projet_rules(False, all_categories))
    rules.update(_document_rules(False, all_categories))
    rules.update(_transmission_rules(False, all_categories))
    rules.update(_ecrit_rules(False, all_categories))
    rules.update(_reunion_rules(False, all_categories))
    rules.update(_paper_rules(False, all_categories))
    rules.update(_agenda_rules())
    rules.update(_message_rules(False))
    return [(model.__tablename__, _criterion(model, rule)) for model, rule in rules.items()]


def _own_rule(model):
    """What is left of `model`'s rule once its usager or foyer is known visible."""
    if model in (Admission, DemandeAdmission):
        return _criterion(model, lambda cls: _placed(cls))
    return None


# Aliased Core tables of the correlated EXISTS below: index lookups per row (not a scan of every
# admission), and never rewritten by the hook itself.
_ADMISSION = Admission.__table__.alias("scope_admission")
_DEMANDE = DemandeAdmission.__table__.alias("scope_demande")
_EVALUATION = Evaluation.__table__.alias("scope_evaluation")
_MEMBER = Usager.__table__.alias("scope_member")


def _placed(table):
    """In one of the user's établissements, or one of their services."""
    return or_(Among(table.etablissement_id, _ETABS), Among(table.service_id, _SERVICES))


def _visible(usager_id):
    """Condition "the usager `usager_id` is visible": an admission in the user's places, current
    or ended after `cutoff`, or an open demande there, or seen by id (an emergency access, a
    portal session)."""
    adm, dem = _ADMISSION.c, _DEMANDE.c
    return or_(
        exists().where(adm.usager_id == usager_id, _placed(adm), adm.archived_at.is_(None),
                       or_(adm.date_sortie.is_(None), adm.date_sortie >= _CUTOFF)),
        exists().where(dem.usager_id == usager_id, _placed(dem), dem.archived_at.is_(None),
                       Among(dem.statut, _STATUSES)),
        Among(usager_id, _BY_ID),
    )


# Core aliases of the candidates below (a subquery the hook leaves as written, like the above).
_CANDIDATE_ADMISSION = Admission.__table__.alias("scope_candidate_admission")
_CANDIDATE_DEMANDE = DemandeAdmission.__table__.alias("scope_candidate_demande")


def candidate_usagers():
    """The ids of the usagers the current user sees, as a subquery a search can start from (the
    admissions and open demandes in their places, and the usagers seen by id: what `_visible`
    lets through), or None when the user sees the whole organisation. It only narrows: the hook
    still applies the rule to the statement. A search started from the text index checks every
    match of the whole organisation against the scope; started from these, a user of one
    établissement reads about as many rows at 3,000 as at 30,000 usagers (issue 20).

    One arm per kind of place the user has: `établissement OR service` in one arm made SQLite
    skip-scan every admission (10 ms at 30,000), each alone is an index range."""
    scope = current_scope()
    if scope is None or not scope.filters_rows or scope.sees_all:
        return None
    adm, dem = _CANDIDATE_ADMISSION.c, _CANDIDATE_DEMANDE.c
    bound = scope.bound  # plain IN lists here: SQLite reads each place's admissions by index range
    arms = []
    for column, values in (("etablissement_id", bound["etabs"]), ("service_id", bound["services"])):
        if values:
            arms.append(select(adm.usager_id).where(adm[column].in_(values), adm.archived_at.is_(None),
                                                    or_(adm.date_sortie.is_(None), adm.date_sortie >= _CUTOFF)))
            arms.append(select(dem.usager_id).where(dem[column].in_(values), dem.archived_at.is_(None),
                                                    dem.statut.in_(bound["statuses"])))
    if bound["by_id"]:
        arms.append(select(_MEMBER.c.id).where(_MEMBER.c.id.in_(bound["by_id"])))
    return union_all(*arms) if arms else select(_MEMBER.c.id).where(false())


def _visible_per_row(usager_id):
    """`_visible`, each EXISTS fenced by OFFSET 0: PostgreSQL then looks each row up by index
    instead of choosing a hashed subplan, which reads every admission of the user's places
    before the first row (its cost grows with the table; a page stops after its last row).
    Same rows; the count of a whole list is better served hashed, so only pages ask for it."""
    adm, dem = _ADMISSION.c, _DEMANDE.c
    one = literal_column("1")
    return or_(
        select(one).select_from(_ADMISSION).where(
            adm.usager_id == usager_id, _placed(adm), adm.archived_at.is_(None),
            or_(adm.date_sortie.is_(None), adm.date_sortie >= _CUTOFF)).offset(0).exists(),
        select(one).select_from(_DEMANDE).where(
            dem.usager_id == usager_id, _placed(dem), dem.archived_at.is_(None),
            Among(dem.statut, _STATUSES)).offset(0).exists(),
        Among(usager_id, _BY_ID),
    )


def _foyer_visible(foyer_id):
    """A foyer is visible through any of its visible members."""
    return exists().where(_MEMBER.c.foyer_id == foyer_id, _visible(_MEMBER.c.id))


def _readable_evaluation(cls):
    return or_(Among(cls.sensitivity, _READABLE), Among(cls.usager_id, _EMERGENCY))


def _readable_result(cls):
    """Indexed results (a GIR) follow the category of the evaluation they come from, and their
    key's own (a result computed from medical answers is medical)."""
    ev = _EVALUATION.c
    own = or_(cls.sensitivity.is_(None), Among(cls.sensitivity, _READABLE))  # a key stricter than its form
    return or_(and_(own, exists().where(ev.id == cls.evaluation_id, Among(ev.sensitivity, _READABLE))),
               Among(cls.usager_id, _EMERGENCY))


_PROJET = ProjetPersonnalise.__table__.alias("scope_projet")
_PROJET_PARTS = (ProjetAttente, ProjetObjectif, ProjetAction, ProjetBilanObjectif)  # carry a category


def _readable_part(cls):
    return or_(Among(cls.sensitivity, _READABLE), Among(cls.usager_id, _EMERGENCY))


def _projet_seen(projet_id):
    """The PP is one of the user's établissements' (a PP belongs to one établissement)."""
    pp = _PROJET.c
    return exists().where(pp.id == projet_id, Among(pp.etablissement_id, _SEEN_ETABS))


def _projet_rules(sees_all: bool, all_categories: bool) -> dict:
    """A PP is seen in its établissement by whoever sees the usager, and read only with its
    category; each part carries the usager and its own category (an objective may be stricter
    than its PP: its actions and ratings follow it)."""
    if sees_all:
        return {} if all_categories else {m: (lambda cls: _readable_part(cls)) for m in (ProjetPersonnalise, *_PROJET_PARTS)}
    if all_categories:
        rules = {ProjetPersonnalise: lambda cls: and_(Among(cls.etablissement_id, _SEEN_ETABS), _visible(cls.usager_id))}
        rules.update({m: (lambda cls: _visible(cls.usager_id)) for m in (ProjetAction, ProjetBilanObjectif)})
        rules.update({m: (lambda cls: and_(_projet_seen(cls.projet_id), _visible(cls.usager_id)))
                      for m in (ProjetAttente, ProjetObjectif, ProjetBilan, ProjetParticipation, ProjetSignature)})
        return rules
    rules = {ProjetPersonnalise: lambda cls: and_(Among(cls.etablissement_id, _SEEN_ETABS), _visible(cls.usager_id),
                                                  _readable_part(cls))}
    rules.update({m: (lambda cls: and_(_visible(cls.usager_id), _readable_part(cls)))
                  for m in (ProjetAction, ProjetBilanObjectif)})
    rules.update({m: (lambda cls: and_(_projet_seen(cls.projet_id), _visible(cls.usager_id), _readable_part(cls)))
                  for m in (ProjetAttente, ProjetObjectif)})
    rules.update({m: (lambda cls: and_(_projet_seen(cls.projet_id), _visible(cls.usager_id)))
                  for m in (ProjetBilan, ProjetParticipation, ProjetSignature)})
    return rules


_DOCUMENT = Document.__table__.alias("scope_document")


def _readable_document(cls):
    return or_(Among(cls.categorie, _READABLE), Among(cls.usager_id, _EMERGENCY))


def _document_readable(document_id):
    """A version is read with its document's category."""
    doc = _DOCUMENT.c
    return or_(exists().where(doc.id == document_id, Among(doc.categorie, _READABLE)), _document_emergency(document_id))


def _document_emergency(document_id):
    doc = _DOCUMENT.c
    return exists().where(doc.id == document_id, Among(doc.usager_id, _EMERGENCY))


def _document_rules(sees_all: bool, all_categories: bool) -> dict:
    """A document (services/documents.py) is seen with its usager and read only with its
    category of the shared secret; its versions (the files) follow it."""
    if sees_all:
        return {} if all_categories else {Document: lambda cls: _readable_document(cls),
                                          DocumentVersion: lambda cls: _document_readable(cls.document_id)}
    if all_categories:
        return {Document: lambda cls: _visible(cls.usager_id), DocumentVersion: lambda cls: _visible(cls.usager_id)}
    return {Document: lambda cls: and_(_visible(cls.usager_id), _readable_document(cls)),
            DocumentVersion: lambda cls: and_(_visible(cls.usager_id), _document_readable(cls.document_id))}


_TRANSMISSION = Transmission.__table__.alias("scope_transmission")
_TRANSMISSION_LINE = TransmissionUsager.__table__.alias("scope_transmission_line")


def _readable_line(cls):
    return or_(Among(cls.sensitivity, _READABLE), Among(cls.usager_id, _EMERGENCY))


def _readable_entry(cls):
    """Its category, or an emergency access to one of its people (every category, as elsewhere)."""
    line = _TRANSMISSION_LINE.c
    return or_(Among(cls.sensitivity, _READABLE),
               exists().where(line.transmission_id == cls.id, Among(line.usager_id, _EMERGENCY)))


def _seen_entry(cls):
    """In one of the user's établissements, about at least one person the user sees."""
    line = _TRANSMISSION_LINE.c
    return and_(Among(cls.etablissement_id, _SEEN_ETABS),
                exists().where(line.transmission_id == cls.id, _visible(line.usager_id)))


def _entry_seen_and_readable(cls):
    return and_(_seen_entry(cls), _readable_entry(cls))


def _transmission_rules(sees_all: bool, all_categories: bool) -> dict:
    """A transmission is about one or several people: each person's line is seen by whoever sees
    that person and reads the transmission's category (the line repeats it); the entry itself
    (its text) by whoever reads its category in its établissement and sees at least one of its
    people. The texts a correction replaced follow their transmission."""
    if sees_all:
        if all_categories:
            return {}
        return {Transmission: lambda cls: _readable_entry(cls), TransmissionUsager: lambda cls: _readable_line(cls),
                TransmissionVersion: lambda cls: exists().where(_TRANSMISSION.c.id == cls.transmission_id,
                                                                _readable_entry(_TRANSMISSION.c))}
    if all_categories:
        return {Transmission: lambda cls: _seen_entry(cls), TransmissionUsager: lambda cls: _visible(cls.usager_id),
                TransmissionVersion: lambda cls: exists().where(_TRANSMISSION.c.id == cls.transmission_id,
                                                                _seen_entry(_TRANSMISSION.c))}
    return {
        Transmission: lambda cls: _entry_seen_and_readable(cls),
        TransmissionUsager: lambda cls: and_(_visible(cls.usager_id), _readable_line(cls)),
        TransmissionVersion: lambda cls: exists().where(_TRANSMISSION.c.id == cls.transmission_id,
                                                        _entry_seen_and_readable(_TRANSMISSION.c)),
    }


def _ecrit_rules(sees_all: bool, all_categories: bool) -> dict:
    """An écrit (services/ecrits.py) is seen in its établissement by whoever sees its usager, and
    read only with its category of the shared secret, as a PP; each saved version carries the
    usager and the category it had."""
    if sees_all:
        return {} if all_categories else {m: (lambda cls: _readable_part(cls)) for m in (Ecrit, EcritVersion)}
    if all_categories:
        return {Ecrit: lambda cls: and_(Among(cls.etablissement_id, _SEEN_ETABS), _visible(cls.usager_id)),
                EcritVersion: lambda cls: _visible(cls.usager_id)}
    return {Ecrit: lambda cls: and_(Among(cls.etablissement_id, _SEEN_ETABS), _visible(cls.usager_id), _readable_part(cls)),
            EcritVersion: lambda cls: and_(_visible(cls.usager_id), _readable_part(cls))}
_REUNION = Reunion.__table__.alias("scope_reunion")
_POINT = PointOrdreDuJour.__table__.alias("scope_reunion_point")


def _reunion_seen(reunion_id):
    r = _REUNION.c
    return exists().where(r.id == reunion_id, Among(r.etablissement_id, _SEEN_ETABS))


def _about_visible(usager_id):
    """About nobody in particular, or about someone the user sees."""
    return or_(usager_id.is_(None), _visible(usager_id))


def _readable_item(cls):
    return or_(Among(cls.sensitivity, _READABLE), Among(cls.usager_id, _EMERGENCY))


def _point_seen(cls):
    return and_(_reunion_seen(cls.reunion_id), _about_visible(cls.usager_id))


def _point_seen_and_readable(cls):
    return and_(_point_seen(cls), _readable_item(cls))


def _task_readable(cls):
    return or_(cls.sensitivity.is_(None), _readable_item(cls))


def _reunion_rules(sees_all: bool, all_categories: bool) -> dict:
    """A meeting is seen in its établissement; each agenda item is an écrit, seen only with the
    person it is about (if any) and read only with its category; its decisions follow it. A
    follow-up task is its owner's, but one about a person is seen only with that person and the
    category of the item it came from. (Rules without closure variables: SQLAlchemy caches
    each lambda once per entity.)"""
    if sees_all:
        if all_categories:
            return {}
        return {PointOrdreDuJour: lambda cls: _readable_item(cls),
                Decision: lambda cls: exists().where(_POINT.c.id == cls.point_id, _readable_item(_POINT.c)),
                Tache: lambda cls: _task_readable(cls)}
    rules = {Reunion: lambda cls: Among(cls.etablissement_id, _SEEN_ETABS),
             ReunionParticipant: lambda cls: and_(_reunion_seen(cls.reunion_id), _about_visible(cls.usager_id))}
    if all_categories:
        rules.update({PointOrdreDuJour: lambda cls: _point_seen(cls),
                      Decision: lambda cls: exists().where(_POINT.c.id == cls.point_id, _point_seen(_POINT.c)),
                      Tache: lambda cls: _about_visible(cls.usager_id)})
    else:
        rules.update({PointOrdreDuJour: lambda cls: _point_seen_and_readable(cls),
                      Decision: lambda cls: exists().where(_POINT.c.id == cls.point_id,
                                                           _point_seen_and_readable(_POINT.c)),
                      Tache: lambda cls: and_(_about_visible(cls.usager_id), _task_readable(cls))})
    return rules


PAPERS = (ContratSejour, Avenant, Devis, DevisLigne, Facture, JustificatifRessources, Aide, Assurance)
_OF_ADMISSION = (ContratSejour, Avenant)  # a contract is its établissement's, like a PP


def _paper_rules(sees_all: bool, all_categories: bool) -> dict:
    """Administrative and financial papers (services/papiers.py): each row carries its usager
    and its category (financier for money), so each is seen with its usager and read only with
    its category; a contrat de séjour and its avenants only in the établissement of their
    admission."""
    if sees_all:
        return {} if all_categories else {m: (lambda cls: _readable_part(cls)) for m in PAPERS}
    if all_categories:
        rules = {m: (lambda cls: _visible(cls.usager_id)) for m in PAPERS}
        rules.update({m: (lambda cls: and_(Among(cls.etablissement_id, _SEEN_ETABS), _visible(cls.usager_id)))
                      for m in _OF_ADMISSION})
        return rules
    rules = {m: (lambda cls: and_(_visible(cls.usager_id), _readable_part(cls))) for m in PAPERS}
    rules.update({m: (lambda cls: and_(Among(cls.etablissement_id, _SEEN_ETABS), _visible(cls.usager_id),
                                       _readable_part(cls))) for m in _OF_ADMISSION})
    return rules


_EVENT_PERSON = EvenementUsager.__table__.alias("scope_event_person")
_EVENT_PARTICIPANT = EvenementParticipant.__table__.alias("scope_event_participant")


def _seen_event(cls):
    """One of its people is visible; or it concerns nobody and is in one of the user's
    établissements (a staff meeting, a service's day); or the user takes part in it."""
    person, part = _EVENT_PERSON.c, _EVENT_PARTICIPANT.c
    return or_(exists().where(person.evenement_id == cls.id, _visible(person.usager_id)),
               and_(~exists().where(person.evenement_id == cls.id), Among(cls.etablissement_id, _SEEN_ETABS)),
               exists().where(part.evenement_id == cls.id, Among(part.user_id, _ME)))


def _agenda_rules() -> dict:
    """Agenda (models/agenda.py): an event is seen as `_seen_event` says, and each of its people
    only by who sees that person. The shared secret does not hide the slot (a colleague must
    know the person is away at 14:00): services.agenda masks its detail when serialising.
    Organisation-wide roles see every event (masked the same way)."""
    return {Evenement: lambda cls: _seen_event(cls), EvenementUsager: lambda cls: _visible(cls.usager_id)}


_THREAD = MessageThread.__table__.alias("scope_message_thread")
_PARTICIPANT = MessageRecipient.__table__.alias("scope_message_participant")


def _takes_part(thread_id):
    part = _PARTICIPANT.c
    return exists().where(part.thread_id == thread_id, Among(part.user_id, _ME))


def _thread_seen(thread_id):
    """The user takes part in the thread, and sees the usager it is about (if any)."""
    th = _THREAD.c
    return and_(_takes_part(thread_id), exists().where(th.id == thread_id, _about_visible(th.usager_id)))


def _message_rules(sees_all: bool) -> dict:
    """Messaging (models/message.py): a thread is seen only by its participants (whoever the
    user is: an organisation-wide role reads no one else's mail), and one about an usager only
    while they see that usager (a colleague who left the établissement no longer reads it).
    Its messages, attachments and participants follow it."""
    if sees_all:  # every usager is visible: taking part is the rule
        return {MessageThread: lambda cls: _takes_part(cls.id),
                **{m: (lambda cls: _takes_part(cls.thread_id)) for m in (Message, MessageAttachment, MessageRecipient)}}
    return {MessageThread: lambda cls: and_(_takes_part(cls.id), _about_visible(cls.usager_id)),
            **{m: (lambda cls: _thread_seen(cls.thread_id)) for m in (Message, MessageAttachment, MessageRecipient)}}


def sees_usager(session: Session, scope: Scope, usager_id: int) -> bool:
    """Does the user of `scope` (not necessarily the request's) see this usager? The same rule as
    every query's, evaluated with that scope (e.g. for each recipient of a message about an
    usager)."""
    if scope.sees_all or usager_id in scope.emergency_usager_ids | scope.listed_usager_ids:
        return True
    if not has_request_context():
        raise RuntimeError("sees_usager needs a request (the scope's parameters are read from it)")
    saved = g.get("sillage_scope")
    g.sillage_scope = scope
    try:
        return session.execute(select(Usager.id).where(Usager.id == usager_id)).first() is not None
    finally:
        if saved is None:
            g.pop("sillage_scope", None)
        else:
            g.sillage_scope = saved


# Relationship loads whose parent's rule implies the child's: the dossier page loads an usager
# (filtered) then its coverage, measures, admissions... Repeating the usager's visibility test
# in each of those statements only cost time.
IMPLIED = {
    (Usager, "couverture"): CouvertureSociale, (Usager, "protections"): MesureProtection,
    (Usager, "admissions"): Admission, (Usager, "demandes"): DemandeAdmission,
    (Usager, "foyer"): Foyer, (Foyer, "contacts"): ContactPerson,
}


@functools.lru_cache(maxsize=None)
def _criteria(sees_all: bool, all_categories: bool, relation=None, per_row: bool = False) -> tuple:
    """(table name, loader criteria) pairs: immutable, so one tuple serves every statement of
    every request of that shape of scope."""
    pairs = _rules(sees_all, all_categories, per_row)
    if relation is None or sees_all:
        return tuple(pairs)
    target = IMPLIED[relation]
    pairs = [(table, option) for table, option in pairs if table != target.__tablename__]
    if (option := _own_rule(target)) is not None:
        pairs.append((target.__tablename__, option))
    return tuple(pairs)


@functools.lru_cache(maxsize=4096)
def _options(shape: tuple, tables: frozenset) -> tuple:
    """`_criteria(*shape)`'s options for the tables a statement reads: a few shapes of scope times
    the tables' combinations that the application's statements read, each chosen once."""
    return tuple(option for table, option in _criteria(*shape) if table in tables)


def scope_for_user(session: Session, user) -> Scope:
    """Build a user's scope from their roles and établissement/service assignments."""
    months = current_app.config["SILLAGE_SCOPE_MONTHS_AFTER_EXIT"]
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(months_after_exit=months, readable=frozenset(), writable=frozenset())
    role_ids = tuple(sorted(r.id for r in user.roles))
    readable, writable = stamp.cached(session, ("categories", role_ids), lambda: _categories(session, role_ids))
    emergency = _emergency_usagers(session, user.id)
    org_wide = set(current_app.config["SILLAGE_ORG_WIDE_ROLES"])
    if any(role.name in org_wide for role in user.roles):
        return Scope(sees_all=True, months_after_exit=months, readable=readable, writable=writable,
                     emergency_usager_ids=emergency, user_id=user.id)
    whole, services, service_etabs = stamp.cached(session, ("assignments", user.id),
                                                  lambda: _assignments(session, user.id))
    return Scope(False, whole, services, service_etabs, months, readable, writable, emergency, user.id)


def _assignments(session, user_id) -> tuple[frozenset, frozenset, frozenset]:
    """(whole établissements, services, établissements of those services) of a user."""
    sa = StaffAssignment.__table__
    svc = Service.__table__
    rows = session.execute(
        select(sa.c.etablissement_id, sa.c.service_id, svc.c.etablissement_id)
        .select_from(sa.outerjoin(svc, svc.c.id == sa.c.service_id))
        .where(sa.c.user_id == user_id),
        execution_options={UNSCOPED: True},
    ).all()
    whole = frozenset(e for e, s, _ in rows if s is None)
    services = frozenset(s for e, s, _ in rows if s is not None and e not in whole)
    service_etabs = frozenset(se for e, s, se in rows if s is not None and e not in whole)
    return whole, services, service_etabs


def _categories(session, role_ids) -> tuple[frozenset, frozenset]:
    """Categories read / written through these roles; the Administrateur's never go beyond
    ADMIN_CATEGORIES, whatever its rows say."""
    from ..models import CategoryAccess, Role
    from .roles import category_grantable

    rows = session.execute(select(Role.name, CategoryAccess.category, CategoryAccess.can_read, CategoryAccess.can_write)
                           .join(Role, Role.id == CategoryAccess.role_id)
                           .where(CategoryAccess.role_id.in_(role_ids)), execution_options={UNSCOPED: True}).all()
    rows = [(c, r, w) for role, c, r, w in rows if category_grantable(role, c)]
    return (frozenset(c for c, r, w in rows if r or w), frozenset(c for c, _r, w in rows if w))


def _emergency_usagers(session, user_id) -> frozenset:
    """Usagers opened in an emergency and not expired (grants cached, expiry checked now)."""
    from ..models import EmergencyAccess
    from ..models.base import utcnow

    def load():
        return tuple(session.execute(
            select(EmergencyAccess.usager_id, EmergencyAccess.expires_at).where(
                EmergencyAccess.user_id == user_id, EmergencyAccess.expires_at > utcnow()),
            execution_options={UNSCOPED: True}).all())

    now = utcnow()
    return frozenset(u for u, expires in stamp.cached(session, ("emergency", user_id), load) if expires > now)


def _request_user():
    """The request's user: the browser session's (Flask-Login keeps it for the request), else the
    API token's. A token is checked once per request: FAB's `protect` has usually checked it
    already (its user is then on `g`), and the scope, the audit of writes and the read audit all
    ask; each check decodes the token and reads its session row (issue 20)."""
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return current_user
    if "sillage_jwt_user" not in g:
        g.sillage_jwt_user = _jwt_user()
    return g.sillage_jwt_user


def _jwt_user():
    checked = g.get("_jwt_extended_jwt")
    if checked and checked.get("type") == "access" and g.get("_jwt_extended_jwt_user"):
        return g._jwt_extended_jwt_user["loaded_user"] or None  # checked by `protect`, session row included
    try:
        from flask_jwt_extended import current_user as jwt_user, verify_jwt_in_request

        verify_jwt_in_request(optional=True)
        return jwt_user if jwt_user else None
    except Exception:  # no or bad token: anonymous, sees nothing
        return None


def current_scope() -> Scope | None:
    """The scope of the request's user (cached for the request); None outside a request."""
    if not has_request_context():
        return None
    if "sillage_scope" not in g:
        g.sillage_scope = Scope(months_after_exit=0)  # guard against re-entrance while loading
        from ..extensions import db

        g.sillage_scope = scope_for_user(db.session, _request_user())
    return g.sillage_scope


@contextmanager
def reading_every_category():
    """The complete export for the person (RGPD art. 15), and nothing else: within the block the
    user's rows stay those of their scope but every category of the shared secret is read. The
    caller records the act (an access request answered, audited as such); objects loaded before
    (with fields hidden) are expired so that they load again whole, and again after."""
    from ..extensions import db

    scope = current_scope()
    db.session.expire_all()
    g.sillage_scope = replace(scope, readable=None)
    try:
        yield
    finally:
        g.sillage_scope = scope
        db.session.expire_all()


def reset_scope():
    """Forget the cached scope (after login, or when assignments change in the request)."""
    if has_request_context():
        g.pop("sillage_scope", None)
        g.pop("sillage_jwt_user", None)


SCOPED_ENTITIES = frozenset((
    Usager, Admission, DemandeAdmission, CouvertureSociale, MesureProtection, Foyer, ContactPerson,
    Etablissement, Service, StaffAssignment, Evaluation, EvaluationResult, ProjetPersonnalise, ProjetAttente,
    ProjetObjectif, ProjetAction, ProjetBilan, ProjetBilanObjectif, ProjetParticipation, ProjetSignature,
    RectificationRequest, ErasureRequest, AccessRequest, IdentityReferral, Document, DocumentVersion, Transmission,
    TransmissionUsager, TransmissionVersion, Ecrit, EcritVersion, Reunion, ReunionParticipant, PointOrdreDuJour,
    Decision, Tache, *PAPERS, Evenement, EvenementUsager, MessageThread, Message, MessageAttachment, MessageRecipient,
    PortalAccess))
SCOPED_TABLES = frozenset(m.__tablename__ for m in SCOPED_ENTITIES)


_relation_tables: dict = {}  # relationship → the tables its loads read
_constants: dict = {}  # id(statement) → (statement, tables, {id(options): (options, filtered statement)})
MAX_CONSTANTS = 512


def constant(statement):
    """`statement`, built once (at import) and executed with bound parameters, marked so that
    the hook filters it once per shape of scope and keeps the result: the same statement object
    then brings its cache key, which SQLAlchemy memoizes on it, instead of computing a new one at
    every execution (with the table walk and the criteria, a third of a dossier panel's statement)."""
    return statement.execution_options(**{CONSTANT: True})


def _tables(statement) -> frozenset:
    return frozenset(getattr(t, "name", None) for t in find_tables(statement, include_aliases=True, include_joins=True))


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state):
    # Applied to every ORM SELECT, not only those whose top level names a scoped entity: the
    # criteria also reach subqueries (a COUNT over a subquery of usagers is filtered too).
    if not state.is_select or state.is_column_load:
        return
    if state.execution_options.get(UNSCOPED):
        # The relationship shortcut above trusts that every scoped row in the session passed
        # the scope: unscoped statements may count or read columns, never load such rows.
        if any(d.get("entity") in SCOPED_ENTITIES and d.get("expr") is d.get("entity")
               for d in getattr(state.statement, "column_descriptions", ())):
            raise RuntimeError("an unscoped statement may not load scoped entities")
        return
    # Only the criteria of the tables the statement reads, subqueries included: each option
    # adds to the statement's cache key, which SQLAlchemy computes at every execution. Checking
    # the tables first also keeps the loading of the user (by Flask-Login) out of the hook.
    # Tables reached only by a joined eager load are not among them: Sillage's joined loads
    # (admission → service, modality, exit reason; demande → établissement; service →
    # établissement) reach rows that the parent's own rule already implies visible, or
    # reference lists.
    if state.execution_options.get(CONSTANT):
        _apply_scope_to_constant(state)
        return
    relation = None
    if state.is_relationship_load and (path := state.loader_strategy_path) is not None:
        prop = path[-1]
        relation = (prop.parent.class_, prop.key)
        tables = _relation_tables.get(prop)
        if tables is None:  # a relationship's load always reads the same tables: look once
            tables = _relation_tables[prop] = _tables(state.statement)
    else:
        tables = _tables(state.statement)
    if options := _criteria_for(state, tables, relation):
        state.statement = state.statement.options(*options)


def _criteria_for(state, tables: frozenset, relation=None) -> tuple:
    """The request's scope's criteria for a statement reading `tables` (none outside a scope)."""
    if not tables & SCOPED_TABLES:
        return ()
    scope = current_scope()
    if scope is None or not scope.filters_rows:
        return ()
    return scope.criteria(tables, relation, bool(state.execution_options.get(PER_ROW)))


def _apply_scope_to_constant(state):
    """The hook's rule for a `constant()` statement: the same criteria, each filtered statement
    made once per process and shape of scope. (The criteria's values are parameters read at each
    execution, see `_bound`: a kept statement never carries one user's scope to another.)"""
    statement = state.statement
    entry = _constants.get(id(statement))
    if entry is None or entry[0] is not statement:
        entry = (statement, _tables(statement), {})
        if len(_constants) < MAX_CONSTANTS:  # (a statement built per call, marked by mistake: no leak)
            _constants[id(statement)] = entry
    if not (options := _criteria_for(state, entry[1])):
        return
    filtered = entry[2].get(id(options))
    if filtered is None:
        filtered = entry[2][id(options)] = (options, statement.options(*options))
    state.statement = filtered[1]
