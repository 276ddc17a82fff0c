"""Sillage: the application factory."""
import os
import sys
from pathlib import Path

import click
from flask import Flask
from flask_appbuilder import AppBuilder
from flask_babel import Babel
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


def _private_files(app) -> None:
    """Everything Sillage writes — the SQLite database, documents, PDFs, exports, backups, the
    instance folder — is readable by the service account only: files 0600, folders 0700
    (the process umask), and the folders and database that already exist are tightened."""
    os.umask(0o077)
    data_dir = Path(app.config["SILLAGE_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    database = Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
    for folder in (data_dir, Path(app.instance_path)):  # Sillage's own folders, never a database's parent
        if folder.is_dir() and folder.stat().st_uid == os.getuid():
            folder.chmod(0o700)
    if database is not None and database.is_file() and database.stat().st_uid == os.getuid():
        database.chmod(0o600)


def _running_a_sillage_command() -> bool:
    """True when the `flask` command loads the app to run `flask sillage …`: those commands work
    on the database and need neither the views nor the routes, which cost about a second to
    build, nor FAB's security manager, which configures every mapper as it starts (a third of a
    second more; issue 20: a command should start in under 1.5 s). The few that do (`init`,
    `demo`: permissions come from the views) call `register_web_now`."""
    from flask.cli import FlaskGroup

    ctx = click.get_current_context(silent=True)
    if ctx is None or not isinstance(ctx.find_root().command, FlaskGroup):
        return False
    words, args = [], iter(sys.argv[1:])
    for arg in args:
        if arg in ("-A", "--app", "-e", "--env-file"):
            next(args, None)
        elif not arg.startswith("-"):
            words.append(arg)
    return words[:1] == ["sillage"]


def register_web_now(app) -> None:
    """Start FAB and register the views and routes of an app created without them (a `flask
    sillage` command)."""
    appbuilder = app.extensions.pop("sillage.web_pending", None)
    if appbuilder is not None:
        with app.app_context():
            _start_web(app, appbuilder)


def _start_web(app, appbuilder) -> None:
    from .web import register_web

    appbuilder.init_app(app, db.session)
    register_web(app, appbuilder)


def create_app(config_object="config.Config", web: bool | None = None, **overrides) -> Flask:
    """`web`: register the views and routes (default: yes, unless the app is loaded by the `flask`
    command to run one of Sillage's own commands)."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=False,
                template_folder="web/templates", static_folder="web/static")
    app.url_map.converters["int"] = DatabaseIntConverter
    app.config.from_object(config_object)
    app.config.update(overrides)
    if app.config.get("SILLAGE_PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["SILLAGE_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _private_files(app)
    db.init_app(app)
    CSRFProtect(app)  # every form post; FAB exempts its token-authenticated API blueprints
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    with app.app_context():
        from . import models  # noqa: F401  (every table in the metadata)
        from .security import audit, scope, secret  # noqa: F401  (session and loading hooks)
        from .security.guards import init_guards
        from .security.sessions import DatabaseSessionInterface

        app.session_interface = DatabaseSessionInterface()
        appbuilder = AppBuilder(update_perms=False)
        if web is None:
            web = not _running_a_sillage_command()
        if web:
            _start_web(app, appbuilder)
        else:
            Babel(app)  # (FAB's start sets it up otherwise) the commands' messages go through gettext
            app.extensions["sillage.web_pending"] = appbuilder
        init_guards(app)
        audit.init_read_audit(app)
    from .cli import sillage_cli

    app.cli.add_command(sillage_cli)
    return app
