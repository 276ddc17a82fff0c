"""Mixins shared by Sillage's models: versions, archiving, authorship."""
import datetime as dt

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import declared_attr

INTEGER_MAX = 2**31 - 1  # the largest value of an INTEGER column (ids, versions) on both databases

# JSON everywhere, JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class VersionedMixin:
    """Optimistic concurrency: every update bumps `version`; a stale UPDATE matches no row.

    SQLAlchemy's version_id_col makes the UPDATE conditional on the version read, so two
    concurrent saves can never both win (no lost update), even across app servers.
    """

    version = Column(Integer, nullable=False, default=1)

    @declared_attr
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


class TrackedMixin:
    """Who created / last changed the row, filled by the session hook in services.audit."""

    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @declared_attr
    def created_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def updated_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)


class ArchivableMixin:
    """Records are archived, never hard-deleted (erasure is a separate, RGPD-driven process)."""

    archived_at = Column(DateTime, nullable=True, index=True)

    @declared_attr
    def archived_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
