"""Shared secret (CASF L.1110-4): which roles read and write each information category, and
break-the-glass accesses to a dossier outside one's scope."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint

from .base import utcnow


class CategoryAccess(Model):
    """One role × one category. Edited by the Administrateur; every change is audited."""

    __tablename__ = "category_access"
    __table_args__ = (UniqueConstraint("role_id", "category", name="uq_category_access"),)
    id = Column(Integer, primary_key=True)
    role_id = Column(Integer, ForeignKey("ab_role.id", ondelete="CASCADE"), nullable=False)
    category = Column(String(20), nullable=False)
    can_read = Column(Boolean, nullable=False, default=False)
    can_write = Column(Boolean, nullable=False, default=False)


class EmergencyAccess(Model):
    """Break-the-glass: a professional opens a dossier they may not see, giving a reason; the
    access lasts a few hours, the DPO and the direction are alerted and review it."""

    __tablename__ = "emergency_access"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    reason = Column(Text, nullable=False)
    started_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False, index=True)
    reviewed_by_id = Column(Integer, ForeignKey("ab_user.id"))
    reviewed_at = Column(DateTime)
    review_note = Column(Text)


class SecurityStamp(Model):
    """One row whose version changes, in the same transaction, with anything that decides access
    (users, roles, permissions, categories, assignments, emergency accesses): every process may
    then keep what it derived from them until the version moves."""

    __tablename__ = "security_stamp"
    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False, default=0)
