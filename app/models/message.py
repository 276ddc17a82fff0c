"""Secure internal messaging: threads between professionals, to people or to a service's inbox,
optionally about one usager (then only who sees that usager may take part, see
services/messages.py), with attachments received through the one safe upload.

One `MessageRecipient` row per participant of a thread (its author included): it holds what the
participant did (read, archived) and, for an inbox delivery, the service through which the
message reached them. Who sees a thread (app/security/scope.py): its participants, and for a
thread about an usager only while they see that usager.

The trail (app/security/audit.py) records who wrote, read and archived; it never copies the
subject, the body or a file's name (`audit_copies_values = False`).
"""
from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from .base import utcnow


class MessageThread(Model):
    __tablename__ = "message_thread"
    audit_copies_values = False
    id = Column(Integer, primary_key=True)
    sujet = Column(String(200), nullable=False)
    usager_id = Column(Integer, ForeignKey("usager.id"), index=True)  # a thread "about an usager"
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))  # None: written from the portal
    portal_account_id = Column(Integer, ForeignKey("portal_account.id"), index=True)  # a thread with a portal user
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_message_at = Column(DateTime, nullable=False, default=utcnow, index=True)

    messages = relationship("Message", back_populates="thread", cascade="all, delete-orphan",
                            order_by="Message.created_at, Message.id")
    recipients = relationship("MessageRecipient", back_populates="thread", cascade="all, delete-orphan",
                              order_by="MessageRecipient.id")
    usager = relationship("Usager")
    created_by = relationship("User", foreign_keys=[created_by_id])
    portal_account = relationship("PortalAccount")


class Message(Model):
    __tablename__ = "message"
    audit_copies_values = False
    id = Column(Integer, primary_key=True)
    thread_id = Column(Integer, ForeignKey("message_thread.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id = Column(Integer, ForeignKey("ab_user.id"))  # None: written from the portal
    portal_author_id = Column(Integer, ForeignKey("portal_account.id"))
    texte = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    thread = relationship("MessageThread", back_populates="messages")
    author = relationship("User", lazy="joined")
    portal_author = relationship("PortalAccount", lazy="joined")
    attachments = relationship("MessageAttachment", back_populates="message", cascade="all, delete-orphan",
                               order_by="MessageAttachment.id")


class MessageAttachment(Model):
    """A file received through services.attachments: in the usager's folder for a thread about
    an usager (so the RGPD export and the anonymisation reach it), else in the messages folder."""

    __tablename__ = "message_attachment"
    audit_copies_values = False
    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("message.id", ondelete="CASCADE"), nullable=False, index=True)
    thread_id = Column(Integer, ForeignKey("message_thread.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"))
    fichier = Column(String(200), nullable=False)  # the stored reference
    sha256 = Column(String(64), nullable=False)
    nom = Column(String(200), nullable=False)
    type_mime = Column(String(100), nullable=False)
    taille = Column(Integer, nullable=False)
    document_id = Column(Integer, ForeignKey("document.id"))  # once filed into the dossier

    message = relationship("Message", back_populates="attachments")
    thread = relationship("MessageThread")


class MessageRecipient(Model):
    """A participant of a thread: its author, a person written to, or a member of a service
    whose inbox received it (`service_id`)."""

    __tablename__ = "message_recipient"
    __table_args__ = (UniqueConstraint("thread_id", "user_id", name="uq_message_recipient"),
                      Index("ix_message_recipient_unread", "user_id", "read_at"))
    id = Column(Integer, primary_key=True)
    thread_id = Column(Integer, ForeignKey("message_thread.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    service_id = Column(Integer, ForeignKey("service.id"))
    read_at = Column(DateTime)  # None: something new since the participant last opened it
    archived_at = Column(DateTime)

    thread = relationship("MessageThread", back_populates="recipients")
    user = relationship("User", lazy="joined")
