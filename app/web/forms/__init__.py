"""WTForms forms of the dossier page: they parse types; the services hold the rules."""
from flask_wtf import FlaskForm
from wtforms import HiddenField


def opt_int(value):
    """Coerce a select value to int; the blank choice is None."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class VersionedForm(FlaskForm):
    version = HiddenField()


def form_values(form, fields) -> dict:
    return {name: form[name].data for name in fields if name in form}


def apply_errors(form, errors: dict) -> list[str]:
    """Attach service errors to their fields; return those that belong to no field."""
    loose = []
    for field, message in errors.items():
        if field in form._fields and field != "version":
            form[field].errors = list(form[field].errors or []) + [message]
        else:
            loose.append(message)
    return loose
