"""Lists of admissions and of the waiting list across the user's établissements.

Records are created and changed from the dossier page (admit, exit, transfer), where the rules
are shown in context; these lists are for finding and exporting.
"""
from flask import url_for
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ...domain import vocab
from ...models import Admission, DemandeAdmission
from ..base import ScopedViewMixin, datamodel

LABELS = {
    "usager": _l("Usager"), "etablissement": _l("Établissement"), "service": _l("Service"),
    "modalite": _l("Modalité"), "date_entree": _l("Entrée"), "date_sortie": _l("Sortie"),
    "motif_sortie": _l("Motif de sortie"), "decision_orientation_ref": _l("Décision d'orientation"),
    "orientation_debut": _l("Orientation du"), "orientation_fin": _l("Orientation au"),
    "date_demande": _l("Demande du"), "statut_label": _l("Statut"), "commentaire": _l("Commentaire"),
    "transfert_de": _l("Transfert depuis"),
}


def _dossier_link(usager):
    return Markup('<a href="{}">{}</a>').format(url_for("DossierView.show", usager_id=usager.id), escape(str(usager)))


class ReadOnlyParcoursView(ScopedViewMixin, ModelView):
    class_permission_name = "Parcours"
    base_permissions = ["can_read"]
    label_columns = LABELS
    formatters_columns = {"usager": _dossier_link}
    page_size = 25


class AdmissionListView(ReadOnlyParcoursView):
    datamodel = datamodel(Admission)
    list_title = _l("Admissions")
    show_title = _l("Admission")
    list_columns = ["usager", "etablissement", "service", "modalite", "date_entree", "date_sortie"]
    show_columns = ["usager", "etablissement", "service", "modalite", "date_entree", "date_sortie",
                    "motif_sortie", "decision_orientation_ref", "orientation_debut", "orientation_fin",
                    "transfert_de", "commentaire"]
    search_columns = ["etablissement", "service", "date_entree", "date_sortie"]
    base_order = ("date_entree", "desc")


class DemandeListView(ReadOnlyParcoursView):
    datamodel = datamodel(DemandeAdmission)
    list_title = _l("Liste d'attente — demandes d'admission")
    show_title = _l("Demande d'admission")
    list_columns = ["usager", "etablissement", "service", "date_demande", "statut_label"]
    show_columns = ["usager", "etablissement", "service", "modalite", "date_demande", "statut_label",
                    "decision_orientation_ref", "commentaire"]
    search_columns = ["etablissement", "service", "date_demande", "statut"]
    order_columns = ["date_demande"]  # (the status label is not a column)
    base_order = ("date_demande", "asc")
    # Open demandes only: an admitted, refused or cancelled one is history, shown in the dossier.
    base_filters = [["statut", FilterInFunction, lambda: list(vocab.STATUTS_DEMANDE_OUVERTE)]]
