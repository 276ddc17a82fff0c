"""The audit chain's end, anchored outside the database.

The hash chain (audit_chain) shows an entry changed, inserted or removed in the middle, and
`audit_head` names its end. But whoever can write to the database can delete the last entries and
move `audit_head` back, or empty the whole trail: what is left is still a valid chain. So, after
each commit that appended entries, one line goes to a file the database does not hold
(SILLAGE_AUDIT_ANCHOR):

    2026-05-04T09:12:03.123456Z head 1234 <hash of entry 1234> <HMAC of the four fields>

signed with a key derived from the audit key (instance, never in the database). `verify` then
requires every anchored entry to be in the chain with that hash: a truncated tail, an emptied
trail or a replaced end is named, and a forged line fails its HMAC.

- Written after the commit, never before (a rolled-back transaction anchors nothing): `append`
  notes the new head on the connection, the engine's commit event marks it as committing, and it
  is written when the connection goes back to the pool or starts its next transaction, unless the
  commit failed. One small write per committed transaction, not per entry.
- One `write()` on a descriptor opened with O_APPEND: lines of several gunicorn workers never
  interleave on a local disk. Several app servers: each its own file, and `verify --anchor` given
  all of them (lines from any file count).
- `reanchor` starts over after a legitimate restore: lines older than its own are set aside. It
  needs the key and the server's shell, is recorded in the trail, and leaves the old lines in place.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from ..models import AuditEvent, AuditHead

HEAD, REANCHOR = "head", "reanchor"
_PENDING, _COMMITTING = "sillage_anchor_pending", "sillage_anchor_committing"
_BATCH = 5000
log = logging.getLogger(__name__)


def configured_path() -> str:
    return current_app.config["SILLAGE_AUDIT_ANCHOR"]


def _mac_key(audit_key: bytes) -> bytes:
    return hmac.new(audit_key, b"sillage-audit-anchor", hashlib.sha256).digest()


def _mac(mac_key: bytes, fields: str) -> str:
    return hmac.new(mac_key, fields.encode(), hashlib.sha256).hexdigest()


def write(path: str, mac_key: bytes, kind: str, seq: int, entry_hash: str) -> str:
    """Append one signed line (one write(), O_APPEND, file created 0600); returns its time."""
    at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = f"{at} {kind} {seq} {entry_hash}"
    data = f"{fields} {_mac(mac_key, fields)}\n".encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return at


def note(connection, seq: int, entry_hash: str, audit_key: bytes) -> None:
    """Called by audit_chain.append: the head to anchor if this transaction commits."""
    connection.info[_PENDING] = (configured_path(), _mac_key(audit_key), seq, entry_hash)


# --- after the commit (connection.info lives with the pooled DBAPI connection) ------------------

@event.listens_for(Engine, "commit")
def _committing(conn):
    pending = conn.info.pop(_PENDING, None)
    if pending:
        conn.info[_COMMITTING] = pending


@event.listens_for(Engine, "rollback")
def _rolled_back(conn):
    conn.info.pop(_PENDING, None)
    conn.info.pop(_COMMITTING, None)


@event.listens_for(Engine, "rollback_savepoint")
def _savepoint_rolled_back(conn, name, context):
    conn.info.pop(_PENDING, None)  # the head before the savepoint is unknown here: anchor nothing


@event.listens_for(Engine, "handle_error")
def _failed(context):
    if context.connection is not None and not context.connection.invalidated:
        context.connection.info.pop(_COMMITTING, None)  # (a failed COMMIT among others)


def _flush(info) -> None:
    committed = info.pop(_COMMITTING, None)
    if not committed:
        return
    path, mac_key, seq, entry_hash = committed
    try:
        write(path, mac_key, HEAD, seq, entry_hash)
    except OSError:  # the entries are committed: say it loudly, do not fail the request
        log.exception("Ancrage du journal d'audit impossible dans %s (entrée n° %s)", path, seq)


@event.listens_for(Pool, "checkin")
def _checked_in(dbapi_connection, record):
    if record is not None:
        _flush(record.info)


@event.listens_for(Engine, "begin")
def _next_transaction(conn):
    _flush(conn.info)


# --- verification -----------------------------------------------------------------------------

@dataclass
class Finding:
    problem: str = ""
    bad_id: int | None = None
    anchored_id: int | None = None  # the last entry the anchors vouch for


@dataclass
class _Line:
    where: str
    at: str
    kind: str
    seq: int
    entry_hash: str


class Anchors:
    """The anchor files, read up to their size when this object is made: built before the head is
    read, so lines of later commits are not taken for a removed tail."""

    def __init__(self, paths):
        self.files = [(path, os.path.getsize(path) if os.path.isfile(path) else 0) for path in paths]

    def _raw(self):
        for path, size in self.files:
            if not size:
                continue
            with open(path, "rb") as fh:
                done = 0
                for number, raw in enumerate(fh, 1):
                    done += len(raw)
                    if done > size:
                        break
                    yield f"{path}, ligne {number}", raw

    def _lines(self, mac_key, only: str | None = None):
        """(line, None) or (line or None, problem) for each line (of kind `only`, if given)."""
        for where, raw in self._raw():
            try:
                at, kind, seq, entry_hash, mac = raw.decode("ascii").split()
                dt.datetime.fromisoformat(at)
                line = _Line(where, at, kind, int(seq), entry_hash)
            except ValueError:
                yield None, f"ligne d'ancrage illisible ({where})"
                continue
            if only and kind != only:
                continue
            if kind not in (HEAD, REANCHOR) or not hmac.compare_digest(
                    mac, _mac(mac_key, f"{at} {kind} {seq} {entry_hash}")):
                yield line, f"ligne d'ancrage falsifiée ({where}) : sa signature ne correspond pas"
                continue
            yield line, None

    def check(self, connection, audit_key: bytes, head_id: int, checkpoint, verified_id: int = 0) -> Finding:
        """Every anchored entry must be in the chain (or purged under a signed checkpoint). Those
        before `verified_id` (the end a previous verification found intact and signed, whose own
        entry the caller checked) were compared then: their lines are read, not looked up again."""
        mac_key = _mac_key(audit_key)
        since = max((line.at for line, problem in self._lines(mac_key, REANCHOR) if problem is None), default="")
        purged_id = checkpoint["last_id"] if checkpoint else 0
        beyond, anchored, batch = None, None, []
        for line, problem in self._lines(mac_key):
            if line is not None and line.at < since:
                continue  # before the last re-anchoring
            if problem:
                return Finding(problem, line.seq if line else None)
            anchored = line.seq if anchored is None else max(anchored, line.seq)
            if line.seq > head_id:
                beyond = line if beyond is None or line.seq > beyond.seq else beyond
            elif line.seq <= purged_id:  # purged: only the checkpoint's own entry is still known
                if checkpoint and line.seq == purged_id and line.entry_hash != checkpoint["last_hash"]:
                    return _replaced(line)
            elif line.seq < verified_id:
                continue
            else:
                batch.append(line)
                if len(batch) >= _BATCH:
                    found = _compare(connection, batch)
                    if found:
                        return found
                    batch = []
        found = _compare(connection, batch)
        if found:
            return found
        if beyond is not None:
            if head_id == purged_id:
                return Finding(f"journal d'audit vidé : l'ancrage externe atteste l'entrée n° {beyond.seq} "
                               f"({beyond.at}, {beyond.where}), la base n'en contient plus aucune", beyond.seq)
            return Finding(f"fin de la chaîne supprimée : l'ancrage externe atteste l'entrée n° {beyond.seq} "
                           f"({beyond.at}, {beyond.where}), la chaîne s'arrête à la n° {head_id}", beyond.seq)
        if anchored is None and head_id:
            paths = ", ".join(path for path, _ in self.files) or "aucun fichier"
            return Finding(f"aucun ancrage externe ({paths}) : la fin de la chaîne ne peut pas être vérifiée ; "
                           "après une restauration ou une installation, lancez « flask sillage audit reanchor »")
        return Finding(anchored_id=anchored)


def _replaced(line: _Line) -> Finding:
    return Finding(f"fin de la chaîne remplacée : l'entrée n° {line.seq} n'est plus celle ancrée le {line.at} "
                   f"({line.where})", line.seq)


def _compare(connection, lines: list[_Line]) -> Finding | None:
    if not lines:
        return None
    table = AuditEvent.__table__
    stored = dict(connection.execute(select(table.c.id, table.c.hash)
                                     .where(table.c.id.in_({line.seq for line in lines}))).all())
    for line in lines:
        if stored.get(line.seq) != line.entry_hash:
            return _replaced(line)
    return None


def _audit_key() -> bytes:
    from .audit_chain import _key  # (audit_chain imports this module)

    return _key()


def last_anchor() -> dict | None:
    """This server's latest valid line (entry and time), for the record of a re-anchoring."""
    best = None
    for line, problem in Anchors([configured_path()])._lines(_mac_key(_audit_key())):
        if problem is None and (best is None or line.at > best.at):
            best = line
    return {"entree": best.seq, "le": best.at} if best else None


def reanchor(connection) -> tuple[int, str]:
    """Anchor the present head as a new start; lines written before this one no longer count."""
    head = connection.execute(select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)).one()
    path = configured_path()
    write(path, _mac_key(_audit_key()), REANCHOR, head.last_id, head.last_hash)
    return head.last_id, path
