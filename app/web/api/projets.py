"""`/api/v1/usager/<id>/projets…` and `/api/v1/projets/echeances`: the projet personnalisé, under
the usager's scope (outside it: 404) and the shared secret, through services.projets."""
import datetime as dt
import io

from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ...domain import clock
from ...extensions import db
from ...models import Usager
from ...models.projet import ProjetPersonnalise
from ...security.roles import METHOD_ACTIONS
from ...security.scope import current_scope
from ...services import projets
from ...services.projets import as_dict as projet_json
from .base import json_body, service_errors


class ProjetApi(BaseApi):
    route_base = "/api/v1/usager"
    resource_name = "usager"
    class_permission_name = "Projet"
    method_permission_name = {**METHOD_ACTIONS, "list_projets": "read", "get_projet": "read",
                              "create_projet": "write", "put_projet": "write", "add_bilan": "write",
                              "progression": "read", "pdf": "read", "statut": "write", "signer": "write",
                              "participation": "write", "avenant": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Projet personnalisé"

    def _usager(self, pk):
        return db.session.get(Usager, pk)

    def _projet(self, pk, pid):
        projet = db.session.get(ProjetPersonnalise, pid)
        return projet if projet is not None and projet.usager_id == pk and projet.archived_at is None else None

    def _body(self):
        payload = json_body()
        if payload is None:
            return None, self.response_400(message=_("Le corps de la requête doit être un objet JSON."))
        return payload, None

    @expose("/<int:pk>/projets", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_projets")
    def list_projets(self, pk):
        """The usager's PP versions the user may read, newest first per établissement.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: "{count, result}"}
            404: {$ref: '#/components/responses/404'}
        """
        if self._usager(pk) is None:
            return self.response_404()
        result = [projet_json(p) for p in projets.projets_of(db.session, pk)]
        return self.response(200, count=len(result), result=result)

    @expose("/<int:pk>/projets", methods=["POST"])
    @protect()
    @safe
    @permission_name("create_projet")
    @service_errors
    def create_projet(self, pk):
        """Create the first version of a PP: `{"etablissement_id", "date_debut", "referent_id"?,
        "attentes"?, "objectifs": [{"libelle", "besoins", "indicateur"?, "actions": [...]}]}`.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            201: {description: The PP with the ids of its objectives and actions}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        usager = self._usager(pk)
        if usager is None:
            return self.response_404()
        payload, error = self._body()
        if error:
            return error
        projet = projets.create(db.session, scope=current_scope(), usager=usager, payload=payload)
        return self.response(201, id=projet.id, result=projet_json(projet))

    @expose("/<int:pk>/projets/<int:pid>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_projet")
    def get_projet(self, pk, pid):
        """One PP version.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            200: {description: The PP}
            404: {$ref: '#/components/responses/404'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        return self.response(200, id=projet.id, result=projet_json(projet))

    @expose("/<int:pk>/projets/<int:pid>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put_projet")
    @service_errors
    def put_projet(self, pk, pid):
        """Change an unsigned version (`version` required; 409 when stale). Objectives and actions
        given with their `id` are kept; the others are replaced.
        ---
        put:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            200: {description: The PP}
            404: {$ref: '#/components/responses/404'}
            409: {description: Stale version}
            422: {$ref: '#/components/responses/422'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        payload, error = self._body()
        if error:
            return error
        projets.update(db.session, scope=current_scope(), projet=projet, payload=payload,
                       expected_version=payload.get("version"))
        return self.response(200, id=projet.id, result=projet_json(projet))

    @expose("/<int:pk>/projets/<int:pid>/statut", methods=["POST"])
    @protect()
    @safe
    @permission_name("statut")
    @service_errors
    def statut(self, pk, pid):
        """Propose the version (`{"statut": "propose", "version"}`) or send it back to élaboration.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            200: {description: The PP}
            404: {$ref: '#/components/responses/404'}
            409: {description: Stale version}
            422: {$ref: '#/components/responses/422'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        payload, error = self._body()
        if error:
            return error
        projets.set_status(db.session, projet, payload.get("statut"), payload.get("version"))
        return self.response(200, id=projet.id, result=projet_json(projet))

    @expose("/<int:pk>/projets/<int:pid>/signatures", methods=["POST"])
    @protect()
    @safe
    @permission_name("signer")
    @service_errors
    def signer(self, pk, pid):
        """Sign a proposed version in the application, the person present:
        `{"version", "signataires": [{"qualite", "nom", "date", "mode": "application"}]}`.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            200: {description: The signed PP}
            404: {$ref: '#/components/responses/404'}
            409: {description: Stale version}
            422: {$ref: '#/components/responses/422'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        payload, error = self._body()
        if error:
            return error
        projets.sign(db.session, projet=projet, signataires=payload.get("signataires"),
                     expected_version=payload.get("version"))
        return self.response(200, id=projet.id, result=projet_json(projet))

    @expose("/<int:pk>/projets/<int:pid>/participations", methods=["POST"])
    @protect()
    @safe
    @permission_name("participation")
    @service_errors
    def participation(self, pk, pid):
        """Record who took part in a step: `{"etape", "qualite", "nom", "statut", "motif"?, "date"?}`.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            201: {description: Recorded}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        payload, error = self._body()
        if error:
            return error
        row = projets.record_participation(db.session, projet=projet, payload=payload)
        return self.response(201, id=row.id)

    @expose("/<int:pk>/projets/<int:pid>/bilans", methods=["POST"])
    @protect()
    @safe
    @permission_name("add_bilan")
    @service_errors
    def add_bilan(self, pk, pid):
        """Record a bilan: `{"date", "type": "intermediaire"|"final", "objectifs": [{"objectif_id",
        "atteinte", "mesure"?, "commentaire"?, "avis_personne"?, "decision"?}]}`. A final bilan opens
        the next version (`next_id`).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            201: {description: Recorded}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        payload, error = self._body()
        if error:
            return error
        bilan = projets.add_bilan(db.session, scope=current_scope(), projet=projet, payload=payload)
        following = projets.current(db.session, pk, projet.etablissement_id) if bilan.type == "final" else None
        return self.response(201, id=bilan.id, next_id=following.id if following else None,
                             share_reached=projets.share_reached(bilan))

    @expose("/<int:pk>/projets/<int:pid>/avenant", methods=["POST"])
    @protect()
    @safe
    @permission_name("avenant")
    @service_errors
    def avenant(self, pk, pid):
        """Open the next version of a signed PP (`{"version", "date"}`), every objective carried over.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            201: {description: The new version}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        payload, error = self._body()
        if error:
            return error
        try:
            date = dt.date.fromisoformat(payload.get("date") or clock.today().isoformat())
        except (TypeError, ValueError):
            return self.response_422(message={"date": [_("Date attendue au format AAAA-MM-JJ.")]})
        new = projets.open_avenant(db.session, projet=projet, date=date, expected_version=payload.get("version"))
        return self.response(201, id=new.id, result=projet_json(new))

    @expose("/<int:pk>/projets/<int:pid>/progression", methods=["GET"])
    @protect()
    @safe
    @permission_name("progression")
    def progression(self, pk, pid):
        """Per objective, its ratings and measures in date order, across versions.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          responses:
            200: {description: "{objectifs: [{id, libelle, points}]}"}
            404: {$ref: '#/components/responses/404'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        bilans = [{"id": b.id, "date": b.date.isoformat(), "type": b.type, "share_reached": projets.share_reached(b)}
                  for b in projet.bilans]
        return self.response(200, objectifs=projets.progression(db.session, projet), bilans=bilans)


    @expose("/<int:pk>/projets/<int:pid>/pdf", methods=["GET"])
    @protect()
    @safe
    @permission_name("pdf")
    def pdf(self, pk, pid):
        """The PP as a PDF in French (`?falc=1`: the easy-read version; `?codes=1`: with the
        SERAFIN-PH codes).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: pid, schema: {type: integer}}
          - {in: query, name: falc, schema: {type: integer}}
          responses:
            200: {description: application/pdf}
            404: {$ref: '#/components/responses/404'}
        """
        projet = self._projet(pk, pid)
        if projet is None:
            return self.response_404()
        body, name = projets.render_pdf(db.session, projet, falc=request.args.get("falc") == "1",
                                        with_codes=request.args.get("codes") == "1")
        return send_file(io.BytesIO(body), mimetype="application/pdf", download_name=name, max_age=0)


class EcheancesApi(BaseApi):
    route_base = "/api/v1/projets"
    resource_name = "projets"
    class_permission_name = "Projet"
    method_permission_name = {"echeances": "read", "statistiques": "read", "statistiques_xlsx": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Projet personnalisé"

    @expose("/echeances", methods=["GET"])
    @protect()
    @safe
    @permission_name("echeances")
    def echeances(self):
        """What is due by `date` (default today) in the user's scope: PPs to build or revise,
        bilans, actions past their end.
        ---
        get:
          parameters:
          - {in: query, name: date, schema: {type: string, format: date}}
          responses:
            200: {description: "{result: [{usager_id, projet_id, motif, echeance}]}"}
            400: {$ref: '#/components/responses/400'}
        """
        raw = request.args.get("date")
        try:
            by = dt.date.fromisoformat(raw) if raw else clock.today()
        except ValueError:
            return self.response_400(message=_("Date attendue au format AAAA-MM-JJ."))
        result = projets.echeances(db.session, current_scope(), by)
        return self.response(200, count=len(result), result=result)

    @expose("/statistiques", methods=["GET"])
    @protect()
    @safe
    @permission_name("statistiques")
    def statistiques(self):
        """Per établissement and service: PPs up to date; objectives reached per SERAFIN-PH besoin;
        prestations planned per code (actions, people). `?format=xlsx` for a workbook.
        ---
        get:
          parameters:
          - {in: query, name: format, schema: {type: string, enum: [json, xlsx]}}
          responses:
            200: {description: "{services, besoins, prestations}"}
        """
        stats = projets.statistics(db.session, current_scope(), clock.today())
        if request.args.get("format") == "xlsx":
            return send_file(io.BytesIO(projets.statistics_xlsx(stats)), download_name="projets-statistiques.xlsx",
                             mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)
        return self.response(200, **stats)
