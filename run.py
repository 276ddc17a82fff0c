"""WSGI entry point: `gunicorn run:app` (what `make run` serves) or `flask --app run run`."""
import gc

from app import create_app

app = create_app()
# The app's ~300,000 objects (routes, mappers, compiled templates, translations) live as long as
# the process: out of the collector's sight, they are no longer walked by every full collection,
# which took about 0.2 s every hundred requests (issue 20).
gc.freeze()
