"""`flask sillage generate --profile benchmark` (issue 20): the benchmark organisation, here at a
hundredth of its size, on each database — what it makes is what the application would have made:
counts as asked, an audit chain `audit verify` accepts, usagers the search finds, dossiers that open,
document files that match their SHA-256."""
import hashlib
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent, Document, DocumentVersion, Etablissement, Evaluation, ProjetPersonnalise, Transmission, Usager,
)
from app.services.generate_benchmark import volumes
from app.services.rgpd import documents_dir

from .conftest import DATABASES, open_session, provision, release

SCALE = 0.01
KINDS = {"usagers": Usager, "evaluations": Evaluation, "transmissions": Transmission,
         "projets": ProjetPersonnalise, "documents": Document, "audit": AuditEvent}


def _counts():
    return {kind: db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for kind, model in KINDS.items()}


@pytest.fixture(scope="module", params=DATABASES)
def generated(request):
    app = provision(request.param, "bench")
    with app.app_context():
        before = _counts()
        result = app.test_cli_runner().invoke(args=["sillage", "generate", "--profile", "benchmark",
                                                    "--scale", str(SCALE), "--seed", "3"])
        assert result.exit_code == 0, result.output
        after = _counts()
    app.made = {kind: after[kind] - before[kind] for kind in KINDS}
    app.output = result.output
    yield app
    release(app)


def test_the_profile_makes_every_volume_asked(generated):
    wanted = volumes(SCALE)
    assert generated.made == {kind: wanted[kind] for kind in KINDS}
    with generated.app_context():
        made = db.session.execute(select(func.count()).select_from(Etablissement)
                                  .where(Etablissement.name.like("%Benchmark%"))).scalar_one()
    assert made == 10
    assert "Journal d'audit" in generated.output and "Statistiques de la base mises à jour" in generated.output


def test_the_generated_audit_trail_is_a_valid_chain(generated):
    runner = generated.test_cli_runner()
    complete = runner.invoke(args=["sillage", "audit", "verify", "--complet"])
    assert complete.exit_code == 0 and "intègre" in complete.output, complete.output
    again = runner.invoke(args=["sillage", "audit", "verify"])
    assert again.exit_code == 0 and "0 entrées vérifiées depuis le point de contrôle" in again.output, again.output


def test_a_generated_usager_is_found_by_name_and_their_dossier_opens(generated):
    with generated.app_context():
        usager = db.session.execute(select(Usager).order_by(Usager.id.desc()).limit(1)).scalar_one()
        uid, nom, prenom = usager.id, usager.nom_naissance, usager.premier_prenom_naissance
    client = open_session(generated, generated.test_client(), "direction")
    found = client.get(f"/usagers/?q={nom} {prenom}")
    assert found.status_code == 200
    assert uid in {int(i) for i in re.findall(r'href="/dossier/(\d+)"', found.data.decode())}
    page = client.get(f"/dossier/{uid}")
    assert page.status_code == 200 and nom in page.data.decode()
    history = client.get(f"/dossier/{uid}/acces")
    assert history.status_code == 200


def test_generated_documents_are_real_files_matching_their_sha256(generated):
    with generated.app_context():
        versions = db.session.execute(select(DocumentVersion).order_by(DocumentVersion.id.desc()).limit(20)).scalars()
        for version in versions:
            path = documents_dir(generated.config["SILLAGE_DATA_DIR"], version.usager_id) / version.fichier
            content = path.read_bytes()
            assert hashlib.sha256(content).hexdigest() == version.sha256 and len(content) == version.taille


ODD_TEXTS = ['a "quoted", comma', "tab\there", "lines\nand\r\nreturns", "back\\slash \\N", "", None, "é ✓ 😀"]


def test_a_bulk_insert_stores_what_an_insert_stores(generated):
    """COPY on PostgreSQL: quotes, separators, line breaks, backslashes, empty text against NULL,
    JSON (null included), the columns' defaults."""
    from sqlalchemy import delete

    from app.models import ContactPerson, Foyer
    from app.models.bulk import insert_rows

    def stored(foyer_ids):
        foyers = db.session.execute(select(Foyer.__table__.c.libelle, Foyer.commentaire, Foyer.adresse, Foyer.version)
                                    .where(Foyer.id.in_(foyer_ids)).order_by(Foyer.id)).all()
        contacts = db.session.execute(select(ContactPerson.nom, ContactPerson.prenom, ContactPerson.roles,
                                             ContactPerson.version)
                                      .where(ContactPerson.foyer_id.in_(foyer_ids)).order_by(ContactPerson.id)).all()
        return [tuple(r) for r in foyers], [tuple(r) for r in contacts]

    with generated.app_context():
        first = db.session.execute(select(func.max(Foyer.id))).scalar_one() + 1
        results = []
        for offset, write in ((0, lambda table, rows: db.session.connection().execute(table.insert(), rows)),
                              (len(ODD_TEXTS), lambda table, rows: insert_rows(db.session.connection(), table, rows))):
            ids = [first + offset + i for i in range(len(ODD_TEXTS))]
            write(Foyer.__table__, [{"id": i, "libelle": f"Foyer {n}", "commentaire": text, "adresse": text}
                                    for n, (i, text) in enumerate(zip(ids, ODD_TEXTS))])
            write(ContactPerson.__table__, [{"foyer_id": i, "nom": text or "-", "prenom": text,
                                             "roles": [text] if n % 2 else None}
                                            for n, (i, text) in enumerate(zip(ids, ODD_TEXTS))])
            results.append(stored(ids))
            db.session.execute(delete(ContactPerson).where(ContactPerson.foyer_id.in_(ids)))
            db.session.execute(delete(Foyer).where(Foyer.id.in_(ids)))
        db.session.commit()
    assert results[1] == results[0]
    assert results[0][0][4][1] == "" and results[0][0][5][1] is None  # (empty text and NULL stay apart)


def test_more_etablissements_keep_each_the_size_of_a_smaller_scale():
    """--etablissements 100 at scale 1 gives each établissement the people of one at scale 0.1:
    a one-établissement user sees as many people in both (issue 20, target 2)."""
    big, small = volumes(1.0, 100), volumes(0.1)
    assert big["usagers"] / big["etablissements"] == small["usagers"] / small["etablissements"] == 300
    assert volumes(0.01)["etablissements"] == 10
