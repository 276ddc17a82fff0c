"""Organismes, établissements, services and staff assignments (FAB CRUD views, scoped)."""
from flask_appbuilder import ModelView
from flask_babel import lazy_gettext as _l
from wtforms import FileField, SelectField
from wtforms.validators import NumberRange, Optional

from ...models import Capacite, Etablissement, Organisme, Service, StaffAssignment
from ...services.organisation import set_logo
from ..base import ScopedViewMixin, datamodel
from ..validators import Finess, Siren

COMMON_LABELS = {
    "name": _l("Nom"), "siren": _l("SIREN"), "finess": _l("N° FINESS"), "categorie": _l("Catégorie"),
    "organisme": _l("Organisme gestionnaire"), "adresse": _l("Adresse"), "code_postal": _l("Code postal"),
    "commune": _l("Commune"), "telephone": _l("Téléphone"), "etablissement": _l("Établissement"),
    "services": _l("Services"), "capacites": _l("Capacités autorisées"), "modalite": _l("Modalité"),
    "places": _l("Places"), "user": _l("Utilisateur"), "service": _l("Service (facultatif)"),
    "archived_at": _l("Archivé le"),
}


class SillageModelView(ScopedViewMixin, ModelView):
    label_columns = COMMON_LABELS
    page_size = 25
    base_order = ("id", "asc")


class CapaciteView(SillageModelView):
    datamodel = datamodel(Capacite)
    class_permission_name = "Etablissement"
    list_title = _l("Capacités autorisées")
    add_title = _l("Ajouter une capacité")
    edit_title = _l("Modifier une capacité")
    show_title = _l("Capacité autorisée")
    list_columns = ["modalite", "places"]
    add_columns = edit_columns = ["etablissement", "modalite", "places"]
    validators_columns = {"places": [NumberRange(min=0, max=100000)]}


TRANSMISSION_MODES = {"dar": _l("Structurées (DAR)"), "narratif": _l("Narratives")}


class ServiceView(SillageModelView):
    datamodel = datamodel(Service)
    class_permission_name = "Etablissement"
    list_title = _l("Services")
    add_title, edit_title, show_title = _l("Nouveau service"), _l("Modifier le service"), _l("Service")
    list_columns = ["etablissement", "name", "transmission_mode"]
    add_columns = edit_columns = ["etablissement", "name", "transmission_mode"]
    show_columns = ["etablissement", "name", "transmission_mode", "archived_at"]
    search_columns = ["name", "etablissement"]
    label_columns = {**COMMON_LABELS, "transmission_mode": _l("Transmissions")}
    add_form_extra_fields = edit_form_extra_fields = {
        "transmission_mode": SelectField(_l("Transmissions"), choices=list(TRANSMISSION_MODES.items()),
                                         description=_l("Comment l'équipe écrit ses transmissions : structurées "
                                                        "(cible, données, actions, résultats) ou narratives.")),
    }
    formatters_columns = {"transmission_mode": lambda mode: TRANSMISSION_MODES.get(mode, mode)}


class EtablissementView(SillageModelView):
    datamodel = datamodel(Etablissement)
    class_permission_name = "Etablissement"
    list_title = _l("Établissements")
    add_title, edit_title = _l("Nouvel établissement"), _l("Modifier l'établissement")
    show_title = _l("Établissement")
    list_columns = ["name", "categorie", "finess", "commune"]
    show_columns = ["name", "organisme", "categorie", "finess", "adresse", "code_postal", "commune",
                    "telephone", "archived_at"]
    add_columns = edit_columns = ["organisme", "name", "categorie", "finess", "adresse", "code_postal",
                                  "commune", "telephone", "logo_fichier"]
    search_columns = ["name", "finess", "commune", "categorie"]
    validators_columns = {"finess": [Optional(), Finess()]}
    related_views = [ServiceView, CapaciteView]
    show_template = "appbuilder/general/model/show_cascade.html"
    add_form_extra_fields = edit_form_extra_fields = {
        "logo_fichier": FileField(_l("Logo (en-tête des documents)"),
                                  description=_l("Image PNG ou JPEG de 200 Ko au plus, imprimée en tête des comptes "
                                                 "rendus et rapports ; vide : le logo actuel est gardé.")),
    }

    def _take_logo(self, item):
        """A logo sent with the form (checked by services.organisation.set_logo); the form's
        field is not a column."""
        upload = item.__dict__.pop("logo_fichier", None)
        if upload is not None and getattr(upload, "filename", ""):
            set_logo(item, upload.filename, upload.read())

    def pre_add(self, item):
        self._take_logo(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._take_logo(item)
        super().pre_update(item)


class OrganismeView(SillageModelView):
    datamodel = datamodel(Organisme)
    class_permission_name = "Etablissement"
    list_title = _l("Organismes gestionnaires")
    add_title, edit_title = _l("Nouvel organisme gestionnaire"), _l("Modifier l'organisme")
    show_title = _l("Organisme gestionnaire")
    list_columns = ["name", "siren"]
    add_columns = edit_columns = show_columns = ["name", "siren"]
    search_columns = ["name", "siren"]
    validators_columns = {"siren": [Optional(), Siren()]}
    related_views = [EtablissementView]


class AffectationView(SillageModelView):
    datamodel = datamodel(StaffAssignment)
    class_permission_name = "Affectation"
    list_title = _l("Affectations du personnel")
    add_title, edit_title = _l("Nouvelle affectation"), _l("Modifier l'affectation")
    show_title = _l("Affectation")
    list_columns = add_columns = edit_columns = show_columns = ["user", "etablissement", "service"]
    search_columns = ["etablissement"]

    def post_add(self, item):
        from ...security.scope import reset_scope

        reset_scope()
