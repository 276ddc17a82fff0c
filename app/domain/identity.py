"""Identity rules: NIR/NIA (INS matricule), RNIV identity status, FINESS, SIREN, contacts.

Each check returns a translated message, or None when the value is acceptable, so the same rule
serves forms, the API and imports.
"""
import datetime as dt
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir, siren

from . import places

# ANS, « Guide d'implémentation de l'identité INS »: OIDs of the authorities assigning the matricule.
OID_NIR = "1.2.250.1.213.1.4.8"
OID_NIA = "1.2.250.1.213.1.4.9"
OID_NIR_TEST = "1.2.250.1.213.1.4.10"
OID_NIA_TEST = "1.2.250.1.213.1.4.11"

NIR_SEX_DIGITS = {"1": "M", "2": "F", "7": "M", "8": "F"}  # 7/8: numéros provisoires (NIA)


def compact_nir(value: str) -> str:
    return nir.compact(value or "")


def check_nir(value: str, sexe: str | None, date_naissance: dt.date | None) -> str | None:
    """A matricule INS must be a valid NIR/NIA (check key) consistent with sex and birth date.

    INSEE: digit 1 is the sex (1/7 men, 2/8 women), digits 2-3 the year, 4-5 the month;
    months 20-42 and 50-99 are used when the birth month is unknown and are not compared.
    """
    number = compact_nir(value)
    try:
        nir.validate(number)
    except StdnumError:
        return _("Le matricule INS n'est pas un NIR/NIA valide (15 caractères, clé de contrôle).")
    expected_sex = NIR_SEX_DIGITS.get(number[0])
    if expected_sex is None:
        return _("Le premier chiffre du matricule INS doit indiquer le sexe (1, 2, 7 ou 8).")
    if sexe in ("M", "F") and expected_sex != sexe:
        return _("Le matricule INS ne correspond pas au sexe déclaré.")
    if date_naissance is not None:
        if int(number[1:3]) != date_naissance.year % 100:
            return _("Le matricule INS ne correspond pas à l'année de naissance.")
        month = int(number[3:5])
        if 1 <= month <= 12 and month != date_naissance.month:
            return _("Le matricule INS ne correspond pas au mois de naissance.")
    return None


def identity_status_errors(data: dict) -> dict:
    """RNIV: récupérée needs an INS retrieved by the INSi service; validée needs a verified
    high-trust identity document; qualifiée needs both."""
    errors = {}
    status = data.get("statut_identite") or "provisoire"
    has_ins = bool(data.get("matricule_ins")) and bool(data.get("oid_ins"))
    needs_ins = status in ("recuperee", "qualifiee")
    needs_document = status in ("validee", "qualifiee")
    if needs_ins and not has_ins:
        errors["matricule_ins"] = _("Ce statut d'identité exige un matricule INS et son OID.")
    if needs_ins and not data.get("ins_recupere_le"):
        errors["ins_recupere_le"] = _("Ce statut d'identité exige la date de récupération de l'INS (téléservice INSi).")
    if needs_document and not data.get("piece_identite_type"):
        errors["piece_identite_type"] = _("Ce statut d'identité exige une pièce d'identité à haut niveau de confiance.")
    if needs_document and not data.get("piece_identite_verifiee_le"):
        errors["piece_identite_verifiee_le"] = _("Indiquez la date de vérification de la pièce d'identité.")
    if data.get("matricule_ins") and not data.get("oid_ins"):
        errors.setdefault("oid_ins", _("Indiquez l'OID de l'autorité d'affectation du matricule INS."))
    return errors


INSEE_PLACE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def check_lieu_naissance(code: str) -> str | None:
    if code and not INSEE_PLACE.match(code):
        return _("Le lieu de naissance est un code INSEE de 5 caractères (commune, ou 99xxx pour un pays).")
    if code and not places.exists(code):
        return _("Code INSEE inconnu : ni une commune, ni un pays du Code officiel géographique. Choisissez le lieu "
                 "dans la liste proposée.")
    return None


def normalize_phone(value: str) -> tuple[str | None, str | None]:
    """(E.164 number, error). French numbers may be typed nationally (06 12 34 56 78)."""
    if not value:
        return None, None
    try:
        parsed = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return None, _("Numéro de téléphone illisible.")
    if not phonenumbers.is_valid_number(parsed):
        return None, _("Numéro de téléphone invalide.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


def format_phone(value: str | None) -> str:
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 33
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, fmt)


def normalize_email(value: str) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    try:
        return validate_email(value, check_deliverability=False).normalized, None
    except EmailNotValidError:
        return None, _("Adresse électronique invalide.")


def check_siren(value: str) -> str | None:
    if value and not siren.is_valid(value):
        return _("Le SIREN doit comporter 9 chiffres et une clé valide.")
    return None


FINESS_FORMAT = re.compile(r"^(\d{2}|2[AB])\d{7}$")


def check_finess(value: str) -> str | None:
    """FINESS: department (2 characters, 2A/2B in Corsica), 6 digits, a Luhn key."""
    if not value:
        return None
    if not FINESS_FORMAT.match(value):
        return _("Le numéro FINESS comporte 9 caractères (département puis chiffres).")
    if value[:2].isdigit() and not luhn.is_valid(value):
        return _("La clé du numéro FINESS est invalide.")
    return None


# RNIV: the traits an identity is verified on. Changing one of a verified identity (validée, qualifiée)
# ends that verification: the identity is provisional again until it is checked anew.
STRICT_TRAITS = ("nom_naissance", "prenoms_naissance", "date_naissance", "sexe", "lieu_naissance_code")
VERIFIED = ("validee", "qualifiee")


def strict_traits_changed(before: dict, after: dict) -> list[str]:
    return [t for t in STRICT_TRAITS if (before.get(t) or None) != (after.get(t) or None)]

