"""Journal of changes: who changed what, with old and new values.

Written by one SQLAlchemy session hook (services.audit) so no view can forget it. It also lets
a stale save show what changed meanwhile.
"""
from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, Index, Integer, String

from .base import JSONType, utcnow


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    user_id = Column(Integer, nullable=True, index=True)  # no FK: the trail outlives accounts
    username = Column(String(100))
    remote_addr = Column(String(64))
    action = Column(String(20), nullable=False)  # create, update, archive, restore
    entity = Column(String(60), nullable=False)
    entity_id = Column(Integer, nullable=True)
    usager_id = Column(Integer, nullable=True, index=True)
    version = Column(Integer, nullable=True)
    changes = Column(JSONType, nullable=True)  # {field: [old, new]}
