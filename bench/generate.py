"""The benchmark organisation's generation (issue 20), stage by stage, on a database holding the
demo (`flask db upgrade && flask sillage demo`):

    DATABASE_URL=URL SILLAGE_INSTANCE_DIR=DIR python -m bench.generate [--scale 0.1]

Prints the seconds of each stage (as `flask sillage generate --profile benchmark` runs them, the
planner's statistics included) and the total.
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from app import create_app
    from app.extensions import db
    from app.services.forms import load_shipped
    from app.services.generate_benchmark import benchmark
    from app.services.maintenance import refresh_statistics
    from app.services.referentiels import load_reference_data

    app = create_app(web=False)
    stages = []

    @contextmanager
    def progress(label, _total):
        start = time.perf_counter()
        yield lambda _n: None
        stages.append((label, time.perf_counter() - start))

    with app.app_context():
        start = time.perf_counter()
        load_reference_data(db.session)
        load_shipped(db.session)
        made = benchmark(db.session, app.config["SILLAGE_DATA_DIR"], scale=args.scale, seed=args.seed,
                         progress=progress)
        generated = time.perf_counter()
        refresh_statistics(db.session)
        stages.append(("statistics", time.perf_counter() - generated))
        total = time.perf_counter() - start
        print(f"{db.engine.dialect.name}, scale {args.scale}: {made}")
    for label, seconds in stages:
        print(f"  {label:32} {seconds:7.1f} s")
    print(f"  {'total':32} {total:7.1f} s")


if __name__ == "__main__":
    main()
