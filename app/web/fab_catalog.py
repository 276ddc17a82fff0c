"""Flask-AppBuilder strings that FAB's French catalog lacks or gets wrong ("Delete" → "Supprimée").

Listed here so that `pybabel extract` keeps them in our catalog, whose translations override
FAB's (our translations directory is read after FAB's). Nothing imports this module.
"""
from flask_babel import lazy_gettext as _l

FAB_STRINGS = [
    _l("User confirmation needed"), _l("Cancel"), _l("Delete"), _l("Delete record"), _l("Edit"),
    _l("Edit record"), _l("Show"), _l("Show record"), _l("Add"), _l("Add a new record"),
    _l("Add Filter"), _l("Detail"), _l("Select Value"), _l("Logout"), _l("List Users"), _l("List Groups"),
    _l("List Roles"), _l("Groups"), _l("Email"), _l("Back"), _l("Save"), _l("No records found"),
    _l("Page size"), _l("Added Row"), _l("Changed Row"), _l("Deleted Row"), _l("Access is Denied"),
    _l("Security"), _l("Base Permissions"), _l("Views/Menus"), _l("Permission on Views/Menus"),
    _l("User's Statistics"), _l("Sign In"), _l("Enter your login and password below"),
    _l("Invalid login. Please try again."), _l("Your user information"), _l("Reset Password"),
    _l("Record Count"), _l("Actions"), _l("Database Error"), _l("Copy Role"), _l("Copy the selected roles?"), _l("Is Active?"), _l("Login count"),
    _l("Failed login count"), _l("Role"), _l("Passwords must match"), _l("Confirm Password"),
]
