"""WTForms validators wrapping domain rules, so a bad value is shown on its field."""
from wtforms.validators import ValidationError

from ..domain import identity


class DomainCheck:
    """Run a domain check (value → message or None) as a field validator."""

    def __init__(self, check):
        self.check = check

    def __call__(self, form, field):
        message = self.check(field.data)
        if message:
            raise ValidationError(message)


Finess = lambda: DomainCheck(identity.check_finess)  # noqa: E731
Siren = lambda: DomainCheck(identity.check_siren)  # noqa: E731
