"""Forms engine figures: 10,000 GIRs; checking, rendering and submitting a 60-field evaluation;
GMP of an établissement with 3,000 usagers and 10 validated AGGIR each, and the GMP page's twelve
months.

    python -m bench.forms [--database-url URL]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time


def timed(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def sixty_fields():
    items = []
    for i in range(60):
        kind = ("integer", "yes_no", "single_choice", "text")[i % 4]
        item = {"code": f"q{i}", "label": f"Question {i}", "type": kind}
        if kind == "single_choice":
            item["options"] = [{"code": c, "label": c} for c in "ABCD"]
        if i % 10 == 9:
            item["show_if"] = f"q{i - 8} == True"
        items.append(item)
    return {"code": "bench", "title": "Bench", "version": 1, "kind": "evaluation",
            "sections": [{"code": "s", "title": "S", "items": items}]}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--usagers", type=int, default=3000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="sillage-bench-forms-")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.db"
    from flask_migrate import upgrade
    from sqlalchemy import func, text

    from app import create_app
    from app.domain import aggir
    from app.domain.forms import definition
    from app.domain.forms.engine import evaluate
    from app.extensions import db
    from app.models import Admission, Etablissement, Evaluation, EvaluationResult, FormDefinition
    from app.services import indicators

    rng = random.Random(4)
    subs = [f"{v}_{s}" for v, ss in aggir.SUB_VARIABLES.items() for s in ss]
    singles = ["transferts", "deplacements_interieurs", "deplacements_exterieurs", "communication_a_distance"]
    profiles = [{c: rng.choice("ABC") for c in subs + singles} for _ in range(10_000)]
    aggir_def = definition.load(open("forms/aggir.yaml", encoding="utf-8").read())
    ms = timed(lambda: [aggir.evaluate(p) for p in profiles], 3)
    print(f"10,000 GIRs (algorithm)                {ms:9.1f} ms")
    ms = timed(lambda: [evaluate(aggir_def, p) for p in profiles], 3)
    print(f"10,000 AGGIR forms checked + computed  {ms:9.1f} ms")
    if hasattr(aggir, "ADVERBS"):  # AGGIR v3: the same profiles coded by the four adverbs
        yes = {"A": 4, "B": 2, "C": 0}
        coded = [{f"{c}_stch": {a: "oui" if i < yes[letter] else "non" for i, a in enumerate(aggir.ADVERBS)}
                  for c, letter in p.items()} for p in profiles]
        ms = timed(lambda: [evaluate(aggir_def, p) for p in coded], 3)
        print(f"10,000 AGGIR forms coded by adverbs    {ms:9.1f} ms")
    big = definition.load(definition.dump(sixty_fields()))
    answers = {f"q{i}": (i, True, "B", "texte")[i % 4] for i in range(60)}
    ms = timed(lambda: [evaluate(big, answers) for _ in range(100)], 3) / 100
    print(f"60-field evaluation checked            {ms:9.3f} ms")

    app = create_app()
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        runner.invoke(args=["sillage", "init"])
        runner.invoke(args=["sillage", "demo", "--password", "bench-password-2026"])
        with app.test_request_context():  # the fields of the 60-field form, as the page renders them
            from flask import render_template_string

            shown = evaluate(big, answers)
            shown.errors = {}
            page = ("{% import 'evaluations/_fields.html' as ev with context %}"
                    "{% for f in items %}{{ ev.field(f, answers, result) }}{% endfor %}")
            ms = timed(lambda: render_template_string(page, items=big["sections"][0]["items"], answers=answers,
                                                      result=shown), 20)
            print(f"60-field evaluation rendered           {ms:9.3f} ms")
        from app.models import Usager
        from app.services import forms

        source = definition.dump(sixty_fields())
        forms.publish(db.session, forms.save_draft(db.session, source))
        someone = db.session.query(Usager).first()
        ms = timed(lambda: forms.save_evaluation(db.session, usager=someone, code="bench", version=None,
                                                 status="validated", answers=answers), 20)
        print(f"60-field evaluation submitted (stored) {ms:9.3f} ms")
        etab = db.session.query(Etablissement).filter_by(name="EHPAD Les Tilleuls").one()
        runner.invoke(args=["sillage", "generate", "--usagers", str(args.usagers), "--seed", "9"])
        # every generated usager in the EHPAD: the GMP is asked of one établissement of that size
        first = etab.services[0].id
        db.session.execute(Admission.__table__.update().where(Admission.etablissement_id != etab.id)
                           .values(etablissement_id=etab.id, service_id=first))
        db.session.commit()
        usager_ids = [u for (u,) in db.session.query(Admission.usager_id).filter(
            Admission.etablissement_id == etab.id, Admission.date_sortie.is_(None))]
        form = db.session.query(FormDefinition).filter_by(code="aggir").one()
        start = time.perf_counter()
        today = dt.date.today()
        evaluations, results = [], []
        next_id = (db.session.query(func.max(Evaluation.id)).scalar() or 0) + 1  # after the demo's and the bench's
        for uid in usager_ids:
            for k in range(10):
                day = today - dt.timedelta(days=60 * k + rng.randint(0, 50))
                gir = rng.randint(1, 6)
                evaluations.append({"id": next_id, "usager_id": uid, "definition_id": form.id, "form_code": "aggir",
                                    "form_version": 1, "status": "validated", "evaluated_on": day, "answers": {},
                                    "computed": {"gir": gir}, "algorithm_versions": {}, "version": 1,
                                    "created_at": dt.datetime.now(), "updated_at": dt.datetime.now()})
                results.append({"evaluation_id": next_id, "usager_id": uid, "form_code": "aggir", "key": "gir",
                                 "evaluated_on": day, "value_num": gir})
                next_id += 1
        db.session.execute(Evaluation.__table__.insert(), evaluations)
        db.session.execute(EvaluationResult.__table__.insert(), results)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"inserted {len(evaluations)} evaluations for {len(usager_ids)} admitted usagers "
              f"in {time.perf_counter() - start:.1f} s")
        ms = timed(lambda: indicators.gmp(db.session, etab.id, today), 7)
        value = indicators.gmp(db.session, etab.id, today)
        print(f"GMP of {etab.name} ({value.admitted} admitted, {value.evaluated} evaluated) "
              f"= {value.gmp}   median {ms:.1f} ms")
        ms = timed(lambda: [indicators.gmp(db.session, etab.id, today - dt.timedelta(days=30 * n))
                            for n in range(13)], 3)
        print(f"GMP page's thirteen dates              {ms:9.1f} ms")


if __name__ == "__main__":
    main()
