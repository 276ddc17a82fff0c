"""Forms of the dossier panels (identity, contacts, situation, coverage, protection, foyer, parcours)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from ...domain import vocab
from ...domain.identity import format_phone
from . import VersionedForm, opt_int


class PhoneField(StringField):
    """A phone number shown as people read it ("06 12 34 56 78"), whatever form it is stored in
    (E.164); the services normalise what is typed."""

    def _value(self):
        return format_phone(self.data) if self.data else ""


def vocab_select(label, vocabulary, **kw):
    return SelectField(label, choices=lambda: vocab.choices(vocabulary), validators=[Optional()], **kw)


def date_field(label):
    return DateField(label, validators=[Optional()], render_kw={"placeholder": "jj/mm/aaaa"})


class IdentityForm(VersionedForm):
    nom_naissance = StringField(_l("Nom de naissance"))
    prenoms_naissance = StringField(_l("Prénoms de naissance"),
                                    description=_l("Tous les prénoms, dans l'ordre de la pièce d'identité, séparés par des espaces."))
    date_naissance = DateField(_l("Date de naissance"), validators=[Optional()])
    sexe = vocab_select(_l("Sexe"), vocab.SEXE)
    lieu_naissance_code = StringField(_l("Lieu de naissance (code INSEE)"),
                                      description=_l("Code de la commune, ou 99xxx pour un pays étranger."))
    lieu_naissance_libelle = StringField(_l("Lieu de naissance (libellé)"))
    nom_utilise = StringField(_l("Nom utilisé"))
    prenom_utilise = StringField(_l("Prénom utilisé"))
    matricule_ins = StringField(_l("Matricule INS (NIR ou NIA)"))
    oid_ins = vocab_select(_l("OID du matricule INS"), vocab.OID_INS)
    ins_recupere_le = date_field(_l("INS récupéré (téléservice INSi) le"))
    statut_identite = vocab_select(_l("Statut de l'identité"), vocab.STATUT_IDENTITE,
                                   description=_l("Qualifiée : INS récupéré ET pièce d'identité vérifiée (RNIV)."))
    piece_identite_type = vocab_select(_l("Pièce d'identité vérifiée"), vocab.PIECE_IDENTITE)
    piece_identite_verifiee_le = date_field(_l("Pièce vérifiée le"))


class ContactForm(VersionedForm):
    telephone_fixe = PhoneField(_l("Téléphone fixe"))
    telephone_mobile = PhoneField(_l("Téléphone mobile"))
    email = StringField(_l("Courriel"))
    adresse = StringField(_l("Adresse"))
    code_postal = StringField(_l("Code postal"))
    commune = StringField(_l("Commune"))
    pays = StringField(_l("Pays"))


class SituationForm(VersionedForm):
    situation_familiale = vocab_select(_l("Situation familiale"), vocab.SITUATION_FAMILIALE)
    situation_professionnelle = vocab_select(_l("Situation professionnelle ou scolaire"), vocab.SITUATION_PRO)
    scolarite = StringField(_l("Scolarité / emploi (précisions)"))


class NewUsagerForm(IdentityForm):
    etablissement_id = SelectField(_l("Établissement"), coerce=opt_int, validators=[Optional()])
    service_id = SelectField(_l("Service (facultatif)"), coerce=opt_int, validators=[Optional()])
    telephone_mobile = PhoneField(_l("Téléphone mobile"))
    email = StringField(_l("Courriel"))
    accept_duplicates = BooleanField(_l("Je confirme qu'il s'agit d'une autre personne"))


class CouvertureForm(VersionedForm):
    regime = vocab_select(_l("Régime"), vocab.REGIME)
    caisse = StringField(_l("Caisse"))
    complementaire = StringField(_l("Complémentaire santé"))
    droits_debut = date_field(_l("Droits ouverts du"))
    droits_fin = date_field(_l("au"))
    css = BooleanField(_l("Complémentaire santé solidaire (CSS)"))
    ame = BooleanField(_l("Aide médicale de l'État (AME)"))


class ProtectionForm(VersionedForm):
    type_mesure = vocab_select(_l("Mesure"), vocab.MESURE_PROTECTION)
    mandataire = StringField(_l("Mandataire (personne ou service)"))
    mandataire_contact = StringField(_l("Coordonnées du mandataire"))
    date_debut = date_field(_l("Depuis le"))
    date_fin = date_field(_l("Jusqu'au"))
    reference_jugement = StringField(_l("Référence du jugement"))
    commentaire = TextAreaField(_l("Commentaire"))


class FoyerForm(VersionedForm):
    libelle = StringField(_l("Nom du foyer"))
    adresse = StringField(_l("Adresse"))
    code_postal = StringField(_l("Code postal"))
    commune = StringField(_l("Commune"))
    commentaire = TextAreaField(_l("Commentaire"))


class ContactPersonForm(VersionedForm):
    nom = StringField(_l("Nom"))
    prenom = StringField(_l("Prénom"))
    lien = StringField(_l("Lien avec l'usager"))
    roles = SelectMultipleField(_l("Rôles"), choices=lambda: vocab.choices(vocab.ROLE_CONTACT, blank=False),
                                validators=[Optional()])
    telephone = PhoneField(_l("Téléphone"))
    email = StringField(_l("Courriel"))
    adresse = StringField(_l("Adresse"))


class AdmissionForm(VersionedForm):
    service_id = SelectField(_l("Service"), coerce=opt_int, validators=[Optional()])
    modalite_id = SelectField(_l("Modalité d'accueil"), coerce=opt_int, validators=[Optional()])
    date_entree = date_field(_l("Date d'entrée"))
    decision_orientation_ref = StringField(_l("Décision d'orientation (référence)"))
    orientation_debut = date_field(_l("Orientation valable du"))
    orientation_fin = date_field(_l("au"))


class SortieForm(VersionedForm):
    date_sortie = date_field(_l("Date de sortie"))
    motif_sortie_id = SelectField(_l("Motif"), coerce=opt_int, validators=[Optional()])


class TransfertForm(VersionedForm):
    service_id = SelectField(_l("Nouveau service"), coerce=opt_int, validators=[Optional()])
    date_transfert = date_field(_l("Date du transfert"))


class DemandeForm(VersionedForm):
    etablissement_id = SelectField(_l("Établissement"), coerce=opt_int, validators=[Optional()])
    service_id = SelectField(_l("Service souhaité"), coerce=opt_int, validators=[Optional()])
    modalite_id = SelectField(_l("Modalité"), coerce=opt_int, validators=[Optional()])
    date_demande = date_field(_l("Date de la demande"))
    statut = vocab_select(_l("Statut"), vocab.STATUT_DEMANDE)
    decision_orientation_ref = StringField(_l("Décision d'orientation (référence)"))
    commentaire = TextAreaField(_l("Commentaire"))
