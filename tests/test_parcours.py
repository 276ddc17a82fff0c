"""Parcours rules: duplicates on creation, one active admission per service, exits, transfers."""
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain import clock
from app.extensions import db
from app.models import Admission, AuditEvent, MotifSortie
from app.security.scope import Scope
from app.services import parcours, usagers
from app.services.errors import DuplicateSuspected, ValidationFailed

from . import factories as f

ALL = Scope.everything()


def test_duplicate_is_shown_not_merged_whatever_the_accents_and_case(ctx):
    original = f.gen_usager(nom_naissance="LEFÈVRE" + f.unique_name(""), prenoms_naissance="Élodie Anne")
    data = {"nom_naissance": original.nom_naissance.lower().replace("è", "e"), "prenoms_naissance": "ELODIE",
            "date_naissance": original.date_naissance, "sexe": "F"}
    with pytest.raises(DuplicateSuspected) as exc:
        usagers.create_usager(db.session, dict(data), scope=ALL, etablissement_id=f.etablissement().id)
    assert [c.usager.id for c in exc.value.candidates] == [original.id]
    created = usagers.create_usager(db.session, dict(data), scope=ALL, etablissement_id=f.etablissement().id,
                                    accept_duplicates=True)
    assert created.id != original.id


def test_duplicates_outside_scope_are_not_shown(ctx):
    other = f.gen_usager(f.SOURCES)
    tilleuls_only = Scope(False, frozenset({f.etablissement().id}))
    data = {"nom_naissance": other.nom_naissance, "prenoms_naissance": "Jeanne",
            "date_naissance": other.date_naissance, "sexe": "F"}
    visible, hidden = usagers.find_duplicates(db.session, data["nom_naissance"], "Jeanne", data["date_naissance"])
    assert [c.usager.id for c in visible] == [other.id] and hidden == []  # the system sees everything
    assert tilleuls_only.allows(f.etablissement().id)


def test_only_one_active_admission_per_service(ctx):
    usager = f.gen_usager()
    with pytest.raises(ValidationFailed) as exc:
        parcours.admit(db.session, scope=ALL, usager=usager, service_id=f.service().id,
                       modalite_id=f.modalite().id, date_entree=dt.date(2024, 6, 1))
    assert "service_id" in exc.value.errors
    # another service of the same établissement is fine
    parcours.admit(db.session, scope=ALL, usager=usager, service_id=f.service(index=2).id,
                   modalite_id=f.modalite("AJ").id, date_entree=dt.date(2024, 6, 1))


def test_database_refuses_a_second_active_admission_too(ctx):
    usager = f.gen_usager()
    db.session.add(Admission(usager=usager, etablissement_id=f.etablissement().id, service_id=f.service().id,
                             modalite_id=f.modalite().id, date_entree=dt.date(2024, 2, 1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_exit_cannot_precede_entry_and_needs_a_reason(ctx):
    usager = f.gen_usager()
    adm = usager.admissions[0]
    with pytest.raises(ValidationFailed) as exc:
        parcours.discharge(db.session, adm, date_sortie=dt.date(2020, 1, 1), motif_sortie_id=None,
                           expected_version=adm.version)
    assert set(exc.value.errors) == {"date_sortie", "motif_sortie_id"}
    motif = db.session.execute(select(MotifSortie).where(MotifSortie.code == "domicile")).scalar_one()
    parcours.discharge(db.session, adm, date_sortie=dt.date(2025, 1, 1), motif_sortie_id=motif.id,
                       expected_version=adm.version)
    assert not adm.is_active
    # once closed, a new admission in the same service is allowed again
    parcours.admit(db.session, scope=ALL, usager=usager, service_id=f.service().id,
                   modalite_id=f.modalite().id, date_entree=dt.date(2025, 3, 1))


def test_transfer_closes_one_admission_and_opens_the_linked_next(ctx):
    usager = f.gen_usager()
    old = usager.admissions[0]
    new = parcours.transfer(db.session, scope=ALL, admission=old, service_id=f.service(index=1).id,
                            date_transfert=dt.date(2025, 2, 1), expected_version=old.version)
    assert old.date_sortie == dt.date(2025, 2, 1) and old.motif_sortie.code == "transfert"
    assert new.transfert_de_id == old.id and new.is_active and new.service_id == f.service(index=1).id
    kinds = [e.kind for e in parcours.timeline(usager) if e.kind != "demande"]
    assert kinds[0] == "transfert" and "entree" in kinds and "sortie" not in kinds


def test_transfer_to_the_same_service_is_refused_and_changes_nothing(ctx):
    usager = f.gen_usager()
    adm = usager.admissions[0]
    with pytest.raises(ValidationFailed):
        parcours.transfer(db.session, scope=ALL, admission=adm, service_id=adm.service_id,
                          date_transfert=dt.date(2025, 2, 1), expected_version=adm.version)
    db.session.refresh(adm)
    assert adm.is_active


def test_every_write_is_journaled_with_old_and_new_values(ctx):
    usager = f.gen_usager()
    usagers.update_usager(db.session, usager, {"nom_utilise": "MARTIN"}, usager.version)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "Usager", AuditEvent.entity_id == usager.id,
                                                        AuditEvent.action == "update")).scalars().all()[-1]
    assert event.changes["nom_utilise"] == [None, "MARTIN"]
    assert event.usager_id == usager.id and event.version == usager.version


def test_a_demande_with_a_service_but_no_etablissement_is_an_error_on_the_field(ctx):
    usager = f.gen_usager(admitted=False)
    with pytest.raises(ValidationFailed) as exc:
        parcours.save_demande(db.session, scope=ALL, usager=usager, data={
            "service_id": f.service().id, "date_demande": dt.date(2026, 1, 5)})
    assert set(exc.value.errors) == {"etablissement_id"}


@pytest.mark.parametrize("version", ["99999999999999999999", "-1", "abc", None])
def test_a_version_no_record_can_have_is_refused_on_the_field(ctx, version):
    from app.services.concurrency import check_version

    with pytest.raises(ValidationFailed) as exc:
        check_version(db.session, f.gen_usager(), version)
    assert set(exc.value.errors) == {"version"}


def test_the_waiting_list_shows_open_demandes_only(app, as_user):
    from app.models import DemandeAdmission

    with app.app_context():
        waiting, admitted = f.gen_usager(admitted=False), f.gen_usager(admitted=False)  # each with a demande
        ids = waiting.id, admitted.id
        for demande in db.session.execute(select(DemandeAdmission).where(
                DemandeAdmission.usager_id == admitted.id)).scalars():
            demande.statut = "admise"
        db.session.commit()
    page = as_user("direction").get("/demandelistview/list/?psize_DemandeListView=1000").data.decode()
    assert f'/dossier/{ids[0]}"' in page and f'/dossier/{ids[1]}"' not in page


def test_parcours_cannot_say_impossible_things(ctx):
    """A death in the future, an admission after a death, a modality outside the établissement's
    authorisation, a transfer before the entry: each refused with its own message."""
    deces = db.session.execute(select(MotifSortie).where(MotifSortie.code == "deces")).scalar_one()
    usager = f.gen_usager()
    admission = usager.admissions[0]
    with pytest.raises(ValidationFailed) as future:
        parcours.discharge(db.session, admission, date_sortie=clock.today() + dt.timedelta(days=3),
                           motif_sortie_id=deces.id, expected_version=admission.version)
    assert "future" in future.value.errors["date_sortie"]
    db.session.rollback()
    with pytest.raises(ValidationFailed) as early:
        parcours.transfer(db.session, scope=ALL, admission=admission, service_id=f.service(index=1).id,
                          date_transfert=admission.date_entree - dt.timedelta(days=1),
                          expected_version=admission.version)
    assert "transfert ne peut précéder" in early.value.errors["date_transfert"]
    db.session.rollback()
    parcours.discharge(db.session, admission, date_sortie=dt.date(2025, 2, 1), motif_sortie_id=deces.id,
                       expected_version=admission.version)
    with pytest.raises(ValidationFailed) as after:
        parcours.admit(db.session, scope=ALL, usager=usager, service_id=f.service(index=1).id,
                       modalite_id=f.modalite().id, date_entree=dt.date(2025, 6, 1))
    assert "décès est enregistré le 01/02/2025" in after.value.errors["date_entree"]
    db.session.rollback()
    child = f.gen_usager(f.SOURCES, admitted=False)
    with pytest.raises(ValidationFailed) as unauthorised:
        parcours.admit(db.session, scope=ALL, usager=child, service_id=f.service(f.SOURCES).id,
                       modalite_id=f.modalite("HP").id, date_entree=dt.date(2025, 6, 1))
    assert "n'est pas autorisé dans cet établissement" in unauthorised.value.errors["modalite_id"]
    assert "Internat" in unauthorised.value.errors["modalite_id"]


def test_a_wrong_exit_is_cancelled_with_its_reason_audited(app, as_user):
    with app.app_context():
        domicile = db.session.execute(select(MotifSortie).where(MotifSortie.code == "domicile")).scalar_one()
        usager = f.gen_usager()
        admission = usager.admissions[0]
        parcours.discharge(db.session, admission, date_sortie=clock.today() - dt.timedelta(days=10),
                           motif_sortie_id=domicile.id,
                           expected_version=admission.version)
        uid, aid, version = usager.id, admission.id, admission.version
    secretary = as_user("secretaire.tilleuls")
    page = secretary.get(f"/dossier/{uid}").data.decode()
    assert f"/admission/{aid}/annuler-sortie" in page
    empty = secretary.post(f"/dossier/{uid}/admission/{aid}/annuler-sortie", data={"version": version, "reason": " "},
                           follow_redirects=True)
    assert "Indiquez pourquoi" in empty.data.decode()
    done = secretary.post(f"/dossier/{uid}/admission/{aid}/annuler-sortie",
                          data={"version": version, "reason": "Saisie sur le mauvais dossier"})
    assert done.status_code == 302
    with app.app_context():
        admission = db.session.get(Admission, aid)
        assert admission.date_sortie is None and admission.motif_sortie_id is None
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "annulation_sortie",
                                                            AuditEvent.entity_id == aid)).scalar_one()
        assert event.details["motif"] == "Saisie sur le mauvais dossier" and event.details["motif_sortie"] == "domicile"
    assert as_user("educ.sources").post(f"/dossier/{uid}/admission/{aid}/annuler-sortie",
                                        data={"version": version, "reason": "x"}).status_code in (403, 404)
