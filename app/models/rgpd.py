"""RGPD requests: rectification (recorded and followed) and erasure (four eyes)."""
from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Text

from .base import utcnow


class RectificationRequest(Model):
    """A person asks for a correction (RGPD art. 16): who asked, what, the decision and when."""

    __tablename__ = "rgpd_rectification"
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    requested_by = Column(String(200), nullable=False)  # the usager, a relative, a representative…
    received_on = Column(DateTime, nullable=False, default=utcnow)
    content = Column(Text, nullable=False)
    status = Column(String(12), nullable=False, default="recue")  # recue, acceptee, refusee
    decision = Column(Text)
    decided_at = Column(DateTime)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    portal_account_id = Column(Integer, ForeignKey("portal_account.id"))  # asked from the portal
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"))


class ErasureRequest(Model):
    """Anonymisation asked by one user, approved by another (DPO or Direction)."""

    __tablename__ = "rgpd_erasure"
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    reason = Column(Text, nullable=False)
    early_justification = Column(Text)  # required while the retention period runs
    requested_by_id = Column(Integer, ForeignKey("ab_user.id"))  # None: asked from the portal
    portal_account_id = Column(Integer, ForeignKey("portal_account.id"))
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    status = Column(String(12), nullable=False, default="attente")  # attente, refusee, executee
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"))
    decided_at = Column(DateTime)
    decision_note = Column(Text)


class AccessRequest(Model):
    """Right of access (RGPD art. 15): recorded by the DPO, answered by the complete export made
    from it (every category), which is audited as such."""

    __tablename__ = "rgpd_access"
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    requested_by = Column(String(200), nullable=False)  # who asked, as they named themselves
    qualite = Column(String(30), nullable=False)  # personne, representant_legal, autre
    received_on = Column(Date, nullable=False)
    recorded_by_id = Column(Integer, ForeignKey("ab_user.id"))  # None: asked from the portal
    portal_account_id = Column(Integer, ForeignKey("portal_account.id"))
    recorded_at = Column(DateTime, nullable=False, default=utcnow)
    status = Column(String(12), nullable=False, default="recue")  # recue, repondue
    answered_at = Column(DateTime)
    answered_by_id = Column(Integer, ForeignKey("ab_user.id"))
