"""Factories every test uses instead of building rows by hand."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from app.extensions import db
from app.models import Etablissement, ModaliteAccueil, Service, Usager
from app.security.scope import Scope
from app.services import parcours, usagers

_counter = itertools.count(1)
TILLEULS, SOURCES = "EHPAD Les Tilleuls", "IME Les Sources"


def etablissement(name=TILLEULS) -> Etablissement:
    return db.session.execute(select(Etablissement).where(Etablissement.name == name)).scalar_one()


def service(etab_name=TILLEULS, index=0) -> Service:
    return etablissement(etab_name).services[index]


def modalite(code="HP") -> ModaliteAccueil:
    return db.session.execute(select(ModaliteAccueil).where(ModaliteAccueil.code == code)).scalar_one()


def unique_name(prefix="TEST") -> str:
    """A name no other test's sounds like: the duplicate check compares names phonetically
    (Soundex2 drops vowels and repeated letters), so each digit is a consonant after an R."""
    letters = "".join("R" + "BFGJKLMNPV"[int(d)] for d in str(next(_counter)).zfill(4))
    return f"{prefix}{letters}"


def gen_usager(etab_name=TILLEULS, admitted=True, service_index=0, **values) -> Usager:
    """A new usager in an établissement (with a demande; admitted in a service by default)."""
    data = {"nom_naissance": unique_name(), "prenoms_naissance": "Jeanne Marie",
            "date_naissance": dt.date(1940, 5, 17), "sexe": "F"}
    data.update(values)
    etab = etablissement(etab_name)
    usager = usagers.create_usager(db.session, data, scope=Scope.everything(), etablissement_id=etab.id,
                                   accept_duplicates=True)
    if admitted:
        parcours.admit(db.session, scope=Scope.everything(), usager=usager,
                       service_id=etab.services[service_index].id,
                       modalite_id=etab.capacites[0].modalite_id if etab.capacites else modalite().id,
                       date_entree=dt.date(2024, 1, 15), demande=usager.demandes[0])
    return usager


def grid_yaml(code: str, title: str, items: str, version: int = 1) -> str:
    """A one-section evaluation for EHPAD, category soins; `items`: the YAML lines of its fields
    (indented by two spaces, as in a section)."""
    return (f"code: {code}\ntitle: {title}\nversion: {version}\nkind: evaluation\n"
            "applies_to:\n  categories:\n  - EHPAD\nsensitivity: soins\n"
            f"sections:\n- code: s\n  title: Section\n  items:\n{items}")
