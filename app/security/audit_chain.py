"""The audit trail's hash chain: append, verify, purge with a signed checkpoint.

Each row's `hash` is an HMAC (key from the instance, never in the database) over the row's
content and the previous row's hash. Someone who edits the database can change a row, but not
compute the matching hashes without the key: `verify` names the first row that does not match.
Writers serialise on the single `audit_head` row (its UPDATE is the first statement), so two
app servers never fork the chain.

Verification at scale (issue 20): each run that finds the chain intact records a signed
`audit_verification` row (its end, HMAC with a key derived from the audit key); the next run
checks only the entries after the latest one, after checking that row's signature and that its
entry is still there with its hash. The complete check (`verify --complet`) starts from the
beginning (or the purge checkpoint) and finds a change anywhere. Both stream the rows (a
server-side cursor on PostgreSQL) and hash them in one tight loop without ORM objects, in
several processes when there are many: every stored hash is known, so a segment of the chain is
checked on its own, from the stored hash of the entry before it (3 million entries: under a
minute even on a loaded machine).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, create_engine, delete, func, insert, select, update
from sqlalchemy.pool import NullPool

from ..models import AuditCheckpoint, AuditEvent, AuditHead, AuditUsager, AuditVerification
from ..models.base import utcnow
from ..models.bulk import insert_rows
from . import audit_anchor

GENESIS = "0" * 64
HASHED_FIELDS = ("id", "at", "user_id", "username", "remote_addr", "client", "action", "entity",
                 "entity_id", "usager_id", "version", "changes_hash", "details", "prev_hash")
ERASED = {"effacé": "usager anonymisé"}  # what an erased usager's entries keep of their values
ERASURE_ACTION = "erasure"
events, heads, links = AuditEvent.__table__, AuditHead.__table__, AuditUsager.__table__
verifications = AuditVerification.__table__
# One encoder, built once: json.dumps with these options builds a new one at every call.
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode
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
    return _ENCODE(value)


def changes_hash(changes, key: bytes) -> str | None:
    if changes is None:
        return None
    return hmac.digest(key, _ENCODE(changes).encode(), "sha256").hex()


def row_hash(row: dict, key: bytes) -> str:
    payload = _ENCODE({f: _canonical(row.get(f)) for f in HASHED_FIELDS})
    return hmac.digest(key, payload.encode(), "sha256").hex()


# From this many rows (a load: the benchmark organisation's batches), COPY on PostgreSQL.
BULK_ROWS = 1000


def _insert(connection, table, statement, rows: list[dict]) -> None:
    if len(rows) >= BULK_ROWS:
        insert_rows(connection, table, rows)
    else:
        connection.execute(statement, rows)


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
        _insert(connection, events, _INSERT, chained)
        connection.execute(_MOVE_HEAD, {"last_id": last_id, "last_hash": last_hash})
    several = [{"audit_id": row["id"], "usager_id": u} for row in chained if row.get("usager_id") is None
               for u in sorted(set((row.get("details") or {}).get("usagers") or ()))]
    if several:
        _insert(connection, links, _LINK, several)
    audit_anchor.note(connection, last_id, last_hash, key)  # written outside the database once committed


@dataclass
class Verdict:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""
    anchored_id: int | None = None  # the last entry vouched for outside the database
    from_id: int = 0  # the check started after this entry (0: the beginning)
    complete: bool = True  # from the beginning or the purge checkpoint, not from a verification
    head: tuple[int, str] | None = None  # the end found intact (for the next verification)


def _checkpoint_signature(cp: dict, key: bytes) -> str:
    text = f"{cp['purged_before'].isoformat()}|{cp['last_id']}|{cp['last_hash']}|{cp['purged_count']}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _verification_signature(cp: dict, key: bytes) -> str:
    """A key of its own (derived), so no other signed text of the trail can pass for one."""
    own = hmac.digest(key, b"sillage-audit-verification", "sha256")
    text = f"{_canonical(cp['at'])}|{cp['last_id']}|{cp['last_hash']}|{cp['checked']}|{int(bool(cp['complete']))}"
    return hmac.digest(own, text.encode(), "sha256").hex()


# The columns in the order the loop unpacks them.
_WALKED = (events.c.id, events.c.at, events.c.user_id, events.c.username, events.c.remote_addr, events.c.client,
           events.c.action, events.c.entity, events.c.entity_id, events.c.usager_id, events.c.version,
           events.c.changes_hash, events.c.details, events.c.prev_hash, events.c.hash, events.c.changes)


class _Erased:
    """The usagers and entities an erasure blanked, read once and only if a `changes` differs."""

    def __init__(self, connection):
        self.connection, self.usagers, self.entities = connection, None, None

    def covers(self, usager_id, entity, entity_id) -> bool:
        if self.usagers is None:
            self.usagers, self.entities = set(), set()
            for uid, details in self.connection.execute(select(events.c.usager_id, events.c.details)
                                                        .where(events.c.action == ERASURE_ACTION)):
                self.usagers.add(uid)
                self.entities.update((name, eid) for name, eid in (details or {}).get("entites", []))
        return usager_id in self.usagers or (entity, entity_id) in self.entities


def _hmac_sha256(key: bytes):
    """HMAC-SHA256 with the key's two padded blocks hashed once (RFC 2104): each message then
    costs two copies of a hash state, half the time of hmac.digest, which starts from the key."""
    block = (key if len(key) <= 64 else hashlib.sha256(key).digest()).ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def mac(data: bytes) -> str:
        h = inner.copy()
        h.update(data)
        o = outer.copy()
        o.update(h.digest())
        return o.hexdigest()

    return mac


# JSON as text on both databases ("::text" on PostgreSQL, where the driver would decode it): decoded
# here, skipped when it is JSON null (most `changes`).
_WALK_SQL = ("SELECT " + ", ".join(f"{c.name}{{json}}" if c.name in ("details", "changes") else c.name for c in _WALKED)
             + f" FROM {events.name} WHERE id > {{mark}}{{upto}} ORDER BY id")


def _rows_after(connection, after: int, batch: int, upto: int | None = None):
    """The rows after `after` (up to `upto` included, if given), in id order, as plain tuples from
    the driver's own cursor (streamed: a server-side cursor on PostgreSQL; SQLite's cursor reads
    as it goes). SQLAlchemy's rows and type processing cost as much as the hashing. JSON comes as
    text; `at` as SQLite's stored text, a datetime from PostgreSQL."""
    raw = connection.connection.dbapi_connection
    params = (after,) if upto is None else (after, upto)
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor(name="sillage_audit_verify")
        cursor.itersize = batch
        cursor.execute(_WALK_SQL.format(mark="%s", json="::text", upto="" if upto is None else " AND id <= %s"), params)
    else:
        cursor = raw.cursor()
        cursor.arraysize = batch
        cursor.execute(_WALK_SQL.format(mark="?", json="", upto="" if upto is None else " AND id <= ?"), params)
    try:
        while chunk := cursor.fetchmany(batch):
            yield from chunk
    finally:
        cursor.close()


def _walk(connection, after: int, expected_prev: str, key: bytes, batch: int, upto: int | None = None):
    """Check every entry after `after` (up to `upto`) → (last id, last hash, checked, None) or
    (…, (bad id, reason))."""
    encode, same, mac = _ENCODE, hmac.compare_digest, _hmac_sha256(key)
    erased = _Erased(connection)
    expected_id, checked = after, 0
    texts = connection.dialect.name == "sqlite"  # (`at` as stored: read here)
    loads, as_time = json.loads, _sqlite_time
    # `details` as stored → as hashed: the same text recurs (a dossier read again and again), and
    # decoding it then encoding it again cost a third of the loop.
    canonical = {}
    for (id_, at, user_id, username, remote_addr, client, action, entity, entity_id, usager_id, version,
         chash, details, prev, stored, changes) in _rows_after(connection, after, batch, upto):
        # (ids may have gaps: rolled-back transactions)
        if prev != expected_prev:
            return expected_id, expected_prev, checked, (
                id_, "chaînage rompu : l'entrée précédente a été supprimée, insérée ou modifiée")
        at = as_time(at) if texts else at.isoformat(timespec="microseconds")
        changes = None if changes is None or changes == "null" else loads(changes)
        payload = encode({"action": action, "at": at, "changes_hash": chash,
                          "client": client, "details": None, "entity": entity, "entity_id": entity_id,
                          "id": id_, "prev_hash": prev, "remote_addr": remote_addr, "usager_id": usager_id,
                          "user_id": user_id, "username": username, "version": version})
        if details is not None and details != "null":
            fragment = canonical.get(details)
            if fragment is None:
                if len(canonical) >= 100_000:
                    canonical.clear()
                fragment = canonical[details] = encode(loads(details))
            # The details' own encoding in its place: the first "details":null is the key's (keys
            # come sorted, and inside an encoded string every quote is escaped).
            payload = payload.replace('"details":null', '"details":' + fragment, 1)
        if not same(stored, mac(payload.encode())):
            return expected_id, expected_prev, checked, (id_, "contenu modifié")
        if changes is not None or chash is not None:
            if (changes is None or chash != mac(encode(changes).encode())) and not (
                    changes == ERASED and erased.covers(usager_id, entity, entity_id)):
                return expected_id, expected_prev, checked, (id_, "valeurs modifiées")
        expected_id, expected_prev = id_, stored
        checked += 1
    return expected_id, expected_prev, checked, None


# Entries per process at least: below, starting a process and its connection costs more than it saves.
MIN_SEGMENT = 100_000


def _segments(connection, after: int, expected_prev: str, head_id: int, jobs: int):
    """The chain after `after` cut into up to `jobs` segments of ids → (after, expected previous
    hash, up to) each. A segment starts from the stored hash of the entry before it: its first
    entry must link to it, as in one walk; the previous segment checks that entry itself. The
    last segment has no end: entries beyond the head are read, as in one walk."""
    count = head_id - after
    parts = max(1, min(jobs, count // MIN_SEGMENT))
    starts = [after + count * i // parts for i in range(parts)]
    segments = []
    for start, end in zip(starts, starts[1:] + [None]):
        prev = expected_prev if start == after else connection.execute(
            select(events.c.hash).where(events.c.id > after, events.c.id <= start)
            .order_by(events.c.id.desc()).limit(1)).scalar() or expected_prev
        segments.append((start, prev, end))
    return segments


def _walk_apart(url: str, after: int, expected_prev: str, upto: int | None, key: bytes, batch: int):
    """`_walk` in a process of its own, on a connection of its own."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return _walk(connection, after, expected_prev, key, batch, upto)
    finally:
        engine.dispose()


def _walk_all(connection, after: int, expected_prev: str, key: bytes, batch: int, head_id: int, jobs: int):
    """`_walk` over the whole chain after `after`, its segments in `jobs` processes: the same
    answer as one walk (the first bad entry, the entries checked before it)."""
    segments = _segments(connection, after, expected_prev, head_id, jobs)
    if len(segments) == 1:
        return _walk(connection, after, expected_prev, key, batch)
    import multiprocessing  # (here: every command and worker imports this module, few walk in several processes)

    url = connection.engine.url.render_as_string(hide_password=False)
    # fork: the workers need nothing but these arguments (no import, no app); each opens its own connection
    with multiprocessing.get_context("fork").Pool(len(segments)) as pool:
        results = pool.starmap(_walk_apart, [(url, start, prev, end, key, batch) for start, prev, end in segments])
    checked = 0
    for last_id, last_hash, count, bad in results:
        checked += count
        if bad:
            return last_id, last_hash, checked, bad
    return last_id, last_hash, checked, None


def _sqlite_time(stored: str) -> str:
    """SQLite's stored DATETIME text ("2026-12-04 08:30:00.123456", as SQLAlchemy writes it) as
    `datetime.isoformat(timespec="microseconds")`; another spelling is parsed."""
    if len(stored) == 26 and stored[10] == " ":
        return f"{stored[:10]}T{stored[11:]}"
    return dt.datetime.fromisoformat(stored).isoformat(timespec="microseconds")


def _entry_intact(connection, entry_id: int, entry_hash: str, key: bytes) -> bool:
    row = connection.execute(select(events).where(events.c.id == entry_id)).mappings().first()
    return (row is not None and row["hash"] == entry_hash
            and hmac.compare_digest(row["hash"], row_hash(dict(row), key)))


def verify(connection, batch: int = 10000, anchors=None, complete: bool = True, jobs: int = 1) -> Verdict:
    """Walk the chain to the head — from the beginning or the purge checkpoint (`complete`), else
    from the latest verification checkpoint — then check the head against the anchor files
    (default: this server's; an empty list checks the chain alone). `jobs`: processes walking
    it (the command's choice; a web request walks it in its own process, never forks)."""
    key = _key()
    external = audit_anchor.Anchors([audit_anchor.configured_path()] if anchors is None else anchors)
    checkpoint = connection.execute(
        select(AuditCheckpoint.__table__).order_by(AuditCheckpoint.id.desc()).limit(1)).mappings().first()
    expected_id, expected_prev = 0, GENESIS
    if checkpoint:
        if not hmac.compare_digest(checkpoint["signature"], _checkpoint_signature(checkpoint, key)):
            return Verdict(False, 0, checkpoint["last_id"], "point de contrôle de purge altéré")
        expected_id, expected_prev = checkpoint["last_id"], checkpoint["last_hash"]
    verified = None if complete else connection.execute(
        select(verifications).order_by(verifications.c.id.desc()).limit(1)).mappings().first()
    complete = True  # unless it starts from a verification checkpoint
    if verified:
        if not hmac.compare_digest(verified["signature"], _verification_signature(verified, key)):
            return Verdict(False, 0, verified["last_id"], "point de contrôle de vérification falsifié", complete=False)
        if verified["last_id"] > expected_id:  # (else purged since: the purge checkpoint is later)
            if not _entry_intact(connection, verified["last_id"], verified["last_hash"], key):
                return Verdict(False, 0, verified["last_id"],
                               "l'entrée du dernier point de contrôle de vérification a été supprimée ou modifiée",
                               complete=False)
            expected_id, expected_prev = verified["last_id"], verified["last_hash"]
            complete = False
    from_id = expected_id
    head = connection.execute(select(heads.c.last_id, heads.c.last_hash).where(heads.c.id == 1)).one()
    expected_id, expected_prev, checked, bad = _walk_all(connection, expected_id, expected_prev, key, batch,
                                                         head.last_id, jobs)
    if bad:
        return Verdict(False, checked, bad[0], bad[1], from_id=from_id, complete=complete)
    if (head.last_id, head.last_hash) != (expected_id, expected_prev):
        return Verdict(False, checked, head.last_id if head.last_id > expected_id else expected_id,
                       "fin de la chaîne supprimée, ou tête de chaîne altérée", from_id=from_id, complete=complete)
    found = (external.check(connection, key, head.last_id, checkpoint, verified_id=from_id)
             if external.files else audit_anchor.Finding())
    if found.problem:
        return Verdict(False, checked, found.bad_id, found.problem, from_id=from_id, complete=complete)
    return Verdict(True, checked, anchored_id=found.anchored_id, from_id=from_id, complete=complete,
                   head=(head.last_id, head.last_hash))


def record_verification(connection, verdict: Verdict) -> None:
    """A signed checkpoint at the end the verdict found intact: the next `verify` starts there."""
    if not verdict.ok or verdict.head is None or not verdict.head[0]:
        return
    cp = {"at": utcnow(), "last_id": verdict.head[0], "last_hash": verdict.head[1], "checked": verdict.checked,
          "complete": verdict.complete}
    cp["signature"] = _verification_signature(cp, _key())
    connection.execute(insert(verifications), [cp])


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
