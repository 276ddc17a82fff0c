"""The DPO's view of the audit trail: search, chain status; a dossier's access history."""
from __future__ import annotations

import datetime as dt

from flask import request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from ...extensions import db
from ...models import Usager
from ...security.audit_chain import verify
from ...services import audit_log
from .. import params
from ..base import ResourcePermissions


def _date(name):
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


class AuditView(ResourcePermissions, BaseView):
    route_base = "/audit"
    class_permission_name = "Audit"
    default_view = "index"
    method_permission_name = {"index": "read", "verify_chain": "read", "dossier": "read"}

    @expose("/")
    @has_access
    def index(self):
        q = audit_log.AuditQuery(username=request.args.get("user", "").strip()[:100], usager_id=params.arg("usager"),
                                 action=request.args.get("action", "")[:30], date_from=_date("from"),
                                 date_to=_date("to"), page=params.arg("page") or 1)
        rows, total = audit_log.search(db.session, q)
        return self.render_template("audit/index.html", title=_("Journal d'audit"), rows=rows, total=total, q=q,
                                    actions=audit_log.actions(db.session), page_size=audit_log.PAGE, verdict=None,
                                    counted=audit_log.count_limit(q))

    @expose("/verifier", methods=["POST"])
    @has_access
    def verify_chain(self):
        with db.engine.connect() as conn:
            verdict = verify(conn, complete=False)  # from the last checkpoint: seconds, not a minute
        q = audit_log.AuditQuery()
        rows, total = audit_log.search(db.session, q)
        return self.render_template("audit/index.html", title=_("Journal d'audit"), rows=rows, total=total, q=q,
                                    actions=audit_log.actions(db.session), page_size=audit_log.PAGE, verdict=verdict,
                                    counted=audit_log.count_limit(q))


class AccessHistoryView(ResourcePermissions, BaseView):
    """"Qui a consulté ce dossier", for Direction and DPO (through the row-level scope)."""

    route_base = "/dossier"
    class_permission_name = "HistoriqueAcces"
    method_permission_name = {"history": "read"}

    @expose("/<int:usager_id>/acces")
    @has_access
    def history(self, usager_id):
        usager = db.session.get(Usager, usager_id)
        if usager is None:
            from flask import abort

            abort(404)
        return self.render_template("audit/dossier.html", title=_("Qui a consulté ce dossier"), usager=usager,
                                    rows=audit_log.access_history(db.session, usager_id, limit=200))
