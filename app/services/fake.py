"""Realistic fake people for demos and benchmarks (Faker fr_FR), with valid INS matricules."""
from __future__ import annotations

import datetime as dt
import random

from faker import Faker

from ..domain import clock, phonetic, text
from ..domain.identity import OID_NIR
from ..models import Usager

# Real INSEE codes of communes, so birth places and NIRs look right.
COMMUNES = [("75056", "Paris"), ("69123", "Lyon"), ("13055", "Marseille"), ("31555", "Toulouse"),
            ("33063", "Bordeaux"), ("59350", "Lille"), ("44109", "Nantes"), ("67482", "Strasbourg"),
            ("35238", "Rennes"), ("34172", "Montpellier"), ("63113", "Clermont-Ferrand"),
            ("21231", "Dijon"), ("87085", "Limoges"), ("29019", "Brest")]


def make_nir(sexe: str, birth: dt.date, commune: str, order: int) -> str:
    body = f"{1 if sexe == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{commune}{order % 1000:03d}"
    return body + f"{97 - int(body) % 97:02d}"


class PeopleFactory:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.faker = Faker("fr_FR")
        self.faker.seed_instance(seed)

    def birth(self, min_year: int, max_year: int) -> dt.date:
        start = dt.date(min_year, 1, 1).toordinal()
        end = dt.date(max_year, 12, 28).toordinal()
        return dt.date.fromordinal(self.rng.randint(start, end))

    def phone(self) -> str:
        return f"+336{self.rng.randint(10_000_000, 99_999_999)}"

    def usager(self, min_year: int, max_year: int, nom: str | None = None, **extra) -> Usager:
        rng, fk = self.rng, self.faker
        sexe = rng.choice("MF")
        prenoms = [fk.first_name_male() if sexe == "M" else fk.first_name_female() for _ in range(rng.choice((1, 2, 2, 3)))]
        birth = self.birth(min_year, max_year)
        nom = nom or fk.last_name()
        code, ville = rng.choice(COMMUNES)
        statut = rng.choice(("provisoire", "validee", "qualifiee", "qualifiee"))
        u = Usager(
            nom_naissance=nom.upper(), prenoms_naissance=prenoms, date_naissance=birth, sexe=sexe,
            lieu_naissance_code=code, lieu_naissance_libelle=ville, statut_identite=statut,
            telephone_mobile=self.phone() if rng.random() < 0.6 else None,
            adresse=fk.street_address(), code_postal=fk.postcode(), commune=fk.city(), pays="France",
            **extra,
        )
        if statut in ("validee", "qualifiee"):
            u.piece_identite_type = rng.choice(("cni", "passeport"))
            u.piece_identite_verifiee_le = clock.today() - dt.timedelta(days=rng.randint(10, 900))
        if statut == "qualifiee":
            u.matricule_ins = make_nir(sexe, birth, code, rng.randint(1, 999))
            u.oid_ins = OID_NIR
            u.ins_recupere_le = dt.datetime.combine(u.piece_identite_verifiee_le, dt.time(10, 0))
        u.premier_prenom_naissance = prenoms[0]
        u.dup_key = text.duplicate_key(u.nom_naissance, prenoms[0], birth)
        u.phon_key = phonetic.phonetic_key(u.nom_naissance, prenoms[0])
        u.search_text = text.search_text(u.nom_naissance, " ".join(prenoms), u.matricule_ins)
        return u
