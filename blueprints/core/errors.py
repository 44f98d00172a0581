class DomainError(Exception):
    """A rule of the domain refused the operation. The message is Chinese and shown to the user;
    ``field`` names the form field it belongs to, ``problems`` lists row-level problems."""

    def __init__(self, message: str, problems: list | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.field = field


def attach_to_form(form, error: DomainError, default_field: str) -> None:
    """Show a service's refusal next to the form field it concerns."""
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, error.message]
