"""WSGI entry point: `gunicorn run:app` (what `make run` serves) or `flask --app run run`."""
from app import create_app

app = create_app()
