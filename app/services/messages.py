"""Secure internal messaging: send a thread to people and service inboxes, optionally about an
usager, reply, read receipts, unread count, search, archive, retention and the e-mail notice.

- A thread about an usager may be written only to people who see that usager (each
  recipient's own scope, app/security/scope.py `sees_usager`): otherwise nothing is sent and
  the refusal names them (CASF L.1110-4: information is shared only among those who take part
  in the person's support).
- A service inbox delivers the thread to every user assigned to that service (StaffAssignment).
- Files come through the one safe upload (services/attachments.py); a thread about an usager
  keeps them in the usager's folder (the RGPD export and the anonymisation reach them) and one
  can be filed into the dossier's documents (services/documents.py `upload`).
- The e-mail notice (only when SILLAGE_SMTP_HOST is set) says "Vous avez un message dans
  Sillage" and nothing else: no subject, no sender, no person.
- The audit trail records who wrote and read, never the subject nor the body
  (models/message.py).
"""
from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from werkzeug.datastructures import FileStorage

from ..models import (
    Etablissement, Message, MessageAttachment, MessageRecipient, MessageThread, PortalAccount, Service,
    StaffAssignment, User, Usager,
)
from ..models.base import utcnow
from ..security.audit import record_event
from ..security.scope import UNSCOPED, scope_for_user, sees_usager
from . import attachments, documents
from .errors import ValidationFailed
from .rgpd import documents_dir

SUBDIR = "messages"
MAX_SUBJECT = 200
MAX_TEXT = 20_000
NOTICE = "Vous avez un message dans Sillage"  # the whole e-mail: no content, no name


def full_name(user) -> str:
    if user is None:
        return ""
    return f"{user.first_name} {user.last_name}".strip() or user.username


def author_name(message: Message) -> str:
    """A message's author: a colleague, or a person writing from the portal (services/portal.py)."""
    if message.author is not None:
        return full_name(message.author)
    if message.portal_author is not None:
        return _("%(n)s (portail des familles)", n=message.portal_author.display_name)
    return ""


# --- who one may write to -----------------------------------------------------------------------

def directory(session, user_id: int, q: str | None = None, limit: int = 50) -> list[dict]:
    """Active staff one may write to (everyone but oneself), found by name or account name:
    `{"id", "nom", "role", "etablissements"}`."""
    query = select(User).where(User.active.is_(True), User.id != user_id)
    for word in (q or "").split()[:5]:
        pattern = f"%{word[:50]}%"
        query = query.where(or_(User.first_name.ilike(pattern), User.last_name.ilike(pattern),
                                User.username.ilike(pattern)))
    users = list(session.execute(query.order_by(User.last_name, User.first_name).limit(limit)).scalars())
    places: dict[int, list[str]] = {}
    if users:
        rows = session.execute(
            select(StaffAssignment.user_id, Etablissement.name).join(
                Etablissement, Etablissement.id == StaffAssignment.etablissement_id)
            .where(StaffAssignment.user_id.in_([u.id for u in users])).order_by(Etablissement.name),
            execution_options={UNSCOPED: True}).all()
        for uid, name in rows:
            if name not in places.setdefault(uid, []):
                places[uid].append(name)
    return [{"id": u.id, "nom": full_name(u), "role": ", ".join(sorted(r.name for r in u.roles)),
             "etablissements": places.get(u.id, [])} for u in users]


def inbox_services(session) -> list[Service]:
    """Services whose inbox the user may write to: those they see."""
    return list(session.execute(select(Service).where(Service.archived_at.is_(None))
                                .order_by(Service.name)).scalars())


def _service_members(session, service_ids) -> dict[int, int]:
    """user id → the service through which an inbox message reaches them."""
    if not service_ids:
        return {}
    rows = session.execute(select(StaffAssignment.user_id, StaffAssignment.service_id)
                           .where(StaffAssignment.service_id.in_(service_ids)),
                           execution_options={UNSCOPED: True}).all()
    return {uid: sid for uid, sid in sorted(rows, reverse=True)}


# --- writing ------------------------------------------------------------------------------------

def _ids(values) -> list[int] | None:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                        for v in values):
        return None
    return list(dict.fromkeys(values))


def _check_text(texte, errors):
    if not isinstance(texte, str) or not texte.strip():
        errors["texte"] = _("Ce champ est obligatoire.")
    elif len(texte) > MAX_TEXT or "\x00" in texte:
        errors["texte"] = _("%(n)s caractères au plus.", n=MAX_TEXT)


def send(session, *, scope, author, destinataires=None, service_ids=None, sujet=None, texte=None,
         usager_id=None, uploads=()) -> MessageThread:
    """A new thread. ValidationFailed (nothing sent) when a field is wrong or, for a thread about
    an usager, when a recipient does not see that usager (named)."""
    errors = {}
    user_ids, svc_ids = _ids(destinataires), _ids(service_ids)
    if user_ids is None:
        errors["destinataires"] = _("Une liste d'identifiants est attendue.")
    if svc_ids is None:
        errors["service_ids"] = _("Une liste d'identifiants est attendue.")
    if not isinstance(sujet, str) or not sujet.strip():
        errors["sujet"] = _("Ce champ est obligatoire.")
    elif len(sujet) > MAX_SUBJECT or "\x00" in sujet:
        errors["sujet"] = _("%(n)s caractères au plus.", n=MAX_SUBJECT)
    _check_text(texte, errors)
    usager = None
    if usager_id is not None:
        usager = session.get(Usager, usager_id) if isinstance(usager_id, int) and not isinstance(usager_id, bool) \
            else None
        if usager is None:  # outside the author's scope: does not exist
            errors["usager_id"] = _("Usager introuvable.")
    if errors:
        raise ValidationFailed(errors)
    users = {u.id: u for u in session.execute(select(User).where(User.id.in_(user_ids), User.active.is_(True)))
             .scalars()} if user_ids else {}
    if set(user_ids) - set(users):
        errors["destinataires"] = _("Destinataire inconnu.")
    services = {s for s in session.execute(select(Service.id).where(Service.id.in_(svc_ids))).scalars()} \
        if svc_ids else set()
    if set(svc_ids) - services:
        errors["service_ids"] = _("Service inconnu.")
    if errors:
        raise ValidationFailed(errors)
    via = {uid: sid for uid, sid in _service_members(session, svc_ids).items() if uid not in users}
    if via:
        users.update({u.id: u for u in session.execute(
            select(User).where(User.id.in_(sorted(via)), User.active.is_(True))).scalars()})
    users.pop(author.id, None)
    if not users:
        raise ValidationFailed({"destinataires": _("Choisissez au moins un destinataire (ou un service qui a "
                                                   "des membres).")})
    if usager is not None:
        blind = [u for u in users.values() if not sees_usager(session, scope_for_user(session, u), usager.id)]
        if blind:
            raise ValidationFailed({"destinataires": _(
                "Ces destinataires ne voient pas le dossier de cet usager : %(noms)s. Retirez-les ou écrivez "
                "sans lier le message à l'usager.", noms=", ".join(sorted(full_name(u) for u in blind)))})
    now = utcnow()
    thread = MessageThread(sujet=sujet.strip(), usager_id=usager.id if usager else None, created_by_id=author.id,
                           created_at=now, last_message_at=now)
    thread.recipients.append(MessageRecipient(user_id=author.id, read_at=now))
    for uid in sorted(users):
        thread.recipients.append(MessageRecipient(user_id=uid, service_id=via.get(uid)))
    _add_message(session, thread, author.id, texte, uploads, now)
    notify([u.email for u in users.values()])
    return thread


def reply(session, *, thread: MessageThread, author, texte, uploads=()) -> Message:
    """A reply: new for every other participant (unread, and back out of their archive)."""
    errors = {}
    _check_text(texte, errors)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    others = []
    for part in thread.recipients:
        if part.user_id == author.id:
            part.read_at = now
        else:
            part.read_at, part.archived_at = None, None
            others.append(part.user)
    thread.last_message_at = now
    message = _add_message(session, thread, author.id, texte, uploads, now)
    notify([u.email for u in others if u is not None and u.active]
           + ([thread.portal_account.email] if thread.portal_account is not None else []))
    return message


def _add_message(session, thread, author_id, texte, uploads, now) -> Message:
    message = Message(author_id=author_id, texte=texte.strip(), created_at=now)
    thread.messages.append(message)
    received = []
    try:
        for upload in uploads:
            if upload is None or not getattr(upload, "filename", ""):
                continue
            got = attachments.receive(current_app.config["SILLAGE_DATA_DIR"], thread.usager_id, "fichier", upload,
                                      SUBDIR, keep_name=False, base=_folder(thread.usager_id))
            received.append(got)
            message.attachments.append(MessageAttachment(
                thread=thread, usager_id=thread.usager_id, fichier=got.reference, sha256=got.sha256,
                nom=got.name, type_mime=got.mime, taille=got.size))
        session.add(thread)
        session.commit()
    except BaseException:
        session.rollback()
        for got in received:
            got.path.unlink(missing_ok=True)
        raise
    return message


def _folder(usager_id) -> Path | None:
    """The usager's folder for a thread about them (None: attachments.receive's default), else
    the messages' own folder."""
    if usager_id is not None:
        return None
    return Path(current_app.config["SILLAGE_DATA_DIR"]) / SUBDIR


def attachment_path(attachment: MessageAttachment) -> Path | None:
    base = documents_dir(current_app.config["SILLAGE_DATA_DIR"], attachment.usager_id) \
        if attachment.usager_id is not None else Path(current_app.config["SILLAGE_DATA_DIR"]) / SUBDIR
    path = base / attachment.fichier
    if not path.is_file() or attachments.file_sha256(path) != attachment.sha256:
        return None
    return path


def record_download(attachment: MessageAttachment) -> None:
    """A download is a read of what the file holds (about the usager, if any): audited."""
    record_event("piece_jointe_telechargee", entity="MessageAttachment", entity_id=attachment.id,
                 usager_id=attachment.usager_id)


def file_into_dossier(session, *, scope, attachment: MessageAttachment, type_code, titre, user_id):
    """Copy a message's attachment into the dossier's documents (through documents.upload: the
    same checks again, the document's category and the writer's rights)."""
    if attachment.usager_id is None:
        raise ValidationFailed({"fichier": _("Ce message ne concerne pas un usager.")})
    if attachment.document_id is not None:
        raise ValidationFailed({"fichier": _("Cette pièce jointe est déjà classée dans le dossier.")})
    usager = session.get(Usager, attachment.usager_id)
    path = attachment_path(attachment)
    if usager is None or path is None:
        raise ValidationFailed({"fichier": _("Fichier introuvable ou altéré.")})
    with path.open("rb") as stream:
        upload = FileStorage(stream=stream, filename=attachment.nom, content_type=attachment.type_mime)
        document = documents.upload(session, scope=scope, usager=usager, type_code=type_code,
                                    titre=titre or attachment.nom, upload=upload, user_id=user_id)
    attachment.document_id = document.id
    session.commit()
    return document


# --- reading ------------------------------------------------------------------------------------

def thread_of(session, thread_id) -> MessageThread | None:
    """The thread if the user takes part in it and sees its usager (the scope hook), else None."""
    return session.execute(select(MessageThread).where(MessageThread.id == thread_id)).scalar_one_or_none()


def participation(thread: MessageThread, user_id) -> MessageRecipient | None:
    return next((p for p in thread.recipients if p.user_id == user_id), None)


def mark_read(session, thread: MessageThread, user_id) -> None:
    part = participation(thread, user_id)
    if part is not None and part.read_at is None:
        part.read_at = utcnow()
        session.commit()


def archive(session, thread: MessageThread, user_id, archived=True) -> None:
    part = participation(thread, user_id)
    if part is not None:
        part.archived_at = utcnow() if archived else None
        session.commit()


def unread_count(session, user_id) -> int:
    """Threads with something new for the user (the navbar's badge): one COUNT."""
    return session.execute(select(func.count(MessageRecipient.id)).where(
        MessageRecipient.user_id == user_id, MessageRecipient.read_at.is_(None),
        MessageRecipient.archived_at.is_(None))).scalar_one()


def inbox(session, user_id, *, archived=False, non_lus=False, q=None, limit=200) -> list[tuple]:
    """(thread, the user's participation) of the user's threads: unread first, then newest.
    `q`: words each found in the subject or a message of the thread."""
    query = (select(MessageThread, MessageRecipient)
             .join(MessageRecipient, MessageRecipient.thread_id == MessageThread.id)
             .where(MessageRecipient.user_id == user_id))
    archived_at = MessageRecipient.archived_at
    query = query.where(archived_at.is_not(None) if archived else archived_at.is_(None))
    if non_lus:
        query = query.where(MessageRecipient.read_at.is_(None))
    for word in (q or "").split()[:5]:
        pattern = f"%{word[:50]}%"
        query = query.where(or_(MessageThread.sujet.ilike(pattern), MessageThread.id.in_(
            select(Message.thread_id).where(Message.texte.ilike(pattern)))))
    query = query.order_by(MessageRecipient.read_at.is_not(None), MessageThread.last_message_at.desc(),
                           MessageThread.id.desc()).limit(limit)
    return list(session.execute(query).all())


def exported(session, usager_id: int, *, everyone: bool = False) -> tuple[list[dict], set[str]]:
    """The threads about one person as the RGPD export holds them (who wrote what and when, files
    by name), oldest first, and the stored names of their files: the threads the user takes part
    in, or with `everyone` every thread about them — the person's own complete export, whose
    maker (the DPO) takes part in none; the person was loaded through the maker's scope. Columns
    only, so the threads' ids are the one scoped read."""
    options = {UNSCOPED: True} if everyone else {}
    threads = session.execute(select(MessageThread.id, MessageThread.sujet, MessageThread.created_at)
                              .where(MessageThread.usager_id == usager_id)
                              .order_by(MessageThread.created_at, MessageThread.id), execution_options=options).all()
    ids = [t.id for t in threads]
    unscoped = {UNSCOPED: True}
    files, by_message = set(), {}
    for a in session.execute(select(MessageAttachment.message_id, MessageAttachment.nom, MessageAttachment.fichier)
                             .where(MessageAttachment.thread_id.in_(ids)).order_by(MessageAttachment.id),
                             execution_options=unscoped):
        by_message.setdefault(a.message_id, []).append(a.nom)
        files.add(a.fichier)
    by_thread = {}
    for m in session.execute(select(Message.id, Message.thread_id, Message.texte, Message.created_at, User.first_name,
                                    User.last_name, User.username, PortalAccount.prenom, PortalAccount.nom,
                                    PortalAccount.email)
                             .outerjoin(User, User.id == Message.author_id)
                             .outerjoin(PortalAccount, PortalAccount.id == Message.portal_author_id)
                             .where(Message.thread_id.in_(ids)).order_by(Message.created_at, Message.id),
                             execution_options=unscoped):
        if m.username is not None:
            author = f"{m.first_name} {m.last_name}".strip() or m.username
        else:
            author = _("%(n)s (portail des familles)",
                       n=f"{m.prenom or ''} {m.nom or ''}".strip() or m.email) if m.email else ""
        by_thread.setdefault(m.thread_id, []).append(
            {"auteur": author, "cree_le": m.created_at.isoformat(), "texte": m.texte,
             "pieces_jointes": by_message.get(m.id, [])})
    return [{"id": t.id, "sujet": t.sujet, "cree_le": t.created_at.isoformat(), "messages": by_thread.get(t.id, [])}
            for t in threads], files


def as_dict(thread: MessageThread, part: MessageRecipient | None, with_messages=False) -> dict:
    last = thread.messages[-1] if thread.messages else None
    out = {"id": thread.id, "sujet": thread.sujet, "usager_id": thread.usager_id,
           "auteur": full_name(thread.created_by) if thread.created_by else
           (thread.portal_account.display_name if thread.portal_account else None),
           "cree_le": thread.created_at.isoformat(), "dernier_message_le": thread.last_message_at.isoformat(),
           "lu": part is not None and part.read_at is not None,
           "archive": part is not None and part.archived_at is not None,
           "participants": [{"id": p.user_id, "nom": full_name(p.user), "service_id": p.service_id,
                             "lu_le": p.read_at.isoformat() if p.read_at else None} for p in thread.recipients]}
    if with_messages:
        out["messages"] = [{"id": m.id, "auteur_id": m.author_id, "auteur": author_name(m), "texte": m.texte,
                            "cree_le": m.created_at.isoformat(),
                            "pieces_jointes": [{"id": a.id, "nom": a.nom, "type_mime": a.type_mime,
                                                "taille": a.taille} for a in m.attachments]}
                           for m in thread.messages]
    elif last is not None:
        out["dernier_message"] = {"auteur": author_name(last), "texte": last.texte}
    return out


# --- retention and notice -----------------------------------------------------------------------

def purge(session, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete threads whose last message is older than the retention (their files too); the
    number deleted. Run as the system (CLI)."""
    days = current_app.config["SILLAGE_MESSAGE_RETENTION_DAYS"] if days is None else days
    if not days:
        return 0
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    threads = list(session.execute(select(MessageThread).where(MessageThread.last_message_at < cutoff)).scalars())
    files = [p for t in threads for m in t.messages for a in m.attachments if (p := _stored(a)) is not None]
    ids = [t.id for t in threads]
    if ids:
        for model in (MessageAttachment, MessageRecipient, Message):
            session.execute(delete(model).where(model.thread_id.in_(ids)))
        session.execute(delete(MessageThread).where(MessageThread.id.in_(ids)))
        record_event("messages_purges", entity="MessageThread", details={"fils": len(ids), "avant": cutoff.isoformat()},
                     connection=session.connection())
        session.commit()
    for path in files:
        path.unlink(missing_ok=True)
    return len(ids)


def erase_for_usager(session, usager_id: int) -> list:
    """Anonymisation: the threads about the person go, with their messages and attachments (the
    files are in the usager's folder, which the anonymisation deletes). Bulk statements, by ids
    read unscoped: the DPO takes part in none of them. Returns the entities erased, for the
    audit trail's values."""
    ids = list(session.execute(select(MessageThread.id).where(MessageThread.usager_id == usager_id),
                               execution_options={UNSCOPED: True}).scalars())
    if not ids:
        return []
    message_ids = list(session.execute(select(Message.id).where(Message.thread_id.in_(ids)),
                                       execution_options={UNSCOPED: True}).scalars())
    options = {"synchronize_session": False}
    for model in (MessageAttachment, MessageRecipient, Message):
        session.execute(delete(model).where(model.thread_id.in_(ids)), execution_options=options)
    session.execute(delete(MessageThread).where(MessageThread.id.in_(ids)), execution_options=options)
    return [["MessageThread", i] for i in ids] + [["Message", i] for i in message_ids]


def _stored(attachment) -> Path | None:
    base = documents_dir(current_app.config["SILLAGE_DATA_DIR"], attachment.usager_id) \
        if attachment.usager_id is not None else Path(current_app.config["SILLAGE_DATA_DIR"]) / SUBDIR
    return base / attachment.fichier


def notify(addresses) -> int:
    """The e-mail notice to each address, when SMTP is configured; never blocks a send (a mail
    server down is logged). The number of mails sent."""
    addresses = sorted({a for a in addresses if a and "@" in a})
    return send_mails([(address, NOTICE, NOTICE + ".\n") for address in addresses])


def send_mails(mails) -> int:
    """Send (address, subject, body) mails through the configured SMTP server (nothing when
    SILLAGE_SMTP_HOST is unset); a server down is logged, never raised. The number sent. The
    one mail path of Sillage (messaging notices, portal invitations and codes)."""
    config = current_app.config
    mails = [m for m in mails if m[0] and "@" in m[0]]
    if not config.get("SILLAGE_SMTP_HOST") or not mails:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(config["SILLAGE_SMTP_HOST"], config.get("SILLAGE_SMTP_PORT", 25), timeout=10) as smtp:
            if config.get("SILLAGE_SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SILLAGE_SMTP_USER"):
                smtp.login(config["SILLAGE_SMTP_USER"], config.get("SILLAGE_SMTP_PASSWORD") or "")
            for address, subject, body in mails:
                mail = EmailMessage()
                mail["From"] = config.get("SILLAGE_SMTP_FROM") or "sillage@localhost"
                mail["To"] = address
                mail["Subject"] = subject
                mail.set_content(body)
                smtp.send_message(mail)
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("mail not sent: %s", type(exc).__name__)
    return sent
