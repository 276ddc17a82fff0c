"""Forms of the papers page (/dossier/<id>/papiers), one per kind of paper; they parse the form,
services.papiers checks the values (amounts typed "1 250,50" or "1250.50" are read there)."""
from flask_babel import lazy_gettext as _l
from wtforms import FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from ...domain import papiers as rules
from . import VersionedForm, opt_int
from .dossier import date_field


def _select(label, vocabulary):
    return SelectField(label, choices=lambda: [("", "—")] + [(k, str(v)) for k, v in vocabulary.items()],
                       validators=[Optional()])


def _amount(label):
    return StringField(label, render_kw={"inputmode": "decimal", "placeholder": "0,00"})


class ContratForm(VersionedForm):
    admission_id = SelectField(_l("Admission"), coerce=opt_int, validators=[Optional()], choices=[])
    type = _select(_l("Type"), rules.CONTRAT_TYPES)
    remis_le = date_field(_l("Remis le"))
    signe_le = date_field(_l("Signé le"))
    signataires = TextAreaField(_l("Signataires"), render_kw={"rows": 2})
    duree_mois = StringField(_l("Durée (mois)"), description=_l("Vide : durée indéterminée."),
                             render_kw={"inputmode": "numeric"})
    prestations = TextAreaField(_l("Prestations contractées"), description=_l("Une prestation par ligne."),
                                render_kw={"rows": 3})


class AvenantForm(VersionedForm):
    contrat_id = SelectField(_l("Contrat"), coerce=opt_int, validators=[Optional()], choices=[])
    date = date_field(_l("Date"))
    objet = StringField(_l("Objet"), description=_l("Par exemple : projet personnalisé, changement de chambre."))


class LigneForm(Form):
    libelle = StringField(_l("Libellé"))
    quantite = StringField(_l("Quantité"), render_kw={"inputmode": "decimal"})
    prix_unitaire = _amount(_l("Prix unitaire (€)"))


class DevisForm(VersionedForm):
    date = date_field(_l("Date"))
    objet = StringField(_l("Objet"))
    accepte_le = date_field(_l("Accepté le"))
    lignes = FieldList(FormField(LigneForm), min_entries=4, max_entries=40)


class FactureForm(VersionedForm):
    kind = _select(_l("Nature"), rules.FACTURE_KINDS)
    numero = StringField(_l("Numéro"))
    date = date_field(_l("Date"))
    montant = _amount(_l("Montant (€)"))
    periode_debut = date_field(_l("Période du"))
    periode_fin = date_field(_l("Période au"))


class RessourcesForm(VersionedForm):
    kind = _select(_l("Nature"), rules.RESSOURCE_KINDS)
    periode_debut = date_field(_l("Période du"))
    periode_fin = date_field(_l("Période au"))
    montant = _amount(_l("Montant (€)"))


class AideForm(VersionedForm):
    kind = _select(_l("Aide"), rules.AIDE_KINDS)
    libelle = StringField(_l("Libellé (autre aide)"))
    organisme = StringField(_l("Organisme"))
    numero_decision = StringField(_l("Numéro de décision"))
    montant = _amount(_l("Montant (€)"))
    debut = date_field(_l("Droits ouverts du"))
    fin = date_field(_l("Droits ouverts jusqu'au"))


class AssuranceForm(VersionedForm):
    kind = _select(_l("Garantie"), rules.ASSURANCE_KINDS)
    organisme = StringField(_l("Organisme"))
    contrat = StringField(_l("Numéro de contrat"))
    debut = date_field(_l("Du"))
    fin = date_field(_l("Au"))


FORMS = {"contrats": ContratForm, "avenants": AvenantForm, "devis": DevisForm, "factures": FactureForm,
         "ressources": RessourcesForm, "aides": AideForm, "assurances": AssuranceForm}
