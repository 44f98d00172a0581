"""The one sequence behind every form post: validate → run the service in one transaction → flash →
redirect (303), or show the form again with the refusal next to its field and the refusal's status.

    return run_form(form, lambda f: services.create_thing(f.title.data, by=user),
                    success=_("已保存。"), redirect_to=lambda thing: url_for(".thing", id=thing.id),
                    render=lambda status: (render_template("area/form.html", form=form), status),
                    field="title")

``render(status)`` draws the page (or the HTMX fragment) again; it runs after the rollback, so it
reads the database as it was. A ``Forbidden`` refusal is not drawn on the form: it goes to the
site-wide handler, which answers 403 with its message.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect

from .errors import DomainError, Forbidden, attach_to_form
from .transaction import transaction

# Invalid input: the status for a form that does not validate and for a DomainError (core.errors).
INVALID = DomainError.status


def run_action(action: Callable[[], object]) -> tuple[object, DomainError | None]:
    """Run ``action()`` as one unit of work: (its result, None) or (None, the refusal)."""
    try:
        with transaction():
            return action(), None
    except Forbidden:
        raise
    except DomainError as error:
        return None, error


def run_form(form, action: Callable, *, success, redirect_to, render: Callable[[int], object],
             field: str | None = None, flash_refusal: bool = False):
    """Validate ``form`` (None: an action without fields), run ``action(form)``, then flash ``success``
    (a string, or a function of the result) and redirect to ``redirect_to`` (a URL, or a function of
    the result); on invalid input or a refusal, ``render(status)`` with the message on ``field``."""
    if form is not None and not form.validate_on_submit():
        return render(INVALID if form.is_submitted() else 200)
    result, error = run_action(lambda: action(form))
    if error is not None:
        if form is not None and field is not None:
            attach_to_form(form, error, field)
        if form is None or field is None or flash_refusal:
            flash(error.message, "error")
        return render(error.status)
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to, 303)
