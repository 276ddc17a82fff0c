"""FAB's role and permission pages in French: permissions read "lecture — Usager", not
"can read on Usager" (app/web/display.py), in the lists, the role's page and its form."""
from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.security.views import (
    PermissionModelView, PermissionViewModelView, RoleModelView, ViewMenuModelView,
)
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import lazy_gettext as _l

from ..web.display import permission_label, permission_name, permission_order, view_menu_name


def _permission_views():
    from flask_appbuilder.security.sqla.models import PermissionView

    from ..extensions import db

    return sorted(db.session.query(PermissionView).all(), key=permission_order)


def _permissions_field():
    return QuerySelectMultipleField(_l("Droits"), query_func=_permission_views, get_pk_func=lambda pv: pv.id,
                                    get_label=permission_label, widget=Select2ManyWidget())


class SillageRoleView(RoleModelView):
    """FAB's role widgets print the permissions list as Python does; the generic ones use the
    formatters every view has (and Sillage has no built-in roles for them to show)."""

    class_permission_name = "RoleModelView"
    list_widget = ListWidget
    show_widget = ShowWidget
    list_title, show_title = _l("Rôles"), _l("Fiche du rôle")
    add_title, edit_title = _l("Nouveau rôle"), _l("Modifier le rôle")
    label_columns = {"name": _l("Nom"), "permissions": _l("Droits"), "user": _l("Utilisateurs"),
                     "groups": _l("Groupes")}
    add_form_extra_fields = {"permissions": _permissions_field()}
    edit_form_extra_fields = {"permissions": _permissions_field()}


class SillagePermissionView(PermissionModelView):
    class_permission_name = "PermissionModelView"
    list_title = _l("Droits de base")
    label_columns = {"name": _l("Nom")}
    formatters_columns = {"name": permission_name}


class SillageViewMenuView(ViewMenuModelView):
    class_permission_name = "ViewMenuModelView"
    list_title = _l("Vues et menus")
    label_columns = {"name": _l("Nom")}
    formatters_columns = {"name": view_menu_name}


class SillagePermissionViewView(PermissionViewModelView):
    class_permission_name = "PermissionViewModelView"
    list_title = _l("Droits sur les vues et menus")
    label_columns = {"permission": _l("Droit"), "view_menu": _l("Vue ou menu"), "role": _l("Rôles")}
