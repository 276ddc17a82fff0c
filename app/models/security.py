"""Authentication state beside FAB's `ab_user`: second factor, recovery codes, API tokens,
server-side sessions and login throttling.

Kept in our own tables (not columns added to FAB's) so FAB upgrades never touch them.
Secrets that would let someone sign in (recovery codes, API tokens, session ids) are stored
hashed; the TOTP seed cannot be (the server must compute codes from it).
"""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text

from .base import utcnow


class UserSecurity(Model):
    """One row per account that has signed in or been enrolled."""

    __tablename__ = "user_security"
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    totp_secret = Column(String(64), nullable=True)  # pending until totp_confirmed_at
    totp_confirmed_at = Column(DateTime, nullable=True)
    totp_last_step = Column(Integer, nullable=True)  # replay guard: a step is accepted once
    must_change_password = Column(Boolean, nullable=False, default=False)
    password_changed_at = Column(DateTime, nullable=True)


class RecoveryCode(Model):
    __tablename__ = "recovery_code"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash = Column(String(200), nullable=False)
    used_at = Column(DateTime, nullable=True)


class ApiToken(Model):
    """A personal token for integrations: shown once, stored as a SHA-256 of its random part."""

    __tablename__ = "api_token"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(100), nullable=False)
    prefix = Column(String(16), nullable=False)  # shown in lists to tell tokens apart
    token_hash = Column(String(64), nullable=False, unique=True)
    scope = Column(String(10), nullable=False)  # read | write
    created_at = Column(DateTime, nullable=False, default=utcnow)
    created_by_id = Column(Integer, nullable=True)
    expires_at = Column(DateTime, nullable=False)
    revoked_at = Column(DateTime, nullable=True)
    last_used_at = Column(DateTime, nullable=True)


class WebSession(Model):
    """A server-side session (browser cookie or API JWT): revocable, with idle and absolute limits."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_user", "user_id"),)
    id = Column(String(64), primary_key=True)  # SHA-256 of the cookie value, never the value
    user_id = Column(Integer, nullable=True)
    kind = Column(String(8), nullable=False, default="web")  # web | api
    data = Column(Text, nullable=False, default="{}")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)
    remote_addr = Column(String(64))
    user_agent = Column(String(200))


class LoginThrottle(Model):
    """Failed sign-ins per username (existing or not: no enumeration), with growing delays."""

    __tablename__ = "login_throttle"
    key = Column(String(256), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    last_failure_at = Column(DateTime, nullable=True)
    locked_until = Column(DateTime, nullable=True)
