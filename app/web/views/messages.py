"""Pages of the internal messaging: the inbox (unread first, search, archive), composing a thread
to people and service inboxes (optionally about an usager), a thread with its replies and read
receipts, attachments (download, file into the dossier).

Every write goes through services.messages; a thread someone does not take part in is a 404
(the scope hook).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import MessageAttachment, Usager
from ...security.scope import current_scope
from ...services import documents, messages
from ...services.errors import ValidationFailed
from .. import params


def _ids(name) -> list[int]:
    return [int(v) for v in request.form.getlist(name) if v.isdigit() and len(v) < 10]


class MessageView(BaseView):
    route_base = "/messages"
    class_permission_name = "Message"
    method_permission_name = {"index": "read", "show": "read", "download": "read", "compose": "write",
                              "send": "write", "reply": "write", "archive": "write", "file": "write"}
    default_view = "index"

    def _thread(self, tid):
        thread = messages.thread_of(db.session, tid)
        if thread is None:
            abort(404)
        return thread

    @expose("/")
    @has_access
    def index(self):
        archived = request.args.get("archives") == "1"
        q = (request.args.get("q") or "")[:200]
        rows = messages.inbox(db.session, g.user.id, archived=archived, q=q)
        return self.render_template("messages/index.html", title=_("Messagerie"), rows=rows, archived=archived, q=q)

    def _usagers(self, chosen=None) -> list[Usager]:
        """The people the user sees, for "about an usager" (the first 300 by name, and the one
        the page was opened for, from their dossier)."""
        people = list(db.session.execute(select(Usager).where(Usager.archived_at.is_(None))
                                         .order_by(Usager.nom_naissance, Usager.prenoms_naissance).limit(300)).scalars())
        if chosen and chosen not in {u.id for u in people} and (person := db.session.get(Usager, chosen)) is not None:
            people.insert(0, person)
        return people

    @expose("/nouveau")
    @has_access
    def compose(self, errors=None, status=200):
        posted = request.form if errors else {}
        chosen_usager = params.arg("usager_id", posted) if errors else params.arg("usager_id")
        return self.render_template(
            "messages/compose.html", title=_("Nouveau message"), errors=errors or {}, posted=posted,
            people=messages.directory(db.session, g.user.id, limit=500), services=messages.inbox_services(db.session),
            usagers=self._usagers(chosen_usager), chosen_usager=chosen_usager,
            chosen_people=set(_ids("destinataires")) if errors else set(),
            chosen_services=set(_ids("service_ids")) if errors else set()), status

    @expose("/nouveau", methods=["POST"])
    @has_access
    def send(self):
        try:
            thread = messages.send(db.session, scope=current_scope(), author=g.user,
                                   destinataires=_ids("destinataires"), service_ids=_ids("service_ids"),
                                   sujet=request.form.get("sujet"), texte=request.form.get("texte"),
                                   usager_id=params.arg("usager_id", request.form),
                                   uploads=request.files.getlist("fichier"))
        except ValidationFailed as exc:
            db.session.rollback()
            return self.compose(errors=exc.errors, status=422)
        flash(_("Message envoyé."), "success")
        return redirect(url_for(".show", tid=thread.id))

    @expose("/<int:tid>")
    @has_access
    def show(self, tid, errors=None, status=200):
        thread = self._thread(tid)
        messages.mark_read(db.session, thread, g.user.id)
        can_file = thread.usager_id is not None and self.appbuilder.sm.has_access("can_write", "Document")
        return self.render_template(
            "messages/show.html", title=thread.sujet, thread=thread, me=messages.participation(thread, g.user.id),
            errors=errors or {}, can_file=can_file, types=documents.types(db.session) if can_file else [],
            full_name=messages.full_name, author_name=messages.author_name), status

    @expose("/<int:tid>/repondre", methods=["POST"])
    @has_access
    def reply(self, tid):
        thread = self._thread(tid)
        try:
            messages.reply(db.session, thread=thread, author=g.user, texte=request.form.get("texte"),
                           uploads=request.files.getlist("fichier"))
        except ValidationFailed as exc:
            db.session.rollback()
            return self.show(tid, errors=exc.errors, status=422)
        flash(_("Réponse envoyée."), "success")
        return redirect(url_for(".show", tid=tid))

    @expose("/<int:tid>/archiver", methods=["POST"])
    @has_access
    def archive(self, tid):
        thread = self._thread(tid)
        archived = request.form.get("archiver", "1") == "1"
        messages.archive(db.session, thread, g.user.id, archived=archived)
        flash(_("Message classé dans les archives.") if archived else _("Message remis dans la boîte de réception."),
              "success")
        return redirect(url_for(".index"))

    def _attachment(self, aid) -> MessageAttachment:
        item = db.session.execute(select(MessageAttachment).where(MessageAttachment.id == aid)).scalar_one_or_none()
        if item is None:
            abort(404)
        return item

    @expose("/piece/<int:aid>")
    @has_access
    def download(self, aid):
        item = self._attachment(aid)
        path = messages.attachment_path(item)
        if path is None:
            abort(410)
        messages.record_download(item)
        return send_file(path, mimetype=item.type_mime, as_attachment=True, download_name=item.nom)

    @expose("/piece/<int:aid>/classer", methods=["POST"])
    @has_access
    def file(self, aid):
        item = self._attachment(aid)
        if not self.appbuilder.sm.has_access("can_write", "Document"):
            abort(403)
        try:
            messages.file_into_dossier(db.session, scope=current_scope(), attachment=item,
                                       type_code=request.form.get("type_code"), titre=request.form.get("titre"),
                                       user_id=g.user.id)
        except ValidationFailed as exc:
            db.session.rollback()
            return self.show(item.thread_id, errors=exc.errors, status=422)
        flash(_("Pièce jointe classée dans les documents du dossier."), "success")
        return redirect(url_for(".show", tid=item.thread_id))
