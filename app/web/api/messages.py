"""`/api/v1/messages`: the internal messaging for clients outside the project (paths and fields
as issue 19 §4 spells them), through services.messages; a thread is seen only by its
participants (the scope hook: another's thread is a 404)."""
from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...extensions import db
from ...security.scope import current_scope
from ...services import messages
from .base import json_body, service_errors

FIELDS = ("destinataires", "service_ids", "sujet", "texte", "usager_id")


class MessageApi(BaseApi):
    route_base = "/api/v1/messages"
    resource_name = "messages"
    class_permission_name = "Message"
    method_permission_name = {"destinataires": "read", "list_threads": "read", "get_thread": "read",
                              "post_message": "write", "post_reply": "write", "mark_read": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Message"

    @expose("/destinataires", methods=["GET"])
    @protect()
    @safe
    @permission_name("destinataires")
    def destinataires(self):
        """Staff one may write to, found by name or account name (`q`: words).
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}}
          responses:
            200: {description: "{result: [{id, nom, role, etablissements}]}"}
        """
        return self.response(200, result=messages.directory(db.session, g.user.id, request.args.get("q", "")[:200]))

    @expose("", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_threads")
    def list_threads(self):
        """The user's threads, unread first; `non_lus=1`: only those with something new;
        `archives=1`: the archived ones; `q`: words of the subject or a message.
        ---
        get:
          parameters:
          - {in: query, name: non_lus, schema: {type: integer}}
          - {in: query, name: archives, schema: {type: integer}}
          - {in: query, name: q, schema: {type: string}}
          responses:
            200: {description: "{result: [...]}"}
        """
        rows = messages.inbox(db.session, g.user.id, non_lus=request.args.get("non_lus") == "1",
                              archived=request.args.get("archives") == "1", q=request.args.get("q", "")[:200])
        return self.response(200, result=[messages.as_dict(t, p) for t, p in rows])

    @expose("", methods=["POST"])
    @protect()
    @safe
    @permission_name("post_message")
    @service_errors
    def post_message(self):
        """Send a new thread: `{"destinataires": [user ids], "service_ids"?: [], "sujet", "texte",
        "usager_id"?}`; 422 `{"message": {"destinataires": [...]}}` names the recipients who do
        not see the usager.
        ---
        post:
          responses:
            201: {description: "{id, result}"}
            422: {$ref: '#/components/responses/422'}
        """
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k not in FIELDS}
        if unknown:
            return self.response_422(message=unknown)
        thread = messages.send(db.session, scope=current_scope(), author=g.user, **payload)
        return self.response(201, id=thread.id,
                             result=messages.as_dict(thread, messages.participation(thread, g.user.id), True))

    @expose("/<int:tid>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_thread")
    def get_thread(self, tid):
        """One thread with its messages and who read it (does not mark it read: `POST …/lu`).
        ---
        get:
          parameters:
          - {in: path, name: tid, schema: {type: integer}}
          responses:
            200: {description: "{result}"}
            404: {$ref: '#/components/responses/404'}
        """
        thread = messages.thread_of(db.session, tid)
        if thread is None:
            return self.response_404()
        return self.response(200, result=messages.as_dict(thread, messages.participation(thread, g.user.id), True))

    @expose("/<int:tid>/lu", methods=["POST"])
    @protect()
    @safe
    @permission_name("mark_read")
    def mark_read(self, tid):
        """Mark the thread read (the other participants see when).
        ---
        post:
          parameters:
          - {in: path, name: tid, schema: {type: integer}}
          responses:
            204: {description: Marked read}
            404: {$ref: '#/components/responses/404'}
        """
        thread = messages.thread_of(db.session, tid)
        if thread is None:
            return self.response_404()
        messages.mark_read(db.session, thread, g.user.id)
        return "", 204

    @expose("/<int:tid>", methods=["POST"])
    @protect()
    @safe
    @permission_name("post_reply")
    @service_errors
    def post_reply(self, tid):
        """Reply to a thread: `{"texte"}`.
        ---
        post:
          parameters:
          - {in: path, name: tid, schema: {type: integer}}
          responses:
            201: {description: "{id}"}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        thread = messages.thread_of(db.session, tid)
        if thread is None:
            return self.response_404()
        payload = json_body()
        if payload is None:
            return self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        unknown = {k: [_("Champ inconnu ou non modifiable.")] for k in payload if k != "texte"}
        if unknown:
            return self.response_422(message=unknown)
        message = messages.reply(db.session, thread=thread, author=g.user, texte=payload.get("texte"))
        return self.response(201, id=message.id)
