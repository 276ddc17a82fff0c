"""Extension objects, created once and bound to each app in the factory.

Flask-AppBuilder is the exception: its AppBuilder keeps the views and the menu it was given, so
the factory makes one per app (reachable as `current_app.appbuilder`).
"""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

# FAB's Model base so FAB's own tables (ab_user, ab_role...) share our metadata and migrations.
db = SQLA(model_class=Model)
migrate = Migrate()
