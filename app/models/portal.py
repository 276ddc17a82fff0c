"""The portal for usagers and families (`/portail/`): accounts that are NOT staff accounts.

- `PortalAccount`: one person outside the structure (the usager themself, a parent, a tutor…),
  with their own password and second factor. Never an `ab_user`: a portal session can reach no
  staff view and no staff API (app/web/portal).
- `PortalAccess`: what one account may see of one usager, set by the structure (the rights), from
  the invitation to its end. The invitation is the access's first state: a one-use link whose
  token is kept only as a hash, with an expiry; accepting it attaches the account. An access is
  revoked by the structure, or ended by the rules of services/portal.py (end of a protection
  measure, majority of a child), with the reason kept.
"""
from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from .base import JSONType, utcnow


class PortalAccount(Model):
    __tablename__ = "portal_account"
    audit_copies_values = False
    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)  # lower case; the sign-in name
    prenom = Column(String(100))
    nom = Column(String(100))
    password = Column(String(256), nullable=False)  # werkzeug hash
    second_factor = Column(String(10), nullable=False, default="totp")  # totp, email
    totp_secret = Column(String(64))
    totp_last_step = Column(Integer)
    email_code_hash = Column(String(256))
    email_code_expires_at = Column(DateTime)
    session_stamp = Column(String(32), nullable=False)  # changed: every portal session of the account ends
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)
    disabled_at = Column(DateTime)  # set by the structure: no sign-in, no session, until re-enabled
    # Recovery (lost phone, lost mailbox): the structure issues a one-use link (only its SHA-256
    # is kept) to choose a new password and enrol a new second factor; None once used.
    reset_token_hash = Column(String(64), unique=True)
    reset_expires_at = Column(DateTime)

    accesses = relationship("PortalAccess", back_populates="account", order_by="PortalAccess.id")

    @property
    def display_name(self) -> str:
        return f"{self.prenom or ''} {self.nom or ''}".strip() or self.email


class PortalAccess(Model):
    __tablename__ = "portal_access"
    audit_copies_values = False
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    contact_id = Column(Integer, ForeignKey("contact_person.id"))  # None: the usager themself
    account_id = Column(Integer, ForeignKey("portal_account.id"), index=True)  # None until the invitation is accepted
    email = Column(String(254), nullable=False)  # where the invitation was meant for
    droits = Column(JSONType, nullable=False, default=list)  # codes of services.portal.RIGHTS
    expire_le = Column(Date)  # the access ends that day (None: until revoked or ended)
    invited_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    invited_at = Column(DateTime, nullable=False, default=utcnow)
    token_hash = Column(String(64), unique=True)  # sha256 of the link's token; None once used
    token_expires_at = Column(DateTime, nullable=False)
    accepted_at = Column(DateTime)
    revoked_at = Column(DateTime)
    revoked_by_id = Column(Integer, ForeignKey("ab_user.id"))
    ended_at = Column(DateTime)
    end_reason = Column(String(200))

    account = relationship("PortalAccount", back_populates="accesses")
    contact = relationship("ContactPerson")
    usager = relationship("Usager")
