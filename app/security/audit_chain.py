"""The audit trail's hash chain: append, verify, purge with a signed checkpoint.

Each row's `hash` is an HMAC (key from the instance, never in the database) over the row's
content and the previous row's hash. Someone who edits the database can change a row, but not
compute the matching hashes without the key: `verify` names the first row that does not match.
Writers serialise on the single `audit_head` row (its UPDATE is the first statement), so two
app servers never fork the chain.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, select, update

from ..models import AuditCheckpoint, AuditEvent, AuditHead, AuditUsager
from ..models.base import utcnow
from . import audit_anchor

GENESIS = "0" * 64
HASHED_FIELDS = ("id", "at", "user_id", "username", "remote_addr", "client", "action", "entity",
                 "entity_id", "usager_id", "version", "changes_hash", "details", "prev_hash")
ERASED = {"effacé": "usager anonymisé"}  # what an erased usager's entries keep of their values
ERASURE_ACTION = "erasure"
events, heads, links = AuditEvent.__table__, AuditHead.__table__, AuditUsager.__table__
# Built once: building an INSERT of the JSON columns at each call cost about a millisecond of
# cache-key work in SQLAlchemy, for every audited request.
# Locking the head and reading it are one statement (row lock on PostgreSQL, write lock on SQLite).
_LOCK_HEAD = (update(heads).where(heads.c.id == 1).values(last_id=heads.c.last_id)
              .returning(heads.c.last_id, heads.c.last_hash))
_INSERT = insert(events)
_MOVE_HEAD = update(heads).where(heads.c.id == 1)
_LINK = insert(links)
# One entry (a read): insert it and move the head in one statement, on PostgreSQL (a DML CTE).
# Parameters are prefixed: a plain "id" would also set audit_head.id in the CTE's UPDATE.
_INSERT_MOVING = insert(events).values({c.name: bindparam(f"ev_{c.name}") for c in events.columns}).add_cte(
    update(heads).where(heads.c.id == 1)
    .values(last_id=bindparam("head_id"), last_hash=bindparam("head_hash")).cte("moved_head"))


def _key() -> bytes:
    configured = current_app.config.get("SILLAGE_AUDIT_KEY")
    secret = configured or hmac.new(current_app.config["SECRET_KEY"].encode(), b"sillage-audit",
                                    hashlib.sha256).hexdigest()
    return secret.encode()


def _canonical(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    return value


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def changes_hash(changes, key: bytes) -> str | None:
    if changes is None:
        return None
    return hmac.new(key, _json(changes).encode(), hashlib.sha256).hexdigest()


def row_hash(row: dict, key: bytes) -> str:
    payload = json.dumps({f: _canonical(row.get(f)) for f in HASHED_FIELDS}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def append(connection, rows: list[dict]) -> None:
    """Chain and insert `rows` (dicts of AuditEvent columns) in the caller's transaction."""
    if not rows:
        return
    last_id, last_hash = connection.execute(_LOCK_HEAD).one()
    key = _key()
    chained = []
    for row in rows:
        last_id += 1
        row = {**row, "id": last_id, "prev_hash": last_hash, "at": row.get("at") or utcnow(),
               "changes_hash": changes_hash(row.get("changes"), key)}
        row["hash"] = last_hash = row_hash(row, key)
        chained.append(row)
    if len(chained) == 1 and connection.dialect.name == "postgresql":  # one round trip less
        row = chained[0]
        connection.execute(_INSERT_MOVING, {**{f"ev_{c.name}": row.get(c.name) for c in events.columns},
                                            "head_id": last_id, "head_hash": last_hash})
    else:
        connection.execute(_INSERT, chained)
        connection.execute(_MOVE_HEAD, {"last_id": last_id, "last_hash": last_hash})
    several = [{"audit_id": row["id"], "usager_id": u} for row in chained if row.get("usager_id") is None
               for u in sorted(set((row.get("details") or {}).get("usagers") or ()))]
    if several:
        connection.execute(_LINK, several)
    audit_anchor.note(connection, last_id, last_hash, key)  # written outside the database once committed


@dataclass
class Verdict:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""
    anchored_id: int | None = None  # the last entry vouched for outside the database


def _checkpoint_signature(cp: dict, key: bytes) -> str:
    text = f"{cp['purged_before'].isoformat()}|{cp['last_id']}|{cp['last_hash']}|{cp['purged_count']}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def verify(connection, batch: int = 5000, anchors=None) -> Verdict:
    """Walk the chain from the last checkpoint (or the start) to the head, then check the head
    against the anchor files (default: this server's; an empty list checks the chain alone)."""
    key = _key()
    external = audit_anchor.Anchors([audit_anchor.configured_path()] if anchors is None else anchors)
    checkpoint = connection.execute(
        select(AuditCheckpoint.__table__).order_by(AuditCheckpoint.id.desc()).limit(1)).mappings().first()
    expected_id, expected_prev = 0, GENESIS
    if checkpoint:
        if not hmac.compare_digest(checkpoint["signature"], _checkpoint_signature(checkpoint, key)):
            return Verdict(False, 0, checkpoint["last_id"], "point de contrôle de purge altéré")
        expected_id, expected_prev = checkpoint["last_id"], checkpoint["last_hash"]
    head = connection.execute(select(heads.c.last_id, heads.c.last_hash).where(heads.c.id == 1)).one()
    erased_usagers, erased_entities = set(), set()
    for usager_id, details in connection.execute(select(events.c.usager_id, events.c.details)
                                                 .where(events.c.action == ERASURE_ACTION)):
        erased_usagers.add(usager_id)
        erased_entities.update((name, eid) for name, eid in (details or {}).get("entites", []))
    checked, after = 0, expected_id
    while True:
        chunk = connection.execute(select(events).where(events.c.id > after).order_by(events.c.id)
                                   .limit(batch)).mappings().all()
        if not chunk:
            break
        for row in chunk:  # ids may have gaps (rolled-back transactions): the hashes tell
            if row["prev_hash"] != expected_prev:
                return Verdict(False, checked, row["id"],
                               "chaînage rompu : l'entrée précédente a été supprimée, insérée ou modifiée")
            if not hmac.compare_digest(row["hash"], row_hash(dict(row), key)):
                return Verdict(False, checked, row["id"], "contenu modifié")
            if row["changes_hash"] != changes_hash(row["changes"], key) and not (
                    row["changes"] == ERASED and (row["usager_id"] in erased_usagers
                                                  or (row["entity"], row["entity_id"]) in erased_entities)):
                return Verdict(False, checked, row["id"], "valeurs modifiées")
            expected_id, expected_prev = row["id"], row["hash"]
            checked += 1
        after = chunk[-1]["id"]
    if (head.last_id, head.last_hash) != (expected_id, expected_prev):
        return Verdict(False, checked, head.last_id if head.last_id > expected_id else expected_id,
                       "fin de la chaîne supprimée, ou tête de chaîne altérée")
    found = external.check(connection, key, head.last_id, checkpoint) if external.files else audit_anchor.Finding()
    if found.problem:
        return Verdict(False, checked, found.bad_id, found.problem)
    return Verdict(True, checked, anchored_id=found.anchored_id)


def purge(connection, before: dt.datetime) -> int:
    """Delete entries older than `before`, keeping a signed checkpoint of the last one removed."""
    connection.execute(update(heads).where(heads.c.id == 1).values(last_id=heads.c.last_id))
    last = connection.execute(select(events.c.id, events.c.hash).where(events.c.at < before)
                              .order_by(events.c.id.desc()).limit(1)).first()
    if last is None:
        return 0
    count = connection.execute(select(func.count()).select_from(events).where(events.c.id <= last.id)).scalar()
    cp = {"at": utcnow(), "purged_before": before, "last_id": last.id, "last_hash": last.hash,
          "purged_count": count}
    cp["signature"] = _checkpoint_signature(cp, _key())
    connection.execute(insert(AuditCheckpoint.__table__), [cp])
    connection.execute(delete(events).where(events.c.id <= last.id))
    connection.execute(delete(links).where(links.c.audit_id <= last.id))
    return count


def erase_values(connection, usager_id: int, entities=()) -> int:
    """Blank the old/new values of an usager's entries (and of `entities`, [name, id] pairs such
    as their foyer's contacts) for anonymisation. The chain still verifies: it covers the values'
    HMAC, and the erasure entry naming them is itself in the chain."""
    count = connection.execute(update(events).where(events.c.usager_id == usager_id, events.c.changes.is_not(None))
                               .values(changes=ERASED)).rowcount
    for name, entity_id in entities:
        count += connection.execute(update(events).where(events.c.entity == name, events.c.entity_id == entity_id,
                                                         events.c.changes.is_not(None)).values(changes=ERASED)).rowcount
    return count
