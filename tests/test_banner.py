"""The usager banner (issue 16 §1): on every page about one person, what identifies them and where
they are, with the structure's badges read through the shared secret."""
from __future__ import annotations

import datetime as dt

from app.domain import clock
from app.extensions import db
from app.models import MesureProtection
from app.services import forms

from . import factories as f
from .test_evaluations import profile


def _person():
    usager = f.gen_usager(f.TILLEULS, admitted=True, nom_utilise="Martin" + f.unique_name("X")[-4:])
    db.session.add(MesureProtection(usager_id=usager.id, type_mesure="curatelle_renforcee",
                                    date_debut=dt.date(2020, 1, 1)))
    forms.save_evaluation(db.session, usager=usager, code="aggir", version=None, status="validated",
                          answers=profile({"toilette": "C", "habillage": "C"}), evaluated_on=clock.today())
    db.session.commit()
    return usager.id, usager.nom_naissance


def test_the_banner_names_places_and_badges_the_person(app, as_user):
    with app.app_context():
        usager_id, birth_name = _person()
    body = as_user("soin.tilleuls").get(f"/dossier/{usager_id}").data.decode()
    banner = body[body.index('id="usager-banner"'):body.index("</aside>")]
    assert birth_name.upper() in banner and "ans (" in banner
    assert "EHPAD Les Tilleuls" in banner and "Curatelle renforcée" in banner
    assert "GIR 3" in banner and "Identité provisoire" in banner


def test_a_badge_of_a_category_the_user_may_not_read_is_absent(app, as_user):
    with app.app_context():
        usager_id, _name = _person()
    body = as_user("secretaire.tilleuls").get(f"/dossier/{usager_id}").data.decode()
    banner = body[body.index('id="usager-banner"'):body.index("</aside>")]
    assert "EHPAD Les Tilleuls" in banner and "GIR" not in banner


def test_pages_about_one_person_carry_the_banner_and_others_do_not(app, as_user):
    with app.app_context():
        usager_id, _name = _person()
    client = as_user("soin.tilleuls")
    assert 'id="usager-banner"' in client.get(f"/dossier/{usager_id}/evaluations/nouvelle/aggir").data.decode()
    assert 'id="usager-banner"' not in client.get("/").data.decode()
    assert as_user("secretaire.sources").get(f"/dossier/{usager_id}").status_code == 404  # another établissement


def test_the_photo_is_the_latest_photo_document_and_served_through_the_document_store(app, as_user):
    import io

    from werkzeug.datastructures import FileStorage

    from app.security.scope import Scope
    from app.services import documents

    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
    with app.app_context():
        usager_id, _name = _person()
        from app.models import Usager

        usager = db.session.get(Usager, usager_id)
        with app.test_request_context("/"):
            photo = documents.upload(db.session, scope=Scope.everything(), usager=usager, type_code="photo",
                                     titre="Photo 2026", upload=FileStorage(io.BytesIO(png), "photo.png", content_type="image/png"))
        photo_id = photo.id
    body = as_user("soin.tilleuls").get(f"/dossier/{usager_id}").data.decode()
    banner = body[body.index('id="usager-banner"'):body.index("</aside>")]
    src = f"/dossier/{usager_id}/documents/{photo_id}/apercu"
    assert f'src="{src}"' in banner
    assert as_user("soin.tilleuls").get(src).data == png
    assert as_user("secretaire.sources").get(src).status_code == 404  # another établissement


def test_the_dossier_takes_the_photo_from_its_documents_and_shows_the_one_other_pages_show(app, as_user):
    """The dossier page reads the person's documents for its panel: the banner's photo comes from
    them (no query of its own), and is the one every other page shows: the latest unarchived
    document of type photo, also when the panel is searched (then the banner reads its own)."""
    import io

    from werkzeug.datastructures import FileStorage

    from app.models import Usager
    from app.security.scope import Scope
    from app.services import documents

    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
    with app.app_context():
        usager_id, _name = _person()
        usager = db.session.get(Usager, usager_id)
        with app.test_request_context("/"):
            upload = lambda titre: documents.upload(  # noqa: E731
                db.session, scope=Scope.everything(), usager=usager, type_code="photo", titre=titre,
                upload=FileStorage(io.BytesIO(png), "photo.png", content_type="image/png")).id
            older, latest, archived = upload("Photo 2024"), upload("Photo 2026"), upload("Photo retirée")
        from app.models import Document

        documents.archive(db.session, db.session.get(Document, archived))
    client = as_user("soin.tilleuls")
    src = f'src="/dossier/{usager_id}/documents/{latest}/apercu"'
    for url in (f"/dossier/{usager_id}", f"/dossier/{usager_id}?doc_q=aucun", f"/dossier/{usager_id}/evaluations/nouvelle/aggir"):
        body = client.get(url).data.decode()
        banner = body[body.index('id="usager-banner"'):body.index("</aside>")]
        assert src in banner, url
        assert f"/documents/{older}/apercu" not in banner and f"/documents/{archived}/apercu" not in banner
