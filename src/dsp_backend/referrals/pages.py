"""The confirmation pages a referrer opens from the email: a page with a Confirm button (a
link scanner that opens the link confirms nothing), then what happens next. Server-rendered,
no script; nothing on them says whether the person is on a register."""

from datetime import UTC, datetime
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, Template, select_autoescape

from dsp_backend.database.core import SessionDep
from dsp_backend.referrals import confirmation
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/referrals/confirm", include_in_schema=False)

Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,100}$")]
GONE = (
    "This link has expired or has already been used. If you made a referral and did not "
    "confirm it in time, please make it again."
)


@cache
def _template() -> Template:
    environment = Environment(
        loader=PackageLoader("dsp_backend.referrals", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return environment.get_template("confirm.html")


def _page(
    title: str, *paragraphs: str, action: str | None = None, status: int = 200
) -> HTMLResponse:
    html = _template().render(title=title, paragraphs=paragraphs, action=action)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/{token}", response_class=HTMLResponse)
def confirm_page(token: Token, db_session: SessionDep) -> HTMLResponse:
    pending = confirmation.find(db_session, token, datetime.now(UTC))
    if pending is None or pending.status != "awaiting_confirmation":
        return _page("Link not valid", GONE, status=404)
    return _page(
        "Confirm your referral",
        f"Referral {pending.reference} was made in the DSP Assistant with your email address.",
        "If you made it, please confirm it. It counts only once it is confirmed.",
        action=f"/referrals/confirm/{token}",
    )


@router.post("/{token}", response_class=HTMLResponse)
def confirm(token: Token, db_session: SessionDep, variant: VariantDep) -> HTMLResponse:
    pending = confirmation.confirm(
        db_session=db_session, token=token, variant=variant, now=datetime.now(UTC)
    )
    if pending is None:
        return _page("Link not valid", GONE, status=404)
    db_session.commit()
    if pending.status == "awaiting_admin":
        accepted = pending.email_domain in {d.lower() for d in variant.accepted_email_domains}
        # From an accepted address it waits only because its answers no longer pass as given.
        why = (
            "The DSR admin lead will check the referral with you before it goes ahead."
            if accepted
            else "Your email address is not one the DSR team accepts automatically, so the DSR "
            "admin lead will check the referral before it goes ahead."
        )
        return _page(
            "Thank you",
            f"Referral {pending.reference} is confirmed.",
            f"{why} They will contact you.",
        )
    return _page(
        "Thank you",
        f"Referral {pending.reference} is confirmed and has been received by the DSR team.",
        "The DSR admin lead will contact you about the next steps.",
    )
