"""Sillage's FAB security manager: every security decision FAB asks for goes through here."""
from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role


class SillageSecurityManager(SecurityManager):
    def _role_permissions(self, roles) -> frozenset:
        """All (permission, view) pairs of these roles, loaded in one query and kept for the
        request: FAB otherwise issues one EXISTS query per menu entry and per button."""
        key = tuple(sorted(r.id for r in roles))
        cache = g.setdefault("sillage_perms", {}) if has_request_context() else {}
        if key not in cache:
            pv, link = self.permissionview_model, assoc_permissionview_role
            rows = (
                self.session.query(self.permission_model.name, self.viewmenu_model.name)
                .select_from(link)
                .join(pv, pv.id == link.c.permission_view_id)
                .join(self.permission_model, self.permission_model.id == pv.permission_id)
                .join(self.viewmenu_model, self.viewmenu_model.id == pv.view_menu_id)
                .filter(link.c.role_id.in_(key))
                .all()
            )
            cache[key] = frozenset((p, v) for p, v in rows)
        return cache[key]

    def load_user(self, pk):
        """The signed-in user with roles and groups in one round trip (asked on every request)."""
        user = self.session.execute(
            select(self.user_model).where(self.user_model.id == int(pk))
            .options(selectinload(self.user_model.roles), selectinload(self.user_model.groups))
        ).scalar_one_or_none()
        return user if user is not None and user.is_active else None

    def has_access(self, permission_name: str, view_name: str) -> bool:
        """FAB asks this for every menu entry and button: answer once per request and pair."""
        if not has_request_context() or not current_user.is_authenticated:  # API tokens: no memo
            return super().has_access(permission_name, view_name)
        memo = g.setdefault("sillage_access", {})
        key = (current_user.id, permission_name, view_name)
        if key not in memo:
            memo[key] = super().has_access(permission_name, view_name)
        return memo[key]

    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        return (permission_name, view_name) in self._role_permissions(self.get_user_roles(user))

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        roles = [self.get_public_role()] if user is None else self.get_user_roles(user)
        roles = [r for r in roles if r is not None]
        perms = self._role_permissions(roles)
        return {name for name in view_menus_name if (permission_name, name) in perms}

    def is_item_public(self, permission_name, view_name):
        # Sillage has no public resources: skip FAB's query of the public role.
        return False

    def add_permissions_view(self, base_permissions, view_menu):
        """Only add. Several views share one resource (the dossier page, the search page and the
        API all use "Usager"): FAB's version deletes the permissions a given view lacks, which
        would strip the others'. Roles get their permissions from roles.sync_roles."""
        self.add_view_menu(view_menu)
        for permission in base_permissions:
            if not self.find_permission_view_menu(permission, view_menu):
                self.add_permission_view_menu(permission, view_menu)

    def add_permissions_menu(self, view_menu_name):
        self.add_view_menu(view_menu_name)
        if not self.find_permission_view_menu("menu_access", view_menu_name):
            self.add_permission_view_menu("menu_access", view_menu_name)
