"""A filled evaluation printed as a PDF (issue 15 §8): readable, within the scope and the shared
secret of its page, audited."""
from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import forms

from . import factories as f
from .test_evaluations import profile
from .test_secret_audit import DOSE, DOUBLED, _evaluated


def _text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf", response.status_code
    assert "no-store" in response.headers.get("Cache-Control", "")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def test_a_validated_aggir_prints_labels_options_results_and_french_dates(app, as_user):
    with app.app_context():
        usager = f.gen_usager()
        evaluation = forms.save_evaluation(db.session, usager=usager, code="aggir", version=None,
                                           status="validated", answers=profile({"toilette": "C", "habillage": "C"}))
        uid, eid, gir = usager.id, evaluation.id, evaluation.computed["gir"]
        born = usager.date_naissance.strftime("%d/%m/%Y")
    nurse = as_user("soin.tilleuls")
    page = nurse.get(f"/dossier/{uid}/evaluations/{eid}").data.decode()
    assert f"/dossier/{uid}/evaluations/{eid}/pdf" in page and "Imprimer (PDF)" in page
    text = _text(nurse.get(f"/dossier/{uid}/evaluations/{eid}/pdf"))
    assert "Grille AGGIR" in text and born in text and "Document confidentiel" in text
    assert "Toilette" in text and "C - ne fait pas" in text  # the option's label, not its code alone
    assert f"GIR : {gir}" in text and "Résultats" in text and "BROUILLON" not in text


def test_a_draft_says_so_and_other_etablissements_get_404(app, as_user, make_user):
    with app.app_context():
        usager = f.gen_usager()
        draft = forms.save_evaluation(db.session, usager=usager, code="aggir", version=None, status="draft",
                                      answers={"transferts": "B"})
        uid, eid = usager.id, draft.id
        other = f.gen_usager().id
    assert "BROUILLON" in _text(as_user("soin.tilleuls").get(f"/dossier/{uid}/evaluations/{eid}/pdf"))
    elsewhere = make_user("soin.sources.pdf", "Soin", [f.SOURCES])
    assert as_user(elsewhere).get(f"/dossier/{uid}/evaluations/{eid}/pdf").status_code == 404
    assert as_user("soin.tilleuls").get(f"/dossier/{other}/evaluations/{eid}/pdf").status_code == 404


def test_what_the_user_may_not_read_is_not_printed_and_the_read_is_audited(app, as_user, make_user):
    case = _evaluated(app)
    uid, eid = case["usager"], case["evaluation"]
    educator = make_user("educ.tilleuls", "Éducatif", [f.TILLEULS])  # reads soins, not medical
    text = _text(as_user(educator).get(f"/dossier/{uid}/evaluations/{eid}/pdf"))
    assert "aide pour marcher" in text and str(DOSE) not in text and str(DOUBLED) not in text
    nurse = _text(as_user("soin.tilleuls").get(f"/dossier/{uid}/evaluations/{eid}/pdf"))
    assert str(DOSE) in nurse and str(DOUBLED) in nurse
    assert as_user("secretaire.tilleuls").get(f"/dossier/{uid}/evaluations/{eid}/pdf").status_code in (403, 404)
    with app.app_context():
        reads = db.session.execute(select(AuditEvent).where(AuditEvent.usager_id == uid,
                                                            AuditEvent.action == "read")).scalars().all()
        assert any(r.details["path"].endswith("/pdf") for r in reads)
