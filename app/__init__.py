"""Sillage: the application factory."""
from pathlib import Path

from flask import Flask
from flask_appbuilder import AppBuilder
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from .extensions import db, migrate
from .models.base import INTEGER_MAX

ROOT = Path(__file__).resolve().parent.parent


class DatabaseIntConverter(IntegerConverter):
    """`<int:…>` in every route stops at the range of an INTEGER column: a larger id is a plain
    404, not an overflow deep in the driver (found by schemathesis). Raised here rather than
    refused as a non-match: werkzeug answers a refused match with 405 when the same path has
    routes for other methods (the API's GET, PUT and DELETE of one record)."""

    def to_python(self, value):
        if len(value) > len(str(INTEGER_MAX)):  # (and Python refuses int() of 4,300 digits or more)
            raise NotFound()
        number = super().to_python(value)
        if number > INTEGER_MAX:
            raise NotFound()
        return number


def create_app(config_object="config.Config", **overrides) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=False,
                template_folder="web/templates", static_folder="web/static")
    app.url_map.converters["int"] = DatabaseIntConverter
    app.config.from_object(config_object)
    app.config.update(overrides)
    Path(app.config["SILLAGE_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    CSRFProtect(app)  # every form post; FAB exempts its token-authenticated API blueprints
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    with app.app_context():
        from . import models  # noqa: F401  (every table in the metadata)
        from .security import audit, scope, secret  # noqa: F401  (session and loading hooks)
        from .security.guards import init_guards
        from .security.sessions import DatabaseSessionInterface
        from .web import register_web

        app.session_interface = DatabaseSessionInterface()
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        register_web(app, appbuilder)
        init_guards(app)
        audit.init_read_audit(app)
    from .cli import sillage_cli

    app.cli.add_command(sillage_cli)
    return app
