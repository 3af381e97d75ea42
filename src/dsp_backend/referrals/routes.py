from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, HTTPException, Path, status
from fastapi.responses import JSONResponse, Response

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.config import get_settings
from dsp_backend.database.core import SessionDep, get_sessionmaker
from dsp_backend.errors import PlainValidationRoute, refuse
from dsp_backend.outbox import service as outbox
from dsp_backend.referrals import confirmation
from dsp_backend.referrals import service as referral_service
from dsp_backend.referrals.schemas import (
    PendingRead,
    ReferralCreate,
    ReferralCreated,
    ReferralReceived,
)
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/referrals", tags=["referrals"], route_class=PlainValidationRoute)

REFERRERS = (Role.action_server, Role.referrer)


@router.post(
    "",
    status_code=201,
    response_model=ReferralCreated,
    responses={
        202: {"model": ReferralReceived, "description": "from the chat: held until confirmed"},
        409: {"description": "already on the register, or a key reused for another body"},
    },
)
def create_referral(
    referral: ReferralCreate,
    db_session: SessionDep,
    variant: VariantDep,
    background: BackgroundTasks,
    actor: Annotated[Actor, Depends(require_roles(*REFERRERS))],
    idempotency_key: Annotated[
        str | None, Header(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> JSONResponse:
    """A referral (001 sections 7, 10, 11). From a professional's own token: put on the register
    at once, with its dsp_id (201). From the chat (the action server): held, with a confirmation
    link sent to the referrer's work email, and answered only "received" (202), whether or not
    the person is on a register (DESIGN.md, Data protection).

    A retry with the same Idempotency-Key and body returns the first answer (same status).
    """
    now = datetime.now(UTC)
    try:
        if actor.role == Role.action_server:
            answer = confirmation.receive(
                db_session=db_session,
                actor=actor,
                referral=referral,
                variant=variant,
                settings=get_settings(),
                now=now,
                idempotency_key=idempotency_key,
            )
            background.add_task(send_outbox)
        else:
            answer = referral_service.submit(
                db_session=db_session,
                actor=actor,
                referral=referral,
                variant=variant,
                now=now,
                idempotency_key=idempotency_key,
            )
    except referral_service.Refused as refused:
        refuse(refused.status_code, refused.detail)
    db_session.commit()
    return JSONResponse(status_code=answer.status_code, content=answer.body)


def send_outbox() -> None:
    """After the answer has gone: the email is already safe in the outbox, so a slow or absent
    mail server never holds up the chat."""
    with get_sessionmaker()() as db_session:
        outbox.send_due(db_session=db_session, settings=get_settings(), now=datetime.now(UTC))


Admin = Annotated[Actor, Depends(require_roles(Role.dsr_admin))]
Reference = Annotated[str, Path(pattern=r"^REF-[0-9A-Z]{4}-[0-9A-Z]{4}$")]


@router.get("/pending", response_model=list[PendingRead])
def list_pending(db_session: SessionDep, actor: Admin) -> list[PendingRead]:
    """Referrals from the chat for the DSR admin lead: confirmed from an address not accepted at
    once (or a self-referral given with a phone number), or linked to someone already on the
    register. No personal data here."""
    return [confirmation.as_read(db_session, p) for p in confirmation.awaiting_admin(db_session)]


@router.post(
    "/pending/{reference}/accept",
    response_model=PendingRead,
    responses={
        404: {"description": "no referral with this reference waits for acceptance"},
        422: {"description": "its answers no longer pass the questionnaire's rules"},
    },
)
def accept_pending(
    reference: Reference, db_session: SessionDep, variant: VariantDep, actor: Admin
) -> PendingRead:
    """The DSR admin lead accepts a held referral: it goes on the register, or is linked."""
    try:
        pending = confirmation.accept(
            db_session=db_session,
            actor=actor,
            reference=reference,
            variant=variant,
            now=datetime.now(UTC),
        )
    except referral_service.Refused as refused:
        # Its answers no longer pass (say the person has turned 16 since it was made): what is
        # wrong, each naming its question; the referral keeps waiting.
        refuse(refused.status_code, refused.detail)
    if pending is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "No referral with this reference waits for acceptance."
        )
    db_session.commit()
    return confirmation.as_read(db_session, pending)


@router.post(
    "/pending/{reference}/decline",
    status_code=204,
    responses={404: {"description": "no referral with this reference waits for acceptance"}},
)
def decline_pending(reference: Reference, db_session: SessionDep, actor: Admin) -> Response:
    """The DSR admin lead declines a held referral: it is deleted with its personal data."""
    if not confirmation.decline(db_session=db_session, actor=actor, reference=reference):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "No referral with this reference waits for acceptance."
        )
    db_session.commit()
    return Response(status_code=204)


DspId = Annotated[str, Path(pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$")]


@router.get("/{dsp_id}/fhir", responses={404: {"description": "no one has this dsp_id"}})
def export_fhir(
    dsp_id: DspId,
    db_session: SessionDep,
    actor: Annotated[Actor, Depends(require_roles(Role.dsr_admin))],
) -> JSONResponse:
    """The referral as a FHIR QuestionnaireResponse (R4B, whose QuestionnaireResponse is R4's),
    beside the CSV export. An identifiable read: it is in the audit log."""
    exported = referral_service.export_fhir(db_session=db_session, actor=actor, dsp_id=dsp_id)
    if exported is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No referral has this dsp_id.")
    db_session.commit()
    return JSONResponse(exported, media_type="application/fhir+json")
