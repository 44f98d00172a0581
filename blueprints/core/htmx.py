"""One URL, full page or fragment: the Hypermedia Systems pattern."""
from flask import make_response, render_template, request


def is_htmx() -> bool:
    # A history-restore request wants the whole page, not a fragment.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(full_template: str, partial_template: str, **context):
    """Render the full page, or only its fragment for an HTMX request; caches keep them apart."""
    template = partial_template if is_htmx() else full_template
    response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response
