"""The public pages: the chat, the privacy notice and the accessibility statement. Rendered on
the server with the variant's own names and contacts; no inline script or style (the CSP in
guard.py allows none), every asset from /static."""

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from dsp_backend.config import get_settings
from dsp_backend.variants import service as variant_service
from dsp_backend.variants.schemas import Contact, Variant

router = APIRouter(include_in_schema=False)
# Who people ask about the service or for another format: the DSR team first.
CONTACT_KINDS = ("dsr_admin", "referral_inbox", "coordinator")


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("dsp_backend.chat", "templates"),
        autoescape=select_autoescape(["html"]),
    )


def team_contact(variant: Variant) -> Contact | None:
    for kind in CONTACT_KINDS:
        for contact in variant.contacts:
            if contact.kind == kind and contact.email:
                return contact
    return None


def render(name: str, **context: Any) -> str:
    variant = variant_service.load(get_settings().variant)
    return (
        _environment()
        .get_template(name)
        .render(variant=variant, contact=team_contact(variant), **context)
    )


@router.get("/privacy", response_class=HTMLResponse)
def privacy_notice() -> HTMLResponse:
    return HTMLResponse(render("privacy.html"))


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility_statement() -> HTMLResponse:
    return HTMLResponse(render("accessibility.html"))
