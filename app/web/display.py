"""How a value reads on FAB's list and show pages: Oui / Non, "—" for nothing, jj/mm/aaaa (with the
local time for a moment), lists as "a, b", FAB's permissions in French ("lecture — Usager").

FAB prints `item[column]` as Python does (True, None, 2024-10-14 09:00:00.123456, [Administrateur],
"can read on Usager") unless the view has a formatter for that column. Rather than a formatter per
column and view, every FAB view — its own security views included — gets one mapping that answers
for any column (`install`, called once all views are registered); a view's own formatters still win.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..domain import clock

NOTHING = "—"

# FAB's permission names (its views' methods, and Sillage's three actions of the role matrix)
PERMISSIONS = {
    "can_read": _l("lecture"), "can_write": _l("écriture"), "can_archive": _l("archivage"),
    "menu_access": _l("menu"), "can_list": _l("liste"), "can_show": _l("fiche"), "can_add": _l("ajout"),
    "can_edit": _l("modification"), "can_delete": _l("suppression"), "can_download": _l("téléchargement"),
    "can_get": _l("lecture"), "can_info": _l("description"), "can_put": _l("modification"),
    "can_post": _l("ajout"), "can_this_form_get": _l("formulaire (affichage)"),
    "can_this_form_post": _l("formulaire (envoi)"), "can_userinfo": _l("sa fiche"),
    "userinfoedit": _l("modification de son compte"), "resetmypassword": _l("changement de son mot de passe"),
    "resetpasswords": _l("réinitialisation des mots de passe"), "copyrole": _l("copie d'un rôle"),
    "can_access": _l("accès"),
}
# FAB's own views and Sillage's resources of the role matrix, as their pages name them
VIEW_MENUS = {
    "UserDBModelView": _l("Utilisateurs"), "RoleModelView": _l("Rôles"), "UserGroupModelView": _l("Groupes"),
    "PermissionModelView": _l("Droits de base"), "ViewMenuModelView": _l("Vues et menus"),
    "PermissionViewModelView": _l("Droits sur les vues et menus"), "SwaggerView": _l("Documentation de l'API"),
    "OpenApi": _l("Description de l'API"), "ResetPasswordView": _l("Réinitialisation d'un mot de passe"),
    "ResetMyPasswordView": _l("Changement de son mot de passe"), "UserInfoEditView": _l("Modification de son compte"),
    "Etablissement": _l("Établissement"), "Referentiels": _l("Référentiels"), "Securite": _l("Sécurité"),
    "Evaluation": _l("Évaluation"), "HistoriqueAcces": _l("Historique des accès"),
    "VigilanceIdentite": _l("Vigilance identité"), "Rgpd": _l("RGPD"), "Indicateur": _l("Indicateurs"),
}


def permission_name(name: str) -> str:
    if name in PERMISSIONS:
        return str(PERMISSIONS[name])
    return name.removeprefix("can_").replace("_", " ")


def view_menu_name(name: str) -> str:
    """A resource, a FAB view or a menu entry (menus are named after their label's msgid)."""
    return str(VIEW_MENUS[name]) if name in VIEW_MENUS else _(name)


def permission_label(permission_view) -> str:
    """"can read on Usager" → "lecture — Usager"."""
    return f"{permission_name(permission_view.permission.name)} — {view_menu_name(permission_view.view_menu.name)}"


def permission_order(permission_view) -> tuple[str, str]:
    """Permissions grouped by resource, as the role matrix reads."""
    return view_menu_name(permission_view.view_menu.name), permission_name(permission_view.permission.name)


def display(value):
    """A value as a French reader expects it (markup a view built is left as it is)."""
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, ViewMenu

    if value is None or value == "":
        return NOTHING
    if isinstance(value, Markup):
        return value
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, dt.datetime):
        return clock.datetime_text(value)
    if isinstance(value, dt.date):
        return clock.date_text(value)
    if isinstance(value, PermissionView):
        return permission_label(value)
    if isinstance(value, Permission):
        return permission_name(value.name)
    if isinstance(value, ViewMenu):
        return view_menu_name(value.name)
    if isinstance(value, (list, tuple, set, frozenset)):
        if value and all(isinstance(item, PermissionView) for item in value):  # a role's, by resource
            value = sorted(value, key=permission_order)
        return ", ".join(str(display(item)) for item in value) or NOTHING
    return value


class Formatters(dict):
    """A view's `formatters_columns` that also formats the columns it does not name."""

    def get(self, key, default=None):
        own = super().get(key)
        if own is None:
            return display
        return lambda value: display(own(value))


def install(appbuilder) -> None:
    """Every registered FAB view reads its values through `display`."""
    for view in appbuilder.baseviews:
        if hasattr(view, "formatters_columns") and not isinstance(view.formatters_columns, Formatters):
            view.formatters_columns = Formatters(view.formatters_columns or {})


def decimal(value, digits: int = 1):
    """A number as French writes it: 640,6 (never 640.6); "—" for nothing."""
    if value is None:
        return NOTHING
    text = f"{value:.{digits}f}".replace(".", ",")
    return text[:-2] if digits == 1 and text.endswith(",0") else text


def percent(rate):
    """A rate (0.188) as 18,8 %; "—" without one (no capacity)."""
    return NOTHING if rate is None else f"{decimal(rate * 100)} %"


def linked(value: str) -> str:
    """An entry of a role's or user's links as the audit trail holds it ("can read on Usager",
    "Secrétariat") in French ("lecture — Usager")."""
    import re

    found = re.fullmatch(r"(\S+(?: \S+)*?) on (.+)", value or "")
    if found is None:
        return value
    return f"{permission_name(found.group(1).replace(' ', '_'))} — {view_menu_name(found.group(2))}"


def options(choices, selected=None) -> Markup:
    """The <option>s of a choice list (établissements, services), those whose id is `selected`
    (one value or a collection) marked. Built here rather than by a Jinja loop: for an
    organisation of 100 établissements and 375 services the loop was a fifth of the search page."""
    many = isinstance(selected, (list, tuple, set, frozenset))
    chosen = {str(value) for value in (selected if many else [selected]) if value not in (None, "")}
    return Markup("".join(f'<option value="{c.id}"{" selected" if str(c.id) in chosen else ""}>'
                          f'{escape(str(c))}</option>' for c in choices))

