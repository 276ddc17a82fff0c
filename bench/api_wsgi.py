"""The app under `bench/api.py`, plus what its API lists are compared with:

- `/__floor_json/N`: a bare route returning N bytes of JSON (the issue's floor);
- `/api/v1/bench_default_usager/`: FAB's own default `ModelRestApi` on the same model and
  columns, without Sillage's scope and read audit (registered here only, never in the product).

Served with the Sillage code of the working directory (`--chdir`), this module found through
gunicorn's `--pythonpath`: the same file serves the code before and after a change.
"""
from flask import Response, g, request
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app import create_app
from app.models import Usager
from app.security.roles import METHOD_ACTIONS
from app.security.scope import Scope
from app.services.usagers import USAGER_FIELDS

app = create_app()
DEFAULT_PREFIX = "/api/v1/bench_default_usager/"


class DefaultUsagerApi(ModelRestApi):
    resource_name = "bench_default_usager"
    class_permission_name = "Usager"
    method_permission_name = METHOD_ACTIONS
    allow_browser_login = True
    datamodel = SQLAInterface(Usager)
    list_columns = show_columns = ["id", "version", *USAGER_FIELDS, "foyer_id", "archived_at", "created_at", "updated_at"]
    max_page_size = 100


with app.app_context():
    app.appbuilder.add_api(DefaultUsagerApi)


@app.before_request
def _default_api_is_plain_fab():
    if request.path.startswith(DEFAULT_PREFIX):
        g.sillage_scope = Scope.everything()  # no row filter
        g.sillage_unaudited_read = True  # no read entry


@app.route("/__floor_json/<int:size>")
def floor_json(size: int):
    body = ('{"x":"' + "x" * max(size - 8, 0) + '"}')[:size]
    return Response(body, mimetype="application/json")
