"""AGGIR v3 (issue 15 §7): each (sub-)variable is coded by the four adverbs S, T, C, H of the 2008
guide (TDDUI MED-1307…1310), or by its letter; the letter derives from the adverbs."""
from __future__ import annotations

from app.domain import aggir
from app.domain.forms.definition import all_fields
from app.extensions import db
from app.services import forms

from . import factories as f


def _answers(**overrides):
    answers = {code: "A" for code in aggir.LEAVES}
    answers.update(overrides)
    return {k: v for k, v in answers.items() if v is not None}


def test_the_shipped_grid_offers_the_four_adverbs_with_their_tddui_codes(app):
    with app.app_context():
        data = forms.get(db.session, "aggir").data
    fields = {f["code"]: f for f, _parts in all_fields(data)}
    for code in aggir.LEAVES:
        stch = fields[f"{code}_stch"]
        assert stch["type"] == "matrix" and [r["code"] for r in stch["rows"]] == list(aggir.ADVERBS)
        assert [r["interop"]["code"] for r in stch["rows"]] == ["MED-1307", "MED-1308", "MED-1309", "MED-1310"]
        assert not fields[code].get("required")
    labels = [o["label"] for o in fields["transferts"]["options"]]
    assert "spontanément" in labels[0] and "spontanément" in labels[1]


def test_a_grid_coded_by_adverbs_is_validated_and_shows_the_retained_letters(app, api):
    with app.app_context():
        usager = f.gen_usager()
        stch = {a: "non" for a in aggir.ADVERBS}
        evaluation = forms.save_evaluation(
            db.session, usager=usager, code="aggir", version=None, status="validated",
            answers=_answers(transferts=None, transferts_stch=stch, gestion=None,
                             gestion_stch={**stch, "spontanement": "oui"}))
        assert evaluation.computed["lettre_transferts"] == "C" and evaluation.computed["lettre_gestion"] == "B"
        assert evaluation.computed["gir"] == aggir.gir({**{v: "A" for v in aggir.DISCRIMINANT},
                                                        "transferts": "C"}).gir
    nurse = api("soin.tilleuls")
    computed = nurse.post("/api/v1/forms/aggir/compute", json={"answers": _answers(transferts=None)})
    assert computed.status_code == 200 and "transferts" in computed.json["errors"]  # letter or adverbs needed
    assert "adverbes" in computed.json["errors"]["transferts"]
    clash = nurse.post("/api/v1/forms/aggir/compute", json={"answers": _answers(transferts_stch=stch)})
    assert "discordants" in clash.json["errors"]["gir"]
