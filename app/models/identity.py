"""Identity vigilance: a dossier created while a similar person is known in an établissement its
author cannot see. The author is not told who or where; the identity referent (Direction) is."""
from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import JSONType, utcnow


class IdentityReferral(Model):
    __tablename__ = "identity_referral"
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)  # the dossier just created
    candidate_ids = Column(JSONType, nullable=False, default=list)  # the similar dossiers elsewhere
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    requested_by_id = Column(Integer, ForeignKey("ab_user.id"))
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    status = Column(String(10), nullable=False, default="ouvert")  # ouvert, clos
    closed_by_id = Column(Integer, ForeignKey("ab_user.id"))
    closed_at = Column(DateTime)
    note = Column(Text)
    usager = relationship("Usager")
