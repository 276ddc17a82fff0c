"""The benchmark organisation (issue 20): `flask sillage generate --profile benchmark`.

Ten établissements, 30,000 usagers with their families and parcours, 60,000 evaluations,
600,000 transmissions, 20,000 projets personnalisés, 100,000 documents (small real files) and
3 million audit entries — in minutes, on SQLite and PostgreSQL. `scale` multiplies every volume
(0.01 for the tests).

Bulk, and still what the application would have written:
- Rows in batches (COPY on PostgreSQL, executemany on SQLite: models/bulk.py), ids given by the
  generator so that children point to their parents without a round trip; PostgreSQL's sequences
  moved on afterwards.
- Usagers carry the derived keys of services/usagers.py (`dup_key`, `phon_key`, `search_text`);
  the search index follows by itself (the FTS5 triggers of migration 0029 on SQLite, the GIN
  index on PostgreSQL). Phone numbers and NIRs are valid (fake.py).
- Evaluations are AGGIR grids of the EHPADs: each answer profile is computed once by the forms
  engine, exactly as `forms.save_evaluation` does, and its results rows copied.
- Documents are small text files written in the usager's folder (services/rgpd.documents_dir),
  with their real SHA-256 and size.
- Audit entries are chained by `audit_chain.append`, the writers' own function (one call per
  batch): `audit verify` accepts them, and each batch's end is anchored outside the database.
  Their times spread over the last two years in the order of their ids; entries written before
  the load (the demo's) are younger: a purge treats them with the generated entries before them.
- Rows are inserted as the system (no audit entry of their own), like an import.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy import func, select, text

from ..domain import aggir, clock, phonetic
from ..domain import text as folding
from ..domain.forms import definition as definitions
from ..domain.forms.definition import all_fields
from ..domain.forms.engine import evaluate
from ..domain.identity import OID_NIR
from ..models import (
    Admission, Capacite, CategorieEtablissement, ContactPerson, Document, DocumentVersion, Etablissement,
    Evaluation, EvaluationResult, Foyer, ModaliteAccueil, MotifSortie, Organisme, ProjetAction, ProjetObjectif,
    ProjetPersonnalise, Service, Transmission, TransmissionUsager, TypeDocument, User, Usager,
)
from ..models.base import utcnow
from ..models.bulk import insert_rows
from ..security import audit_chain
from ..security.scope import category_key
from .demo_evaluations import PROFILES
from .demo_transmissions import EHPAD_DAR, EHPAD_GROUP, IME_GROUP, IME_NOTES
from .fake import COMMUNES, PeopleFactory, make_nir
from .rgpd import documents_dir

FULL = {"etablissements": 10, "usagers": 30_000, "evaluations": 60_000, "transmissions": 600_000,
        "projets": 20_000, "documents": 100_000, "audit": 3_000_000}
EHPAD_SHARE = 0.6  # six of the ten: the others are IMEs (children, with families)
BATCH = 5000
AUDIT_BATCH = 20_000
HISTORY_DAYS = 730


def volumes(scale: float, etablissements: int | None = None) -> dict[str, int]:
    """The volumes at `scale`; the organisation keeps its ten établissements unless told
    otherwise (more of them, each the size of a scaled-down one: a one-établissement user then
    sees as many people at every scale)."""
    out = {key: max(1, round(n * scale)) for key, n in FULL.items()}
    out["etablissements"] = etablissements or FULL["etablissements"]
    return out


@contextmanager
def _no_progress(_label, _total):
    yield lambda _n: None


class _Ids:
    """The next id of each table, given by the generator (children point to their parents)."""

    def __init__(self, session):
        self.session, self.next, self.used = session, {}, set()

    @property
    def connection(self):
        return self.session.connection()  # (a commit closes the previous one)

    def take(self, table, count: int = 1) -> int:
        if table.name not in self.next:
            self.next[table.name] = (self.connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        first = self.next[table.name]
        self.next[table.name] += count
        self.used.add(table.name)
        return first

    def move_sequences(self) -> None:
        if self.connection.dialect.name != "postgresql":
            return
        for name in sorted(self.used):
            self.connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                         f"(SELECT MAX(id) FROM {name}))"))


def _insert(connection, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        insert_rows(connection, model.__table__, rows[start:start + BATCH])


class _Names:
    """Pools drawn from Faker once: drawing from them is a hundred times faster than Faker."""

    def __init__(self, people: PeopleFactory, size: int = 3000):
        fk = people.faker
        self.last = [fk.last_name() for _ in range(size)]
        self.male = [fk.first_name_male() for _ in range(size // 3)]
        self.female = [fk.first_name_female() for _ in range(size // 3)]
        self.street = [fk.street_address() for _ in range(size)]
        self.city = [(fk.postcode(), fk.city()) for _ in range(size // 3)]


def benchmark(session, data_dir: str, scale: float = 1.0, seed: int = 1, progress=None,
              today: dt.date | None = None, etablissements: int | None = None) -> dict[str, int]:
    """Build the benchmark organisation → the count of what was made, by kind."""
    progress = progress or _no_progress
    today = today or clock.today()
    n = volumes(scale, etablissements)
    users = [row.id for row in session.execute(select(User.id).order_by(User.id))]
    usernames = dict(session.execute(select(User.id, User.username)).tuples().all())
    if not users:
        raise LookupError("no user")
    people = PeopleFactory(seed)
    rng, names = people.rng, _Names(people)
    ids = _Ids(session)
    now = utcnow()
    made = {}

    org = _organisation(session, session.connection(), ids, rng, n["etablissements"], now)
    usagers = _usagers(session.connection(), ids, rng, names, people, org, n["usagers"], today, now, progress)
    session.commit()
    made["usagers"] = len(usagers)
    made["evaluations"] = _evaluations(session, session.connection(), ids, rng, usagers, n["evaluations"], today,
                                       now, progress)
    session.commit()
    made["transmissions"] = _transmissions(session.connection(), ids, rng, users, org, usagers, n["transmissions"],
                                           today, progress)
    session.commit()
    made["projets"] = _projets(session.connection(), ids, rng, users, usagers, n["projets"], today, progress)
    session.commit()
    made["documents"] = _documents(session, session.connection(), ids, rng, users, usagers, data_dir,
                                   n["documents"], today, progress)
    ids.move_sequences()
    session.commit()
    made["audit"] = _audit(session, rng, usernames, usagers, n["audit"], now, progress)
    made["etablissements"] = len(org["etablissements"])
    return made


# --- the organisation ----------------------------------------------------------------------------

def _organisation(session, conn, ids, rng, count, now) -> dict:
    categories = dict(session.execute(select(CategorieEtablissement.code, CategorieEtablissement.id)).tuples().all())
    modalites = session.execute(select(ModaliteAccueil.id).order_by(ModaliteAccueil.id)).scalars().all()
    if "EHPAD" not in categories or "IME" not in categories or not modalites:
        raise LookupError("référentiels")
    org_id = ids.take(Organisme.__table__)
    _insert(conn, Organisme, [{"id": org_id, "name": f"Association Sillage Benchmark {org_id}", "version": 1}])
    etabs, services, capacites = [], [], []
    for i in range(count):
        ehpad = i < max(1, round(count * EHPAD_SHARE))
        eid = ids.take(Etablissement.__table__)
        code, ville = COMMUNES[i % len(COMMUNES)]
        etabs.append({"id": eid, "organisme_id": org_id, "categorie_id": categories["EHPAD" if ehpad else "IME"],
                      "name": f"{'EHPAD' if ehpad else 'IME'} Benchmark {i + 1}", "commune": ville, "version": 1,
                      "ehpad": ehpad})
        for name in (("Unité A", "Unité B", "Unité protégée") if ehpad else ("Enfance", "Adolescence")):
            sid = ids.take(Service.__table__)
            services.append({"id": sid, "etablissement_id": eid, "name": name, "version": 1,
                             "transmission_mode": "dar" if ehpad else "narratif"})
        capacites.append({"etablissement_id": eid, "modalite_id": modalites[0], "places": 0})
    _insert(conn, Etablissement, [{k: v for k, v in e.items() if k != "ehpad"} for e in etabs])
    _insert(conn, Service, services)
    by_etab = {}
    for s in services:
        by_etab.setdefault(s["etablissement_id"], []).append(s["id"])
    motifs = session.execute(select(MotifSortie.id, MotifSortie.code)).tuples().all()
    return {"etablissements": etabs, "services": by_etab, "capacites": capacites, "modalites": modalites,
            "transfer": next((mid for mid, code in motifs if code == "transfert"), None),
            "motifs": [mid for mid, code in motifs if code != "transfert"]}


# --- usagers, families, parcours ---------------------------------------------------------------

def _usager_row(rng, names, uid, nom, birth, now, foyer_id):
    sexe = rng.choice("MF")
    prenoms = [rng.choice(names.male if sexe == "M" else names.female) for _ in range(rng.choice((1, 2, 2, 3)))]
    code, ville = rng.choice(COMMUNES)
    statut = rng.choice(("provisoire", "validee", "qualifiee", "qualifiee"))
    postcode, city = rng.choice(names.city)
    row = {"id": uid, "nom_naissance": nom.upper(), "prenoms_naissance": prenoms, "premier_prenom_naissance": prenoms[0],
           "date_naissance": birth, "sexe": sexe, "lieu_naissance_code": code, "lieu_naissance_libelle": ville,
           "statut_identite": statut, "telephone_mobile": f"+336{rng.randint(10_000_000, 99_999_999)}"
           if rng.random() < 0.6 else None, "adresse": rng.choice(names.street), "code_postal": postcode,
           "commune": city, "pays": "France", "foyer_id": foyer_id, "piece_identite_type": None,
           "piece_identite_verifiee_le": None, "matricule_ins": None, "oid_ins": None, "ins_recupere_le": None,
           "version": 1, "created_at": now, "updated_at": now}
    if statut in ("validee", "qualifiee"):
        row["piece_identite_type"] = rng.choice(("cni", "passeport"))
        row["piece_identite_verifiee_le"] = now.date() - dt.timedelta(days=rng.randint(10, 900))
    if statut == "qualifiee":
        row["matricule_ins"] = make_nir(sexe, birth, code, rng.randint(1, 999))
        row["oid_ins"] = OID_NIR
        row["ins_recupere_le"] = dt.datetime.combine(row["piece_identite_verifiee_le"], dt.time(10, 0))
    # The derived keys, as services/usagers._derive_keys computes them.
    row["dup_key"] = folding.duplicate_key(row["nom_naissance"], prenoms[0], birth)
    row["phon_key"] = phonetic.phonetic_key(row["nom_naissance"], prenoms[0])
    row["search_text"] = folding.search_text(row["nom_naissance"], None, " ".join(prenoms), None, row["matricule_ins"])
    return row


def _usagers(conn, ids, rng, names, people, org, count, today, now, progress) -> list[dict]:
    """Usagers (EHPAD residents; IME children, often siblings of one foyer with their parents),
    each with a current admission; some came through a transfer, some left and came back."""
    made, rows, foyers, contacts, admissions = [], [], [], [], []
    ehpads = [e for e in org["etablissements"] if e["ehpad"]]
    imes = [e for e in org["etablissements"] if not e["ehpad"]]

    def flush():
        for model, pending in ((Foyer, foyers), (Usager, rows), (ContactPerson, contacts), (Admission, admissions)):
            _insert(conn, model, pending)
            pending.clear()

    with progress(_("Usagers, familles et parcours"), count) as advance:
        while len(made) < count:
            child = rng.random() < 0.4
            nom = rng.choice(names.last)
            etab = rng.choice(imes if child else ehpads)
            foyer_id = None
            if child or rng.random() < 0.3:
                foyer_id = ids.take(Foyer.__table__)
                postcode, city = rng.choice(names.city)
                foyers.append({"id": foyer_id, "libelle": f"Famille {nom}", "code_postal": postcode, "commune": city,
                               "version": 1, "created_at": now, "updated_at": now})
                for lien in (("Mère", "Père") if child else ("Fille",))[:rng.choice((1, 2))]:
                    contacts.append({"foyer_id": foyer_id, "nom": nom.upper(), "lien": lien,
                                     "prenom": rng.choice(names.female if lien in ("Mère", "Fille") else names.male),
                                     "roles": ["personne_prevenir"] + (["representant_legal"] if child else []),
                                     "telephone": f"+336{rng.randint(10_000_000, 99_999_999)}",
                                     "version": 1, "created_at": now, "updated_at": now})
            for _n in range(min(count - len(made), rng.choice((1, 1, 2, 2, 3)) if child else 1)):
                uid = ids.take(Usager.__table__)
                birth = people.birth(2006, 2019) if child else people.birth(1925, 1960)
                rows.append(_usager_row(rng, names, uid, nom, birth, now, foyer_id))
                service = rng.choice(org["services"][etab["id"]])
                entree = today - dt.timedelta(days=rng.randint(1, 3000))
                base = {"usager_id": uid, "etablissement_id": etab["id"], "service_id": service,
                        "modalite_id": rng.choice(org["modalites"]), "date_sortie": None, "motif_sortie_id": None,
                        "transfert_de_id": None, "version": 1, "created_at": now, "updated_at": now}
                if org["transfer"] and rng.random() < 0.1:  # came from another établissement of the same kind
                    before = rng.choice([e for e in (imes if child else ehpads) if e is not etab] or [etab])
                    first = ids.take(Admission.__table__)
                    start = entree - dt.timedelta(days=rng.randint(60, 900))
                    admissions.append({**base, "id": first, "etablissement_id": before["id"],
                                       "service_id": rng.choice(org["services"][before["id"]]),
                                       "date_entree": start, "date_sortie": entree,
                                       "motif_sortie_id": org["transfer"]})
                    base["transfert_de_id"] = first
                elif org["motifs"] and rng.random() < 0.1:  # an earlier stay, ended
                    start = entree - dt.timedelta(days=rng.randint(400, 1500))
                    admissions.append({**base, "id": ids.take(Admission.__table__), "date_entree": start,
                                       "date_sortie": start + dt.timedelta(days=rng.randint(30, 300)),
                                       "motif_sortie_id": rng.choice(org["motifs"])})
                admissions.append({**base, "id": ids.take(Admission.__table__), "date_entree": entree})
                made.append({"id": uid, "etablissement_id": etab["id"], "service_id": service, "ehpad": etab["ehpad"],
                             "entree": entree})
            if len(rows) >= BATCH:
                advance(len(rows))
                flush()
        advance(len(rows))
        flush()
    for cap in org["capacites"]:  # the places: what the établissement holds today, with a margin
        cap["places"] = sum(1 for u in made if u["etablissement_id"] == cap["etablissement_id"]) + 5
    _insert(conn, Capacite, org["capacites"])
    return made


# --- evaluations -------------------------------------------------------------------------------

def _aggir_profiles(session):
    """Each answer profile evaluated once by the forms engine, as forms.save_evaluation would:
    (definition, [(answers, computed, algorithm versions, results rows without usager and date)])."""
    from . import forms

    definition = forms.get(session, "aggir")
    if definition is None:
        return None, []
    indexed = {f["code"] for f, _parts in all_fields(definition.data) if f.get("indexed")}
    own = definitions.answer_categories(definition.data)
    profiles = []
    for letters in PROFILES:
        result = evaluate(definition.data, dict(zip(aggir.LEAVES, letters)))
        if result.errors:  # (a shipped grid that changed: leave that profile out)
            continue
        results = []
        for key, value in result.computed.items():
            if key in indexed:
                number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
                results.append({"form_code": definition.code, "key": key, "value_num": number,
                                "value_text": None if number is not None else str(value)[:200],
                                "sensitivity": category_key(own[key]) if own.get(key) else None})
        profiles.append((result.answers, result.computed, result.algorithm_versions, results))
    return definition, profiles


def _evaluations(session, conn, ids, rng, usagers, count, today, now, progress) -> int:
    """Validated AGGIR grids of the EHPAD residents, about one every six months since admission."""
    from . import forms

    definition, profiles = _aggir_profiles(session)
    residents = [u for u in usagers if u["ehpad"]]
    if not profiles or not residents:
        return 0
    sensitivity = forms.sensitivity_of(definition.data)
    rows, results, made = [], [], 0
    with progress(_("Évaluations"), count) as advance:
        for i in range(count):
            usager = residents[i % len(residents)]
            on = max(usager["entree"], today - dt.timedelta(days=180 * (i // len(residents)) + rng.randint(0, 60)))
            answers, computed, versions, result_rows = rng.choice(profiles)
            eid = ids.take(Evaluation.__table__)
            rows.append({"id": eid, "usager_id": usager["id"], "definition_id": definition.id,
                         "form_code": definition.code, "form_version": definition.version, "sensitivity": sensitivity,
                         "status": "validated", "evaluated_on": on, "answers": answers, "computed": computed,
                         "algorithm_versions": versions, "validated_at": now, "version": 1,
                         "created_at": now, "updated_at": now})
            results.extend({**r, "evaluation_id": eid, "usager_id": usager["id"], "evaluated_on": on}
                           for r in result_rows)
            made += 1
            if len(rows) >= BATCH or i == count - 1:
                _insert(conn, Evaluation, rows)
                _insert(conn, EvaluationResult, results)
                advance(len(rows))
                rows, results = [], []
    return made


# --- transmissions -----------------------------------------------------------------------------

def _transmissions(conn, ids, rng, users, org, usagers, count, today, progress) -> int:
    """Two years of the cahier de liaison: DAR notes at the EHPADs, narrative ones at the IMEs,
    one in five written once for several people of a service."""
    by_service: dict[int, list[int]] = {}
    for u in usagers:
        by_service.setdefault(u["service_id"], []).append(u["id"])
    etab_of = {sid: eid for eid, sids in org["services"].items() for sid in sids}
    ehpad = {e["id"] for e in org["etablissements"] if e["ehpad"]}
    services = sorted(by_service)
    start = dt.datetime.combine(today - dt.timedelta(days=HISTORY_DAYS), dt.time(6, 0))
    rows, lines, made = [], [], 0
    with progress(_("Transmissions"), count) as advance:
        for i in range(count):
            service = rng.choice(services)
            people = by_service[service]
            written = start + dt.timedelta(seconds=rng.randint(0, HISTORY_DAYS * 86400))
            tid = ids.take(Transmission.__table__)
            author = rng.choice(users)
            is_ehpad = etab_of[service] in ehpad
            row = {"id": tid, "author_id": author, "written_at": written, "etablissement_id": etab_of[service],
                   "service_id": service, "importante": False, "version": 1, "created_at": written,
                   "updated_at": written, "created_by_id": author, "updated_by_id": author, "cible": None,
                   "donnees": None, "actions": None, "resultats": None, "texte": None}
            group = len(people) > 2 and rng.random() < 0.2
            who = rng.sample(people, rng.randint(2, min(4, len(people)))) if group else [rng.choice(people)]
            if group:
                cible, texte = rng.choice(EHPAD_GROUP if is_ehpad else IME_GROUP)
                row.update(sensitivity="social_educatif", mode="narratif", cible=cible, texte=texte)
            elif is_ehpad:
                cible, category, donnees, actions, resultats = rng.choice(EHPAD_DAR)
                row.update(sensitivity=category, mode="dar", cible=cible, donnees=donnees, actions=actions,
                           resultats=resultats, importante=cible == "chute")
            else:
                cible, category, texte = rng.choice(IME_NOTES)
                row.update(sensitivity=category, mode="narratif", cible=cible, texte=texte, importante=cible == "sante")
            rows.append(row)
            lines.extend({"transmission_id": tid, "usager_id": u, "sensitivity": row["sensitivity"],
                          "written_at": written} for u in who)
            made += 1
            if len(rows) >= BATCH or i == count - 1:
                _insert(conn, Transmission, rows)
                _insert(conn, TransmissionUsager, lines)
                advance(len(rows))
                rows, lines = [], []
    return made


# --- projets personnalisés ---------------------------------------------------------------------

def _projets(conn, ids, rng, users, usagers, count, today, progress) -> int:
    """A PP (in élaboration or proposed) for `count` usagers, two objectives with an action each."""
    from .demo_projets import OBJECTIFS, _codes_ok

    objectifs = [o for o in OBJECTIFS if _codes_ok(o[3], o[4])]
    chosen = rng.sample(usagers, min(count, len(usagers)))
    rows, goals, actions, made = [], [], [], 0
    with progress(_("Projets personnalisés"), len(chosen)) as advance:
        for i, usager in enumerate(chosen):
            pid = ids.take(ProjetPersonnalise.__table__)
            start = max(usager["entree"], today - dt.timedelta(days=rng.randint(30, 330)))
            referent = rng.choice(users)
            picked = rng.sample(objectifs, min(2, len(objectifs)))
            rows.append({"id": pid, "usager_id": usager["id"], "etablissement_id": usager["etablissement_id"],
                         "numero": 1, "statut": rng.choice(("elaboration", "elaboration", "propose")),
                         "sensitivity": "social_educatif", "date_debut": start,
                         "date_revision": start + dt.timedelta(days=365),
                         "bilans_prevus": [(start + dt.timedelta(days=182)).isoformat()], "referent_id": referent,
                         "equipe": [referent], "synthese": "Synthèse de l'équipe après les évaluations et "
                                                           "l'entretien avec la personne.",
                         "besoins": sorted({o[3] for o in picked}), "evaluation_ids": [], "version": 1})
            for position, o in enumerate(picked):
                oid = ids.take(ProjetObjectif.__table__)
                indicator = o[5] or {}
                goals.append({"id": oid, "projet_id": pid, "usager_id": usager["id"], "sensitivity": "social_educatif",
                              "position": position, "realisation": o[0], "libelle": o[1], "libelle_falc": o[2],
                              "besoins": [o[3]], "indicateur_unite": indicator.get("unite"),
                              "indicateur_echelle": indicator.get("echelle"), "indicateur_cible": indicator.get("cible")})
                actions.append({"objectif_id": oid, "usager_id": usager["id"], "sensitivity": "social_educatif",
                                "position": 0, "libelle": f"Accompagnement : {o[1].lower()}", "prestation": o[4],
                                "referent_id": referent, "frequence": "chaque semaine", "debut": start,
                                "fin": start + dt.timedelta(days=300)})
            made += 1
            if len(rows) >= BATCH or i == len(chosen) - 1:
                _insert(conn, ProjetPersonnalise, rows)
                _insert(conn, ProjetObjectif, goals)
                _insert(conn, ProjetAction, actions)
                advance(len(rows))
                rows, goals, actions = [], [], []
    return made


# --- documents ---------------------------------------------------------------------------------

def _documents(session, conn, ids, rng, users, usagers, data_dir, count, today, progress) -> int:
    """Small text files in each usager's folder (documents/<token>.txt), with their SHA-256."""
    types = session.execute(select(TypeDocument.id, TypeDocument.label, TypeDocument.categorie, TypeDocument.expire)
                            .where(TypeDocument.active.is_(True)).order_by(TypeDocument.id)).all()
    if not types:
        return 0
    now = utcnow()
    docs, versions, made, folders = [], [], 0, set()
    with progress(_("Documents"), count) as advance:
        for i in range(count):
            usager = rng.choice(usagers)
            type_id, label, categorie, expires = rng.choice(types)
            did = ids.take(Document.__table__)
            dated = today - dt.timedelta(days=rng.randint(0, HISTORY_DAYS))
            titre = f"{label} {dated.year}"[:200]
            content = f"Sillage — {titre}\nDocument n° {did}, dossier n° {usager['id']}.\n".encode()
            reference = f"documents/{secrets.token_urlsafe(12)}.txt"
            folder = documents_dir(data_dir, usager["id"]) / "documents"
            if folder not in folders:
                folder.mkdir(parents=True, exist_ok=True)
                folders.add(folder)
            (folder / reference.split("/", 1)[1]).write_bytes(content)
            author = rng.choice(users)
            docs.append({"id": did, "usager_id": usager["id"], "type_id": type_id, "titre": titre,
                         "date_document": dated, "expire_le": dated + dt.timedelta(days=3 * 365) if expires else None,
                         "categorie": categorie, "auteur_id": author, "numero": 1, "version": 1,
                         "created_at": now, "updated_at": now})
            versions.append({"document_id": did, "usager_id": usager["id"], "numero": 1,
                             "sha256": hashlib.sha256(content).hexdigest(), "taille": len(content),
                             "type_mime": "text/plain", "fichier": reference,
                             "nom_origine": f"document-{did}.txt", "uploaded_by_id": author, "uploaded_at": now})
            made += 1
            if len(docs) >= BATCH or i == count - 1:
                _insert(conn, Document, docs)
                _insert(conn, DocumentVersion, versions)
                advance(len(docs))
                docs, versions = [], []
    return made


# --- the audit trail ---------------------------------------------------------------------------

AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def _audit_row(rng, at, usernames, user_ids, usagers) -> dict:
    user_id = rng.choice(user_ids)
    row = {"at": at, "user_id": user_id, "username": usernames[user_id],
           "remote_addr": f"10.0.{rng.randint(0, 20)}.{rng.randint(1, 254)}", "client": AGENT, "version": None,
           "changes": None}
    roll = rng.random()
    uid = rng.choice(usagers)["id"]
    if roll < 0.75:  # a dossier read (the request hook's entry)
        row.update(action="read", entity="Usager", entity_id=uid, usager_id=uid,
                   details={"method": "GET", "path": f"/dossier/{uid}/", "status": 200, "ids": {"Usager": [uid]},
                            "usagers": [uid]})
    elif roll < 0.85:  # a list: several usagers read at once (linked in audit_usager)
        several = sorted({rng.choice(usagers)["id"] for _n in range(rng.randint(2, 6))})
        row.update(action="read", entity="Usager", entity_id=None, usager_id=None,
                   details={"method": "GET", "path": "/usagers/recherche", "status": 200,
                            "ids": {"Usager": several}, "usagers": several})
    elif roll < 0.97:  # a change of the dossier (the session hook's entry)
        row.update(action="update", entity="Usager", entity_id=uid, usager_id=uid, version=rng.randint(2, 9),
                   changes={"telephone_mobile": [f"+336{rng.randint(10_000_000, 99_999_999)}",
                                                 f"+336{rng.randint(10_000_000, 99_999_999)}"]}, details=None)
    else:
        row.update(action="login", entity="Compte", entity_id=None, usager_id=None, details=None)
    return row


def _audit(session, rng, usernames, usagers, count, now, progress) -> int:
    """`count` entries over the last two years, chained by audit_chain.append batch by batch
    (each batch committed, and so anchored outside the database)."""
    user_ids = sorted(usernames)
    start = now - dt.timedelta(days=HISTORY_DAYS)
    step = (now - start) / count
    made = 0
    with progress(_("Journal d'audit"), count) as advance:
        while made < count:
            size = min(AUDIT_BATCH, count - made)
            rows = [_audit_row(rng, start + step * (made + k), usernames, user_ids, usagers) for k in range(size)]
            audit_chain.append(session.connection(), rows)
            session.commit()
            made += size
            advance(size)
    return made
