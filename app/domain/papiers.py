"""Rules of the administrative and financial papers: vocabularies, the contract's deadlines, the
renewal of aides. Pure functions (no session, no request).

Contrat de séjour / DIPC (CASF L.311-4 and D.311): handed over to the person (or their legal
representative) within 15 days of the admission, signed within one month of it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l

REMISE_DAYS = 15
SIGNATURE_MONTHS = 1
AIDE_RENEWAL_DAYS = 90  # default: SILLAGE_AIDE_RENEWAL_DAYS

CONTRAT_TYPES = {"contrat": _l("Contrat de séjour"), "dipc": _l("Document individuel de prise en charge (DIPC)")}
FACTURE_KINDS = {"facture": _l("Facture"), "attestation": _l("Attestation de paiement")}
RESSOURCE_KINDS = {
    "pension": _l("Pension de retraite"), "invalidite": _l("Pension d'invalidité"), "aah": _l("AAH"),
    "salaire": _l("Salaire"), "rsa": _l("RSA"), "allocations": _l("Allocations familiales"), "autre": _l("Autre"),
}
AIDE_KINDS = {
    "apa": _l("APA (allocation personnalisée d'autonomie)"), "pch": _l("PCH (prestation de compensation du handicap)"),
    "ash": _l("Aide sociale à l'hébergement"), "apl": _l("APL (aide au logement)"),
    "als": _l("ALS (allocation de logement sociale)"), "aah": _l("AAH (allocation aux adultes handicapés)"),
    "autre": _l("Autre aide"),
}
ASSURANCE_KINDS = {"rc": _l("Responsabilité civile"), "mutuelle": _l("Mutuelle (complémentaire santé)"),
                   "autre": _l("Autre assurance ou garantie")}


def remise_due(date_entree: dt.date) -> dt.date:
    return date_entree + dt.timedelta(days=REMISE_DAYS)


def signature_due(date_entree: dt.date) -> dt.date:
    return date_entree + relativedelta(months=SIGNATURE_MONTHS)


@dataclass(frozen=True)
class Deadline:
    what: str  # remise | signature
    due: dt.date
    done_on: dt.date | None
    today: dt.date

    @property
    def late(self) -> bool:
        """Not done and past due, or done after the due date."""
        return (self.done_on or self.today) > self.due

    @property
    def pending(self) -> bool:
        return self.done_on is None

    @property
    def label(self):
        if self.done_on is not None:
            return _l("fait hors délai") if self.late else _l("fait")
        return _l("en retard") if self.late else _l("à faire")


def contract_deadlines(date_entree: dt.date, remis_le: dt.date | None, signe_le: dt.date | None,
                       today: dt.date) -> tuple[Deadline, Deadline]:
    """(handed over, signed) of the contract of an admission entered on `date_entree`."""
    return (Deadline("remise", remise_due(date_entree), remis_le, today),
            Deadline("signature", signature_due(date_entree), signe_le, today))


def renewal_due(fin: dt.date | None, today: dt.date, days: int = AIDE_RENEWAL_DAYS) -> bool:
    """An aide's rights end within `days` (or have ended): time to ask for their renewal."""
    return fin is not None and fin <= today + dt.timedelta(days=days)
