"""Audit of every write and every read of personal data, in one place.

- Writes: a `before_flush` hook on every session records who changed which fields and stamps
  created_by / updated_by. Old and new values are copied only for administrative data; secrets,
  free text and the values of any other category of the shared secret (answers, computed
  values, indexed results, PP content) are recorded as "modifié" (`copyable`). The rows are chained and inserted in the same
  transaction (`after_flush`): if they cannot be written, the change is not committed either.
- Reads: a `load` hook on every class holding personal data collects the ids a request read;
  one `after_request` hook writes a single "read" entry with the path and the ids (search
  results included), whatever view, API endpoint or export served them.
- Events (sign-in, failed sign-in, second factor, break-the-glass…): `record_event`.
"""
from __future__ import annotations

import datetime as dt
import decimal
import functools
import re

from flask import current_app, g, has_request_context, request
from sqlalchemy import Boolean, Date, DateTime, Integer, Text, event, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..domain.forms.definition import all_fields, answer_categories
from ..models import (
    Admission, Aide, Assurance, Avenant, ContactPerson, ContratSejour, CouvertureSociale, DemandeAdmission,
    Devis, Document, Ecrit, Etablissement, Evaluation, EvaluationResult, Evenement, EvenementUsager, Facture,
    Foyer, JustificatifRessources, Message, MessageThread, MesureProtection, PortalAccess, ProjetPersonnalise, Service,
    StaffAssignment, Transmission,
    TransmissionUsager, Usager,
)
from ..models.reunion import Decision, PointOrdreDuJour, Tache
from ..models.base import ArchivableMixin, TrackedMixin, utcnow
from . import audit_chain

IGNORED_FIELDS = {"version", "created_at", "updated_at", "created_by_id", "updated_by_id",
                  "search_text", "dup_key", "phon_key", "changed_on", "created_on", "last_login", "login_count",
                  "fail_login_count", "totp_last_step", "last_used_at"}
REDACTED_FIELDS = {"password", "totp_secret", "code_hash", "token_hash", "email_code_hash"}  # changed, never copied
ADMINISTRATIVE = "administratif"
# What the trail may copy of a row of another category than administratif (a care evaluation, a
# PP objective): who, when, which state; never what it says.
STRUCTURAL_STRINGS = {"status", "statut", "sensitivity", "form_code", "type", "etape"}
FREE_TEXT_FIELD_TYPES = {"text", "long_text"}
CHANGED = "modifié"
# Drafts are their author's scratchpad, autosaved every few seconds: auditing them would copy
# typed health data into the trail; what counts is audited when the form is saved.
UNAUDITED = {"AuditEvent", "AuditHead", "AuditCheckpoint", "WebSession", "LoginThrottle", "FormDraft"}
# Classes whose loading is a read of personal data.
READ_AUDITED = (Usager, Admission, DemandeAdmission, Foyer, ContactPerson, CouvertureSociale,
                MesureProtection, Evaluation, ProjetPersonnalise, Document, Transmission, TransmissionUsager,
                Ecrit, PointOrdreDuJour, Decision, Tache, ContratSejour, Avenant, Devis, Facture,
                JustificatifRessources, Aide, Assurance, Evenement, EvenementUsager, MessageThread, Message,
                PortalAccess)


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):  # a file's bytes (a logo): its size, never its content
        return f"{len(value)} octets"
    return value


def current_actor() -> tuple[int | None, str]:
    """(user id, username) of whoever acts now; the system outside a request. A portal session
    (app/web/portal) acts as "portail:<account id>", never as a staff account."""
    if not has_request_context():
        return None, "system"
    if g.get("portal_actor"):
        return None, g.portal_actor
    from .scope import _request_user

    user = _request_user()
    if user is None:
        return None, "anonymous"
    return user.id, user.username


# Paths whose last part is a credential (the agenda's feed token): the trail keeps its first
# characters only, whoever asks and whatever the answer.
_SECRET_PATH = re.compile(r"(/agenda/flux/.{0,7})[^/]*")


def logged_path(path: str) -> str:
    """A request path as the trail may keep it (credentials in paths masked), at most 300 chars."""
    return _SECRET_PATH.sub(lambda m: m.group(1) + "…", path)[:300]


def _logged_arg(name: str, value):
    """A route argument as the trail keeps it: a `token` (a credential) masked like its path."""
    if not isinstance(value, str):
        return value
    return value[:7] + "…" if name == "token" else value[:100]


def _origin() -> dict:
    if not has_request_context():
        return {"remote_addr": None, "client": "cli"}
    return {"remote_addr": request.remote_addr, "client": (request.user_agent.string or "")[:200]}


def _usager_id(obj):
    if isinstance(obj, Usager):
        return obj.id
    return getattr(obj, "usager_id", None)


def _category(obj) -> str | None:
    """The shared-secret category of a row (None: unknown, treated as sensitive)."""
    if isinstance(obj, EvaluationResult):
        evaluation = obj.evaluation
        return obj.sensitivity or (evaluation.sensitivity if evaluation is not None else None)
    return getattr(obj, "sensitivity", ADMINISTRATIVE)


def copyable(model, key: str, category: str | None) -> bool:
    """May the trail (and its pages) hold this column's values in clear? Never for secrets and
    free text (Text columns: a comment says anything); for a row of a category other than
    administratif, only its links, dates and states."""
    if key in REDACTED_FIELDS or not getattr(model, "audit_copies_values", True):
        return False
    column = model.__table__.columns.get(key) if hasattr(model, "__table__") else None
    if column is None or isinstance(column.type, Text):
        return False
    if category == ADMINISTRATIVE:
        return True
    if column.foreign_keys or key in STRUCTURAL_STRINGS:
        return True
    return isinstance(column.type, (Integer, Date, DateTime, Boolean))  # not Float: a measure


def _definition_data(evaluation: Evaluation) -> dict:
    definition = evaluation.definition
    if definition is None and evaluation.definition_id:
        from sqlalchemy.orm import object_session

        from ..models import FormDefinition

        with object_session(evaluation).no_autoflush:
            definition = object_session(evaluation).get(FormDefinition, evaluation.definition_id)
    return definition.data if definition else {}


def _copyable_codes(evaluation: Evaluation) -> set[str]:
    """Answer and computed codes whose values the trail may copy: administrative, not free text."""
    data = _definition_data(evaluation)
    own = answer_categories(data)
    form_category = evaluation.sensitivity or data.get("sensitivity") or ADMINISTRATIVE
    return {f["code"] for f, _parts in all_fields(data)
            if f.get("type") not in FREE_TEXT_FIELD_TYPES and f.get("type") != "group"
            and (own.get(f["code"]) or {form_category}) == {ADMINISTRATIVE}}


def _redact_values(copyable_codes: set, old, new) -> dict:
    old, new = old or {}, new or {}
    out = {}
    for code in sorted(set(old) | set(new)):
        if old.get(code) == new.get(code):
            continue
        out[code] = [_plain(old.get(code)), _plain(new.get(code))] if code in copyable_codes else CHANGED
    return out


def _changes(obj) -> dict:
    changes = {}
    state = inspect(obj)
    category = _category(obj)
    codes = None
    for attr in state.mapper.column_attrs:
        if attr.key in IGNORED_FIELDS:
            continue
        hist = state.attrs[attr.key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        if isinstance(obj, Evaluation) and attr.key in ("answers", "computed"):
            codes = _copyable_codes(obj) if codes is None else codes
            changes[attr.key] = _redact_values(codes, old, new)
        elif copyable(type(obj), attr.key, category):
            changes[attr.key] = [_plain(old), _plain(new)]
        else:
            changes[attr.key] = CHANGED
    for rel in state.mapper.relationships:  # role ↔ user, permission ↔ role links
        if not rel.uselist or rel.viewonly or rel.secondary is None:
            continue
        hist = state.attrs[rel.key].history
        if hist.added or hist.deleted:
            changes[rel.key] = {"ajouts": sorted(str(o) for o in hist.added),
                                "retraits": sorted(str(o) for o in hist.deleted)}
    return changes


def _audited(obj) -> bool:
    return type(obj).__name__ not in UNAUDITED


@event.listens_for(Session, "before_flush")
def _record_writes(session, flush_context, instances):
    user_id, username = current_actor()
    pending = []
    for obj in list(session.new):
        if not _audited(obj):
            continue
        if isinstance(obj, TrackedMixin):
            obj.created_by_id = obj.created_by_id or user_id
            obj.updated_by_id = user_id
        pending.append((obj, "create"))
    for obj in list(session.dirty):
        if not _audited(obj) or not session.is_modified(obj):
            continue
        if isinstance(obj, TrackedMixin) and session.is_modified(obj, include_collections=False):
            obj.updated_by_id = user_id
        action = "update"
        if isinstance(obj, ArchivableMixin):
            hist = inspect(obj).attrs["archived_at"].history
            if hist.has_changes():
                action = "archive" if obj.archived_at is not None else "restore"
        pending.append((obj, action))
    for obj in list(session.deleted):
        if _audited(obj):
            pending.append((obj, "delete"))
    entries = []
    with session.no_autoflush:
        for obj, action in pending:
            changes = _changes(obj)
            if action == "update" and not changes:  # only bookkeeping fields moved
                continue
            entries.append((obj, action, changes, _labels(session, obj), user_id, username))
    session.info.setdefault("sillage_audit", []).extend(entries)


def _labels(session, obj) -> dict | None:
    """Names beside the ids where ids alone say nothing to a reader of the trail: who was given
    which établissement and service (names as they are at the time of the change)."""
    if not isinstance(obj, StaffAssignment):
        return None
    from ..models import User
    from .scope import UNSCOPED

    def name(column, key, ident):
        return session.execute(select(column).where(key == ident), execution_options={UNSCOPED: True}).scalar() \
            if ident else None

    return {"utilisateur": name(User.username, User.id, obj.user_id),
            "etablissement": name(Etablissement.name, Etablissement.id, obj.etablissement_id),
            "service": name(Service.name, Service.id, obj.service_id)}


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session, flush_context):
    """Ids of new rows exist only after the flush: chain and write the rows now, same transaction."""
    entries = session.info.pop("sillage_audit", [])
    if not entries:
        return
    origin, now = _origin(), utcnow()
    rows = [
        {"at": now, "user_id": user_id, "username": username, **origin, "action": action,
         "entity": type(obj).__name__, "entity_id": getattr(obj, "id", None), "usager_id": _usager_id(obj),
         "version": getattr(obj, "version", None), "changes": changes or None, "details": labels}
        for obj, action, changes, labels, user_id, username in entries
    ]
    audit_chain.append(session.connection(), rows)


def record_event(action: str, *, user_id=None, username=None, entity="Compte", entity_id=None,
                 usager_id=None, details=None, connection=None, durable=True) -> None:
    """An event that is not a row change (sign-in, second factor, export…), in its own
    transaction unless a connection is given (then it commits or fails with the caller)."""
    if user_id is None and username is None:
        user_id, username = current_actor()
    row = {"at": utcnow(), "user_id": user_id, "username": username, **_origin(), "action": action,
           "entity": entity, "entity_id": entity_id, "usager_id": usager_id, "version": None,
           "changes": None, "details": details}
    if connection is not None:
        audit_chain.append(connection, [row])
        return
    from ..extensions import db

    if durable:
        with db.engine.begin() as conn:
            audit_chain.append(conn, [row])
        return
    engine = _reads_engine(db.engine)
    try:
        with engine.begin() as conn:
            audit_chain.append(conn, [row])
    except DBAPIError as exc:  # a connection the server dropped (restart): the pool is renewed, once more
        if not exc.connection_invalidated:
            raise
        with engine.begin() as conn:
            audit_chain.append(conn, [row])


def _reads_engine(engine):
    """Read entries commit in transactions of their own. On PostgreSQL they go through a small
    pool whose sessions do not wait for the WAL flush at commit (synchronous_commit off): a server
    crash in the next few hundred milliseconds could lose the last read entries, whole (the chain
    stays valid), and the reader never waits for the disk. Changes stay fully durable. No
    pre-ping (a round trip per page): a dropped connection is retried once by record_event."""
    if engine.dialect.name != "postgresql":
        return engine
    cached = current_app.extensions.get("sillage_reads_engine")
    if cached is None or cached.url != engine.url:
        from sqlalchemy import create_engine

        cached = create_engine(engine.url, pool_size=2, max_overflow=5,
                               connect_args={"options": "-c synchronous_commit=off"})
        current_app.extensions["sillage_reads_engine"] = cached
    return cached


# --- reads -------------------------------------------------------------------------------------

def _on_load(target, context):
    if not has_request_context():
        return
    request_g = g._get_current_object()  # (once: called for each row of a list)
    reads = request_g.setdefault("sillage_reads", {})
    reads.setdefault(type(target).__name__, set()).add(target.id)
    usager_id = _usager_id(target)
    if usager_id is not None:
        request_g.setdefault("sillage_read_usagers", set()).add(usager_id)


for _cls in READ_AUDITED:
    event.listen(_cls, "load", _on_load)


def rows_read(model, ids, usager_ids=()) -> None:
    """Rows a request read as plain columns, without loading objects (an API list): recorded as
    their loading would have been."""
    if not has_request_context() or not issubclass(model, READ_AUDITED):
        return
    request_g = g._get_current_object()
    request_g.setdefault("sillage_reads", {}).setdefault(model.__name__, set()).update(ids)
    usager_ids = [u for u in usager_ids if u is not None]
    if usager_ids:
        request_g.setdefault("sillage_read_usagers", set()).update(usager_ids)


def unaudited_read() -> None:
    """This request's loads are not a consultation (a draft autosaved by the user's own browser
    loads the usager to check access: recording it would drown the dossier's real readers)."""
    g.sillage_unaudited_read = True


DENIED = (403, 404)


def _record_denied(status: int) -> None:
    """A signed-in user refused (403) or sent to a page outside their scope (404): a probe of
    other établissements' ids leaves a trace, under the usager it aimed at."""
    user_id, username = current_actor()
    if user_id is None and not g.get("portal_actor"):
        return
    args = {k: v for k, v in (request.view_args or {}).items() if isinstance(v, (int, str))}
    target = args.get("usager_id") if isinstance(args.get("usager_id"), int) else None
    record_event("denied", user_id=user_id, username=username, entity="Acces", usager_id=target,
                 details={"method": request.method, "path": logged_path(request.path), "status": status,
                          "args": {k: _logged_arg(k, v) for k, v in list(args.items())[:10]}},
                 durable=False)


def init_read_audit(app) -> None:
    @app.after_request
    def _record_reads(response):
        reads = g.pop("sillage_reads", None)
        if response.status_code in DENIED:
            _record_denied(response.status_code)
        if g.pop("sillage_unaudited_read", False):
            return response
        if not reads or not current_app.config.get("SILLAGE_AUDIT_READS", True):
            return response
        usagers = sorted(g.pop("sillage_read_usagers", set()))
        details = {"method": request.method, "path": logged_path(request.path), "status": response.status_code,
                   "ids": {name: sorted(ids)[:500] for name, ids in sorted(reads.items())},
                   "usagers": usagers[:500]}
        # (no query string: search terms may hold a name that must not outlive an erasure)
        single = usagers[0] if len(usagers) == 1 else None
        record_event("read", entity="Usager" if usagers else next(iter(sorted(reads))),
                     entity_id=single, usager_id=single, details=details, durable=False)
        return response


# --- what the audit pages show -------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _models_by_name() -> dict:
    from flask_appbuilder import Model

    return {m.class_.__name__: m.class_ for m in Model.registry.mappers if hasattr(m.class_, "__table__")}


def shown_changes(entity: str, changes, readable) -> dict | None:
    """An entry's changes as an audit page may show them to a reader of `readable` categories
    (None: all): the same rule as what the trail copies, applied again to what it holds (entries
    written before that rule included), and nothing in clear to who does not read
    administrative data."""
    if not changes or changes == audit_chain.ERASED:
        return changes
    model = _models_by_name().get(entity)
    blind = readable is not None and ADMINISTRATIVE not in readable
    category = _display_category(model)
    shown = {}
    for key, value in changes.items():
        if isinstance(value, dict) and set(value) == {"ajouts", "retraits"}:  # role and permission links
            shown[key] = value if not blind else CHANGED
        elif isinstance(value, dict):  # answers or computed values of an evaluation, code by code
            shown[key] = {code: CHANGED for code in value}
        elif value == CHANGED or blind or model is None or not copyable(model, key, category):
            shown[key] = CHANGED
        else:
            shown[key] = value
    return shown


def _display_category(model) -> str | None:
    """A row's category is not kept in its entries: rows that carry one are shown as sensitive."""
    if model is None or "sensitivity" in model.__table__.columns:
        return None
    return ADMINISTRATIVE
