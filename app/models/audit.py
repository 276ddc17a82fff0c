"""The audit trail: who did what to which record, when, from where — append-only, hash-chained.

Rows are written by one session hook (writes) and one request hook (reads) in
`app/security/audit.py`, so no view can forget them. Each row carries an HMAC of its content and
of the previous row's hash: altering, removing or inserting a row breaks the chain, and
`flask sillage audit verify` names the first bad row. `AuditHead` holds the chain's end (so a
removed tail is seen too) and serialises writers; `AuditCheckpoint` keeps the signed end of a
purged part so the remaining chain still verifies; `AuditVerification` the signed end of the part
already verified, so the next `verify` checks only what came after it (issue 20).

Indexes (issue 20, millions of entries): a dossier's history reads by usager and time, the DPO's
search by time, by account and time, by action.
"""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String

from .base import JSONType, utcnow


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),
                      Index("ix_audit_event_usager_at", "usager_id", "at"),
                      Index("ix_audit_event_username_at", "username", "at"),
                      Index("ix_audit_event_action_at", "action", "at"))
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    user_id = Column(Integer, nullable=True, index=True)  # no FK: the trail outlives accounts
    username = Column(String(100))
    remote_addr = Column(String(64))
    client = Column(String(200))  # user agent, or "cli"
    action = Column(String(30), nullable=False)  # indexed with `at` (ix_audit_event_action_at)
    entity = Column(String(60), nullable=False)
    entity_id = Column(Integer, nullable=True)
    usager_id = Column(Integer, nullable=True)  # indexed with `at` (ix_audit_event_usager_at)
    version = Column(Integer, nullable=True)
    changes = Column(JSONType, nullable=True)  # {field: [old, new]} or {field: "modifié"}
    # The chain covers this HMAC of `changes`, not `changes` itself: erasing an usager blanks the
    # values of their entries (RGPD) and the chain still verifies — only for an erased usager.
    changes_hash = Column(String(64), nullable=True)
    details = Column(JSONType, nullable=True)  # reads: path, ids returned; logins: reason…
    prev_hash = Column(String(64), nullable=False)
    hash = Column(String(64), nullable=False)


class AuditHead(Model):
    """One row: the last chained entry. Locked by every writer of the trail."""

    __tablename__ = "audit_head"
    id = Column(Integer, primary_key=True)
    last_id = Column(Integer, nullable=False, default=0)
    last_hash = Column(String(64), nullable=False)


class AuditCheckpoint(Model):
    """The signed end of a purged part of the trail: verification starts from the last one."""

    __tablename__ = "audit_checkpoint"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    purged_before = Column(DateTime, nullable=False)
    last_id = Column(Integer, nullable=False)
    last_hash = Column(String(64), nullable=False)
    purged_count = Column(Integer, nullable=False)
    signature = Column(String(64), nullable=False)


class AuditVerification(Model):
    """The signed end of the chain as one `audit verify` found it intact: the next run starts
    there. Signed with a key derived from the audit key (never in the database), so a row written
    by hand is refused; a deleted row only makes the next run check more."""

    __tablename__ = "audit_verification"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    last_id = Column(Integer, nullable=False)
    last_hash = Column(String(64), nullable=False)
    checked = Column(Integer, nullable=False)  # entries this run checked
    complete = Column(Boolean, nullable=False, default=False)  # from the start (or the purge checkpoint)
    signature = Column(String(64), nullable=False)


class AuditUsager(Model):
    """Each usager one entry concerns, when it concerns several (a list, a dossier that loads its
    siblings): such an entry is then found under each of them, not under none. An index only: the
    entry's own `details` (hashed) holds the same ids."""

    __tablename__ = "audit_usager"
    audit_id = Column(Integer, primary_key=True)  # no FK: purge removes both, entries are never edited
    usager_id = Column(Integer, primary_key=True, index=True)
