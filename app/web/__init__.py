"""The web layer: FAB views and menus, REST API, référentiels console, templates helpers."""
import datetime as dt

from flask import current_app, g, has_request_context, jsonify, render_template, request, session
from flask_login import current_user
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..domain import clock, vocab
from ..domain.identity import format_phone
from . import display, layout
from .params import init_params


def register_web(app, appbuilder):
    from .api.admission import AdmissionApi
    from .api.agenda import AgendaApi
    from .api.documents import DocumentTypesApi, UsagerDocumentsApi
    from .api.ecrits import UsagerEcritApi
    from .api.papiers import PapiersTypesApi, UsagerPapiersApi
    from .api.etablissement import EtablissementApi
    from .api.evaluation import EvaluationApi
    from .api.forms import FormsApi
    from .api.indicateurs import IndicateursApi
    from .api.lieux import LieuNaissanceApi
    from .api.messages import MessageApi
    from .api.portal import PortalInvitationApi
    from .api.nomenclatures import NomenclatureApi
    from .api.projets import EcheancesApi, ProjetApi
    from .api.reunions import ReunionApi
    from .api.transmissions import TransmissionApi, UsagerTransmissionApi
    from .api.usager import UsagerApi
    from .referentiels import init_referentiels
    from .views.agenda import AgendaView
    from .views.account import AccountView, LanguageView, LockView, PasswordView
    from .views.audit import AccessHistoryView, AuditView
    from .views.emergency import CategoryMatrixView, EmergencyReviewView, EmergencyView
    from .views.identity import IdentityReferralView
    from .views.indicateurs import IndicateursView
    from .views.messages import MessageView
    from .views.portal_access import PortalAccessView
    from .portal import init_portal
    from .views.rgpd import RgpdView
    from .views.dossier import DossierView
    from .views.documents import DocumentView
    from .views.papiers import PapiersView
    from .views.drafts import DraftView, init_drafts
    from .views.evaluations import EvaluationExportView, EvaluationView
    from .views.formulaires import FormulairesView
    from .views.home import WorklistView
    from .views.nomenclatures import NomenclatureView
    from .views.projets import ProjetView
    from .views.reunions import ReunionView
    from .views.transmissions import TransmissionView
    from .views.ecrits import EcritView
    from .views.organisation import (
        AffectationView, CapaciteView, EtablissementView, OrganismeView, ServiceView,
    )
    from .views.parcours import AdmissionListView, DemandeListView
    from .views.usagers import UsagerSearchView

    appbuilder.add_view(UsagerSearchView, "Rechercher un usager", label=_l("Rechercher un usager"),
                        icon="fa-search", category="Usagers", category_label=_l("Usagers"), category_icon="fa-users")
    appbuilder.add_view(DossierView, "Nouvel usager", label=_l("Nouvel usager"), icon="fa-user-plus",
                        category="Usagers", href="/dossier/nouveau")
    appbuilder.add_view(RgpdView, "Demandes RGPD", label=_l("Demandes RGPD"), icon="fa-balance-scale",
                        category="Usagers")
    appbuilder.add_link("Échéances des projets", href="/projets/echeances", label=_l("Échéances des projets"),
                        icon="fa-calendar", category="Usagers")
    appbuilder.add_view(TransmissionView, "Transmissions", label=_l("Transmissions"), icon="fa-comments",
                        category="Usagers")
    appbuilder.add_view(EcritView, "Écrits", label=_l("Écrits"), icon="fa-file-text-o", category="Usagers")
    appbuilder.add_view(ReunionView, "Réunions", label=_l("Réunions"), icon="fa-users", category="Usagers")
    appbuilder.add_view(AgendaView, "Agenda", label=_l("Agenda"), icon="fa-calendar-o", category="Usagers")
    appbuilder.add_view(PortalAccessView, "Portail des familles", label=_l("Portail des familles"), icon="fa-home",
                        category="Usagers")
    appbuilder.add_view(MessageView, "Messagerie", label=_l("Messagerie"), icon="fa-envelope")
    appbuilder.add_view(IdentityReferralView, "Vigilance identité", label=_l("Vigilance identité"), icon="fa-id-card",
                        category="Usagers")
    appbuilder.add_view(EmergencyView, "Accès d'urgence", label=_l("Accès d'urgence"), icon="fa-exclamation-triangle",
                        category="Usagers")
    appbuilder.add_view(IndicateursView, "GMP et GIR", label=_l("GMP et répartition des GIR"), icon="fa-bar-chart",
                        category="Pilotage", category_label=_l("Pilotage"))
    appbuilder.add_view(AdmissionListView, "Admissions", label=_l("Admissions"), icon="fa-sign-in",
                        category="Parcours", category_label=_l("Parcours"), category_icon="fa-road")
    appbuilder.add_view(DemandeListView, "Demandes d'admission", label=_l("Liste d'attente"),
                        icon="fa-hourglass-half", category="Parcours")
    appbuilder.add_view_no_menu(EvaluationView)
    appbuilder.add_view_no_menu(WorklistView)
    appbuilder.add_view_no_menu(ProjetView)
    appbuilder.add_view_no_menu(DocumentView)
    appbuilder.add_view_no_menu(PapiersView)
    appbuilder.add_view_no_menu(EvaluationExportView)
    for view in (PasswordView, AccountView, LockView, DraftView, LanguageView):
        appbuilder.add_view_no_menu(view)
    appbuilder.add_view_no_menu(CapaciteView)
    appbuilder.add_view_no_menu(ServiceView)
    appbuilder.add_view(EtablissementView, "Liste des établissements", label=_l("Établissements"),
                        icon="fa-building", category="Établissements", category_label=_l("Établissements"),
                        category_icon="fa-building")
    appbuilder.add_link("Services", href="/serviceview/list/", label=_l("Services"), icon="fa-sitemap",
                        category="Établissements")
    appbuilder.add_view(OrganismeView, "Organismes", label=_l("Organismes gestionnaires"), icon="fa-bank",
                        category="Établissements")
    appbuilder.add_view(AffectationView, "Affectations", label=_l("Affectations du personnel"),
                        icon="fa-id-badge", category="Administration", category_label=_l("Administration"),
                        category_icon="fa-cogs")
    appbuilder.add_view(FormulairesView, "Formulaires", label=_l("Formulaires"), icon="fa-list-alt",
                        category="Administration")
    appbuilder.add_view(AuditView, "Journal d'audit", label=_l("Journal d'audit"), icon="fa-shield",
                        category="Administration")
    appbuilder.add_view_no_menu(AccessHistoryView)
    appbuilder.add_view(EmergencyReviewView, "Accès d'urgence à revoir", label=_l("Accès d'urgence à revoir"),
                        icon="fa-eye", category="Administration")
    appbuilder.add_view(CategoryMatrixView, "Secret partagé", label=_l("Secret partagé"), icon="fa-user-secret",
                        category="Administration")
    appbuilder.add_view(NomenclatureView, "Nomenclatures SERAFIN-PH", label=_l("Nomenclatures SERAFIN-PH"),
                        icon="fa-sitemap", category="Administration")
    appbuilder.add_link("Référentiels", href="/referentiels/", label=_l("Référentiels"), icon="fa-list",
                        category="Administration")
    appbuilder.add_api(UsagerApi)
    appbuilder.add_api(EtablissementApi)
    appbuilder.add_api(AdmissionApi)
    appbuilder.add_api(FormsApi)
    appbuilder.add_api(IndicateursApi)
    appbuilder.add_api(EvaluationApi)
    appbuilder.add_api(NomenclatureApi)
    appbuilder.add_api(LieuNaissanceApi)
    appbuilder.add_api(ProjetApi)
    appbuilder.add_api(EcheancesApi)
    appbuilder.add_api(DocumentTypesApi)
    appbuilder.add_api(UsagerDocumentsApi)
    appbuilder.add_api(PapiersTypesApi)
    appbuilder.add_api(UsagerPapiersApi)
    appbuilder.add_api(UsagerTransmissionApi)
    appbuilder.add_api(TransmissionApi)
    appbuilder.add_api(UsagerEcritApi)
    appbuilder.add_api(ReunionApi)
    appbuilder.add_api(AgendaApi)
    appbuilder.add_api(MessageApi)
    appbuilder.add_api(PortalInvitationApi)
    init_portal(app)
    init_referentiels(app)
    init_drafts(app)
    display.install(appbuilder)
    app.extensions["babel"].locale_selector = _locale
    _template_helpers(app)
    layout.register(app)
    _error_pages(app)
    init_params(app)

    @app.route("/favicon.ico")
    def favicon():
        """What a browser asks of any page (the console, a JSON answer) without a <link rel=icon>."""
        return app.send_static_file("favicon.svg")


def _locale():
    """The request's language: `?_l_=` (API), the user's choice (FAB's /lang/ view), else French.

    Unlike FAB's selector this never writes the session: two requests of a first visit (the login
    page and the browser's favicon, say) would otherwise each rewrite the session cookie, and the
    login form's CSRF token could be lost to the race.
    """
    if not has_request_context():
        return None
    languages = current_app.config["LANGUAGES"]
    if request.args.get("_l_") in languages:
        return request.args["_l_"]
    return session.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]


def _template_helpers(app):
    @app.template_filter("date_fr")
    def date_fr(value):
        """jj/mm/aaaa, with the local time for a datetime (stored in UTC)."""
        if isinstance(value, dt.datetime):
            return clock.datetime_text(value)
        if isinstance(value, str) and len(value) > 10:  # an ISO date, as the API's dicts hold them
            value = value[:10]
        return clock.date_text(value)

    app.add_template_filter(display.display, "cell")
    app.add_template_filter(display.decimal, "decimal")
    app.add_template_filter(display.percent, "percent")
    app.add_template_filter(display.linked, "linked")
    app.add_template_filter(display.options, "options")

    @app.template_filter("local_input")
    def local_input(value):
        """A stored datetime as a datetime-local field shows it (the structure's time)."""
        return clock.local(value).strftime("%Y-%m-%dT%H:%M") if value else ""

    @app.template_filter("time_fr")
    def time_fr(value):
        return clock.time_text(value)

    @app.template_filter("phone")
    def phone(value):
        return format_phone(value)

    @app.template_filter("vocab")
    def vocab_label(code, name):
        return vocab.label(getattr(vocab, name), code)

    @app.context_processor
    def _emergency():
        def emergency_banner():
            """Break-the-glass accesses of the user (a banner meanwhile), and for the DPO and the
            direction the accesses still to review (their alert)."""
            from sqlalchemy import func, select

            from ..extensions import db
            from ..models import EmergencyAccess
            from ..security import stamp
            from ..security.scope import current_scope
            from ..services.emergency import active_for

            if not current_user.is_authenticated:
                return {}
            scope = current_scope()
            active = active_for(db.session, current_user.id) if scope and scope.emergency_usager_ids else []
            to_review = 0
            if app.appbuilder.sm.has_access("can_read", "HistoriqueAcces"):  # (an access moves the stamp)
                to_review = stamp.cached(db.session, ("emergency_to_review",), lambda: db.session.execute(
                    select(func.count(EmergencyAccess.id)).where(EmergencyAccess.reviewed_at.is_(None))).scalar())
            return {"active": active, "to_review": to_review}

        return {"emergency_banner": emergency_banner}

    @app.context_processor
    def _messages():
        def unread_messages():
            """The navbar's badge: threads with something new for the user (one COUNT, kept per
            user, scope and data version: a message, or reading one, moves the version), or None
            when the user has no messaging."""
            from ..extensions import db
            from ..security import stamp
            from ..security.scope import current_scope
            from ..services.messages import unread_count

            if not current_user.is_authenticated or not app.appbuilder.sm.has_access("can_read", "Message"):
                return None
            user_id = current_user.id
            # (today: the scope keeps usagers, and their threads, some months after their exit)
            return stamp.cached_by_data(db.session, ("unread", user_id, current_scope(), clock.today()),
                                        lambda: unread_count(db.session, user_id))

        return {"unread_messages": unread_messages}

    @app.template_global()
    def shown_audit_changes(entry):
        """An audit entry's changes as the reader may see them (their categories of the secret)."""
        from ..security.audit import shown_changes
        from ..security.scope import current_scope

        scope = current_scope()
        return shown_changes(entry.entity, entry.changes, scope.readable if scope is not None else None)

    @app.template_global()
    def list_values(name):
        """Values of a référentiels list, for list_choice fields (read once per request and list)."""
        from ..extensions import db
        from ..services.forms import list_values as values_of

        cache = g.setdefault("sillage_lists", {})
        if name not in cache:
            cache[name] = values_of(db.session, name)
        return cache[name]

    @app.template_global()
    def usager_banner(usager, documents=None):
        """The banner's facts of a person (services.usagers.banner), once per request and person;
        `documents`: the person's documents when the page has read them (its photo is among them)."""
        from ..extensions import db
        from ..services.usagers import banner

        cache = g.setdefault("sillage_banners", {})
        if usager.id not in cache:
            cache[usager.id] = banner(db.session, usager, app.config["SILLAGE_BANNER_BADGES"], clock.today(),
                                      documents)
        return cache[usager.id]

    @app.template_global()
    def attachment_name(reference):
        from ..services.attachments import display_name

        return display_name(reference)

    @app.template_global()
    def group_members(group):
        from ..domain.forms.definition import repeated_members

        return repeated_members(group)

    @app.template_global()
    def nomenclature_choices(name):
        """(group, [codes]) of a nomenclature field's choices, grouped by their parent."""
        from ..domain import nomenclatures

        codes = nomenclatures.serafin()
        groups = {}
        for code in nomenclatures.choices(name):
            groups.setdefault(code.parent, []).append(code)
        return [(codes[parent], items) for parent, items in groups.items()]

    @app.template_filter("age")
    def age(birth):
        today = clock.today()
        return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _error_pages(app):
    def wants_json():
        return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"

    def page(status, title, text):
        if wants_json():
            return jsonify(message=str(text)), status
        if "user" not in g:  # the request was stopped before FAB's hook (e.g. a CSRF failure)
            g.user = current_user
        return render_template("errors/error.html", status=status, title=title, text=text,
                               base_template=app.appbuilder.base_template, appbuilder=app.appbuilder), status

    @app.errorhandler(400)
    def bad_request(e):
        return page(400, _("Requête invalide"), _("La requête n'a pas pu être comprise."))

    @app.errorhandler(403)
    def forbidden(e):
        return page(403, _("Accès refusé"), _("Vous n'avez pas les droits nécessaires pour cette action."))

    @app.errorhandler(404)
    def not_found(e):
        return page(404, _("Page introuvable"), _("Cette page n'existe pas, ou vous n'y avez pas accès."))

    @app.errorhandler(405)
    def not_allowed(e):
        return page(405, _("Méthode non permise"), _("Cette action n'est pas possible ici."))

    @app.errorhandler(413)
    def too_large(e):
        return page(413, _("Envoi trop volumineux"), _("Le fichier ou le formulaire envoyé est trop volumineux."))

    @app.errorhandler(500)
    def server_error(e):
        from ..extensions import db

        db.session.rollback()
        return page(500, _("Erreur interne"), _("Une erreur inattendue est survenue ; rien n'a été enregistré. "
                                                 "L'équipe technique peut la retrouver dans les journaux."))
