"""Demo AGGIR evaluations: the residents of the EHPAD get a validated grid (some coded by the four
adverbs, some evaluated too long ago, a few none), so that the director's GMP page has figures."""
from __future__ import annotations

import datetime as dt
import random

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from ..domain import aggir
from ..models import Admission
from . import forms

PROFILES = ("AAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBB", "CCCCCCCCCCCCCCCCC", "ABABBBBBBAABBBAAA",
            "BBCCCCCCCBBCCCBCA", "AAAABBBBBAAABAAAA", "CCCCCCCCCCCCCCCCB")  # one letter per leaf, in LEAVES order


def load(session, today: dt.date) -> int:
    rng = random.Random(2002)
    definition = forms.get(session, "aggir")
    if definition is None:
        return 0
    admissions = session.execute(select(Admission).where(Admission.date_sortie.is_(None))
                                 .order_by(Admission.id)).scalars().all()
    made = 0
    for i, admission in enumerate(admissions):
        if not forms.applies(definition, {forms.place(admission.etablissement)}) or i % 7 == 6:
            continue  # not an EHPAD, or a resident still to evaluate
        answers = dict(zip(aggir.LEAVES, rng.choice(PROFILES)))
        if i % 3 == 0:  # coded by the adverbs: four "oui" → A, two → B, none → C
            for code in aggir.LEAVES[:4]:
                yes = {"A": 4, "B": 2, "C": 0}[answers.pop(code)]
                answers[f"{code}_stch"] = {a: "oui" if n < yes else "non" for n, a in enumerate(aggir.ADVERBS)}
        on = max(admission.date_entree, today - relativedelta(months=rng.choice((1, 3, 6, 9, 14))))
        forms.save_evaluation(session, usager=admission.usager, code="aggir", version=None, status="validated",
                              answers=answers, evaluated_on=on)
        made += 1
    return made
